//! Filter values (`not.eq.5`, `in.(1,"a,b")`, `fts(english).cat`) and logic trees
//! (`or=(a.eq.1,not.and(b.gt.2,c.is.null))`).
//!
//! Grammar only: operands stay text. `*` in `like`/`ilike` values is kept as written; the
//! planner turns it into `%`. Nothing here knows column types.

use super::super::types::{Filter, FtsKind, IsValue, LogicOp, LogicTree, Operation, Quantifier, SimpleOp};
use super::cursor::{Cursor, Parsed};
use super::field::{delimiter, field, identifier, lexeme_char, quoted_value};
use super::select::{MAX_NESTING, TOO_DEEP};

const OPERATOR_LABEL: &str = "operator (eq, gt, ...)";
const UNKNOWN_OPERATOR_LABEL: &str = "unknown single value operator";

/// Where an operand comes from, which decides where it ends.
#[derive(Clone, Copy)]
pub(super) enum OperandStyle {
    /// A filter parameter's value: the operand is the rest of the text, quotes included.
    WholeValue,
    /// Inside a logic tree: `"quoted"`, `{pg,array}` or text up to `,` / `)`.
    InLogicTree,
}

/// `[not.]operator[(quantifier|config)].operand`: whether negated, and the operation.
pub(super) fn negatable_operation(cursor: &mut Cursor, style: OperandStyle) -> Parsed<(bool, Operation)> {
    let negated = cursor.either(|cursor| cursor.attempt(not_prefix).map(|()| true), |_| Ok(false))?;
    let operation = cursor.label(OPERATOR_LABEL, |cursor| {
        cursor.choice_of(&[
            &in_list,
            &is_value,
            &|cursor| is_distinct(cursor, style),
            &|cursor| cursor.attempt(|cursor| full_text_search(cursor, style)),
            &|cursor| cursor.attempt(|cursor| simple(cursor, style)),
            &|cursor| cursor.attempt(|cursor| quantified(cursor, style)),
        ])
    })?;
    Ok((negated, operation))
}

fn not_prefix(cursor: &mut Cursor) -> Parsed<()> {
    cursor.string("not")?;
    delimiter(cursor)
}

/// `keyword.`, all or nothing.
fn keyword_and_dot(cursor: &mut Cursor, keyword: &'static str) -> Parsed<()> {
    cursor.attempt(|cursor| {
        cursor.string(keyword)?;
        delimiter(cursor)
    })
}

fn in_list(cursor: &mut Cursor) -> Parsed<Operation> {
    keyword_and_dot(cursor, "in")?;
    let mut values = list(cursor)?;
    // `in.()` (and, as in PostgREST, `in.("")`) is the empty list.
    if values.len() == 1 && values.first().is_some_and(String::is_empty) {
        values.clear();
    }
    Ok(Operation::In(values))
}

fn is_value(cursor: &mut Cursor) -> Parsed<Operation> {
    keyword_and_dot(cursor, "is")?;
    let value = cursor.label("isVal: (null, not_null, true, false, unknown)", |cursor| {
        cursor.choice(&[
            |cursor| any_case(cursor, "null").map(|()| IsValue::Null),
            |cursor| any_case(cursor, "not_null").map(|()| IsValue::NotNull),
            |cursor| any_case(cursor, "true").map(|()| IsValue::True),
            |cursor| any_case(cursor, "false").map(|()| IsValue::False),
            |cursor| any_case(cursor, "unknown").map(|()| IsValue::Unknown),
        ])
    })?;
    Ok(Operation::Is(value))
}

/// `word` with each letter in lower or upper case, all or nothing.
fn any_case(cursor: &mut Cursor, word: &str) -> Parsed<()> {
    cursor.attempt(|cursor| {
        for wanted in word.chars() {
            cursor.either(|cursor| cursor.char_is(wanted), |cursor| cursor.char_is(wanted.to_ascii_uppercase()))?;
        }
        Ok(())
    })
}

