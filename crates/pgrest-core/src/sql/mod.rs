//! Stage 5 (build): plan → one statement (text + bind parameters) whose single result row has
//! a fixed shape: `(total int8, page_total int8, body text, inserted bool)`.
//!
//! The only module that writes SQL text. Must not read the schema cache or do I/O.

mod call;
mod condition;
mod mutate;
mod policy;
mod read;
mod writer;

pub use policy::policy_filter;
pub use writer::{SqlWriter, Statement, TextParam};

pub use crate::plan::BodyShape;
use crate::plan::{ActionPlan, CallPlan, MutatePlan, Plan, ReadPlan};

/// Builds the statement a plan decided on (its body shape and count); `None` for OPTIONS.
pub fn build_plan(plan: &Plan) -> Option<Statement> {
    build(&plan.action, plan.body, plan.count)
}

/// Builds the statement for a plan; `count` adds the exact total.
pub fn build(plan: &ActionPlan, body: BodyShape, count: bool) -> Option<Statement> {
    match plan {
        ActionPlan::Read { plan, .. } => Some(build_read(plan, body, count)),
        ActionPlan::Mutate(plan) => Some(build_mutation(plan, body, count)),
        ActionPlan::Call { plan, .. } => Some(build_call(plan, body, count)),
        ActionPlan::Info => None,
    }
}

pub fn build_read(plan: &ReadPlan, body: BodyShape, count: bool) -> Statement {
    let mut w = SqlWriter::new();
    w.push("SELECT ");
    if count {
        w.push("(SELECT pg_catalog.count(*) FROM (");
        read::select(&mut w, plan, false);
        w.push(") AS \"pgrst_count\")");
    } else {
        w.push("NULL::int8");
    }
    w.push(", pg_catalog.count(*)::int8, ");
    aggregate_body(&mut w, body);
    w.push(", NULL::bool FROM (");
    read::select(&mut w, plan, true);
    w.push(") AS \"pgrst_row\"");
    w.finish()
}

pub fn build_mutation(plan: &MutatePlan, body: BodyShape, count: bool) -> Statement {
    mutate::build(plan, body, count)
}

pub fn build_call(plan: &CallPlan, body: BodyShape, count: bool) -> Statement {
    call::build(plan, body, count)
}

/// The body column over rows aliased `pgrst_row`.
fn aggregate_body(w: &mut SqlWriter, body: BodyShape) {
    match body {
        BodyShape::Array { strip_nulls: false } => w.push("coalesce(pg_catalog.json_agg(\"pgrst_row\"), '[]')::text"),
        BodyShape::Array { strip_nulls: true } => w.push("coalesce(pg_catalog.json_strip_nulls(pg_catalog.json_agg(\"pgrst_row\")), '[]')::text"),
        BodyShape::Object => w.push("coalesce((pg_catalog.json_agg(\"pgrst_row\") -> 0)::text, '')"),
        BodyShape::None => w.push("''::text"),
    };
}
