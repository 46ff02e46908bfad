//! The Cedar schema generated from the schema cache (namespace `PgrestLambda`), and validation
//! of a loaded policy set against it, reporting each problem with its policy id (`file:index`).
//!
//! Row attributes: one optional attribute per column of the exposed relations (union over
//! tables), typed by `PolicyColumn::from_pg`; columns without a Cedar type are left out, and a
//! column name with two different Cedar types in different tables is left out and listed in
//! `CedarSchema::conflicts`. Validation is Cedar's strict mode (permissive mode needs
//! cedar-policy's experimental `permissive-validate` feature), with one tolerated error: `==`
//! between a `String` and an entity (the owner recipe `resource.user_id == principal`, which the
//! translator compares as the column's text against the principal's id). Everything else — an
//! unknown attribute (`resource.ownr`), an unknown action or entity type — is an error; a
//! `resource has ownr` guard naming no column is a warning (see `validate`).
//!
//! Must not be wired into start-up here, and must not change how policies are evaluated: the
//! schema is only used to check policies.

use std::collections::BTreeMap;

use cedar_policy::{Schema, SchemaFragment, ValidationError, ValidationMode, Validator};
use serde_json::{json, Map, Value};

use super::eval::PolicyColumn;
use super::{ColumnKind, Policies, PolicyError, NAMESPACE};
use crate::schema_cache::SchemaCache;

/// The principal and resource entity types with no attributes of their own (claims are
/// arbitrary, so `User` declares none: `principal has x` on an undeclared claim is a warning).
const PLAIN_TYPES: [&str; 5] = ["User", "ServiceRole", "AnonRole", "Table", "Function"];
const ROW_ACTIONS: [&str; 4] = ["select", "insert", "update", "delete"];
const PRINCIPALS: [&str; 3] = ["User", "ServiceRole", "AnonRole"];

/// A generated schema with the JSON it was built from (what `cedar-schema` prints).
#[derive(Debug)]
pub struct CedarSchema {
    pub schema: Schema,
    pub json: Value,
    /// Column names left out because their Cedar type differs between tables.
    pub conflicts: Vec<String>,
}

impl CedarSchema {
    /// The schema in Cedar's human-readable schema syntax.
    pub fn to_text(&self) -> Result<String, PolicyError> {
        let fragment = SchemaFragment::from_json_value(self.json.clone()).map_err(|e| PolicyError::Model(e.to_string()))?;
        fragment.to_cedarschema().map_err(|e| PolicyError::Model(e.to_string()))
    }
}

/// One validation problem of one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// `file:index`.
    pub policy: String,
    pub message: String,
}

/// The Cedar type of a column, in the JSON schema's notation; `None` without a mapping.
fn cedar_type(col: &PolicyColumn) -> Option<Value> {
    let base = match col.kind? {
        ColumnKind::Text | ColumnKind::UuidText => "String",
        ColumnKind::Long => "Long",
        ColumnKind::Bool => "Boolean",
    };
    let scalar = json!({ "type": base });
    Some(if col.array { json!({ "type": "Set", "element": scalar }) } else { scalar })
}

/// Builds the schema for the relations of `schemas` (the exposed database schemas).
pub fn cedar_schema(cache: &SchemaCache, schemas: &[String]) -> Result<CedarSchema, PolicyError> {
    let mut attrs: BTreeMap<String, Option<Value>> = BTreeMap::new();
    for rel in cache.relations.values().filter(|r| schemas.contains(&r.name.schema)) {
        for col in &rel.columns {
            let Some(ty) = cedar_type(&PolicyColumn::from_pg(&col.name, &col.data_type)) else { continue };
            let slot = attrs.entry(col.name.clone()).or_insert_with(|| Some(ty.clone()));
            if slot.as_ref().is_some_and(|seen| *seen != ty) {
                *slot = None;
            }
        }
    }
    let conflicts = attrs.iter().filter(|(_, ty)| ty.is_none()).map(|(name, _)| name.clone()).collect();
    let mut row_attrs = Map::new();
    for (name, ty) in attrs {
        if let Some(mut ty) = ty {
            if let Some(obj) = ty.as_object_mut() {
                obj.insert("required".into(), Value::Bool(false));
            }
            row_attrs.insert(name, ty);
        }
    }
    let mut entity_types = Map::new();
    for ty in PLAIN_TYPES {
        entity_types.insert(ty.into(), json!({}));
    }
    entity_types.insert(
        "Row".into(),
        json!({ "memberOfTypes": ["Table"], "shape": { "type": "Record", "attributes": row_attrs } }),
    );
    let context = json!({ "type": "Record", "attributes": { "table": { "type": "String" } } });
    let mut actions = Map::new();
    for action in ROW_ACTIONS {
        actions.insert(
            action.into(),
            json!({ "appliesTo": { "principalTypes": PRINCIPALS, "resourceTypes": ["Row", "Table"], "context": context } }),
        );
    }
    actions.insert("call".into(), json!({ "appliesTo": { "principalTypes": PRINCIPALS, "resourceTypes": ["Function"], "context": context } }));
    let json = json!({ NAMESPACE: { "entityTypes": entity_types, "actions": actions } });
    let schema = Schema::from_json_value(json.clone()).map_err(|e| PolicyError::Model(format!("generated Cedar schema is invalid: {e}")))?;
    Ok(CedarSchema { schema, json, conflicts })
}

