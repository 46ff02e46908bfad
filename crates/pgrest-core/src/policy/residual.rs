//! Residual policies as a small typed tree: Cedar's JSON policy form (EST) of a residual read
//! into `Expr`, so the translator never looks at Cedar's internals or at text.
//!
//! Must not interpret anything: unknown shapes become `Expr::Unsupported` with their name.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::entities::Val;
use crate::plan::LikePart;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    Principal,
    Action,
    Resource,
    Context,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    And,
    Or,
    In,
    Contains,
    ContainsAll,
    ContainsAny,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Val),
    Var(Var),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    GetAttr(Box<Expr>, String),
    /// `e has a.b.c`.
    Has(Box<Expr>, Vec<String>),
    Like(Box<Expr>, Vec<LikePart>),
    /// `e is T` (full type name) with an optional `in` part.
    Is(Box<Expr>, String, Option<Box<Expr>>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Set(Vec<Expr>),
    Record(BTreeMap<String, Expr>),
    /// Anything the translator does not know (arithmetic, tags, extension calls, ...).
    Unsupported(String),
}

const BINARY: [(&str, BinOp); 12] = [
    ("==", BinOp::Eq),
    ("!=", BinOp::Neq),
    ("<", BinOp::Lt),
    ("<=", BinOp::Lte),
    (">", BinOp::Gt),
    (">=", BinOp::Gte),
    ("&&", BinOp::And),
    ("||", BinOp::Or),
    ("in", BinOp::In),
    ("contains", BinOp::Contains),
    ("containsAll", BinOp::ContainsAll),
    ("containsAny", BinOp::ContainsAny),
];

fn boxed(v: Option<&Value>) -> Box<Expr> {
    Box::new(v.map_or_else(|| Expr::Unsupported("missing operand".to_string()), parse_expr))
}

/// A Cedar JSON value (`Value` node) as a translator value.
fn literal(v: &Value) -> Option<Val> {
    match v {
        Value::Bool(b) => Some(Val::Bool(*b)),
        Value::Number(n) => n.as_i64().map(Val::Long),
        Value::String(s) => Some(Val::Str(s.clone())),
        Value::Array(items) => items.iter().map(literal).collect::<Option<Vec<_>>>().map(Val::set),
        Value::Object(map) => {
            if let Some(entity) = map.get("__entity") {
                let ty = entity.get("type")?.as_str()?;
                let id = entity.get("id")?.as_str()?;
                return Some(Val::Entity { ty: ty.to_string(), id: id.to_string() });
            }
            if map.contains_key("__extn") || map.contains_key("__expr") {
                return None;
            }
            map.iter().map(|(k, v)| literal(v).map(|v| (k.clone(), v))).collect::<Option<BTreeMap<_, _>>>().map(Val::Record)
        }
        Value::Null => None,
    }
}

fn like_parts(v: Option<&Value>) -> Option<Vec<LikePart>> {
    v?.as_array()?
        .iter()
        .map(|p| match p {
            Value::String(s) if s == "Wildcard" => Some(LikePart::Wildcard),
            Value::Object(m) => m.get("Literal").and_then(Value::as_str).map(|s| LikePart::Literal(s.to_string())),
            _ => None,
        })
        .collect()
}

fn parse_node(key: &str, body: &Value) -> Expr {
    if let Some((_, op)) = BINARY.iter().find(|(k, _)| *k == key) {
        return Expr::Bin(*op, boxed(body.get("left")), boxed(body.get("right")));
    }
    match key {
        "Value" => literal(body).map_or_else(|| Expr::Unsupported("extension value".to_string()), Expr::Lit),
        "Var" => match body.as_str() {
            Some("principal") => Expr::Var(Var::Principal),
            Some("action") => Expr::Var(Var::Action),
            Some("resource") => Expr::Var(Var::Resource),
            Some("context") => Expr::Var(Var::Context),
            _ => Expr::Unsupported("variable".to_string()),
        },
        // Partial evaluation leaves the unknown resource as `unknown("resource")`.
        "unknown" => match body.as_array().and_then(|a| a.first()).and_then(|v| v.get("Value")).and_then(Value::as_str) {
            Some("resource") => Expr::Var(Var::Resource),
            _ => Expr::Unsupported("unknown".to_string()),
        },
        "!" => Expr::Not(boxed(body.get("arg"))),
        "." => match body.get("attr").and_then(Value::as_str) {
            Some(attr) => Expr::GetAttr(boxed(body.get("left")), attr.to_string()),
            None => Expr::Unsupported("attribute".to_string()),
        },
        "has" => {
            let attrs = match body.get("attr") {
                Some(Value::String(a)) => Some(vec![a.clone()]),
                Some(Value::Array(items)) => items.iter().map(|a| a.as_str().map(str::to_string)).collect(),
                _ => None,
            };
            match attrs {
                Some(attrs) if !attrs.is_empty() => Expr::Has(boxed(body.get("left")), attrs),
                _ => Expr::Unsupported("has".to_string()),
            }
        }
        "like" => match like_parts(body.get("pattern")) {
            Some(parts) => Expr::Like(boxed(body.get("left")), parts),
            None => Expr::Unsupported("like pattern".to_string()),
        },
        "is" => match body.get("entity_type").and_then(Value::as_str) {
            Some(ty) => Expr::Is(boxed(body.get("left")), ty.to_string(), body.get("in").map(|v| Box::new(parse_expr(v)))),
            None => Expr::Unsupported("is".to_string()),
        },
        "if-then-else" => Expr::If(boxed(body.get("if")), boxed(body.get("then")), boxed(body.get("else"))),
        "Set" => match body.as_array() {
            Some(items) => Expr::Set(items.iter().map(parse_expr).collect()),
            None => Expr::Unsupported("set".to_string()),
        },
        "Record" => match body.as_object() {
            Some(map) => Expr::Record(map.iter().map(|(k, v)| (k.clone(), parse_expr(v))).collect()),
            None => Expr::Unsupported("record".to_string()),
        },
        other => Expr::Unsupported(other.to_string()),
    }
}

/// One EST expression node (`{"<op>": <body>}`).
pub fn parse_expr(v: &Value) -> Expr {
    match v.as_object().map(Map::iter).and_then(|mut it| it.next().filter(|_| v.as_object().is_some_and(|m| m.len() == 1))) {
        Some((key, body)) => parse_node(key, body),
        None => Expr::Unsupported("malformed node".to_string()),
    }
}

/// A residual policy's conditions: `when` bodies as is, `unless` bodies negated; all must hold.
/// `None` when the scope is not fully evaluated (the translator then refuses the policy).
pub fn parse_conditions(policy_json: &Value) -> Option<Vec<Expr>> {
    for scope in ["principal", "action", "resource"] {
        if policy_json.get(scope).and_then(|s| s.get("op")).and_then(Value::as_str) != Some("All") {
            return None;
        }
    }
    let mut out = Vec::new();
    for cond in policy_json.get("conditions")?.as_array()? {
        let body = parse_expr(cond.get("body")?);
        match cond.get("kind")?.as_str()? {
            "when" => out.push(body),
            "unless" => out.push(Expr::Not(Box::new(body))),
            _ => return None,
        }
    }
    Some(out)
}
