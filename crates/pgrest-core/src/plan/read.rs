//! Plans reads: the select tree with its embeds, then filters, logic trees, order and ranges
//! attached to the level their embed path names.
//!
//! Must not write SQL; names are checked against the schema cache where the cache knows them
//! (columns of filters are left to PostgreSQL, which answers 42703 as PostgREST does).

use crate::api_request::types::{EmbedPath, EmbedSelect, Field, Filter, IsValue, LogicOp, LogicTree, Operation, RangeSpec, SelectItem, SimpleOp};
use crate::api_request::ApiRequest;
use crate::schema_cache::{Relation, SchemaCache};

use super::aliases::Aliases;
use super::error::{closest, PlanError};
use super::relationships::find_relationship;
use super::types::{CastType, Condition, EmbedPlan, Junction, OrderExpr, ReadPlan, SelectExpr, Source};
use super::PlanOptions;

/// Looks a relation up in the request's schema (404 PGRST205 when absent).
pub fn find_relation<'a>(cache: &'a SchemaCache, schema: &str, name: &str) -> Result<&'a Relation, PlanError> {
    cache.relation(schema, name).ok_or_else(|| PlanError::TableNotFound {
        schema: schema.to_string(),
        name: name.to_string(),
        suggestion: closest(name, cache.relation_names_in(schema)),
    })
}

/// Plans `GET`/`HEAD` on a relation.
pub fn plan_read(request: &ApiRequest, cache: &SchemaCache, relation: &Relation, options: PlanOptions) -> Result<ReadPlan, PlanError> {
    let mut aliases = Aliases::default();
    let source = Source::Relation(relation.name.clone());
    let mut plan = build_level(cache, Some(relation), source, select_items(request), &mut aliases, 0, options)?;
    attach_query(&mut plan, request, true)?;
    let range = root_range(request)?;
    plan.offset = range.offset;
    plan.limit = range.limit;
    Ok(plan)
}

/// The select list as requested (`select` absent or empty means `*`).
pub fn select_items(request: &ApiRequest) -> &[SelectItem] {
    const STAR: &[SelectItem] = &[SelectItem::Star];
    match &request.query.select {
        Some(items) if !items.is_empty() => items,
        _ => STAR,
    }
}

/// Builds one level of the select tree (and its embeds, recursively).
pub fn build_level(
    cache: &SchemaCache,
    relation: Option<&Relation>,
    source: Source,
    items: &[SelectItem],
    aliases: &mut Aliases,
    depth: usize,
    options: PlanOptions,
) -> Result<ReadPlan, PlanError> {
    if depth > options.max_embed_depth {
        return Err(PlanError::EmbedTooDeep { depth, limit: options.max_embed_depth });
    }
    let base = match &source {
        Source::Relation(name) | Source::Function { name, .. } => name.name.as_str(),
        Source::MutatedRows => relation.map_or("pgrst_rows", |r| r.name.name.as_str()),
    };
    let alias = if depth == 0 { aliases.claim(base) } else { aliases.numbered(base, Some(depth)) };
    let mut select = Vec::new();
    let mut embeds = Vec::new();
    for item in items {
        match item {
            SelectItem::Star => match relation {
                Some(rel) => select.extend(rel.columns.iter().map(|c| SelectExpr::Column {
                    column: c.name.clone(),
                    json_path: Vec::new(),
                    cast: None,
                    output: c.name.clone(),
                })),
                None => select.push(SelectExpr::AllColumns),
            },
            SelectItem::Column { field, alias: out, cast } => select.push(SelectExpr::Column {
                column: field.name.clone(),
                json_path: field.json_path.clone(),
                cast: cast.as_deref().map(cast_type).transpose()?,
                output: out.clone().unwrap_or_else(|| default_output_name(field)),
            }),
            SelectItem::Embed(embed) => {
                let Some(parent) = relation else {
                    return Err(PlanError::Unsupported("embedding is only supported on tables and views".into()));
                };
                embeds.push(plan_embed(cache, parent, embed, aliases, depth, options)?);
            }
        }
    }
    Ok(ReadPlan { source, alias, select, embeds, conditions: Vec::new(), order: Vec::new(), offset: 0, limit: None })
}