/// The tolerated strict-mode error: a String and an entity that must have compatible types (the
/// owner recipe's `==`).
fn is_owner_comparison(err: &ValidationError) -> bool {
    let ValidationError::IncompatibleTypes(e) = err else { return false };
    // "the types String and PgrestLambda::User are not compatible"
    let text = e.to_string();
    text.starts_with("the types String and ") && text.contains(&format!(" {NAMESPACE}::")) && text.matches(" and ").count() == 1
}

/// What validation found: `errors` refuse a policy set; `warnings` do not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validation {
    pub errors: Vec<PolicyProblem>,
    pub warnings: Vec<PolicyProblem>,
}

/// Validates `policies` against `schema`; every problem with its policy id, in file order.
/// Cedar's own warnings are not passed on: `User` declares no claims, so every `principal has
/// claim` recipe would be an "impossible policy". Instead a `resource has col` naming no column
/// of any exposed table is a warning (an error would refuse `default.cedar` on a database
/// without `user_id` columns).
pub fn validate(policies: &Policies, schema: &CedarSchema) -> Validation {
    let result = Validator::new(schema.schema.clone()).validate(policies.set(), ValidationMode::Strict);
    let errors = result
        .validation_errors()
        .filter(|e| !is_owner_comparison(e))
        .map(|e| PolicyProblem { policy: e.policy_id().to_string(), message: e.to_string() })
        .collect();
    let columns = schema.json.get(NAMESPACE).and_then(|n| n.pointer("/entityTypes/Row/shape/attributes")).and_then(Value::as_object);
    let mut warnings = Vec::new();
    for policy in policies.set().policies() {
        let mut tested = Vec::new();
        if let Ok(est) = policy.to_json() {
            resource_has(&est, &mut tested);
        }
        for col in tested {
            if !columns.is_some_and(|c| c.contains_key(&col)) && !schema.conflicts.contains(&col) {
                warnings.push(PolicyProblem { policy: policy.id().to_string(), message: format!("no exposed table has a column `{col}` with a Cedar type (`resource has {col}` is never true)") });
            }
        }
    }
    Validation { errors: in_file_order(policies, errors), warnings: in_file_order(policies, warnings) }
}

/// The attributes of every `resource has attr` in a policy's JSON form.
fn resource_has(est: &Value, out: &mut Vec<String>) {
    match est {
        Value::Object(obj) => {
            if let Some(has) = obj.get("has") {
                let on_resource = has.get("left").and_then(|l| l.get("Var")).and_then(Value::as_str) == Some("resource");
                if let (true, Some(attr)) = (on_resource, has.get("attr").and_then(Value::as_str)) {
                    out.push(attr.to_string());
                }
            }
            obj.values().for_each(|v| resource_has(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| resource_has(v, out)),
        _ => {}
    }
}

fn in_file_order(policies: &Policies, mut problems: Vec<PolicyProblem>) -> Vec<PolicyProblem> {
    let order = |id: &str| policies.ids().iter().position(|p| p == id);
    problems.sort_by(|a, b| order(&a.policy).cmp(&order(&b.policy)).then_with(|| a.message.cmp(&b.message)));
    problems.dedup();
    problems
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
