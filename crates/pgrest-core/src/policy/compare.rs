//! The operators of residuals: `==`, `!=`, `<`..`>=`, `in`, `contains*` and `like`, on
//! concrete values as Cedar computes them and on row columns as typed predicates.
//!
//! Must not widen: a comparison it cannot model exactly is refused, never approximated.

use super::entities::{Val, NAMESPACE};
use super::eval::{compare, pred, present, Env, PolicyColumn, Refusal, Term, Tri};
use super::residual::BinOp;
use super::ColumnKind;
use crate::plan::{ArrayOp, CompareOp, LikePart, PolicyCondition as C, PolicyValue};

/// The bound value of `v` for a column of `kind`, if Cedar could see that column's value as
/// equal to `v`. A `User` entity UID matches a text column by its id (the predecessor's owner
/// recipe `resource.user_id == principal`).
fn value_for(kind: ColumnKind, v: &Val) -> Option<PolicyValue> {
    match (kind, v) {
        (ColumnKind::Text | ColumnKind::UuidText, Val::Str(s)) => Some(PolicyValue::Text(s.clone())),
        (ColumnKind::Text | ColumnKind::UuidText, Val::Entity { ty, id }) if *ty == format!("{NAMESPACE}::User") => Some(PolicyValue::Text(id.clone())),
        (ColumnKind::Long, Val::Long(n)) => Some(PolicyValue::Long(*n)),
        (ColumnKind::Bool, Val::Bool(b)) => Some(PolicyValue::Bool(*b)),
        _ => None,
    }
}

fn typed(col: &PolicyColumn) -> Result<ColumnKind, Refusal> {
    col.kind.ok_or_else(|| format!("column {:?} has no Cedar type", col.name))
}

/// `t` where `col` satisfies `t_cond`, `f` where it is present and does not.
fn defined(col: &PolicyColumn, t: C) -> Term {
    let f = C::and(present(col), C::negate(t.clone()));
    pred(t, f)
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Lte => CompareOp::Gte,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Gte => CompareOp::Lte,
        other => other,
    }
}

fn negate(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Eq => CompareOp::Neq,
        CompareOp::Neq => CompareOp::Eq,
        CompareOp::Lt => CompareOp::Gte,
        CompareOp::Lte => CompareOp::Gt,
        CompareOp::Gt => CompareOp::Lte,
        CompareOp::Gte => CompareOp::Lt,
    }
}

/// Cedar's wildcard match (`*` any run of characters), in O(text × pattern) time: after a
/// wildcard, a failed literal retries one character later instead of backtracking further.
pub fn like_matches(text: &str, pattern: &[LikePart]) -> bool {
    let mut rest = text;
    let mut parts = pattern.iter().peekable();
    let mut anchored = true;
    while let Some(part) = parts.next() {
        match part {
            LikePart::Wildcard => anchored = false,
            LikePart::Literal(lit) if parts.peek().is_none() && !anchored => return rest.ends_with(lit.as_str()),
            LikePart::Literal(lit) if anchored => match rest.strip_prefix(lit.as_str()) {
                Some(tail) => rest = tail,
                None => return false,
            },
            LikePart::Literal(lit) => match rest.find(lit.as_str()) {
                Some(at) => rest = rest.get(at.saturating_add(lit.len())..).unwrap_or(""),
                None => return false,
            },
        }
    }
    !anchored || rest.is_empty()
}

