//! Query string → `QueryParams`: PostgREST's `QueryParams.parse`, with its exact error texts.
//!
//! Grammar only: names stay unresolved, values stay text, limits stay unchecked; the planner
//! does the rest. Must not consult the schema cache, write SQL, or panic on any input.
//!
//! Like PostgREST (http-types' `parseQuery`): a leading `?` is dropped, `&` and `;` both
//! separate parameters, `+` decodes to a space, bad `%` escapes stay as written, and invalid
//! UTF-8 is replaced by U+FFFD (PostgREST fails on it instead). A parameter without `=` is
//! ignored, except that a valueless first `select`/`columns`/`on_conflict` hides later ones.

mod cursor;
#[cfg(test)]
mod error_tests;
mod field;
mod filter;
mod order;
mod parsec_text;
mod select;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use percent_encoding::percent_decode;

use super::query_error::QueryError;
use super::types::{EmbedPath, Filter, QueryParams, RangeSpec};
use cursor::{Cursor, Parsed};

/// Keys that are reserved at the root only (`clients.select=…` is a filter on `select`).
const ROOT_ONLY_KEYS: [&str; 3] = ["select", "columns", "on_conflict"];
/// Last key segments that are reserved at every embed level (`clients.order=…`).
const EMBEDDABLE_KEYS: [&str; 5] = ["order", "limit", "offset", "and", "or"];

/// Parses a raw (still percent-encoded) query string, e.g. `select=id,name&id=eq.5&order=id.desc`.
///
/// With `is_rpc`, a parameter whose value is not a filter is no error (it is only an argument),
/// and every non-reserved parameter is also listed in `rpc_args`, filter or not. A value that
/// starts like a filter but breaks later (`not.x`, `is.maybe`, `in.(1`) is an error even then,
/// as in PostgREST. Parameters are checked in PostgREST's order: `order`, `and`/`or`,
/// `columns`, `select`, filters, `on_conflict`, then the keys of `limit`/`offset`.
pub fn parse_query(raw_query: &str, is_rpc: bool) -> Result<QueryParams, QueryError> {
    let params = decode_query_string(raw_query);
    let valued: Vec<(&str, &str)> =
        params.iter().filter_map(|(key, value)| value.as_deref().map(|value| (key.as_str(), value))).collect();
    let ending_in = |names: &[&str]| -> Vec<(&str, &str)> {
        valued.iter().copied().filter(|(key, _)| names.contains(&last_segment(key))).collect()
    };
    let mut query = QueryParams::default();

    for (key, value) in ending_in(&["order"]) {
        let (path, _) = parse_key_path(key)?;
        let terms = run(value, || format!("failed to parse order ({value})"), order::order_terms)?;
        // PostgREST applies the first `order` given for a level.
        query.order.entry(path).or_insert(terms);
    }
    for (key, value) in ending_in(&["and", "or"]) {
        query.logic.push(parse_logic(key, value)?);
    }
    if let Some(text) = first_value(&params, "columns") {
        let columns = run(text, || format!("failed to parse columns parameter ({text})"), field::column_list)?;
        query.columns = Some(without_repeats(columns));
    }
    let mut uses_aggregates = false;
    if let Some(text) = first_value(&params, "select") {
        let (items, aggregates) =
            run(text, || format!("failed to parse select parameter ({text})"), select::select_list)?;
        query.select = Some(items);
        uses_aggregates = aggregates;
    }
    for (key, value) in valued.iter().copied().filter(|(key, _)| is_filter_key(key)) {
        let (path, field) = parse_key_path(key)?;
        if let Some((negated, operation)) = parse_filter_value(value, is_rpc)? {
            query.filters.push((path, Filter { field, negated, operation }));
        }
        if is_rpc {
            query.rpc_args.push((key.to_string(), value.to_string()));
        }
    }
    if let Some(text) = first_value(&params, "on_conflict") {
        let columns = run(text, || format!("failed to parse on_conflict parameter ({text})"), field::column_list)?;
        query.on_conflict = Some(columns);
    }
    query.ranges = parse_ranges(&ending_in(&["limit"]), &ending_in(&["offset"]))?;
    if uses_aggregates {
        return Err(QueryError::AggregatesNotAllowed);
    }
    Ok(query)
}

/// Splits and decodes the query string into `(key, value)` pairs; `None` when there is no `=`.
fn decode_query_string(raw_query: &str) -> Vec<(String, Option<String>)> {
    let raw_query = raw_query.strip_prefix('?').unwrap_or(raw_query);
    if raw_query.is_empty() {
        return Vec::new();
    }
    raw_query
        .split(['&', ';'])
        .map(|piece| match piece.split_once('=') {
            Some((key, value)) => (decode_component(key), Some(decode_component(value))),
            None => (decode_component(piece), None),
        })
        .collect()
}

