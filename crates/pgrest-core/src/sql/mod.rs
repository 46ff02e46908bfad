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

use crate::api_request::MediaType;
use crate::plan::{ActionPlan, CallPlan, MutatePlan, ReadPlan};

/// How the body column is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyShape {
    /// A JSON array of the rows.
    Array { strip_nulls: bool },
    /// The first row as an object (the caller checks there is exactly one).
    Object,
    /// No body (HEAD, return=minimal).
    None,
}

impl BodyShape {
    pub fn for_media(media: MediaType) -> BodyShape {
        match media {
            MediaType::Json => BodyShape::Array { strip_nulls: false },
            MediaType::JsonStripped => BodyShape::Array { strip_nulls: true },
            MediaType::SingleObject => BodyShape::Object,
        }
    }
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