impl Env<'_> {
    pub fn binary(&self, op: BinOp, a: Term, b: Term) -> Result<Term, Refusal> {
        match op {
            BinOp::Eq => self.equal(a, b),
            BinOp::Neq => Ok(match self.equal(a, b)? {
                Term::Val(Val::Bool(x)) => Term::Val(Val::Bool(!x)),
                Term::Pred(Tri { t, f }) => pred(f, t),
                other => other,
            }),
            BinOp::Lt => self.order(CompareOp::Lt, a, b),
            BinOp::Lte => self.order(CompareOp::Lte, a, b),
            BinOp::Gt => self.order(CompareOp::Gt, a, b),
            BinOp::Gte => self.order(CompareOp::Gte, a, b),
            BinOp::In => self.within(a, b),
            BinOp::Contains => self.contains(a, b),
            BinOp::ContainsAll => self.contains_set(ArrayOp::ContainsAll, a, b),
            BinOp::ContainsAny => self.contains_set(ArrayOp::ContainsAny, a, b),
            BinOp::And | BinOp::Or => Err("boolean operator outside evaluation".to_string()),
        }
    }

    fn equal(&self, a: Term, b: Term) -> Result<Term, Refusal> {
        match (a, b) {
            (Term::Val(x), Term::Val(y)) => Ok(Term::Val(Val::Bool(x == y))),
            (Term::Column(col), Term::Val(v)) | (Term::Val(v), Term::Column(col)) => {
                let kind = typed(&col)?;
                if col.array {
                    return match v {
                        Val::Set(_) => Err(format!("`==` on array column {:?}", col.name)),
                        _ => Ok(pred(C::FALSE, present(&col))),
                    };
                }
                Ok(match value_for(kind, &v) {
                    Some(value) => Term::Pred(compare(&col, kind, CompareOp::Eq, CompareOp::Neq, value)),
                    None => pred(C::FALSE, present(&col)),
                })
            }
            (Term::Resource, Term::Val(v)) | (Term::Val(v), Term::Resource) => match v {
                Val::Entity { ty, .. } if ty == format!("{NAMESPACE}::Row") => Err("`resource ==` a Row entity".to_string()),
                _ => Ok(Term::Val(Val::Bool(false))),
            },
            (Term::Pred(tri), Term::Val(v)) | (Term::Val(v), Term::Pred(tri)) => Ok(match v {
                Val::Bool(true) => pred(tri.t, tri.f),
                Val::Bool(false) => pred(tri.f, tri.t),
                _ => {
                    let defined = C::or(tri.t, tri.f);
                    pred(C::FALSE, defined)
                }
            }),
            _ => Err("`==` between two row-dependent values".to_string()),
        }
    }

    fn order(&self, op: CompareOp, a: Term, b: Term) -> Result<Term, Refusal> {
        let (col, op, v) = match (a, b) {
            (Term::Val(Val::Long(x)), Term::Val(Val::Long(y))) => {
                let r = match op {
                    CompareOp::Lt => x < y,
                    CompareOp::Lte => x <= y,
                    CompareOp::Gt => x > y,
                    CompareOp::Gte => x >= y,
                    CompareOp::Eq => x == y,
                    CompareOp::Neq => x != y,
                };
                return Ok(Term::Val(Val::Bool(r)));
            }
            (Term::Column(col), Term::Val(v)) => (col, op, v),
            (Term::Val(v), Term::Column(col)) => (col, flip(op), v),
            (Term::Column(_), Term::Column(_)) => return Err("ordering between two columns".to_string()),
            _ => return Ok(Term::Err),
        };
        let kind = typed(&col)?;
        Ok(match (kind, col.array, v) {
            (ColumnKind::Long, false, Val::Long(n)) => Term::Pred(compare(&col, kind, op, negate(op), PolicyValue::Long(n))),
            _ => Term::Err,
        })
    }

    /// `a in b`: entity membership. Entities here have no parents, so it is equality with `b`
    /// or with one of `b`'s elements; a text column stands for a `User` by its id.
    fn within(&self, a: Term, b: Term) -> Result<Term, Refusal> {
        let Term::Val(target) = b else {
            return Err("`in` a row-dependent value".to_string());
        };
        let targets: Vec<&Val> = match &target {
            Val::Entity { .. } => vec![&target],
            Val::Set(items) if items.iter().all(|i| matches!(i, Val::Entity { .. })) => items.iter().collect(),
            _ => return Ok(Term::Err),
        };
        match a {
            Term::Val(v @ Val::Entity { .. }) => Ok(Term::Val(Val::Bool(targets.contains(&&v)))),
            Term::Column(col) if !col.array && matches!(col.kind, Some(ColumnKind::Text | ColumnKind::UuidText)) => {
                let kind = typed(&col)?;
                let values: Vec<PolicyValue> = targets.iter().filter_map(|t| value_for(kind, t)).collect();
                Ok(defined(&col, one_of(&col, kind, values)))
            }
            Term::Column(col) if col.kind.is_none() => Err(format!("`in` on column {:?}", col.name)),
            Term::Resource => Err("`resource in ...`".to_string()),
            _ => Ok(Term::Err),
        }
    }

    fn contains(&self, a: Term, b: Term) -> Result<Term, Refusal> {
        match (a, b) {
            (Term::Val(Val::Set(items)), Term::Val(v)) => Ok(Term::Val(Val::Bool(items.contains(&v)))),
            (Term::Val(Val::Set(items)), Term::Column(col)) => {
                let kind = typed(&col)?;
                if col.array {
                    return Err(format!("a set literal containing array column {:?}", col.name));
                }
                let values: Vec<PolicyValue> = items.iter().filter_map(|v| value_for(kind, v)).collect();
                Ok(defined(&col, one_of(&col, kind, values)))
            }
            (Term::Column(col), Term::Val(v)) if col.array => {
                let kind = typed(&col)?;
                Ok(match value_for(kind, &v) {
                    Some(value) => defined(&col, C::Array { column: col.name.clone(), kind, op: ArrayOp::ContainsAll, values: vec![value] }),
                    None => pred(C::FALSE, present(&col)),
                })
            }
            (Term::Column(col), _) if col.kind.is_none() => Err(format!("`contains` on column {:?}", col.name)),
            (Term::Column(_), Term::Column(_)) | (Term::Column(_), Term::Pred(_)) | (Term::Column(_), Term::Resource) => Err("`contains` of a row-dependent value".to_string()),
            _ => Ok(Term::Err),
        }
    }

    fn contains_set(&self, op: ArrayOp, a: Term, b: Term) -> Result<Term, Refusal> {
        match (a, b) {
            (Term::Val(Val::Set(xs)), Term::Val(Val::Set(ys))) => Ok(Term::Val(Val::Bool(match op {
                ArrayOp::ContainsAll => ys.iter().all(|y| xs.contains(y)),
                ArrayOp::ContainsAny => ys.iter().any(|y| xs.contains(y)),
            }))),
            // `containsAny` is symmetric; `set.containsAll(column)` is not (refused below).
            (Term::Column(col), Term::Val(Val::Set(items))) => self.array_op(op, col, &items),
            (Term::Val(Val::Set(items)), Term::Column(col)) if op == ArrayOp::ContainsAny => self.array_op(op, col, &items),
            (Term::Val(Val::Set(_)), Term::Column(col)) => Err(format!("a set literal `containsAll` column {:?}", col.name)),
            (Term::Column(col), _) | (_, Term::Column(col)) if col.kind.is_none() => Err(format!("set operator on column {:?}", col.name)),
            (Term::Column(_), Term::Column(_)) => Err("set operator between two columns".to_string()),
            _ => Ok(Term::Err),
        }
    }

    /// `column op items` for an array column.
    fn array_op(&self, op: ArrayOp, col: PolicyColumn, items: &[Val]) -> Result<Term, Refusal> {
        let kind = typed(&col)?;
        if !col.array {
            return Ok(Term::Err);
        }
        let values: Vec<Option<PolicyValue>> = items.iter().map(|v| value_for(kind, v)).collect();
        // An element the column's type cannot hold: `containsAll` is false wherever defined.
        let impossible = op == ArrayOp::ContainsAll && values.iter().any(Option::is_none);
        let values: Vec<PolicyValue> = values.into_iter().flatten().collect();
        if impossible || (op == ArrayOp::ContainsAny && values.is_empty()) {
            return Ok(pred(C::FALSE, present(&col)));
        }
        Ok(defined(&col, C::Array { column: col.name.clone(), kind, op, values }))
    }

    pub fn like(&self, x: Term, pattern: &[LikePart]) -> Result<Term, Refusal> {
        match x {
            Term::Val(Val::Str(s)) => Ok(Term::Val(Val::Bool(like_matches(&s, pattern)))),
            Term::Column(col) if !col.array && matches!(col.kind, Some(ColumnKind::Text | ColumnKind::UuidText)) => {
                let kind = typed(&col)?;
                Ok(defined(&col, C::Like { column: col.name.clone(), kind, pattern: pattern.to_vec() }))
            }
            Term::Column(col) if col.kind.is_none() => Err(format!("`like` on column {:?}", col.name)),
            _ => Ok(Term::Err),
        }
    }
}