/// `+` → space, then `%XX` → byte, then UTF-8 (lossy).
fn decode_component(raw: &str) -> String {
    let with_spaces: Vec<u8> = raw.bytes().map(|byte| if byte == b'+' { b' ' } else { byte }).collect();
    let bytes: Vec<u8> = percent_decode(&with_spaces).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn last_segment(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

fn is_filter_key(key: &str) -> bool {
    !ROOT_ONLY_KEYS.contains(&key) && !EMBEDDABLE_KEYS.contains(&last_segment(key))
}

/// The value of the first parameter named `name` (PostgREST looks at that one only).
fn first_value<'a>(params: &'a [(String, Option<String>)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).and_then(|(_, value)| value.as_deref())
}

fn without_repeats(names: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        if !kept.contains(&name) {
            kept.push(name);
        }
    }
    kept
}

/// Runs `parse` over `input`, turning a failure into a PGRST100 error about `subject`.
/// Parses untracked first; only a failure is parsed again with error tracking, for the message.
fn run<T>(
    input: &str,
    subject: impl FnOnce() -> String,
    parse: impl Fn(&mut Cursor) -> Parsed<T>,
) -> Result<T, QueryError> {
    if let Ok(parsed) = parse(&mut Cursor::untracked(input)) {
        return Ok(parsed);
    }
    let mut cursor = Cursor::new(input);
    parse(&mut cursor).map_err(|_| cursor.into_error(subject()))
}

fn parse_key_path(key: &str) -> Result<(EmbedPath, super::types::Field), QueryError> {
    run(key, || format!("failed to parse tree path ({key})"), field::key_path)
}

/// A filter value; `None` when, in an RPC, the value is not a filter at all (it is an argument).
fn parse_filter_value(value: &str, is_rpc: bool) -> Result<Option<(bool, super::types::Operation)>, QueryError> {
    if let Ok(parsed) = filter::negatable_operation(&mut Cursor::untracked(value), filter::OperandStyle::WholeValue) {
        return Ok(Some(parsed));
    }
    let mut cursor = Cursor::new(value);
    match filter::negatable_operation(&mut cursor, filter::OperandStyle::WholeValue) {
        Ok(parsed) => Ok(Some(parsed)),
        Err(_) if is_rpc && cursor.position() == 0 => Ok(None),
        Err(_) => Err(cursor.into_error(format!("failed to parse filter ({value})"))),
    }
}

/// `clients.not.or=(…)`: the tree is parsed as `not.or(…)`, so error columns count the prefix.
fn parse_logic(key: &str, value: &str) -> Result<(EmbedPath, super::types::LogicTree), QueryError> {
    let (path, operator) = run(key, || format!("failed to parse logic path ({key})"), field::logic_key_path)?;
    let tree_text = format!("{operator}{value}");
    let tree =
        run(&tree_text, || format!("failed to parse logic tree ({value})"), |cursor| filter::logic_tree(cursor, 0))?;
    Ok((path, tree))
}

/// `limit`/`offset` per embed level. The last parameter of each kind wins; a value that is not
/// an integer is ignored (as in PostgREST); range checks such as `limit=-1` are the planner's.
fn parse_ranges(
    limits: &[(&str, &str)],
    offsets: &[(&str, &str)],
) -> Result<BTreeMap<EmbedPath, RangeSpec>, QueryError> {
    let mut by_key: BTreeMap<String, (Option<i64>, Option<i64>)> = BTreeMap::new();
    for (key, value) in limits {
        by_key.entry((*key).to_string()).or_default().0 = read_integer(value);
    }
    for (key, value) in offsets {
        let limit_key = match key.rsplit_once('.') {
            Some((path, _)) => format!("{path}.limit"),
            None => "limit".to_string(),
        };
        by_key.entry(limit_key).or_default().1 = read_integer(value);
    }
    let mut ranges = BTreeMap::new();
    for (key, (limit, offset)) in by_key {
        let (path, _) = parse_key_path(&key)?;
        ranges.insert(path, RangeSpec { offset: offset.unwrap_or(0), limit });
    }
    Ok(ranges)
}

/// Haskell's `readMaybe` for an integer, minus the exotic forms: blanks around, optional `-`.
fn read_integer(text: &str) -> Option<i64> {
    let trimmed = field::trim_haskell_spaces(text);
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, field::trim_haskell_spaces(rest)),
        None => (false, trimmed),
    };
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let magnitude: i64 = digits.parse().ok()?;
    Some(if negative { -magnitude } else { magnitude })
}
