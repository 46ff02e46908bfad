//! Mutations → `WITH pgrst_source AS (INSERT/UPDATE/DELETE ... RETURNING ...)` followed by the
//! representation read over the affected rows, in one statement.
//!
//! Must not run anything; the body is bound once as a JSON parameter.

use crate::api_request::preferences::Resolution;
use crate::plan::{MutatePlan, MutationKind};

use super::condition::conditions;
use super::read;
use super::writer::SqlWriter;
use super::{aggregate_body, BodyShape, Statement};

pub fn build(plan: &MutatePlan, body: BodyShape, count: bool) -> Statement {
    let mut w = SqlWriter::new();
    w.push("WITH \"pgrst_source\" AS (");
    match plan.kind {
        MutationKind::Insert => insert(&mut w, plan),
        MutationKind::Update => update(&mut w, plan),
        MutationKind::Delete => delete(&mut w, plan),
    }
    w.push(") SELECT ");
    if count {
        w.push("(SELECT pg_catalog.count(*) FROM \"pgrst_source\")");
    } else {
        w.push("NULL::int8");
    }
    w.push(", pg_catalog.count(*)::int8, ");
    aggregate_body(&mut w, body);
    if plan.track_inserted {
        w.push(", (SELECT pg_catalog.bool_or(\"pgrst_inserted\") FROM \"pgrst_source\")");
    } else {
        w.push(", NULL::bool");
    }
    w.push(" FROM (");
    read::select(&mut w, &plan.returning, true);
    w.push(") AS \"pgrst_row\"");
    w.finish()
}

fn returning(w: &mut SqlWriter, plan: &MutatePlan, alias: &str) {
    w.push(" RETURNING ").ident(alias).push(".*");
    if plan.track_inserted {
        w.push(", (").column(alias, "xmax").push(" = 0) AS \"pgrst_inserted\"");
    }
}

fn insert(w: &mut SqlWriter, plan: &MutatePlan) {
    let alias = "pgrst_target";
    w.push("INSERT INTO ").qualified(&plan.relation).push(" AS ").ident(alias);
    if plan.columns.is_empty() {
        w.push(" SELECT FROM ");
        body_rows(w, plan);
    } else if plan.column_defaults.is_empty() {
        w.push(" (");
        w.list(&plan.columns, ", ", |w, c| {
            w.ident(c);
        });
        w.push(") SELECT ");
        w.list(&plan.columns, ", ", |w, c| {
            w.ident(c);
        });
        w.push(" FROM ");
        body_rows(w, plan);
    } else {
        // missing=default: per row, a key that is absent takes the column's DEFAULT.
        w.push(" (");
        w.list(&plan.columns, ", ", |w, c| {
            w.ident(c);
        });
        w.push(") SELECT ");
        w.list(plan.columns.iter().zip(&plan.column_defaults), ", ", |w, (c, default)| {
            w.push("CASE WHEN \"pgrst_item\".\"j\" ? ").value(c).push(" THEN ").column("pgrst_rec", c).push(" ELSE ");
            match default {
                Some(expr) => w.catalog_expr(expr),
                None => w.push("NULL"),
            };
            w.push(" END");
        });
        w.push(" FROM pg_catalog.jsonb_array_elements(");
        if plan.is_array_body {
            w.param(plan.body.clone()).push("::jsonb");
        } else {
            w.push("pg_catalog.jsonb_build_array(").param(plan.body.clone()).push("::jsonb)");
        }
        w.push(") AS \"pgrst_item\"(\"j\") CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(NULL::").qualified(&plan.relation);
        w.push(", \"pgrst_item\".\"j\") AS \"pgrst_rec\"");
    }
    if let Some(conflict) = &plan.on_conflict {
        w.push(" ON CONFLICT (");
        w.list(&conflict.columns, ", ", |w, c| {
            w.ident(c);
        });
        w.push(")");
        let updates: Vec<&String> = conflict.update_columns.iter().collect();
        if conflict.resolution == Resolution::IgnoreDuplicates || updates.is_empty() {
            w.push(" DO NOTHING");
        } else {
            w.push(" DO UPDATE SET ");
            w.list(updates, ", ", |w, c| {
                w.ident(c).push(" = EXCLUDED.").ident(c);
            });
        }
    }
    returning(w, plan, alias);
}

fn update(w: &mut SqlWriter, plan: &MutatePlan) {
    let alias = plan.alias.as_str();
    if plan.columns.is_empty() {
        // `{}` changes nothing: select no rows, as PostgREST answers an empty update.
        w.push("SELECT ").ident(alias).push(".*");
        if plan.track_inserted {
            w.push(", false AS \"pgrst_inserted\"");
        }
        w.push(" FROM ").qualified(&plan.relation).push(" AS ").ident(alias).push(" WHERE false");
        return;
    }
    w.push("UPDATE ").qualified(&plan.relation).push(" AS ").ident(alias).push(" SET ");
    w.list(&plan.columns, ", ", |w, c| {
        w.ident(c).push(" = ").column("pgrst_body", c);
    });
    w.push(" FROM (SELECT * FROM pg_catalog.json_populate_record(NULL::").qualified(&plan.relation).push(", ");
    w.param(plan.body.clone()).push("::json)) AS \"pgrst_body\" WHERE ");
    conditions(w, alias, &plan.conditions);
    returning(w, plan, alias);
}

fn delete(w: &mut SqlWriter, plan: &MutatePlan) {
    let alias = plan.alias.as_str();
    w.push("DELETE FROM ").qualified(&plan.relation).push(" AS ").ident(alias).push(" WHERE ");
    conditions(w, alias, &plan.conditions);
    returning(w, plan, alias);
}

/// `json_populate_recordset(NULL::t, $n::json) AS pgrst_body` over the body (an object becomes a one-element array).
fn body_rows(w: &mut SqlWriter, plan: &MutatePlan) {
    w.push("pg_catalog.json_populate_recordset(NULL::").qualified(&plan.relation).push(", ");
    if plan.is_array_body {
        w.param(plan.body.clone()).push("::json");
    } else {
        w.push("pg_catalog.json_build_array(").param(plan.body.clone()).push("::json)");
    }
    w.push(") AS \"pgrst_body\"");
}