/// `column = ANY(values)`, FALSE when there are none.
fn one_of(col: &PolicyColumn, kind: ColumnKind, mut values: Vec<PolicyValue>) -> C {
    match values.len() {
        0 => C::FALSE,
        1 => match values.pop() {
            Some(value) => C::Compare { column: col.name.clone(), kind, op: CompareOp::Eq, value },
            None => C::FALSE,
        },
        _ => C::OneOf { column: col.name.clone(), kind, values },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(p: &str) -> Vec<LikePart> {
        let mut parts = Vec::new();
        for (i, piece) in p.split('*').enumerate() {
            if i > 0 {
                parts.push(LikePart::Wildcard);
            }
            if !piece.is_empty() {
                parts.push(LikePart::Literal(piece.to_string()));
            }
        }
        parts
    }

    #[test]
    fn like_matches_like_cedar() {
        for (text, p, want) in [
            ("hello", "hello", true),
            ("hello", "h*o", true),
            ("hello", "*", true),
            ("", "*", true),
            ("", "", true),
            ("a", "", false),
            ("hello", "*ll*", true),
            ("hello", "*lo", true),
            ("hello", "*la", false),
            ("abcabc", "a*c", true),
            ("abcab", "a*c", false),
            ("aXbXc", "a*b*c", true),
            ("acb", "a*b*c", false),
            ("aaa", "a*a", true),
            ("a", "a*a", false),
        ] {
            assert_eq!(like_matches(text, &pat(p)), want, "{text:?} like {p:?}");
        }
        let long = "a".repeat(10_000);
        assert!(!like_matches(&long, &pat("*a*a*a*a*a*a*a*a*b")));
    }
}
