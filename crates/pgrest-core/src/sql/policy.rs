//! Cedar row filters (`PolicyCondition`) → SQL predicates on one alias, every value a bind
//! parameter numbered by the one writer (S-02: no text renumbering anywhere).
//!
//! Must not accept anything but policy condition nodes; every node renders two-valued.

use crate::plan::{ArrayOp, ColumnKind, CompareOp, LikePart, PolicyCondition, PolicyValue};

use super::condition::array_literal;
use super::writer::{SqlWriter, Statement};

/// Renders one policy condition alone (for `explain-policy` and tests): text and parameters.
pub fn policy_filter(alias: &str, cond: &PolicyCondition) -> Statement {
    let mut w = SqlWriter::new();
    policy_condition(&mut w, alias, cond);
    w.finish()
}

/// The column as Cedar sees it: uuid as its text, integers widened so one bound `int8` fits
/// every integer column (no out-of-range errors for a Cedar Long).
fn column(w: &mut SqlWriter, alias: &str, column: &str, kind: ColumnKind, array: bool) {
    w.column(alias, column);
    match (kind, array) {
        (ColumnKind::UuidText, false) => w.push("::text"),
        (ColumnKind::UuidText, true) => w.push("::text[]"),
        (ColumnKind::Long, true) => w.push("::int8[]"),
        _ => w,
    };
}

/// The cast after a bound value or array of values.
fn param_cast(kind: ColumnKind, array: bool) -> &'static str {
    match (kind, array) {
        (ColumnKind::Long, false) => "::int8",
        (ColumnKind::Long, true) => "::int8[]",
        _ => "",
    }
}

fn compare_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => " = ",
        CompareOp::Neq => " <> ",
        CompareOp::Lt => " < ",
        CompareOp::Lte => " <= ",
        CompareOp::Gt => " > ",
        CompareOp::Gte => " >= ",
    }
}

/// `8-4-4-4-12` lowercase hex: the text PostgreSQL prints for a uuid.
fn is_canonical_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

/// A Cedar `like` pattern as a LIKE pattern (backslash escapes `%`, `_` and itself).
pub fn like_pattern(parts: &[LikePart]) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            LikePart::Wildcard => out.push('%'),
            LikePart::Literal(text) => {
                for c in text.chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Writes `cond`; never NULL for any row.
pub fn policy_condition(w: &mut SqlWriter, alias: &str, cond: &PolicyCondition) {
    match cond {
        PolicyCondition::Const(true) => {
            w.push("TRUE");
        }
        PolicyCondition::Const(false) => {
            w.push("FALSE");
        }
        PolicyCondition::And(items) | PolicyCondition::Or(items) if items.is_empty() => {
            w.push(if matches!(cond, PolicyCondition::And(_)) { "TRUE" } else { "FALSE" });
        }
        PolicyCondition::And(items) => {
            w.push("(").list(items, " AND ", |w, c| policy_condition(w, alias, c)).push(")");
        }
        PolicyCondition::Or(items) => {
            w.push("(").list(items, " OR ", |w, c| policy_condition(w, alias, c)).push(")");
        }
        PolicyCondition::Not(inner) => match inner.as_ref() {
            PolicyCondition::Present { column: name } => {
                w.push("(").column(alias, name).push(" IS NULL)");
            }
            PolicyCondition::And(_) | PolicyCondition::Or(_) => {
                w.push("NOT ");
                policy_condition(w, alias, inner);
            }
            other => {
                w.push("NOT (");
                policy_condition(w, alias, other);
                w.push(")");
            }
        },
        PolicyCondition::Present { column: name } => {
            w.push("(").column(alias, name).push(" IS NOT NULL)");
        }
        PolicyCondition::Compare { column: name, kind: ColumnKind::UuidText, op: op @ (CompareOp::Eq | CompareOp::Neq), value: PolicyValue::Text(text) } if is_canonical_uuid(text) => {
            // The column's text equals a canonical UUID text exactly when the uuids are equal,
            // so compare natively (index-friendly).
            w.push("(").column(alias, name).push(compare_op(*op)).value(text).push("::uuid) IS TRUE");
        }
        PolicyCondition::Compare { column: name, kind, op, value } => {
            w.push("(");
            column(w, alias, name, *kind, false);
            w.push(compare_op(*op)).value(&value.to_param()).push(param_cast(*kind, false)).push(") IS TRUE");
        }
        PolicyCondition::OneOf { column: name, kind, values } => {
            w.push("(");
            column(w, alias, name, *kind, false);
            let texts: Vec<String> = values.iter().map(|v| v.to_param()).collect();
            w.push(" = ANY(").param(Some(array_literal(&texts))).push(param_cast(*kind, true)).push(")) IS TRUE");
        }
        PolicyCondition::Array { column: name, kind, op, values } => {
            w.push("(");
            column(w, alias, name, *kind, true);
            w.push(match op {
                ArrayOp::ContainsAll => " @> ",
                ArrayOp::ContainsAny => " && ",
            });
            let texts: Vec<String> = values.iter().map(|v| v.to_param()).collect();
            w.param(Some(array_literal(&texts))).push(param_cast(*kind, true)).push(") IS TRUE");
        }
        PolicyCondition::Like { column: name, kind, pattern } => {
            w.push("(");
            column(w, alias, name, *kind, false);
            w.push(" LIKE ").value(&like_pattern(pattern)).push(") IS TRUE");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_or_is_false_and_empty_and_is_true() {
        assert_eq!(policy_filter("t0", &PolicyCondition::Or(vec![])).text, "FALSE");
        assert_eq!(policy_filter("t0", &PolicyCondition::And(vec![])).text, "TRUE");
    }

    #[test]
    fn canonical_uuids_compare_natively_others_as_text() {
        let eq = |v: &str| PolicyCondition::Compare { column: "id".into(), kind: ColumnKind::UuidText, op: CompareOp::Eq, value: PolicyValue::Text(v.into()) };
        assert_eq!(policy_filter("t0", &eq("0b7e3e4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b")).text, "(\"t0\".\"id\" = $1::uuid) IS TRUE");
        assert_eq!(policy_filter("t0", &eq("0B7E3E4A-1C2D-4E5F-8A9B-0C1D2E3F4A5B")).text, "(\"t0\".\"id\"::text = $1) IS TRUE");
        assert_eq!(policy_filter("t0", &eq("not-a-uuid")).text, "(\"t0\".\"id\"::text = $1) IS TRUE");
    }

    #[test]
    fn like_escapes_sql_wildcards() {
        let parts = vec![LikePart::Literal("50%_\\".into()), LikePart::Wildcard, LikePart::Literal("x".into())];
        assert_eq!(like_pattern(&parts), "50\\%\\_\\\\%x");
    }

    #[test]
    fn uuid_columns_compare_as_text_and_values_are_parameters() {
        let cond = PolicyCondition::And(vec![
            PolicyCondition::Compare { column: "id".into(), kind: ColumnKind::UuidText, op: CompareOp::Eq, value: PolicyValue::Text("a'b".into()) },
            PolicyCondition::negate(PolicyCondition::Array { column: "tags".into(), kind: ColumnKind::Text, op: ArrayOp::ContainsAny, values: vec![PolicyValue::Text("x".into())] }),
        ]);
        let s = policy_filter("t0", &cond);
        assert_eq!(s.text, "((\"t0\".\"id\"::text = $1) IS TRUE AND NOT ((\"t0\".\"tags\" && $2) IS TRUE))");
        assert_eq!(s.params.len(), 2);
    }
}
