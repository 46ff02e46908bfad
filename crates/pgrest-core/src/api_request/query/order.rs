//! The `order=` grammar: `col`, `col.desc.nullslast`, JSON paths and `rel(col).asc` terms.
//!
//! Grammar only: whether `rel` is a to-one embed is for the planner to check.

use super::super::types::{Direction, Field, Nulls, OrderTerm};
use super::cursor::{Cursor, Parsed};
use super::field::{delimiter, field, field_name, lexeme};

/// A whole `order=` value: terms separated by commas, each ending at `,` or the end.
pub(super) fn order_terms(cursor: &mut Cursor) -> Parsed<Vec<OrderTerm>> {
    cursor.sep_by1(
        |cursor| lexeme(cursor, |cursor| cursor.either(|cursor| cursor.attempt(relation_term), column_term)),
        |cursor| cursor.char_is(',').map(drop),
    )
}

/// `col->path.desc.nullsfirst`.
fn column_term(cursor: &mut Cursor) -> Parsed<OrderTerm> {
    let field = field(cursor)?;
    finish_term(cursor, None, field)
}

/// `rel(col->path).desc.nullsfirst`.
fn relation_term(cursor: &mut Cursor) -> Parsed<OrderTerm> {
    let relation = field_name(cursor)?;
    cursor.char_is('(')?;
    let field = field(cursor)?;
    cursor.char_is(')')?;
    finish_term(cursor, Some(relation), field)
}

/// The optional direction and nulls placement, then the end of the term.
fn finish_term(cursor: &mut Cursor, relation: Option<String>, field: Field) -> Parsed<OrderTerm> {
    let direction = cursor.optional(direction)?;
    let nulls = cursor.either(
        |cursor| {
            let nulls = cursor.optional(nulls)?;
            term_end(cursor)?;
            Ok(nulls)
        },
        |cursor| term_end(cursor).map(|()| None),
    )?;
    Ok(OrderTerm { relation, field, direction, nulls })
}

fn direction(cursor: &mut Cursor) -> Parsed<Direction> {
    cursor.choice(&[
        |cursor| dotted_keyword(cursor, "asc").map(|()| Direction::Asc),
        |cursor| dotted_keyword(cursor, "desc").map(|()| Direction::Desc),
    ])
}

fn nulls(cursor: &mut Cursor) -> Parsed<Nulls> {
    cursor.choice(&[
        |cursor| dotted_keyword(cursor, "nullsfirst").map(|()| Nulls::First),
        |cursor| dotted_keyword(cursor, "nullslast").map(|()| Nulls::Last),
    ])
}

/// `.keyword`, all or nothing.
fn dotted_keyword(cursor: &mut Cursor, keyword: &'static str) -> Parsed<()> {
    cursor.attempt(|cursor| {
        delimiter(cursor)?;
        cursor.string(keyword)
    })
}

fn term_end(cursor: &mut Cursor) -> Parsed<()> {
    cursor.choice(&[|cursor| cursor.peek_string(","), |cursor| cursor.attempt(Cursor::eof)])
}
