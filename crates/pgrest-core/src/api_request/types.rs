//! The parsed request (PostgREST's `ApiRequest`): plain data, no schema knowledge, no SQL.
//!
//! Everything here is what the client asked for, already validated against the grammar
//! but not against the database. Names are unresolved strings; the planner resolves them.

use std::collections::BTreeMap;

/// A path of embed names/aliases from the root relation, e.g. `["clients"]` for
/// `clients.id=eq.1`. The empty path is the root.
pub type EmbedPath = Vec<String>;

/// One element of a JSON path: `->key`, `->>key`, `->0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonStep {
    /// `true` for `->>` (text), `false` for `->` (json).
    pub as_text: bool,
    pub key: JsonKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonKey {
    Name(String),
    Index(i64),
}

/// A column reference with an optional JSON path: `settings->foo->>bar`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub json_path: Vec<JsonStep>,
}

impl Field {
    pub fn plain(name: impl Into<String>) -> Self {
        Field { name: name.into(), json_path: Vec::new() }
    }
}

/// One item of `select=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItem {
    /// `*`
    Star,
    /// `alias:col->path::cast`
    Column { field: Field, alias: Option<String>, cast: Option<String> },
    /// `alias:rel!hint!inner(...)` or `...rel(...)` (spread).
    Embed(EmbedSelect),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedSelect {
    pub relation: String,
    pub alias: Option<String>,
    pub hint: Option<String>,
    pub join: EmbedJoin,
    pub spread: bool,
    pub select: Vec<SelectItem>,
}

impl EmbedSelect {
    /// The key this embed has in the output and in `embed.filter=` paths.
    pub fn output_name(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.relation)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbedJoin {
    #[default]
    Left,
    Inner,
}

/// Filter operators with a single operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimpleOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    Ilike,
    Match,
    Imatch,
    IsDistinct,
    Contains,
    ContainedIn,
    Overlaps,
    StrictlyLeft,
    StrictlyRight,
    NotExtendRight,
    NotExtendLeft,
    Adjacent,
}

impl SimpleOp {
    /// The operator's name in the query grammar.
    pub fn keyword(self) -> &'static str {
        match self {
            SimpleOp::Eq => "eq",
            SimpleOp::Neq => "neq",
            SimpleOp::Gt => "gt",
            SimpleOp::Gte => "gte",
            SimpleOp::Lt => "lt",
            SimpleOp::Lte => "lte",
            SimpleOp::Like => "like",
            SimpleOp::Ilike => "ilike",
            SimpleOp::Match => "match",
            SimpleOp::Imatch => "imatch",
            SimpleOp::IsDistinct => "isdistinct",
            SimpleOp::Contains => "cs",
            SimpleOp::ContainedIn => "cd",
            SimpleOp::Overlaps => "ov",
            SimpleOp::StrictlyLeft => "sl",
            SimpleOp::StrictlyRight => "sr",
            SimpleOp::NotExtendRight => "nxr",
            SimpleOp::NotExtendLeft => "nxl",
            SimpleOp::Adjacent => "adj",
        }
    }
}

/// `(any)` / `(all)` after an operator: `eq(any).{1,2}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsValue {
    Null,
    NotNull,
    True,
    False,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsKind {
    /// `fts` → to_tsquery
    Plain,
    /// `plfts` → plainto_tsquery
    Plain2,
    /// `phfts` → phraseto_tsquery
    Phrase,
    /// `wfts` → websearch_to_tsquery
    Websearch,
}

/// The operation of one filter, with its operand(s) still as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Simple { op: SimpleOp, quantifier: Option<Quantifier>, value: String },
    In(Vec<String>),
    Is(IsValue),
    Fts { kind: FtsKind, config: Option<String>, value: String },
}

/// `col=not.op.value` → `Filter { field: col, negated: true, operation }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: Field,
    pub negated: bool,
    pub operation: Operation,
}

/// `or=(a.eq.1,and(b.gt.2,c.is.null))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogicTree {
    Expr { negated: bool, op: LogicOp, children: Vec<LogicTree> },
    Leaf(Filter),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOp {
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    First,
    Last,
}

/// One term of `order=`; `relation` is set for `order=client(name).desc` (to-one embed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    pub relation: Option<String>,
    pub field: Field,
    pub direction: Option<Direction>,
    pub nulls: Option<Nulls>,
}

/// `offset` and optional `limit` (from query params or the `Range` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RangeSpec {
    pub offset: i64,
    pub limit: Option<i64>,
}

/// Everything the query string holds, grouped by embed path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryParams {
    /// `None` when `select` is absent (same as `*`).
    pub select: Option<Vec<SelectItem>>,
    pub filters: Vec<(EmbedPath, Filter)>,
    pub logic: Vec<(EmbedPath, LogicTree)>,
    pub order: BTreeMap<EmbedPath, Vec<OrderTerm>>,
    pub ranges: BTreeMap<EmbedPath, RangeSpec>,
    /// `columns=a,b` for inserts/updates.
    pub columns: Option<Vec<String>>,
    /// `on_conflict=a,b` for upserts.
    pub on_conflict: Option<Vec<String>>,
    /// Parameters that are neither reserved words nor filters-with-operators: RPC arguments.
    pub rpc_args: Vec<(String, String)>,
}
