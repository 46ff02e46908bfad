//! The entity model of namespace `PgrestLambda`: principals from role + verified claims,
//! actions, the `Row` resource and the request context, as Cedar values.
//!
//! Must not decide anything: it only describes the request to Cedar.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::OnceLock;

use cedar_policy::{Context, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use serde_json::Value;

use super::PolicyError;

pub const NAMESPACE: &str = "PgrestLambda";
/// The role that maps to `ServiceRole::"service"`.
pub const SERVICE_ROLE: &str = "service_role";

/// The five actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Select,
    Insert,
    Update,
    Delete,
    Call,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Select => "select",
            Action::Insert => "insert",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Call => "call",
        }
    }
}

/// A Cedar value as the translator sees it. Sets are kept sorted and deduplicated, so `==` here
/// is Cedar's equality.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Val {
    Bool(bool),
    Long(i64),
    Str(String),
    /// `ty` is the full type name (`PgrestLambda::User`).
    Entity { ty: String, id: String },
    Set(Vec<Val>),
    Record(BTreeMap<String, Val>),
}

impl Val {
    pub fn set(mut items: Vec<Val>) -> Val {
        items.sort();
        items.dedup();
        Val::Set(items)
    }

    /// A JSON claim as a Cedar value: strings, 64-bit integers, booleans, arrays (sets) and
    /// objects (records). `null`, fractions and out-of-range numbers have no Cedar value: the
    /// attribute (or element, or field) is absent.
    pub fn from_json(value: &Value) -> Option<Val> {
        match value {
            Value::Bool(b) => Some(Val::Bool(*b)),
            Value::Number(n) => n.as_i64().map(Val::Long),
            Value::String(s) => Some(Val::Str(s.clone())),
            Value::Array(items) => Some(Val::set(items.iter().filter_map(Val::from_json).collect())),
            Value::Object(map) => Some(Val::Record(map.iter().filter_map(|(k, v)| Val::from_json(v).map(|v| (k.clone(), v))).collect())),
            Value::Null => None,
        }
    }

    /// The same value for Cedar's own evaluator.
    pub fn to_restricted(&self) -> Result<RestrictedExpression, PolicyError> {
        Ok(match self {
            Val::Bool(b) => RestrictedExpression::new_bool(*b),
            Val::Long(n) => RestrictedExpression::new_long(*n),
            Val::Str(s) => RestrictedExpression::new_string(s.clone()),
            Val::Entity { ty, id } => RestrictedExpression::new_entity_uid(full_entity_uid(ty, id)?),
            Val::Set(items) => RestrictedExpression::new_set(items.iter().map(Val::to_restricted).collect::<Result<Vec<_>, _>>()?),
            Val::Record(map) => {
                let pairs = map.iter().map(|(k, v)| Ok((k.clone(), v.to_restricted()?))).collect::<Result<Vec<_>, PolicyError>>()?;
                RestrictedExpression::new_record(pairs).map_err(|e| PolicyError::Model(e.to_string()))?
            }
        })
    }
}

/// The entity type names of the model, parsed once (Cedar's name parser is the costly part
/// of describing a request).
const TYPES: [&str; 7] = ["User", "ServiceRole", "AnonRole", "Row", "Table", "Function", "Action"];

fn parse_type(full: &str) -> Result<EntityTypeName, PolicyError> {
    EntityTypeName::from_str(full).map_err(|e| PolicyError::Model(e.to_string()))
}

fn known_types() -> Result<&'static HashMap<&'static str, EntityTypeName>, PolicyError> {
    static NAMES: OnceLock<Result<HashMap<&'static str, EntityTypeName>, PolicyError>> = OnceLock::new();
    NAMES.get_or_init(|| TYPES.iter().map(|ty| Ok((*ty, parse_type(&format!("{NAMESPACE}::{ty}"))?))).collect()).as_ref().map_err(Clone::clone)
}

/// The type `PgrestLambda::<ty>` (`ty` bare: `User`, `Row`, `Action`).
fn type_name(ty: &str) -> Result<EntityTypeName, PolicyError> {
    match known_types()?.get(ty) {
        Some(name) => Ok(name.clone()),
        None => parse_type(&format!("{NAMESPACE}::{ty}")),
    }
}

/// `PgrestLambda::<ty>::"<id>"`; `ty` is a bare type name (`User`, `Row`, `Action`).
pub fn entity_uid(ty: &str, id: &str) -> Result<EntityUid, PolicyError> {
    Ok(EntityUid::from_type_name_and_id(type_name(ty)?, EntityId::new(id)))
}