fn is_distinct(cursor: &mut Cursor, style: OperandStyle) -> Parsed<Operation> {
    keyword_and_dot(cursor, "isdistinct")?;
    let value = operand(cursor, style)?;
    Ok(Operation::Simple { op: SimpleOp::IsDistinct, quantifier: None, value })
}

fn full_text_search(cursor: &mut Cursor, style: OperandStyle) -> Parsed<Operation> {
    let kind = cursor.choice(&[
        |cursor| cursor.attempt(|cursor| cursor.string("fts")).map(|()| FtsKind::Plain),
        |cursor| cursor.attempt(|cursor| cursor.string("plfts")).map(|()| FtsKind::Plain2),
        |cursor| cursor.attempt(|cursor| cursor.string("phfts")).map(|()| FtsKind::Phrase),
        |cursor| cursor.attempt(|cursor| cursor.string("wfts")).map(|()| FtsKind::Websearch),
    ])?;
    let config = cursor.optional(|cursor| {
        cursor.attempt(|cursor| {
            cursor.char_is('(')?;
            let config = identifier(cursor)?;
            cursor.char_is(')')?;
            Ok(config)
        })
    })?;
    delimiter(cursor)?;
    let value = operand(cursor, style)?;
    Ok(Operation::Fts { kind, config, value })
}

/// Operators that take no quantifier: `neq cs cd ov sl sr nxr nxl adj`.
fn simple(cursor: &mut Cursor, style: OperandStyle) -> Parsed<Operation> {
    let op = cursor.label(UNKNOWN_OPERATOR_LABEL, |cursor| {
        cursor.choice(&[
            |cursor| keyword(cursor, "neq", SimpleOp::Neq),
            |cursor| keyword(cursor, "cs", SimpleOp::Contains),
            |cursor| keyword(cursor, "cd", SimpleOp::ContainedIn),
            |cursor| keyword(cursor, "ov", SimpleOp::Overlaps),
            |cursor| keyword(cursor, "sl", SimpleOp::StrictlyLeft),
            |cursor| keyword(cursor, "sr", SimpleOp::StrictlyRight),
            |cursor| keyword(cursor, "nxr", SimpleOp::NotExtendRight),
            |cursor| keyword(cursor, "nxl", SimpleOp::NotExtendLeft),
            |cursor| keyword(cursor, "adj", SimpleOp::Adjacent),
        ])
    })?;
    delimiter(cursor)?;
    let value = operand(cursor, style)?;
    Ok(Operation::Simple { op, quantifier: None, value })
}

/// Operators that accept `(any)` / `(all)`: `eq gte gt lte lt like ilike match imatch`.
fn quantified(cursor: &mut Cursor, style: OperandStyle) -> Parsed<Operation> {
    let op = cursor.label(UNKNOWN_OPERATOR_LABEL, |cursor| {
        cursor.choice(&[
            |cursor| keyword(cursor, "eq", SimpleOp::Eq),
            |cursor| keyword(cursor, "gte", SimpleOp::Gte),
            |cursor| keyword(cursor, "gt", SimpleOp::Gt),
            |cursor| keyword(cursor, "lte", SimpleOp::Lte),
            |cursor| keyword(cursor, "lt", SimpleOp::Lt),
            |cursor| keyword(cursor, "like", SimpleOp::Like),
            |cursor| keyword(cursor, "ilike", SimpleOp::Ilike),
            |cursor| keyword(cursor, "match", SimpleOp::Match),
            |cursor| keyword(cursor, "imatch", SimpleOp::Imatch),
        ])
    })?;
    let quantifier = cursor.optional(|cursor| {
        cursor.attempt(|cursor| {
            cursor.char_is('(')?;
            let quantifier = cursor.either(
                |cursor| cursor.attempt(|cursor| cursor.string("any")).map(|()| Quantifier::Any),
                |cursor| cursor.string("all").map(|()| Quantifier::All),
            )?;
            cursor.char_is(')')?;
            Ok(quantifier)
        })
    })?;
    delimiter(cursor)?;
    let value = operand(cursor, style)?;
    Ok(Operation::Simple { op, quantifier, value })
}

