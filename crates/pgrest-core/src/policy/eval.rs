//! Evaluates a residual expression for one table: concrete parts (principal, claims, context)
//! as Cedar would, row-dependent parts as a pair of two-valued SQL predicates — `t` (Cedar gives
//! `true`) and `f` (Cedar gives `false`); a row where neither holds is a Cedar error there.
//!
//! Must not guess: whatever it cannot model exactly is a `Refusal`, and the caller fails closed.

use std::collections::BTreeMap;

use super::entities::{Action, Principal, Val, NAMESPACE};
use super::residual::{BinOp, Expr, Var};
use super::ColumnKind;
use crate::plan::{CompareOp, PolicyCondition as C, PolicyValue};

/// A column as the translator sees it: `kind` is `None` for types without a Cedar mapping
/// (only `has` works on those).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyColumn {
    pub name: String,
    pub kind: Option<ColumnKind>,
    pub array: bool,
}

impl PolicyColumn {
    /// From the schema cache's `format_type()` text.
    pub fn from_pg(name: &str, data_type: &str) -> PolicyColumn {
        let (base, array) = match data_type.strip_suffix("[]") {
            Some(base) => (base, true),
            None => (data_type, false),
        };
        let kind = match base {
            "text" | "name" | "character varying" => Some(ColumnKind::Text),
            b if b.starts_with("character varying(") => Some(ColumnKind::Text),
            "uuid" => Some(ColumnKind::UuidText),
            "smallint" | "integer" | "bigint" => Some(ColumnKind::Long),
            "boolean" => Some(ColumnKind::Bool),
            _ => None,
        };
        PolicyColumn { name: name.to_string(), kind, array }
    }
}

/// Why a residual could not be translated (logged with the policy id).
pub type Refusal = String;

/// A boolean that depends on the row.
#[derive(Debug, Clone, PartialEq)]
pub struct Tri {
    pub t: C,
    pub f: C,
}

impl Tri {
    pub const ERROR: Tri = Tri { t: C::FALSE, f: C::FALSE };
    pub fn of(b: bool) -> Tri {
        Tri { t: C::Const(b), f: C::Const(!b) }
    }
}

/// The value of a subexpression.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Val(Val),
    /// Cedar raises an error here for every row.
    Err,
    /// The row entity itself.
    Resource,
    /// `resource.<column>`: the value, or an error where the column is NULL.
    Column(PolicyColumn),
    Pred(Tri),
}

/// A `t`/`f` pair folded back to a constant where possible.
pub fn pred(t: C, f: C) -> Term {
    match (&t, &f) {
        (C::Const(true), _) => Term::Val(Val::Bool(true)),
        (_, C::Const(true)) => Term::Val(Val::Bool(false)),
        (C::Const(false), C::Const(false)) => Term::Err,
        _ => Term::Pred(Tri { t, f }),
    }
}

pub fn present(col: &PolicyColumn) -> C {
    C::Present { column: col.name.clone() }
}

/// One comparison as a predicate pair: `t` where it holds, `f` where the column is present
/// and it does not.
pub fn compare(col: &PolicyColumn, kind: ColumnKind, op: CompareOp, negated: CompareOp, value: PolicyValue) -> Tri {
    let t = C::Compare { column: col.name.clone(), kind, op, value: value.clone() };
    let f = C::Compare { column: col.name.clone(), kind, op: negated, value };
    Tri { t, f }
}

/// What one evaluation needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub principal: &'a Principal,
    pub action: Action,
    pub table: &'a str,
    pub columns: &'a [PolicyColumn],
}

