//! Plans RPC calls: overload resolution by argument names, argument values, and how the
//! result becomes the body (rows, scalar, void).
//!
//! Must not write SQL. GET passes arguments from the query string; POST from the JSON body.

use serde_json::Value;

use crate::api_request::ApiRequest;
use crate::schema_cache::{Function, ReturnShape, SchemaCache};

use super::error::{closest, PlanError};
use super::read::{attach_query, build_level, root_range, select_items};
use super::aliases::Aliases;
use super::types::{CallArg, CallPlan, CallResult, Source};
use super::PlanOptions;

pub fn plan_call(request: &ApiRequest, cache: &SchemaCache, name: &str, read_only: bool, options: PlanOptions) -> Result<CallPlan, PlanError> {
    let schema = &request.schema;
    let candidates = cache.functions(schema, name);
    let provided: Vec<(String, Option<String>)> = if read_only {
        request.query.rpc_args.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect()
    } else {
        request
            .payload
            .as_ref()
            .map(|p| p.args.iter().map(|(k, v)| (k.clone(), json_arg_text(v))).collect())
            .unwrap_or_default()
    };
    let matching: Vec<&Function> = candidates.iter().filter(|f| accepts(f, &provided, read_only)).collect();
    let function = match matching.as_slice() {
        [one] => *one,
        [] => {
            let arg_names: Vec<String> = if read_only {
                // On GET, only parameters that are not filters name arguments.
                request.query.rpc_args.iter().filter(|(_, v)| !looks_like_filter(v)).map(|(k, _)| k.clone()).collect()
            } else {
                provided.iter().map(|(k, _)| k.clone()).collect()
            };
            let mut sorted = arg_names;
            sorted.sort();
            return Err(PlanError::FunctionNotFound {
                schema: schema.clone(),
                name: name.to_string(),
                args: sorted,
                suggestion: closest(name, cache.function_names_in(schema)).map(|n| format!("{schema}.{n}")),
            });
        }
        many => {
            // Prefer the overload whose parameter count equals the arguments given.
            let exact: Vec<&&Function> = many.iter().filter(|f| f.params.len() == count_args(f, &provided)).collect();
            match exact.as_slice() {
                [one] => **one,
                _ => {
                    let list = many.iter().map(|f| describe(f)).collect::<Vec<_>>().join(", ");
                    return Err(PlanError::AmbiguousFunction(list));
                }
            }
        }
    };
    let args: Vec<CallArg> = function
        .params
        .iter()
        .filter_map(|p| provided.iter().find(|(k, _)| k == &p.name).map(|(_, v)| CallArg { name: p.name.clone(), value: v.clone() }))
        .collect();
    let arg_names: Vec<&str> = args.iter().map(|a| a.name.as_str()).collect();

    let (result, relation) = match &function.returns {
        ReturnShape::Void => (CallResult::Void, None),
        ReturnShape::Scalar { .. } => (CallResult::Scalar { set: function.returns_set }, None),
        ReturnShape::Relation(rel) => (CallResult::Rows { single: !function.returns_set }, cache.relations.get(rel)),
        ReturnShape::Record { .. } => (CallResult::Rows { single: !function.returns_set }, None),
    };
    let mut aliases = Aliases::default();
    let source = Source::Function { name: function.name.clone(), args: args.clone() };
    let mut read = build_level(cache, relation, source, select_items(request), &mut aliases, 0, options)?;
    // Query parameters that are arguments are not filters.
    let mut filtered = request.clone();
    filtered.query.filters.retain(|(path, f)| !(path.is_empty() && arg_names.contains(&f.field.name.as_str())));
    attach_query(&mut read, &filtered, true)?;
    let range = root_range(request)?;
    read.offset = range.offset;
    read.limit = range.limit;
    Ok(CallPlan { function: function.name.clone(), args, result, read })
}

/// A function accepts the arguments when every given name is a parameter (on GET, names that
/// are not parameters are filters) and every parameter without a default is given.
fn accepts(f: &Function, provided: &[(String, Option<String>)], read_only: bool) -> bool {
    let names_ok = read_only || provided.iter().all(|(k, _)| f.params.iter().any(|p| &p.name == k));
    let required_ok = f.params.iter().all(|p| p.has_default || provided.iter().any(|(k, _)| k == &p.name));
    names_ok && required_ok
}

fn count_args(f: &Function, provided: &[(String, Option<String>)]) -> usize {
    provided.iter().filter(|(k, _)| f.params.iter().any(|p| &p.name == k)).count()
}

fn describe(f: &Function) -> String {
    let params: Vec<String> = f.params.iter().map(|p| format!("{} => {}", p.name, p.data_type)).collect();
    format!("{}({})", f.name, params.join(", "))
}

/// Whether a GET parameter value reads as a filter (`op.value`).
fn looks_like_filter(value: &str) -> bool {
    let head = value.split('.').next().unwrap_or("");
    let head = head.split('(').next().unwrap_or("");
    matches!(
        head,
        "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "like" | "ilike" | "match" | "imatch" | "in" | "is" | "isdistinct" | "cs" | "cd" | "ov" | "sl" | "sr" | "nxr" | "nxl" | "adj" | "fts" | "plfts" | "phfts" | "wfts" | "not"
    )
}

/// JSON argument → text PostgreSQL parses for the parameter's type.
fn json_arg_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}