fn plan_embed(cache: &SchemaCache, parent: &Relation, embed: &EmbedSelect, aliases: &mut Aliases, depth: usize, options: PlanOptions) -> Result<EmbedPlan, PlanError> {
    let rel = find_relationship(cache, &parent.name, &embed.relation, embed.hint.as_deref())?;
    let child = cache.relations.get(&rel.child).ok_or_else(|| PlanError::RelationshipNotFound {
        parent: parent.name.name.clone(),
        target: embed.relation.clone(),
        schema: parent.name.schema.clone(),
    })?;
    let items: &[SelectItem] = if embed.select.is_empty() { &[SelectItem::Star] } else { &embed.select };
    let plan = build_level(cache, Some(child), Source::Relation(child.name.clone()), items, aliases, depth.saturating_add(1), options)?;
    let lateral_alias = aliases.numbered("pgrst_embed", None);
    let junction = rel.junction.map(|j| Junction {
        alias: aliases.numbered(&j.relation.name, None),
        relation: j.relation,
        parent_pairs: j.parent_pairs,
        child_pairs: j.child_pairs,
    });
    Ok(EmbedPlan {
        output: embed.output_name().to_string(),
        cardinality: rel.cardinality,
        join_pairs: rel.pairs,
        junction,
        inner: embed.join == crate::api_request::types::EmbedJoin::Inner,
        spread: embed.spread,
        lateral_alias,
        plan,
    })
}

/// `col->a->>b` is output as `b`; a plain column as itself.
fn default_output_name(field: &Field) -> String {
    use crate::api_request::types::JsonKey;
    match field.json_path.last().map(|s| &s.key) {
        Some(JsonKey::Name(n)) => n.clone(),
        Some(JsonKey::Index(_)) | None => field.name.clone(),
    }
}

/// Maps a requested cast to a catalog type name; SQL-standard spellings become their catalog names.
pub fn cast_type(text: &str) -> Result<CastType, PlanError> {
    let trimmed = text.trim();
    let (base, array) = match trimmed.strip_suffix("[]") {
        Some(b) => (b.trim(), true),
        None => (trimmed, false),
    };
    let lower = base.to_ascii_lowercase();
    let name = match lower.as_str() {
        "int" | "integer" => "int4",
        "smallint" => "int2",
        "bigint" => "int8",
        "real" => "float4",
        "double precision" | "float" => "float8",
        "boolean" => "bool",
        "decimal" => "numeric",
        "character varying" => "varchar",
        "character" | "char" => "bpchar",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "time without time zone" => "time",
        "time with time zone" => "timetz",
        _ => base,
    };
    let valid = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return Err(PlanError::Unsupported(format!("invalid cast type \"{text}\"")));
    }
    Ok(CastType { name: name.to_string(), array })
}

/// Attaches filters, logic trees, order and embed ranges to the levels their paths name.
/// With `include_root == false` the root's filters and logic trees are left out (they are a
/// mutation's WHERE); the root's order still applies to the returned representation.
pub fn attach_query(root: &mut ReadPlan, request: &ApiRequest, include_root: bool) -> Result<(), PlanError> {
    let q = &request.query;
    let wanted = |path: &EmbedPath| include_root || !path.is_empty();
    for (path, filter) in q.filters.iter().filter(|(p, _)| wanted(p)) {
        let level = level_mut(root, path)?;
        let condition = condition_for_filter(level, filter);
        level.conditions.push(condition);
    }
    for (path, tree) in q.logic.iter().filter(|(p, _)| wanted(p)) {
        let level = level_mut(root, path)?;
        let condition = condition_for_tree(level, tree);
        level.conditions.push(condition);
    }
    for (path, terms) in &q.order {
        let level = level_mut(root, path)?;
        for term in terms {
            if let Some(rel) = &term.relation {
                return Err(PlanError::Unsupported(format!("ordering by the embedded resource '{rel}' is not supported yet")));
            }
            level.order.push(OrderExpr { column: term.field.name.clone(), json_path: term.field.json_path.clone(), direction: term.direction, nulls: term.nulls });
        }
    }
    for (path, range) in &q.ranges {
        if path.is_empty() {
            continue;
        }
        let level = level_mut(root, path)?;
        check_range(range)?;
        level.offset = range.offset;
        level.limit = range.limit;
    }
    // `!inner` embeds filter their parent.
    add_inner_conditions(root);
    Ok(())
}

