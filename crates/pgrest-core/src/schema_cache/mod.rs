//! The schema cache: relations, columns, keys, foreign keys and functions of the exposed
//! schemas, read from pg_catalog once at start (and on reload).
//!
//! Plain data plus lookups. Must not build SQL for requests; only `plan` (and later `openapi`)
//! read it.

mod load;

pub use load::{load_schema_cache, LoadError};

use std::collections::HashMap;

/// `schema.name`, the key of every relation and function.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedName { schema: schema.into(), name: name.into() }
    }
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    Table,
    View,
    MaterializedView,
    ForeignTable,
    PartitionedTable,
}

/// A column's DEFAULT expression exactly as PostgreSQL printed it (`pg_get_expr`). Only the
/// catalog loader can make one, so the SQL writer can embed it without ever embedding user text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogExpr(String);

impl CatalogExpr {
    pub(super) fn from_catalog(text: String) -> Self {
        CatalogExpr(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// `format_type()` text, e.g. `integer`, `character varying(20)`, `text[]`.
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<CatalogExpr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub name: QualifiedName,
    pub kind: RelationKind,
    /// In attribute order.
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    /// Unique constraints and unique indexes (each a column set), primary key included.
    pub unique_keys: Vec<Vec<String>>,
}

impl Relation {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// True when `cols` (in any order) is exactly one of the unique keys.
    pub fn is_unique(&self, cols: &[String]) -> bool {
        self.unique_keys.iter().any(|k| k.len() == cols.len() && k.iter().all(|c| cols.contains(c)))
    }
}

/// A foreign key constraint `from(from_columns) → to(to_columns)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub constraint: String,
    pub from: QualifiedName,
    pub from_columns: Vec<String>,
    pub to: QualifiedName,
    pub to_columns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volatility {
    Immutable,
    Stable,
    Volatile,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionParam {
    pub name: String,
    pub data_type: String,
    /// Parameters with defaults may be omitted.
    pub has_default: bool,
    pub variadic: bool,
}

/// What a function returns, as the planner needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnShape {
    /// A scalar (or an anonymous record/composite not among the cached relations).
    Scalar { data_type: String },
    /// Rows of a cached relation's type (`RETURNS test.projects` / `SETOF test.projects`).
    Relation(QualifiedName),
    /// `RETURNS TABLE(...)` / OUT parameters: a record with these columns.
    Record { columns: Vec<String> },
    Void,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: QualifiedName,
    pub params: Vec<FunctionParam>,
    pub returns: ReturnShape,
    pub returns_set: bool,
    pub volatility: Volatility,
}

/// Everything the planner may know about the database.
#[derive(Debug, Clone, Default)]
pub struct SchemaCache {
    pub relations: HashMap<QualifiedName, Relation>,
    pub foreign_keys: Vec<ForeignKey>,
    pub functions: HashMap<QualifiedName, Vec<Function>>,
}

impl SchemaCache {
    pub fn relation(&self, schema: &str, name: &str) -> Option<&Relation> {
        self.relations.get(&QualifiedName::new(schema, name))
    }

    pub fn functions(&self, schema: &str, name: &str) -> &[Function] {
        self.functions.get(&QualifiedName::new(schema, name)).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Foreign keys leaving `rel`.
    pub fn foreign_keys_from<'a>(&'a self, rel: &'a QualifiedName) -> impl Iterator<Item = &'a ForeignKey> + 'a {
        self.foreign_keys.iter().filter(move |fk| &fk.from == rel)
    }

    /// Foreign keys pointing at `rel`.
    pub fn foreign_keys_to<'a>(&'a self, rel: &'a QualifiedName) -> impl Iterator<Item = &'a ForeignKey> + 'a {
        self.foreign_keys.iter().filter(move |fk| &fk.to == rel)
    }

    /// Function names in `schema`, for "Perhaps you meant" hints.
    pub fn function_names_in<'a>(&'a self, schema: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.functions.keys().filter(move |q| q.schema == schema).map(|q| q.name.as_str())
    }

    /// Relation names in `schema`, for hints.
    pub fn relation_names_in<'a>(&'a self, schema: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.relations.keys().filter(move |q| q.schema == schema).map(|q| q.name.as_str())
    }
}