impl Env<'_> {
    fn column(&self, name: &str) -> Option<&PolicyColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// A term used as a boolean.
    pub fn tri(&self, term: Term) -> Result<Tri, Refusal> {
        match term {
            Term::Val(Val::Bool(b)) => Ok(Tri::of(b)),
            Term::Val(_) | Term::Err | Term::Resource => Ok(Tri::ERROR),
            Term::Column(col) => match (col.kind, col.array) {
                (None, _) => Err(format!("column {:?} has no Cedar type", col.name)),
                (Some(ColumnKind::Bool), false) => Ok(compare(&col, ColumnKind::Bool, CompareOp::Eq, CompareOp::Eq, PolicyValue::Bool(true)))
                    .map(|tri| Tri { t: tri.t, f: C::Compare { column: col.name.clone(), kind: ColumnKind::Bool, op: CompareOp::Eq, value: PolicyValue::Bool(false) } }),
                _ => Ok(Tri::ERROR),
            },
            Term::Pred(tri) => Ok(tri),
        }
    }

    pub fn eval(&self, e: &Expr) -> Result<Term, Refusal> {
        match e {
            Expr::Lit(v) => Ok(Term::Val(v.clone())),
            Expr::Var(Var::Principal) => Ok(Term::Val(self.principal.as_val())),
            Expr::Var(Var::Action) => Ok(Term::Val(Val::Entity { ty: format!("{NAMESPACE}::Action"), id: self.action.name().to_string() })),
            Expr::Var(Var::Context) => Ok(Term::Val(Val::Record(BTreeMap::from([("table".to_string(), Val::Str(self.table.to_string()))])))),
            Expr::Var(Var::Resource) => Ok(Term::Resource),
            Expr::Not(x) => {
                let tri = self.tri(self.eval(x)?)?;
                Ok(pred(tri.f, tri.t))
            }
            Expr::Bin(BinOp::And, l, r) => {
                let a = self.tri(self.eval(l)?)?;
                match (&a.t, &a.f) {
                    (C::Const(false), C::Const(true)) => return Ok(Term::Val(Val::Bool(false))),
                    (C::Const(false), C::Const(false)) => return Ok(Term::Err),
                    _ => {}
                }
                let b = self.tri(self.eval(r)?)?;
                let t = C::and(a.t.clone(), b.t);
                let f = C::or(a.f, C::and(a.t, b.f));
                Ok(pred(t, f))
            }
            Expr::Bin(BinOp::Or, l, r) => {
                let a = self.tri(self.eval(l)?)?;
                match (&a.t, &a.f) {
                    (C::Const(true), _) => return Ok(Term::Val(Val::Bool(true))),
                    (C::Const(false), C::Const(false)) => return Ok(Term::Err),
                    _ => {}
                }
                let b = self.tri(self.eval(r)?)?;
                let t = C::or(a.t, C::and(a.f.clone(), b.t));
                let f = C::and(a.f, b.f);
                Ok(pred(t, f))
            }
            Expr::Bin(op, l, r) => {
                let a = self.eval(l)?;
                if a == Term::Err {
                    return Ok(Term::Err);
                }
                let b = self.eval(r)?;
                if b == Term::Err {
                    return Ok(Term::Err);
                }
                self.binary(*op, a, b)
            }
            Expr::GetAttr(x, attr) => self.get_attr(self.eval(x)?, attr),
            Expr::Has(x, attrs) => self.has(x, attrs),
            Expr::Like(x, pattern) => self.like(self.eval(x)?, pattern),
            Expr::Is(x, ty, within) => self.is(self.eval(x)?, ty, within.as_deref()),
            Expr::If(c, a, b) => self.if_then_else(c, a, b),
            Expr::Set(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for item in items {
                    match self.eval(item)? {
                        Term::Val(v) => vals.push(v),
                        Term::Err => return Ok(Term::Err),
                        _ => return Err("a set literal holding row values".to_string()),
                    }
                }
                Ok(Term::Val(Val::set(vals)))
            }
            Expr::Record(fields) => {
                let mut map = BTreeMap::new();
                for (k, item) in fields {
                    match self.eval(item)? {
                        Term::Val(v) => {
                            map.insert(k.clone(), v);
                        }
                        Term::Err => return Ok(Term::Err),
                        _ => return Err("a record literal holding row values".to_string()),
                    }
                }
                Ok(Term::Val(Val::Record(map)))
            }
            Expr::Unsupported(what) => Err(format!("unsupported construct `{what}`")),
        }
    }

    fn get_attr(&self, x: Term, attr: &str) -> Result<Term, Refusal> {
        Ok(match x {
            Term::Val(Val::Entity { ty, id }) if *ty == format!("{NAMESPACE}::{}", self.principal.ty) && id == self.principal.id => {
                self.principal.attrs.get(attr).map_or(Term::Err, |v| Term::Val(v.clone()))
            }
            Term::Val(Val::Record(map)) => map.get(attr).map_or(Term::Err, |v| Term::Val(v.clone())),
            Term::Val(_) | Term::Err | Term::Pred(_) => Term::Err,
            Term::Resource => self.column(attr).map_or(Term::Err, |c| Term::Column(c.clone())),
            Term::Column(col) if col.kind.is_none() => return Err(format!("attribute of column {:?}, which has no Cedar type", col.name)),
            Term::Column(_) => Term::Err,
        })
    }

    fn has(&self, x: &Expr, attrs: &[String]) -> Result<Term, Refusal> {
        let Some((first, rest)) = attrs.split_first() else {
            return Err("empty `has`".to_string());
        };
        if !rest.is_empty() {
            // `e has a.b` is `e has a && e.a has b`.
            let head = Expr::Has(Box::new(x.clone()), vec![first.clone()]);
            let tail = Expr::Has(Box::new(Expr::GetAttr(Box::new(x.clone()), first.clone())), rest.to_vec());
            return self.eval(&Expr::Bin(BinOp::And, Box::new(head), Box::new(tail)));
        }
        Ok(match self.eval(x)? {
            Term::Val(Val::Entity { ty, id }) => {
                let is_principal = ty == format!("{NAMESPACE}::{}", self.principal.ty) && id == self.principal.id;
                Term::Val(Val::Bool(is_principal && self.principal.attrs.contains_key(first)))
            }
            Term::Val(Val::Record(map)) => Term::Val(Val::Bool(map.contains_key(first))),
            Term::Val(_) | Term::Err | Term::Pred(_) => Term::Err,
            Term::Resource => match self.column(first) {
                Some(col) => pred(present(col), C::negate(present(col))),
                None => Term::Val(Val::Bool(false)),
            },
            Term::Column(col) if col.kind.is_none() => return Err(format!("`has` on column {:?}, which has no Cedar type", col.name)),
            Term::Column(_) => Term::Err,
        })
    }

    fn is(&self, x: Term, ty: &str, within: Option<&Expr>) -> Result<Term, Refusal> {
        let matches = match x {
            Term::Resource => ty == format!("{NAMESPACE}::Row"),
            Term::Val(Val::Entity { ty: actual, .. }) => actual == ty,
            Term::Column(col) if col.kind.is_none() => return Err(format!("`is` on column {:?}", col.name)),
            _ => return Ok(Term::Err),
        };
        match (matches, within) {
            (false, _) => Ok(Term::Val(Val::Bool(false))),
            (true, None) => Ok(Term::Val(Val::Bool(true))),
            (true, Some(_)) => Err("`is ... in ...` on the row".to_string()),
        }
    }

    fn if_then_else(&self, c: &Expr, a: &Expr, b: &Expr) -> Result<Term, Refusal> {
        let guard = self.tri(self.eval(c)?)?;
        match (&guard.t, &guard.f) {
            (C::Const(true), _) => return self.eval(a),
            (_, C::Const(true)) => return self.eval(b),
            (C::Const(false), C::Const(false)) => return Ok(Term::Err),
            _ => {}
        }
        let (x, y) = (self.eval(a)?, self.eval(b)?);
        for branch in [&x, &y] {
            let boolean = matches!(branch, Term::Val(Val::Bool(_)) | Term::Err | Term::Pred(_))
                || matches!(branch, Term::Column(PolicyColumn { kind: Some(ColumnKind::Bool), array: false, .. }));
            if !boolean {
                return Err("if-then-else choosing between non-boolean values".to_string());
            }
        }
        let (x, y) = (self.tri(x)?, self.tri(y)?);
        let t = C::or(C::and(guard.t.clone(), x.t), C::and(guard.f.clone(), y.t));
        let f = C::or(C::and(guard.t, x.f), C::and(guard.f, y.f));
        Ok(pred(t, f))
    }
}
