//! Stage 3 (plan): `ApiRequest` + `&SchemaCache` → `ActionPlan`, every name resolved and every
//! value still a value (never SQL text).
//!
//! The only stage (with `openapi`) that reads the schema cache. Must not write SQL or do I/O.

mod aliases;
mod call;
mod error;
mod execution;
mod mutate;
mod policy_condition;
mod read;
mod relationships;
mod types;

pub use error::PlanError;
pub use execution::{BodyShape, Plan, TxMode};
pub use policy_condition::{ArrayOp, ColumnKind, CompareOp, LikePart, PolicyCondition, PolicyValue};
pub use types::*;

use crate::api_request::{Action, ApiRequest, Target};
use crate::schema_cache::SchemaCache;

/// Options from configuration that shape plans.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    pub allow_unfiltered_mutations: bool,
    pub max_embed_depth: usize,
}

/// Plans one request with its execution decisions (transaction mode, body shape, singular,
/// count): what `App` runs.
pub fn plan(request: &ApiRequest, cache: &SchemaCache, options: PlanOptions) -> Result<Plan, PlanError> {
    plan_request(request, cache, options).map(|action| Plan::new(request, action))
}

/// Plans one request's action (without the execution decisions `plan` adds).
pub fn plan_request(request: &ApiRequest, cache: &SchemaCache, options: PlanOptions) -> Result<ActionPlan, PlanError> {
    match (&request.target, request.action) {
        (Target::Relation(name), Action::Read { headers_only }) => {
            let relation = read::find_relation(cache, &request.schema, name)?;
            let plan = read::plan_read(request, cache, relation, options)?;
            Ok(ActionPlan::Read { plan, headers_only })
        }
        (Target::Relation(name), Action::Info) => {
            read::find_relation(cache, &request.schema, name)?;
            Ok(ActionPlan::Info)
        }
        (Target::Relation(name), action) => {
            let relation = read::find_relation(cache, &request.schema, name)?;
            mutate::plan_mutation(request, cache, relation, action, options).map(ActionPlan::Mutate)
        }
        (Target::Routine(name), Action::Call { read_only, headers_only }) => {
            call::plan_call(request, cache, name, read_only, options).map(|plan| ActionPlan::Call { plan, headers_only })
        }
        (Target::Routine(_), _) => Ok(ActionPlan::Info),
    }
}
