//! Read levels → `SELECT ... FROM source AS tN LEFT JOIN LATERAL (embed) ... WHERE ... ORDER BY
//! ... LIMIT ... OFFSET ...`, embeds aggregated to JSON inside PostgreSQL.
//!
//! Must not aggregate the root (the caller wraps it) or touch anything but the plan.

use crate::api_request::types::{Direction, Nulls};
use crate::plan::{Cardinality, EmbedPlan, ReadPlan, SelectExpr, Source};

use super::call::function_call;
use super::condition::{column_expr, conditions};
use super::writer::SqlWriter;

/// One level as a plain SELECT. `with_range` adds ORDER BY/LIMIT/OFFSET (left out for counts).
pub fn select(w: &mut SqlWriter, plan: &ReadPlan, with_range: bool) {
    select_with_join(w, plan, with_range, None);
}

/// One level; `embed` (parent alias + embed) adds the join to the parent level.
fn select_with_join(w: &mut SqlWriter, plan: &ReadPlan, with_range: bool, embed: Option<(&str, &EmbedPlan)>) {
    w.push("SELECT ");
    select_list(w, plan);
    w.push(" FROM ");
    source(w, plan);
    if let Some((_, e)) = embed {
        if let Some(j) = &e.junction {
            w.push(" JOIN ").qualified(&j.relation).push(" AS ").ident(&j.alias).push(" ON ");
            w.list(&j.child_pairs, " AND ", |w, (junction_col, child_col)| {
                w.column(&j.alias, junction_col).push(" = ").column(&plan.alias, child_col);
            });
        }
    }
    for child in &plan.embeds {
        lateral(w, plan, child);
    }
    w.push(" WHERE ");
    if let Some((parent_alias, e)) = embed {
        match &e.junction {
            Some(j) => {
                w.list(&j.parent_pairs, " AND ", |w, (junction_col, parent_col)| {
                    w.column(&j.alias, junction_col).push(" = ").column(parent_alias, parent_col);
                });
            }
            None => {
                w.list(&e.join_pairs, " AND ", |w, (parent_col, child_col)| {
                    w.column(&plan.alias, child_col).push(" = ").column(parent_alias, parent_col);
                });
            }
        }
        w.push(" AND ");
    }
    conditions(w, &plan.alias, &plan.conditions);
    if with_range {
        range(w, plan);
    }
}

fn select_list(w: &mut SqlWriter, plan: &ReadPlan) {
    let mut first = true;
    let mut sep = |w: &mut SqlWriter| {
        if !first {
            w.push(", ");
        }
        first = false;
    };
    for expr in &plan.select {
        sep(w);
        match expr {
            SelectExpr::Column { column, json_path, cast, output } => {
                column_expr(w, &plan.alias, column, json_path);
                if let Some(cast) = cast {
                    w.push("::").ident(&cast.name);
                    if cast.array {
                        w.push("[]");
                    }
                }
                w.push(" AS ").ident(output);
            }
            SelectExpr::AllColumns => {
                w.ident(&plan.alias).push(".*");
            }
        }
    }
    for e in &plan.embeds {
        sep(w);
        match e.cardinality {
            Cardinality::ToOne => w.column(&e.lateral_alias, "body"),
            Cardinality::ToMany => w.push("coalesce(").column(&e.lateral_alias, "body").push(", '[]'::json)"),
        };
        w.push(" AS ").ident(&e.output);
    }
    if first {
        // A level with nothing selected still yields rows (PostgREST returns `{}` objects).
        w.push("NULL AS \"pgrst_nothing\"");
    }
}

fn source(w: &mut SqlWriter, plan: &ReadPlan) {
    match &plan.source {
        Source::Relation(name) => {
            w.qualified(name);
        }
        Source::MutatedRows => {
            w.ident("pgrst_source");
        }
        Source::Function { name, args } => function_call(w, name, args),
    }
    w.push(" AS ").ident(&plan.alias);
}

/// `LEFT JOIN LATERAL (SELECT json_agg(...) AS body FROM (child) AS pgrst_row) AS jN ON TRUE`.
fn lateral(w: &mut SqlWriter, parent: &ReadPlan, e: &EmbedPlan) {
    w.push(" LEFT JOIN LATERAL (SELECT ");
    match e.cardinality {
        Cardinality::ToOne => w.push("pg_catalog.row_to_json(\"pgrst_row\")"),
        Cardinality::ToMany => w.push("pg_catalog.json_agg(\"pgrst_row\")"),
    };
    w.push(" AS \"body\" FROM (");
    select_with_join(w, &e.plan, true, Some((&parent.alias, e)));
    w.push(") AS \"pgrst_row\") AS ").ident(&e.lateral_alias).push(" ON TRUE");
}

fn range(w: &mut SqlWriter, plan: &ReadPlan) {
    if !plan.order.is_empty() {
        w.push(" ORDER BY ");
        w.list(&plan.order, ", ", |w, o| {
            column_expr(w, &plan.alias, &o.column, &o.json_path);
            w.push(match o.direction {
                Some(Direction::Desc) => " DESC",
                Some(Direction::Asc) => " ASC",
                None => "",
            });
            w.push(match o.nulls {
                Some(Nulls::First) => " NULLS FIRST",
                Some(Nulls::Last) => " NULLS LAST",
                None => "",
            });
        });
    }
    if let Some(limit) = plan.limit {
        w.push(" LIMIT ").value(&limit.to_string()).push("::int8");
    }
    if plan.offset > 0 {
        w.push(" OFFSET ").value(&plan.offset.to_string()).push("::int8");
    }
}
