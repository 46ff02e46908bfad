//! Concrete checks on named resources: `Table::"<name>"` (table-level checks) and
//! `Function::"<name>"` (RPC, action `call`), with context `{ table, resource_type }`.
//!
//! Must not filter rows (that is `translate`); the answer is allow or deny, nothing between.

use cedar_policy::{Authorizer, Context, Decision, Entities, Request, RestrictedExpression};

use super::entities::{action_uid, entity_uid, Action, Principal};
use super::{Policies, PolicyError};

/// A named resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Table(&'a str),
    Function(&'a str),
}

/// Cedar's answer for a named resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetDecision {
    pub allowed: bool,
    /// The policies that determined it (permits when allowed, forbids when denied by one).
    pub policies: Vec<String>,
    /// Policies that raised an error (they do not apply), for the V-16 log line.
    pub errors: Vec<String>,
}

/// `is_authorized` for `principal` doing `action` on `target`.
pub fn authorize_target(policies: &Policies, principal: &Principal, action: Action, target: Target<'_>) -> Result<TargetDecision, PolicyError> {
    let (ty, name) = match target {
        Target::Table(name) => ("Table", name),
        Target::Function(name) => ("Function", name),
    };
    let context = Context::from_pairs([
        ("table".to_string(), RestrictedExpression::new_string(name.to_string())),
        ("resource_type".to_string(), RestrictedExpression::new_string(ty.to_string())),
    ])
    .map_err(|e| PolicyError::Model(e.to_string()))?;
    let request = Request::new(principal.uid()?, action_uid(action)?, entity_uid(ty, name)?, context, None).map_err(|e| PolicyError::Model(e.to_string()))?;
    let entities = Entities::from_entities([principal.entity()?], None).map_err(|e| PolicyError::Model(e.to_string()))?;
    let response = Authorizer::new().is_authorized(&request, policies.set(), &entities);
    let mut determining: Vec<String> = response.diagnostics().reason().map(ToString::to_string).collect();
    determining.sort();
    let mut errors: Vec<String> = response.diagnostics().errors().map(|e| match e {
        cedar_policy::AuthorizationError::PolicyEvaluationError(e) => e.policy_id().to_string(),
    }).collect();
    errors.sort();
    Ok(TargetDecision { allowed: response.decision() == Decision::Allow, policies: determining, errors })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyFile;
    use serde_json::json;

    fn shipped_default() -> Policies {
        let text = include_str!("../../../../policies/default.cedar");
        Policies::from_files("policies", &[PolicyFile { name: "default.cedar".into(), text: text.into() }]).unwrap()
    }

    fn principal(role: &str, claims: serde_json::Value) -> Principal {
        Principal::from_identity(role, &claims, "anon").unwrap()
    }

    #[test]
    fn default_policy_lets_only_the_service_role_call_functions() {
        let p = shipped_default();
        let service = authorize_target(&p, &principal("service_role", json!({})), Action::Call, Target::Function("f")).unwrap();
        assert!(service.allowed);
        assert_eq!(service.policies, ["default.cedar:0"]);
        for who in [principal("authenticated", json!({"sub": "u1"})), principal("anon", json!({}))] {
            let d = authorize_target(&p, &who, Action::Call, Target::Function("f")).unwrap();
            assert!(!d.allowed, "{who:?}");
            assert!(d.policies.is_empty());
        }
    }

    #[test]
    fn table_checks_see_context_and_errors_do_not_apply() {
        let text = r#"
            permit(principal, action == PgrestLambda::Action::"call", resource is PgrestLambda::Function) when { principal.admin == true };
            permit(principal, action, resource == PgrestLambda::Table::"posts") when { context.resource_type == "Table" };
        "#;
        let p = Policies::from_files("t", &[PolicyFile { name: "t.cedar".into(), text: text.into() }]).unwrap();
        let user = principal("authenticated", json!({"sub": "u1"}));
        let d = authorize_target(&p, &user, Action::Call, Target::Function("f")).unwrap();
        assert!(!d.allowed);
        assert_eq!(d.errors, ["t.cedar:0"]);
        let admin = principal("authenticated", json!({"sub": "u1", "admin": true}));
        assert!(authorize_target(&p, &admin, Action::Call, Target::Function("f")).unwrap().allowed);
        assert!(authorize_target(&p, &user, Action::Insert, Target::Table("posts")).unwrap().allowed);
        assert!(!authorize_target(&p, &user, Action::Insert, Target::Table("other")).unwrap().allowed);
    }
}
