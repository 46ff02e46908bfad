//! The SQL writer: fixed SQL comes only from `&'static str`, identifiers only through
//! `ident` (the one quoting function), values only as bind parameters.
//!
//! Must not accept runtime strings as SQL text; that is what makes injection impossible by type.

use bytes::BytesMut;
use postgres_types::{to_sql_checked, Format, IsNull, ToSql, Type};

use crate::schema_cache::QualifiedName;

/// A bind parameter sent in text format with an unspecified type, so PostgreSQL infers the type
/// from context and parses the text itself (as PostgREST does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextParam(pub Option<String>);

impl ToSql for TextParam {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

/// A finished statement: SQL text plus its parameters, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    pub text: String,
    pub params: Vec<TextParam>,
}

impl Statement {
    /// Parameters as the driver wants them.
    pub fn param_refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
    }
}

#[derive(Debug, Default)]
pub struct SqlWriter {
    text: String,
    params: Vec<TextParam>,
}

impl SqlWriter {
    pub fn new() -> Self {
        SqlWriter { text: String::with_capacity(512), params: Vec::new() }
    }

    /// Appends fixed SQL.
    pub fn push(&mut self, sql: &'static str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a quoted identifier (`"na""me"`). NUL characters cannot occur in identifiers and are dropped.
    pub fn ident(&mut self, name: &str) -> &mut Self {
        self.text.push('"');
        for c in name.chars() {
            match c {
                '"' => self.text.push_str("\"\""),
                '\0' => {}
                other => self.text.push(other),
            }
        }
        self.text.push('"');
        self
    }

    /// `"schema"."name"`.
    pub fn qualified(&mut self, name: &QualifiedName) -> &mut Self {
        self.ident(&name.schema).push(".").ident(&name.name)
    }

    /// `"alias"."column"`.
    pub fn column(&mut self, alias: &str, column: &str) -> &mut Self {
        self.ident(alias).push(".").ident(column)
    }

    /// Appends `$n` bound to `value` (None binds NULL).
    pub fn param(&mut self, value: Option<String>) -> &mut Self {
        self.params.push(TextParam(value.map(|v| v.replace('\0', ""))));
        let n = self.params.len();
        self.text.push('$');
        self.text.push_str(&n.to_string());
        self
    }

    /// Appends `$n` for a non-null text value.
    pub fn value(&mut self, value: &str) -> &mut Self {
        self.param(Some(value.to_string()))
    }

    /// Appends a column DEFAULT expression from the catalog (never user text: only the schema
    /// cache loader can build a `CatalogExpr`), parenthesized.
    pub fn catalog_expr(&mut self, expr: &crate::schema_cache::CatalogExpr) -> &mut Self {
        self.text.push('(');
        self.text.push_str(expr.as_str());
        self.text.push(')');
        self
    }

    /// Items separated by `sep`, each written by `f`.
    pub fn list<T>(&mut self, items: impl IntoIterator<Item = T>, sep: &'static str, mut f: impl FnMut(&mut Self, T)) -> &mut Self {
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(sep);
            }
            f(self, item);
        }
        self
    }

    pub fn finish(self) -> Statement {
        Statement { text: self.text, params: self.params }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_and_numbers_params() {
        let mut w = SqlWriter::new();
        w.push("SELECT ").ident("we\"ird").push(" FROM ").qualified(&QualifiedName::new("s", "t")).push(" WHERE a = ").value("1").push(" AND b = ").param(None);
        let s = w.finish();
        assert_eq!(s.text, "SELECT \"we\"\"ird\" FROM \"s\".\"t\" WHERE a = $1 AND b = $2");
        assert_eq!(s.params, vec![TextParam(Some("1".into())), TextParam(None)]);
    }

    #[test]
    fn injection_attempts_stay_inside_quotes() {
        let mut w = SqlWriter::new();
        w.ident("x\"; DROP TABLE t; --");
        assert_eq!(w.finish().text, "\"x\"\"; DROP TABLE t; --\"");
    }
}
