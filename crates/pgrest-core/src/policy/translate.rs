//! Row authorization: partial evaluation of the policy set with the `Row` resource unknown,
//! each residual turned into a typed condition, combined as
//! `(permit_1 OR ... OR permit_n) AND NOT forbid_1 AND ... AND NOT forbid_m` (S-01).
//!
//! Must fail closed: an untranslatable permit adds nothing, an untranslatable forbid denies.

use cedar_policy::{Authorizer, Effect, Entities, PolicyId, Request};

use super::entities::{action_uid, row_context, row_type, Action, Principal};
use super::eval::{Env, PolicyColumn};
use super::residual::parse_conditions;
use super::{Policies, PolicyError};
use crate::plan::PolicyCondition;

/// One row check: who does what to which table's rows.
#[derive(Debug, Clone, Copy)]
pub struct RowRequest<'a> {
    pub principal: &'a Principal,
    pub action: Action,
    pub table: &'a str,
    pub columns: &'a [PolicyColumn],
    /// Also record the residuals as Cedar text (`explain-policy`; costs a formatting pass).
    pub explain: bool,
}

/// A residual the translator refused, with the reason (for the V-16 log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untranslatable {
    pub policy: String,
    pub forbid: bool,
    pub reason: String,
}

/// The outcome for one table: the filter to add, and which policies shaped it.
#[derive(Debug, Clone, PartialEq)]
pub struct RowAuthorization {
    /// Rows the caller may act on; `Const(false)` is a denial.
    pub condition: PolicyCondition,
    /// Permits that contributed a condition (including trivially true ones).
    pub permits: Vec<String>,
    /// Forbids applied as `AND NOT (...)`.
    pub forbids: Vec<String>,
    pub untranslatable: Vec<Untranslatable>,
    /// Non-trivial residuals as Cedar text, in policy order (only with `explain`).
    pub residuals: Vec<(String, String)>,
}

impl RowAuthorization {
    pub fn denied(&self) -> bool {
        self.condition.is_const(false)
    }
}

/// Partially evaluates `policies` for `request` and translates the residuals.
pub fn authorize_rows(policies: &Policies, request: &RowRequest<'_>) -> Result<RowAuthorization, PolicyError> {
    let cedar_request = Request::builder()
        .principal(request.principal.uid()?)
        .action(action_uid(request.action)?)
        .unknown_resource_with_type(row_type()?)
        .context(row_context(request.table)?)
        .build();
    let entities = Entities::from_entities([request.principal.entity()?], None).map_err(|e| PolicyError::Model(e.to_string()))?;
    let response = Authorizer::new().is_authorized_partial(&cedar_request, policies.set(), &entities);

    let order = |id: &PolicyId| policies.ids().iter().position(|known| AsRef::<str>::as_ref(id) == known.as_str());
    // Satisfied policies are TRUE; false and errored ones add nothing; only the rest are read.
    let mut residuals: Vec<(cedar_policy::Policy, bool)> = response.definitely_satisfied().map(|p| (p, true)).chain(response.nontrivial_residuals().map(|p| (p, false))).collect();
    residuals.sort_by_key(|(p, _)| order(p.id()));

    let env = Env { principal: request.principal, action: request.action, table: request.table, columns: request.columns };
    let mut out = RowAuthorization { condition: PolicyCondition::FALSE, permits: Vec::new(), forbids: Vec::new(), untranslatable: Vec::new(), residuals: Vec::new() };
    let mut allow = PolicyCondition::FALSE;
    let mut deny = Vec::new();
    let mut forbid_refused = false;
    for (policy, satisfied) in &residuals {
        let id = policy.id().to_string();
        let forbid = policy.effect() == Effect::Forbid;
        let translated = if *satisfied { Ok(PolicyCondition::TRUE) } else { translate_policy(&env, policy) };
        match translated {
            Ok(cond) => {
                if cond.is_const(false) {
                    continue;
                }
                if request.explain && !cond.is_const(true) {
                    out.residuals.push((id.clone(), policy.to_string()));
                }
                if forbid {
                    deny.push(cond);
                    out.forbids.push(id);
                } else {
                    allow = PolicyCondition::or(allow, cond);
                    out.permits.push(id);
                }
            }
            Err(reason) => {
                if request.explain {
                    out.residuals.push((id.clone(), policy.to_string()));
                }
                forbid_refused |= forbid;
                out.untranslatable.push(Untranslatable { policy: id, forbid, reason });
            }
        }
    }
    let mut condition = if forbid_refused { PolicyCondition::FALSE } else { allow };
    for forbid in deny {
        condition = PolicyCondition::and(condition, PolicyCondition::negate(forbid));
    }
    out.condition = condition;
    Ok(out)
}

/// The condition under which one residual policy is satisfied (Cedar gives `true`).
fn translate_policy(env: &Env<'_>, policy: &cedar_policy::Policy) -> Result<PolicyCondition, String> {
    let json = policy.to_json().map_err(|e| format!("residual has no JSON form: {e}"))?;
    let conditions = parse_conditions(&json).ok_or_else(|| "residual scope is not evaluated".to_string())?;
    let mut all = PolicyCondition::TRUE;
    for expr in &conditions {
        let tri = env.tri(env.eval(expr)?)?;
        all = PolicyCondition::and(all, tri.t);
        if all.is_const(false) {
            break;
        }
    }
    Ok(all)
}

/// The V-16 line for a denial or an untranslatable residual (nothing when neither happened).
pub fn log_decision(request_id: &str, principal: &Principal, action: Action, table: &str, auth: &RowAuthorization) {
    if !auth.denied() && auth.untranslatable.is_empty() {
        return;
    }
    let untranslatable: Vec<String> = auth.untranslatable.iter().map(|u| format!("{} ({})", u.policy, u.reason)).collect();
    tracing::warn!(
        target: "pgrest::authz",
        request_id,
        principal = %format!("{}::{:?}", principal.ty, principal.id),
        action = action.name(),
        resource = table,
        denied = auth.denied(),
        permits = ?auth.permits,
        forbids = ?auth.forbids,
        untranslatable = ?untranslatable,
        "authorization"
    );
}