/// `<ty>::"<id>"` for a full type name.
pub fn full_entity_uid(ty: &str, id: &str) -> Result<EntityUid, PolicyError> {
    let name = match ty.strip_prefix(NAMESPACE).and_then(|rest| rest.strip_prefix("::")) {
        Some(bare) => type_name(bare)?,
        None => parse_type(ty)?,
    };
    Ok(EntityUid::from_type_name_and_id(name, EntityId::new(id)))
}

pub fn action_uid(action: Action) -> Result<EntityUid, PolicyError> {
    entity_uid("Action", action.name())
}

pub fn row_type() -> Result<EntityTypeName, PolicyError> {
    type_name("Row")
}

/// The caller as Cedar sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Bare type name: `User`, `ServiceRole` or `AnonRole`.
    pub ty: &'static str,
    pub id: String,
    /// Every verified claim that has a Cedar value (S-03).
    pub attrs: BTreeMap<String, Val>,
}

impl Principal {
    /// `service_role` → `ServiceRole::"service"`, the anonymous role → `AnonRole::"anon"`, any
    /// other role → `User::"<sub>"` (a user token without a string `sub` is refused).
    pub fn from_identity(role: &str, claims: &Value, anon_role: &str) -> Result<Principal, PolicyError> {
        let attrs = match claims {
            Value::Object(map) => map.iter().filter_map(|(k, v)| Val::from_json(v).map(|v| (k.clone(), v))).collect(),
            _ => BTreeMap::new(),
        };
        let (ty, id) = if role == SERVICE_ROLE {
            ("ServiceRole", "service".to_string())
        } else if role == anon_role {
            ("AnonRole", "anon".to_string())
        } else {
            match claims.get("sub").and_then(Value::as_str) {
                Some(sub) if !sub.is_empty() => ("User", sub.to_string()),
                _ => return Err(PolicyError::Model(format!("a token for role {role:?} has no `sub` claim"))),
            }
        };
        Ok(Principal { ty, id, attrs })
    }

    pub fn uid(&self) -> Result<EntityUid, PolicyError> {
        entity_uid(self.ty, &self.id)
    }

    pub fn as_val(&self) -> Val {
        Val::Entity { ty: format!("{NAMESPACE}::{}", self.ty), id: self.id.clone() }
    }

    /// The principal entity with its claims as attributes.
    pub fn entity(&self) -> Result<Entity, PolicyError> {
        let attrs = self.attrs.iter().map(|(k, v)| Ok((k.clone(), v.to_restricted()?))).collect::<Result<HashMap<_, _>, PolicyError>>()?;
        Entity::new(self.uid()?, attrs, HashSet::new()).map_err(|e| PolicyError::Model(e.to_string()))
    }
}

/// The context of a row check: `{ table: "<name>" }`.
pub fn row_context(table: &str) -> Result<Context, PolicyError> {
    Context::from_pairs([("table".to_string(), RestrictedExpression::new_string(table.to_string()))]).map_err(|e| PolicyError::Model(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_map_to_principals() {
        let claims = json!({"sub": "u1", "role": "authenticated"});
        assert_eq!(Principal::from_identity("authenticated", &claims, "anon").unwrap().uid().unwrap().to_string(), r#"PgrestLambda::User::"u1""#);
        assert_eq!(Principal::from_identity("service_role", &json!({}), "anon").unwrap().uid().unwrap().to_string(), r#"PgrestLambda::ServiceRole::"service""#);
        assert_eq!(Principal::from_identity("anon", &json!({}), "anon").unwrap().uid().unwrap().to_string(), r#"PgrestLambda::AnonRole::"anon""#);
        assert!(Principal::from_identity("authenticated", &json!({"role": "authenticated"}), "anon").is_err());
    }

    #[test]
    fn every_claim_is_an_attribute_s03() {
        let claims = json!({"sub": "u1", "email": "a@b", "team_id": 7, "admin": true, "app_metadata": {"org": "acme", "ratio": 0.5}, "groups": ["b", "a", "b"], "gone": null});
        let p = Principal::from_identity("authenticated", &claims, "anon").unwrap();
        assert_eq!(p.attrs.get("email"), Some(&Val::Str("a@b".into())));
        assert_eq!(p.attrs.get("team_id"), Some(&Val::Long(7)));
        assert_eq!(p.attrs.get("admin"), Some(&Val::Bool(true)));
        let org = BTreeMap::from([("org".to_string(), Val::Str("acme".into()))]);
        assert_eq!(p.attrs.get("app_metadata"), Some(&Val::Record(org)));
        assert_eq!(p.attrs.get("groups"), Some(&Val::Set(vec![Val::Str("a".into()), Val::Str("b".into())])));
        assert_eq!(p.attrs.get("gone"), None);
        assert!(p.entity().is_ok());
    }
}
