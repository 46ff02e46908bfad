//! Typed filter nodes → SQL predicates on one alias; every operand a bind parameter.
//!
//! Must not accept anything but plan conditions; operators come from a fixed table.

use crate::api_request::types::{FtsKind, IsValue, JsonKey, JsonStep, Quantifier, SimpleOp};
use crate::plan::Condition;

use super::writer::SqlWriter;

/// `"alias"."col"->'a'->>'b'` with keys bound as parameters.
pub fn column_expr(w: &mut SqlWriter, alias: &str, column: &str, path: &[JsonStep]) {
    w.column(alias, column);
    for step in path {
        w.push(if step.as_text { "->>" } else { "->" });
        match &step.key {
            JsonKey::Name(name) => {
                w.value(name).push("::text");
            }
            JsonKey::Index(i) => {
                w.value(&i.to_string()).push("::int4");
            }
        }
    }
}

fn operator(op: SimpleOp) -> &'static str {
    match op {
        SimpleOp::Eq => " = ",
        SimpleOp::Neq => " <> ",
        SimpleOp::Gt => " > ",
        SimpleOp::Gte => " >= ",
        SimpleOp::Lt => " < ",
        SimpleOp::Lte => " <= ",
        SimpleOp::Like => " LIKE ",
        SimpleOp::Ilike => " ILIKE ",
        SimpleOp::Match => " ~ ",
        SimpleOp::Imatch => " ~* ",
        SimpleOp::IsDistinct => " IS DISTINCT FROM ",
        SimpleOp::Contains => " @> ",
        SimpleOp::ContainedIn => " <@ ",
        SimpleOp::Overlaps => " && ",
        SimpleOp::StrictlyLeft => " << ",
        SimpleOp::StrictlyRight => " >> ",
        SimpleOp::NotExtendRight => " &< ",
        SimpleOp::NotExtendLeft => " &> ",
        SimpleOp::Adjacent => " -|- ",
    }
}

/// A PostgreSQL array literal of text elements: `{"a","b\"c"}`.
pub fn array_literal(values: &[String]) -> String {
    let mut out = String::from("{");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in v.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// Writes all conditions ANDed (`TRUE` when there are none).
pub fn conditions(w: &mut SqlWriter, alias: &str, conds: &[Condition]) {
    if conds.is_empty() {
        w.push("TRUE");
        return;
    }
    w.list(conds, " AND ", |w, c| condition(w, alias, c));
}

pub fn condition(w: &mut SqlWriter, alias: &str, cond: &Condition) {
    let negated = match cond {
        Condition::Compare { negated, .. }
        | Condition::In { negated, .. }
        | Condition::Is { negated, .. }
        | Condition::Fts { negated, .. }
        | Condition::Tree { negated, .. }
        | Condition::EmbedPresent { negated, .. } => *negated,
        Condition::Policy(_) => false,
    };
    w.push(if negated { "NOT (" } else { "(" });
    match cond {
        Condition::Compare { column, json_path, op, quantifier, value, .. } => {
            column_expr(w, alias, column, json_path);
            w.push(operator(*op));
            match quantifier {
                None => {
                    w.value(value);
                }
                Some(q) => {
                    w.push(if *q == Quantifier::Any { "ANY(" } else { "ALL(" });
                    w.value(value).push(")");
                }
            }
        }
        Condition::In { column, json_path, values, .. } => {
            column_expr(w, alias, column, json_path);
            w.push(" = ANY(").param(Some(array_literal(values))).push(")");
        }
        Condition::Is { column, json_path, value, .. } => {
            column_expr(w, alias, column, json_path);
            w.push(match value {
                IsValue::Null => " IS NULL",
                IsValue::NotNull => " IS NOT NULL",
                IsValue::True => " IS TRUE",
                IsValue::False => " IS FALSE",
                IsValue::Unknown => " IS UNKNOWN",
            });
        }
        Condition::Fts { column, json_path, kind, config, value, .. } => {
            column_expr(w, alias, column, json_path);
            w.push(match kind {
                FtsKind::Plain => " @@ pg_catalog.to_tsquery(",
                FtsKind::Plain2 => " @@ pg_catalog.plainto_tsquery(",
                FtsKind::Phrase => " @@ pg_catalog.phraseto_tsquery(",
                FtsKind::Websearch => " @@ pg_catalog.websearch_to_tsquery(",
            });
            if let Some(cfg) = config {
                w.value(cfg).push("::regconfig, ");
            }
            w.value(value).push(")");
        }
        Condition::Tree { any, children, .. } => {
            if children.is_empty() {
                // The identity of each connective: an empty AND holds, an empty OR never does.
                // Cedar's "no permit applies" becomes an empty OR, so this must fail closed.
                w.push(if *any { "FALSE" } else { "TRUE" });
            } else {
                w.list(children, if *any { " OR " } else { " AND " }, |w, c| condition(w, alias, c));
            }
        }
        Condition::EmbedPresent { lateral_alias, .. } => {
            w.column(lateral_alias, "body").push(" IS NOT NULL");
        }
        Condition::Policy(policy) => super::policy::policy_condition(w, alias, policy),
    }
    w.push(")");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_literal_escapes() {
        assert_eq!(array_literal(&["a".into(), "b\"c".into(), "d\\e".into()]), r#"{"a","b\"c","d\\e"}"#);
        assert_eq!(array_literal(&[]), "{}");
    }

    #[test]
    fn negated_in_binds_one_parameter() {
        let mut w = SqlWriter::new();
        condition(&mut w, "t0", &Condition::In { column: "id".into(), json_path: vec![], negated: true, values: vec!["1".into(), "2".into()] });
        let s = w.finish();
        assert_eq!(s.text, "NOT (\"t0\".\"id\" = ANY($1))");
        assert_eq!(s.params.len(), 1);
    }

    #[test]
    fn empty_or_is_false_and_empty_and_is_true() {
        let render = |any, negated| {
            let mut w = SqlWriter::new();
            condition(&mut w, "t0", &Condition::Tree { negated, any, children: vec![] });
            w.finish().text
        };
        assert_eq!(render(true, false), "(FALSE)");
        assert_eq!(render(false, false), "(TRUE)");
        assert_eq!(render(true, true), "NOT (FALSE)");
        assert_eq!(render(false, true), "NOT (TRUE)");
    }
}