fn keyword(cursor: &mut Cursor, word: &'static str, op: SimpleOp) -> Parsed<SimpleOp> {
    cursor.attempt(|cursor| cursor.string(word)).map(|()| op)
}

fn operand(cursor: &mut Cursor, style: OperandStyle) -> Parsed<String> {
    match style {
        OperandStyle::WholeValue => Ok(cursor.rest()),
        OperandStyle::InLogicTree => cursor.either(
            |cursor| cursor.attempt(closed_quoted_value),
            |cursor| cursor.either(|cursor| cursor.attempt(pg_array), text_until_comma_or_paren),
        ),
    }
}

/// A quoted value that ends right before `,`, `)` or the end.
fn closed_quoted_value(cursor: &mut Cursor) -> Parsed<String> {
    let value = quoted_value(cursor)?;
    cursor.not_followed_by(|found| found != ',' && found != ')')?;
    Ok(value)
}

/// `{a,b}` kept with its braces, so commas inside do not split the tree.
fn pg_array(cursor: &mut Cursor) -> Parsed<String> {
    cursor.char_is('{')?;
    let inner = cursor.many(|cursor| cursor.satisfy(|found| found != '{' && found != '}', None))?;
    cursor.char_is('}')?;
    Ok(format!("{{{}}}", inner.into_iter().collect::<String>()))
}

fn text_until_comma_or_paren(cursor: &mut Cursor) -> Parsed<String> {
    let chars = cursor.many(|cursor| cursor.satisfy(|found| found != ',' && found != ')', None))?;
    Ok(chars.into_iter().collect())
}

/// `(a, "b,c", d)`: elements are kept untrimmed, as PostgREST does.
fn list(cursor: &mut Cursor) -> Parsed<Vec<String>> {
    lexeme_char(cursor, '(')?;
    let values = cursor.sep_by1(
        |cursor| cursor.either(|cursor| cursor.attempt(closed_quoted_value), text_until_comma_or_paren),
        |cursor| cursor.char_is(',').map(drop),
    )?;
    lexeme_char(cursor, ')')?;
    Ok(values)
}

/// A logic tree, given with its operator in front: `or(a.eq.1,not.and(b.gt.2,c.is.null))`.
/// Like PostgREST, text after the tree is ignored.
pub(super) fn logic_tree(cursor: &mut Cursor, depth: usize) -> Parsed<LogicTree> {
    cursor.either(
        |cursor| cursor.attempt(logic_leaf).map(LogicTree::Leaf),
        |cursor| {
            let negated = cursor.label("negation operator (not)", |cursor| {
                cursor.either(|cursor| cursor.attempt(not_prefix).map(|()| true), |_| Ok(false))
            })?;
            let op = cursor.label("logic operator (and, or)", |cursor| {
                cursor.either(
                    |cursor| cursor.attempt(|cursor| cursor.string("and")).map(|()| LogicOp::And),
                    |cursor| cursor.string("or").map(|()| LogicOp::Or),
                )
            })?;
            lexeme_char(cursor, '(')?;
            if depth >= MAX_NESTING {
                return cursor.fail_with_message(TOO_DEEP);
            }
            let children = cursor.sep_by1(|cursor| logic_tree(cursor, depth + 1), |cursor| lexeme_char(cursor, ','))?;
            lexeme_char(cursor, ')')?;
            Ok(LogicTree::Expr { negated, op, children })
        },
    )
}

/// `field.[not.]op.value` inside a tree.
fn logic_leaf(cursor: &mut Cursor) -> Parsed<Filter> {
    let field = field(cursor)?;
    delimiter(cursor)?;
    let (negated, operation) = negatable_operation(cursor, OperandStyle::InLogicTree)?;
    Ok(Filter { field, negated, operation })
}
