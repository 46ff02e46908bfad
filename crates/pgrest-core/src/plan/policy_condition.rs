//! Row filters produced by Cedar authorization: typed, two-valued predicate nodes.
//!
//! Plain data for the SQL writer, built only by `policy::translate`. Every node is TRUE or
//! FALSE for every row (never SQL NULL), so `NOT` is exact. Must not hold SQL text.

/// How a column's values are seen by Cedar and compared in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// `text`, `varchar`, `name`: a Cedar String, compared as is.
    Text,
    /// `uuid`: a Cedar String (its canonical text), compared as `column::text`.
    UuidText,
    /// `smallint`, `integer`, `bigint`: a Cedar Long.
    Long,
    /// `boolean`: a Cedar Bool.
    Bool,
}

/// A comparison operator on one column and one bound value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// An array operator on one array column and a bound array of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayOp {
    /// `column @> $1` (Cedar `contains` / `containsAll`).
    ContainsAll,
    /// `column && $1` (Cedar `containsAny`).
    ContainsAny,
}

/// One piece of a `like` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LikePart {
    Wildcard,
    Literal(String),
}

/// A bound value: the SQL writer sends it as a text parameter; PostgreSQL infers its type from
/// the column it is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyValue {
    Text(String),
    Long(i64),
    Bool(bool),
}

impl PolicyValue {
    /// The parameter text PostgreSQL parses.
    pub fn to_param(&self) -> String {
        match self {
            PolicyValue::Text(s) => s.clone(),
            PolicyValue::Long(n) => n.to_string(),
            PolicyValue::Bool(b) => b.to_string(),
        }
    }
}

/// A typed, two-valued row predicate on the columns of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyCondition {
    Const(bool),
    And(Vec<PolicyCondition>),
    Or(Vec<PolicyCondition>),
    Not(Box<PolicyCondition>),
    /// `column IS NOT NULL` (Cedar `resource has column`).
    Present { column: String },
    /// `(column op $n) IS TRUE`.
    Compare { column: String, kind: ColumnKind, op: CompareOp, value: PolicyValue },
    /// `(column = ANY($n)) IS TRUE`: the column equals one of the values.
    OneOf { column: String, kind: ColumnKind, values: Vec<PolicyValue> },
    /// `(column op $n) IS TRUE` on an array column (element kind `kind`).
    Array { column: String, kind: ColumnKind, op: ArrayOp, values: Vec<PolicyValue> },
    /// `(column LIKE $n) IS TRUE` with the pattern escaped for LIKE.
    Like { column: String, kind: ColumnKind, pattern: Vec<LikePart> },
}

impl PolicyCondition {
    pub const TRUE: PolicyCondition = PolicyCondition::Const(true);
    pub const FALSE: PolicyCondition = PolicyCondition::Const(false);

    /// `a AND b`, folding constants.
    pub fn and(a: PolicyCondition, b: PolicyCondition) -> PolicyCondition {
        match (a, b) {
            (PolicyCondition::Const(false), _) | (_, PolicyCondition::Const(false)) => PolicyCondition::FALSE,
            (PolicyCondition::Const(true), x) | (x, PolicyCondition::Const(true)) => x,
            (PolicyCondition::And(mut xs), PolicyCondition::And(ys)) => {
                xs.extend(ys);
                PolicyCondition::And(xs)
            }
            (PolicyCondition::And(mut xs), y) => {
                xs.push(y);
                PolicyCondition::And(xs)
            }
            (x, y) => PolicyCondition::And(vec![x, y]),
        }
    }

    /// `a OR b`, folding constants.
    pub fn or(a: PolicyCondition, b: PolicyCondition) -> PolicyCondition {
        match (a, b) {
            (PolicyCondition::Const(true), _) | (_, PolicyCondition::Const(true)) => PolicyCondition::TRUE,
            (PolicyCondition::Const(false), x) | (x, PolicyCondition::Const(false)) => x,
            (PolicyCondition::Or(mut xs), PolicyCondition::Or(ys)) => {
                xs.extend(ys);
                PolicyCondition::Or(xs)
            }
            (PolicyCondition::Or(mut xs), y) => {
                xs.push(y);
                PolicyCondition::Or(xs)
            }
            (x, y) => PolicyCondition::Or(vec![x, y]),
        }
    }

    /// `NOT a`, folding constants and double negation.
    pub fn negate(a: PolicyCondition) -> PolicyCondition {
        match a {
            PolicyCondition::Const(b) => PolicyCondition::Const(!b),
            PolicyCondition::Not(inner) => *inner,
            other => PolicyCondition::Not(Box::new(other)),
        }
    }

    /// True when this is the constant `b`.
    pub fn is_const(&self, b: bool) -> bool {
        matches!(self, PolicyCondition::Const(c) if *c == b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(c: &str) -> PolicyCondition {
        PolicyCondition::Present { column: c.into() }
    }

    #[test]
    fn folding_keeps_two_valued_logic() {
        assert_eq!(PolicyCondition::and(PolicyCondition::TRUE, present("a")), present("a"));
        assert_eq!(PolicyCondition::and(present("a"), PolicyCondition::FALSE), PolicyCondition::FALSE);
        assert_eq!(PolicyCondition::or(PolicyCondition::FALSE, present("a")), present("a"));
        assert_eq!(PolicyCondition::or(present("a"), PolicyCondition::TRUE), PolicyCondition::TRUE);
        assert_eq!(PolicyCondition::negate(PolicyCondition::negate(present("a"))), present("a"));
        assert_eq!(
            PolicyCondition::and(PolicyCondition::and(present("a"), present("b")), present("c")),
            PolicyCondition::And(vec![present("a"), present("b"), present("c")])
        );
    }
}
