//! Plans INSERT (and upsert), UPDATE, DELETE and PUT: written columns, conflict handling,
//! the WHERE from root filters, and the representation read over the affected rows.
//!
//! Must not write SQL. Refuses unfiltered UPDATE/DELETE unless configured to allow them.

use crate::api_request::preferences::Resolution;
use crate::api_request::types::{Operation, SimpleOp};
use crate::api_request::{Action, ApiRequest};
use crate::schema_cache::{Relation, SchemaCache};

use super::error::PlanError;
use super::read::{attach_query, build_level, filter_condition, select_items};
use super::aliases::Aliases;
use super::types::{Condition, MutatePlan, MutationKind, OnConflict, Source};
use super::PlanOptions;

pub fn plan_mutation(request: &ApiRequest, cache: &SchemaCache, relation: &Relation, action: Action, options: PlanOptions) -> Result<MutatePlan, PlanError> {
    let kind = match action {
        Action::Insert | Action::SingleUpsert => MutationKind::Insert,
        Action::Update => MutationKind::Update,
        Action::Delete => MutationKind::Delete,
        _ => return Err(PlanError::Unsupported("not a mutation".into())),
    };
    let mut conditions: Vec<Condition> = Vec::new();
    for (path, filter) in &request.query.filters {
        if path.is_empty() {
            conditions.push(filter_condition(filter));
        }
    }
    for (path, tree) in &request.query.logic {
        if path.is_empty() {
            conditions.push(tree_condition(tree));
        }
    }
    let payload = request.payload.as_ref();
    let columns: Vec<String> = match kind {
        MutationKind::Delete => Vec::new(),
        _ => request.query.columns.clone().unwrap_or_else(|| payload.map(|p| p.keys.clone()).unwrap_or_default()),
    };
    for column in &columns {
        if relation.column(column).is_none() {
            return Err(PlanError::ColumnNotFound { column: column.clone(), relation: relation.name.name.clone() });
        }
    }
    if matches!(kind, MutationKind::Update | MutationKind::Delete) && conditions.is_empty() && !options.allow_unfiltered_mutations {
        return Err(PlanError::UnfilteredMutation(if kind == MutationKind::Update { "UPDATE" } else { "DELETE" }));
    }
    if kind == MutationKind::Update && payload.is_some_and(|p| p.is_array) {
        return Err(PlanError::Unsupported("PATCH expects a single JSON object".into()));
    }

    let mut put_key_check = None;
    let on_conflict = if action == Action::SingleUpsert {
        put_key_check = Some(check_put(request, relation)?);
        conditions.clear();
        Some(OnConflict { columns: relation.primary_key.clone(), resolution: Resolution::MergeDuplicates, update_columns: columns.clone() })
    } else {
        match (kind, request.preferences.resolution) {
            (MutationKind::Insert, Some(resolution)) => {
                let conflict_cols = request.query.on_conflict.clone().unwrap_or_else(|| relation.primary_key.clone());
                if conflict_cols.is_empty() {
                    return Err(PlanError::Unsupported(format!("upsert on '{}' needs on_conflict columns or a primary key", relation.name.name)));
                }
                Some(OnConflict { columns: conflict_cols, resolution, update_columns: columns.clone() })
            }
            _ => None,
        }
    };

    let column_defaults = if request.preferences.missing_default && kind == MutationKind::Insert {
        columns.iter().map(|c| relation.column(c).and_then(|col| col.default.clone())).collect()
    } else {
        Vec::new()
    };
    let mut aliases = Aliases::default();
    let mut returning = build_level(cache, Some(relation), Source::MutatedRows, select_items(request), &mut aliases, 0, options)?;
    attach_query(&mut returning, request, false)?;
    Ok(MutatePlan {
        kind,
        relation: relation.name.clone(),
        columns,
        body: payload.map(|p| String::from_utf8_lossy(&p.raw).into_owned()),
        is_array_body: payload.is_some_and(|p| p.is_array),
        column_defaults,
        track_inserted: on_conflict.as_ref().is_some_and(|c| c.resolution == Resolution::MergeDuplicates),
        on_conflict,
        conditions,
        // The DML runs in its own scope (a CTE), so its alias does not meet the returning read's.
        alias: Aliases::default().claim(&relation.name.name),
        put_key_check,
        returning,
        all_columns: relation.columns.iter().map(|c| c.name.clone()).collect(),
    })
}

fn tree_condition(tree: &crate::api_request::types::LogicTree) -> Condition {
    use crate::api_request::types::{LogicOp, LogicTree};
    match tree {
        LogicTree::Leaf(f) => filter_condition(f),
        LogicTree::Expr { negated, op, children } => {
            Condition::Tree { negated: *negated, any: *op == LogicOp::Or, children: children.iter().map(tree_condition).collect() }
        }
    }
}

/// PUT: filters must be exactly `pk=eq.value` for every primary key column, and the payload
/// a single object carrying the same values. Returns the key columns.
fn check_put(request: &ApiRequest, relation: &Relation) -> Result<Vec<String>, PlanError> {
    let pk = &relation.primary_key;
    let filters: Vec<_> = request.query.filters.iter().filter(|(p, _)| p.is_empty()).map(|(_, f)| f).collect();
    let all_eq = filters.iter().all(|f| !f.negated && f.field.json_path.is_empty() && matches!(f.operation, Operation::Simple { op: SimpleOp::Eq, quantifier: None, .. }));
    let same_cols = filters.len() == pk.len() && pk.iter().all(|c| filters.iter().any(|f| &f.field.name == c));
    if pk.is_empty() || !all_eq || !same_cols || !request.query.logic.is_empty() {
        return Err(PlanError::PutFilters);
    }
    let Some(payload) = &request.payload else { return Err(PlanError::PutPayloadMismatch) };
    if payload.is_array {
        return Err(PlanError::Unsupported("PUT expects a single JSON object".into()));
    }
    let body: serde_json::Value = serde_json::from_slice(&payload.raw).map_err(|_| PlanError::PutPayloadMismatch)?;
    for f in &filters {
        let Operation::Simple { value, .. } = &f.operation else { return Err(PlanError::PutFilters) };
        let matches = match body.get(&f.field.name) {
            Some(serde_json::Value::String(s)) => s == value,
            Some(serde_json::Value::Number(n)) => &n.to_string() == value,
            Some(serde_json::Value::Bool(b)) => &b.to_string() == value,
            _ => false,
        };
        if !matches {
            return Err(PlanError::PutPayloadMismatch);
        }
    }
    Ok(pk.clone())
}
