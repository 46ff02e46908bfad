//! The plan's data types: resolved reads, mutations and calls with typed filter nodes.
//!
//! Plain data for the SQL writer. Must not hold SQL text.

use crate::api_request::preferences::Resolution;
use crate::api_request::types::{Direction, FtsKind, IsValue, JsonStep, Nulls, Quantifier, SimpleOp};
use crate::schema_cache::QualifiedName;

/// What to run.
#[derive(Debug, Clone)]
pub enum ActionPlan {
    Read { plan: ReadPlan, headers_only: bool },
    Mutate(MutatePlan),
    Call { plan: CallPlan, headers_only: bool },
    /// OPTIONS: answered without the database.
    Info,
}

/// Where a read level takes its rows from.
#[derive(Debug, Clone)]
pub enum Source {
    Relation(QualifiedName),
    /// The rows a data-modifying CTE returned (mutation representation).
    MutatedRows,
    /// A set-returning or composite function call.
    Function { name: QualifiedName, args: Vec<CallArg> },
}

/// A SQL type for `::cast`, validated and mapped to its catalog name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CastType {
    pub name: String,
    pub array: bool,
}

/// One output column of a read level.
#[derive(Debug, Clone)]
pub enum SelectExpr {
    Column { column: String, json_path: Vec<JsonStep>, cast: Option<CastType>, output: String },
    /// `alias.*` where the column list is not known (records from functions).
    AllColumns,
}

/// A read over one source, with nested embeds.
#[derive(Debug, Clone)]
pub struct ReadPlan {
    pub source: Source,
    /// SQL alias of this level's rows (the relation's name, `name_N` when embedded), unique within a statement.
    pub alias: String,
    pub select: Vec<SelectExpr>,
    pub embeds: Vec<EmbedPlan>,
    pub conditions: Vec<Condition>,
    pub order: Vec<OrderExpr>,
    pub offset: i64,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    ToOne,
    ToMany,
}

/// A junction table joining parent and child in a many-to-many embed.
#[derive(Debug, Clone)]
pub struct Junction {
    pub relation: QualifiedName,
    pub alias: String,
    /// (junction column, parent column)
    pub parent_pairs: Vec<(String, String)>,
    /// (junction column, child column)
    pub child_pairs: Vec<(String, String)>,
}

/// A related resource nested in the output.
#[derive(Debug, Clone)]
pub struct EmbedPlan {
    /// Key in the output object.
    pub output: String,
    pub cardinality: Cardinality,
    /// (parent column, child column) equalities; empty for many-to-many (see `junction`).
    pub join_pairs: Vec<(String, String)>,
    pub junction: Option<Junction>,
    pub inner: bool,
    pub spread: bool,
    /// SQL alias of the lateral subquery.
    pub lateral_alias: String,
    pub plan: ReadPlan,
}

/// A typed filter node. Values stay values: the SQL writer binds them.
#[derive(Debug, Clone)]
pub enum Condition {
    Compare { column: String, json_path: Vec<JsonStep>, negated: bool, op: SimpleOp, quantifier: Option<Quantifier>, value: String },
    In { column: String, json_path: Vec<JsonStep>, negated: bool, values: Vec<String> },
    Is { column: String, json_path: Vec<JsonStep>, negated: bool, value: IsValue },
    Fts { column: String, json_path: Vec<JsonStep>, negated: bool, kind: FtsKind, config: Option<String>, value: String },
    Tree { negated: bool, any: bool, children: Vec<Condition> },
    /// `!inner` or `embed=not.is.null`: the embed produced a row.
    EmbedPresent { lateral_alias: String, negated: bool },
    /// A row filter from Cedar authorization (two-valued; see `policy_condition`).
    Policy(super::PolicyCondition),
}

#[derive(Debug, Clone)]
pub struct OrderExpr {
    pub column: String,
    pub json_path: Vec<JsonStep>,
    pub direction: Option<Direction>,
    pub nulls: Option<Nulls>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutationKind {
    Insert,
    Update,
    Delete,
}

/// An INSERT/UPSERT, UPDATE or DELETE with its representation read.
#[derive(Debug, Clone)]
pub struct MutatePlan {
    pub kind: MutationKind,
    pub relation: QualifiedName,
    /// Columns written (insert/update), taken from `columns=` or the payload keys.
    pub columns: Vec<String>,
    /// The JSON body text (bound as one parameter).
    pub body: Option<String>,
    pub is_array_body: bool,
    /// `Prefer: missing=default`: for each written column, its DEFAULT (None: no default, so
    /// NULL), used where a row's object lacks the key. Empty when the preference is absent.
    pub column_defaults: Vec<Option<crate::schema_cache::CatalogExpr>>,
    pub on_conflict: Option<OnConflict>,
    /// WHERE of UPDATE/DELETE, on `alias`.
    pub conditions: Vec<Condition>,
    /// SQL alias of the updated/deleted table (its own name, as errors should read).
    pub alias: String,
    /// PUT: the row must match the URL filters on the primary key.
    pub put_key_check: Option<Vec<String>>,
    /// What the response returns (select over the affected rows).
    pub returning: ReadPlan,
    /// All columns, for `RETURNING`.
    pub all_columns: Vec<String>,
    /// Report whether any row was inserted (upsert: 201 vs 200).
    pub track_inserted: bool,
}

#[derive(Debug, Clone)]
pub struct OnConflict {
    pub columns: Vec<String>,
    pub resolution: Resolution,
    /// Columns to update on conflict (merge).
    pub update_columns: Vec<String>,
}

/// An argument of a function call (named notation).
#[derive(Debug, Clone)]
pub struct CallArg {
    pub name: String,
    /// Text value; JSON scalars are rendered as their text, objects/arrays as JSON text.
    pub value: Option<String>,
}

/// How a function's result becomes the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    /// Rows (relation/record): filtered, ordered, aggregated like a read.
    Rows { single: bool },
    /// A scalar value or set of scalars.
    Scalar { set: bool },
    Void,
}

#[derive(Debug, Clone)]
pub struct CallPlan {
    pub function: QualifiedName,
    pub args: Vec<CallArg>,
    pub result: CallResult,
    /// For `Rows`: the read over the function's rows.
    pub read: ReadPlan,
}
