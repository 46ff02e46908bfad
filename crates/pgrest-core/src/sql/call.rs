//! Function calls → `"schema"."fn"("arg" := $n, ...)` in FROM, wrapped to the fixed result shape
//! (rows like a read; scalars as a JSON value or array; void as no body).
//!
//! Must not decide overloads (the planner did); arguments are always bind parameters.

use crate::plan::{CallArg, CallPlan, CallResult};
use crate::schema_cache::QualifiedName;

use super::writer::SqlWriter;
use super::{build_read, BodyShape, Statement};

/// `"s"."f"("a" := $1, "b" := $2)`.
pub fn function_call(w: &mut SqlWriter, name: &QualifiedName, args: &[CallArg]) {
    w.qualified(name).push("(");
    w.list(args, ", ", |w, a| {
        w.ident(&a.name).push(" := ").param(a.value.clone());
    });
    w.push(")");
}

/// `f(...) AS "pgrst_t"("pgrst_scalar")`: names the scalar result column.
fn scalar_from(w: &mut SqlWriter, plan: &CallPlan) {
    function_call(w, &plan.function, &plan.args);
    w.push(" AS \"pgrst_t\"(\"pgrst_scalar\")");
}

pub fn build(plan: &CallPlan, body: BodyShape, count: bool) -> Statement {
    let mut w = SqlWriter::new();
    match plan.result {
        CallResult::Rows { .. } => return build_read(&plan.read, body, count),
        CallResult::Scalar { set: false } => {
            w.push("SELECT NULL::int8, 1::int8, ");
            w.push(if body == BodyShape::None { "''::text" } else { "pg_catalog.to_json(\"pgrst_t\".\"pgrst_scalar\")::text" });
            w.push(", NULL::bool FROM ");
            scalar_from(&mut w, plan);
        }
        CallResult::Scalar { set: true } => {
            w.push("SELECT ");
            if count {
                w.push("(SELECT pg_catalog.count(*) FROM ");
                scalar_from(&mut w, plan);
                w.push(")");
            } else {
                w.push("NULL::int8");
            }
            w.push(", pg_catalog.count(*)::int8, ");
            w.push(if body == BodyShape::None { "''::text" } else { "coalesce(pg_catalog.json_agg(\"pgrst_row\".\"pgrst_scalar\"), '[]')::text" });
            w.push(", NULL::bool FROM (SELECT \"pgrst_t\".\"pgrst_scalar\" FROM ");
            scalar_from(&mut w, plan);
            if let Some(limit) = plan.read.limit {
                w.push(" LIMIT ").value(&limit.to_string()).push("::int8");
            }
            if plan.read.offset > 0 {
                w.push(" OFFSET ").value(&plan.read.offset.to_string()).push("::int8");
            }
            w.push(") AS \"pgrst_row\"");
        }
        CallResult::Void => {
            w.push("SELECT NULL::int8, 0::int8, ''::text, NULL::bool FROM ");
            function_call(&mut w, &plan.function, &plan.args);
            w.push(" AS \"pgrst_void\"");
        }
    }
    w.finish()
}