fn add_inner_conditions(level: &mut ReadPlan) {
    for embed in &mut level.embeds {
        add_inner_conditions(&mut embed.plan);
    }
    let inner: Vec<String> = level.embeds.iter().filter(|e| e.inner).map(|e| e.lateral_alias.clone()).collect();
    for lateral_alias in inner {
        level.conditions.push(Condition::EmbedPresent { lateral_alias, negated: false });
    }
}

fn level_mut<'a>(root: &'a mut ReadPlan, path: &EmbedPath) -> Result<&'a mut ReadPlan, PlanError> {
    let mut level = root;
    for name in path {
        let found = level.embeds.iter_mut().find(|e| &e.output == name);
        match found {
            Some(embed) => level = &mut embed.plan,
            None => return Err(PlanError::NotEmbedded(name.clone())),
        }
    }
    Ok(level)
}

fn condition_for_filter(level: &ReadPlan, filter: &Filter) -> Condition {
    // `embed=is.null` / `embed=not.is.null` test the embed, not a column.
    if filter.field.json_path.is_empty() {
        if let Operation::Is(value @ (IsValue::Null | IsValue::NotNull)) = filter.operation {
            if let Some(embed) = level.embeds.iter().find(|e| e.output == filter.field.name) {
                let wants_absent = (value == IsValue::Null) != filter.negated;
                return Condition::EmbedPresent { lateral_alias: embed.lateral_alias.clone(), negated: wants_absent };
            }
        }
    }
    filter_condition(filter)
}

/// A filter as a typed condition on the level's own columns (`*` → `%` in like patterns).
pub fn filter_condition(filter: &Filter) -> Condition {
    let column = filter.field.name.clone();
    let json_path = filter.field.json_path.clone();
    let negated = filter.negated;
    match &filter.operation {
        Operation::Simple { op, quantifier, value } => {
            let value = if matches!(op, SimpleOp::Like | SimpleOp::Ilike) { value.replace('*', "%") } else { value.clone() };
            Condition::Compare { column, json_path, negated, op: *op, quantifier: *quantifier, value }
        }
        Operation::In(values) => Condition::In { column, json_path, negated, values: values.clone() },
        Operation::Is(value) => Condition::Is { column, json_path, negated, value: *value },
        Operation::Fts { kind, config, value } => Condition::Fts { column, json_path, negated, kind: *kind, config: config.clone(), value: value.clone() },
    }
}

fn condition_for_tree(level: &ReadPlan, tree: &LogicTree) -> Condition {
    match tree {
        LogicTree::Leaf(filter) => condition_for_filter(level, filter),
        LogicTree::Expr { negated, op, children } => Condition::Tree {
            negated: *negated,
            any: *op == LogicOp::Or,
            children: children.iter().map(|c| condition_for_tree(level, c)).collect(),
        },
    }
}

fn check_range(range: &RangeSpec) -> Result<(), PlanError> {
    if range.limit.is_some_and(|l| l < 0) {
        return Err(PlanError::InvalidRange("Limit should be greater than or equal to zero.".into()));
    }
    if range.offset < 0 {
        return Err(PlanError::InvalidRange("Offset should be greater than or equal to zero.".into()));
    }
    Ok(())
}

/// The root range: `limit`/`offset` intersected with the `Range` header.
pub fn root_range(request: &ApiRequest) -> Result<RangeSpec, PlanError> {
    let from_query = request.query.ranges.get(&Vec::new()).copied().unwrap_or_default();
    check_range(&from_query)?;
    let Some(header) = request.range_header else { return Ok(from_query) };
    check_range(&header)?;
    // Intersect [offset, offset+limit) of both.
    let offset = from_query.offset.max(header.offset);
    let end = |r: &RangeSpec| r.limit.map(|l| r.offset.saturating_add(l));
    let limit_end = match (end(&from_query), end(&header)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(RangeSpec { offset, limit: limit_end.map(|e| e.saturating_sub(offset).max(0)) })
}
