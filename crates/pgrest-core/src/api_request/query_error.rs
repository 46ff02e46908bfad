//! The error a malformed query string produces, rendered exactly like PostgREST's Parsec errors.
//!
//! Holds text only: no parsing happens here and nothing here knows the grammar or HTTP.

/// One line item of a Parsec-style error, before rendering.
///
/// The variant order is the order Parsec sorts items in when it renders them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrorItem {
    /// What a primitive saw (already shown Haskell-style, e.g. `"\"t\""`); empty = end of input.
    SysUnexpected(String),
    /// What an explicit `unexpected`/`notFollowedBy`/`eof` saw, e.g. `'t'`.
    Unexpected(String),
    /// One alternative the parser would have accepted, e.g. `"\",\""` or `end of input`.
    Expected(String),
    /// A free-form message (used for the nesting limit).
    Message(String),
}

/// Why the query string could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// PGRST100: a parameter does not follow the grammar.
    ///
    /// `subject` is e.g. `failed to parse order (id.asc.nullslasttt)`; `line`/`column` are
    /// 1-based Parsec positions in the decoded parameter; `details` is the rendered
    /// "unexpected … expecting …" text.
    #[error("\"{subject}\" (line {line}, column {column})")]
    Parse { subject: String, line: u32, column: u32, details: String },
    /// PGRST123: `select` used an aggregate (`count()`, `col.sum()`, ...); this server runs
    /// with PostgREST's default `db-aggregates-enabled = false`.
    #[error("Use of aggregate functions is not allowed")]
    AggregatesNotAllowed,
}

impl QueryError {
    /// Builds a PGRST100 error from a failed parse at `line`/`column` with Parsec-style items.
    pub(crate) fn from_items(subject: String, line: u32, column: u32, items: &[ErrorItem]) -> Self {
        QueryError::Parse { subject, line, column, details: render_details(items) }
    }

    /// PostgREST's error code: `PGRST100` for grammar errors, `PGRST123` for aggregates.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::Parse { .. } => "PGRST100",
            QueryError::AggregatesNotAllowed => "PGRST123",
        }
    }

    /// The `message` field of the 400 response body.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The `details` field of the 400 response body.
    pub fn details(&self) -> Option<String> {
        match self {
            QueryError::Parse { details, .. } => Some(details.clone()),
            QueryError::AggregatesNotAllowed => None,
        }
    }

    /// The `hint` field of the 400 response body (always null for these errors).
    pub fn hint(&self) -> Option<String> {
        None
    }
}

/// Renders items like Parsec's `showErrorMessages "or" "unknown parse error" "expecting"
/// "unexpected" "end of input"`, then joins the lines with spaces (as PostgREST does).
fn render_details(items: &[ErrorItem]) -> String {
    if items.is_empty() {
        return "unknown parse error".to_string();
    }
    let mut system_unexpected = Vec::new();
    let mut unexpected = Vec::new();
    let mut expected = Vec::new();
    let mut messages = Vec::new();
    for item in items {
        match item {
            ErrorItem::SysUnexpected(text) => system_unexpected.push(text.as_str()),
            ErrorItem::Unexpected(text) => unexpected.push(text.as_str()),
            ErrorItem::Expected(text) => expected.push(text.as_str()),
            ErrorItem::Message(text) => messages.push(text.as_str()),
        }
    }
    let system_line = match system_unexpected.first() {
        Some(_) if !unexpected.is_empty() => String::new(),
        Some(&"") => "unexpected end of input".to_string(),
        Some(first) => format!("unexpected {first}"),
        None => String::new(),
    };
    let lines = [
        system_line,
        list_with_prefix("unexpected", &unexpected),
        list_with_prefix("expecting", &expected),
        list_with_prefix("", &messages),
    ];
    let kept = distinct_non_empty(lines.iter().map(String::as_str));
    kept.join(" ").trim().to_string()
}

/// `prefix a, b or c`, after dropping empty and repeated entries; empty when nothing is left.
fn list_with_prefix(prefix: &str, entries: &[&str]) -> String {
    let kept = distinct_non_empty(entries.iter().copied());
    let listed = match kept.split_last() {
        None => return String::new(),
        Some((last, [])) => (*last).to_string(),
        Some((last, init)) => format!("{} or {last}", init.join(", ")),
    };
    if prefix.is_empty() { listed } else { format!("{prefix} {listed}") }
}

fn distinct_non_empty<'a>(entries: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut kept: Vec<&str> = Vec::new();
    for entry in entries {
        if !entry.is_empty() && !kept.contains(&entry) {
            kept.push(entry);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(text: &str) -> ErrorItem {
        ErrorItem::Expected(text.to_string())
    }

    #[test]
    fn explicit_unexpected_hides_the_system_one() {
        let items = [
            ErrorItem::SysUnexpected("\"t\"".into()),
            expected("\",\""),
            ErrorItem::Unexpected("'t'".into()),
            expected("end of input"),
        ];
        assert_eq!(render_details(&items), "unexpected 't' expecting \",\" or end of input");
    }

    #[test]
    fn empty_system_unexpected_means_end_of_input() {
        let items = [ErrorItem::SysUnexpected(String::new()), expected("letter"), expected("digit")];
        assert_eq!(render_details(&items), "unexpected end of input expecting letter or digit");
    }

    #[test]
    fn repeated_and_empty_expectations_are_dropped() {
        let items = [
            ErrorItem::SysUnexpected("\"c\"".into()),
            expected("\"asc\""),
            expected(""),
            expected("\"desc\""),
            expected("\"asc\""),
            expected("\"nullsfirst\""),
        ];
        assert_eq!(render_details(&items), "unexpected \"c\" expecting \"asc\", \"desc\" or \"nullsfirst\"");
    }

    #[test]
    fn no_items_is_an_unknown_error_and_messages_come_last() {
        assert_eq!(render_details(&[]), "unknown parse error");
        let items = [ErrorItem::Message("too deep".into()), ErrorItem::SysUnexpected("\"(\"".into())];
        assert_eq!(render_details(&items), "unexpected \"(\" too deep");
    }

    #[test]
    fn parse_error_fields() {
        let error = QueryError::from_items(
            "failed to parse filter (0)".into(),
            1,
            1,
            &[ErrorItem::SysUnexpected("\"0\"".into()), expected("\"not\"")],
        );
        assert_eq!(error.code(), "PGRST100");
        assert_eq!(error.message(), "\"failed to parse filter (0)\" (line 1, column 1)");
        assert_eq!(error.details().as_deref(), Some("unexpected \"0\" expecting \"not\""));
        assert_eq!(error.hint(), None);
        assert_eq!(QueryError::AggregatesNotAllowed.code(), "PGRST123");
        assert_eq!(QueryError::AggregatesNotAllowed.details(), None);
    }
}
