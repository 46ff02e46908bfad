//! The linter's rules on one parsed policy: scope constraints through cedar-policy's typed
//! accessors, conditions through the policy's JSON form (EST, `Policy::to_json`).
//!
//! Must not look at policy text: every rule reads the parsed policy only.

use std::collections::BTreeSet;

use cedar_policy::{
    ActionConstraint, Effect, EntityUid, Policy, PrincipalConstraint, ResourceConstraint,
};
use serde_json::Value;

use super::Rule;
use crate::policy::NAMESPACE;

/// The actions the engine knows (`PgrestLambda::Action::"<name>"`).
pub const ACTIONS: [&str; 5] = ["select", "insert", "update", "delete", "call"];

/// Every finding of `policy` as (rule, message), before suppression.
pub(super) fn check(policy: &Policy) -> Vec<(Rule, String)> {
    let mut out = Vec::new();
    let est = policy.to_json().unwrap_or(Value::Null);
    let conditions: Vec<(&str, &Value)> = est
        .get("conditions")
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .filter_map(|c| Some((c.get("kind")?.as_str()?, c.get("body")?)))
                .collect()
        })
        .unwrap_or_default();
    let principal_any = matches!(policy.principal_constraint(), PrincipalConstraint::Any);
    let action_any = matches!(policy.action_constraint(), ActionConstraint::Any);
    let resource_any = matches!(policy.resource_constraint(), ResourceConstraint::Any);
    let unscoped = principal_any && action_any && resource_any && conditions.is_empty();
    let permit = policy.effect() == Effect::Permit;

    if permit && unscoped {
        out.push((
            Rule::UnconditionalPermit,
            "permit applies to every principal, action and resource with no condition".to_string(),
        ));
    }
    if permit {
        for (kind, body) in &conditions {
            if *kind == "when" && tautology(body) {
                out.push((
                    Rule::TautologicalWhen,
                    "`when` condition is always true".to_string(),
                ));
            }
        }
    }
    let mut unknown = BTreeSet::new();
    for uid in scope_actions(policy) {
        if let Some(name) = unknown_action(&uid) {
            unknown.insert(name);
        }
    }
    for (_, body) in &conditions {
        collect_entity_actions(body, &mut unknown);
    }
    for name in unknown {
        out.push((Rule::UnknownAction, format!("unknown action {name} (expected {NAMESPACE}::Action::\"select|insert|update|delete|call\")")));
    }
    if permit && principal_any {
        out.push((
            Rule::PrincipalTypeMissing,
            "principal is unconstrained, so the permit also matches anonymous callers".to_string(),
        ));
    }
    if permit && resource_any && !service_role(&policy.principal_constraint()) {
        out.push((Rule::ResourceTypeMissing, "resource is unconstrained (use `resource is PgrestLambda::Row`, `Table` or `Function`)".to_string()));
    }
    for (_, body) in &conditions {
        let mut used = BTreeSet::new();
        let mut guarded = BTreeSet::new();
        resource_attrs(body, &mut used, &mut guarded);
        for attr in used.difference(&guarded) {
            out.push((
                Rule::MissingHasGuard,
                format!(
                    "`resource.{attr}` is used without `resource has {attr}` in the same condition"
                ),
            ));
        }
    }
    if !permit && unscoped {
        out.push((Rule::UnscopedForbid, "forbid applies to every principal, action and resource with no condition: it denies everything".to_string()));
    }
    out
}

/// `true`, or `==` of two identical literals.
fn tautology(body: &Value) -> bool {
    if body.get("Value") == Some(&Value::Bool(true)) {
        return true;
    }
    let Some(eq) = body.get("==") else {
        return false;
    };
    match (
        eq.get("left").and_then(|l| l.get("Value")),
        eq.get("right").and_then(|r| r.get("Value")),
    ) {
        (Some(left), Some(right)) => left == right,
        _ => false,
    }
}

fn scope_actions(policy: &Policy) -> Vec<EntityUid> {
    match policy.action_constraint() {
        ActionConstraint::Any => Vec::new(),
        ActionConstraint::Eq(uid) => vec![uid],
        ActionConstraint::In(uids) => uids,
    }
}

/// `Some(display)` when `uid` is not one of the five actions of the namespace.
fn unknown_action(uid: &EntityUid) -> Option<String> {
    let known = uid.type_name().to_string() == format!("{NAMESPACE}::Action")
        && ACTIONS.contains(&uid.id().unescaped());
    (!known).then(|| uid.to_string())
}

/// Action entity literals inside a condition (`action == Action::"sel"`), by their JSON form.
fn collect_entity_actions(expr: &Value, unknown: &mut BTreeSet<String>) {
    match expr {
        Value::Object(map) => {
            if let Some(entity) = map.get("__entity") {
                let ty = entity
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let id = entity.get("id").and_then(Value::as_str).unwrap_or_default();
                let is_action = ty == "Action" || ty.ends_with("::Action");
                if is_action && !(ty == format!("{NAMESPACE}::Action") && ACTIONS.contains(&id)) {
                    unknown.insert(format!("{ty}::{}", Value::String(id.to_string())));
                }
            }
            map.values()
                .for_each(|v| collect_entity_actions(v, unknown));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_entity_actions(v, unknown)),
        _ => {}
    }
}

fn service_role(constraint: &PrincipalConstraint) -> bool {
    let service = format!("{NAMESPACE}::ServiceRole");
    match constraint {
        PrincipalConstraint::Is(ty) | PrincipalConstraint::IsIn(ty, _) => ty.to_string() == service,
        PrincipalConstraint::Eq(uid) => uid.type_name().to_string() == service,
        PrincipalConstraint::Any | PrincipalConstraint::In(_) => false,
    }
}

fn is_resource(expr: Option<&Value>) -> bool {
    expr.and_then(|e| e.get("Var")).and_then(Value::as_str) == Some("resource")
}

/// Attributes read from `resource` (`used`) and tested with `has` (`guarded`) in one condition.
fn resource_attrs(expr: &Value, used: &mut BTreeSet<String>, guarded: &mut BTreeSet<String>) {
    match expr {
        Value::Object(map) => {
            if let Some(get) = map.get(".") {
                if is_resource(get.get("left")) {
                    if let Some(attr) = get.get("attr").and_then(Value::as_str) {
                        used.insert(attr.to_string());
                    }
                }
            }
            if let Some(has) = map.get("has") {
                if is_resource(has.get("left")) {
                    // `resource has a` or, extended, `resource has a.b` (["a", "b"]).
                    let attr = has.get("attr");
                    let first = attr
                        .and_then(Value::as_str)
                        .or_else(|| attr.and_then(|a| a.get(0)).and_then(Value::as_str));
                    if let Some(attr) = first {
                        guarded.insert(attr.to_string());
                    }
                }
            }
            map.values().for_each(|v| resource_attrs(v, used, guarded));
        }
        Value::Array(items) => items.iter().for_each(|v| resource_attrs(v, used, guarded)),
        _ => {}
    }
}
