//! The `select=` grammar: columns, `*`, aliases, casts, JSON paths and (spread) embeds.
//!
//! Grammar only: relation and column names stay unresolved, and `*` is not expanded.
//! Aggregates (`count()`, `col.sum()`) are recognised only so they can be refused with
//! PGRST123; the AST has no place for them.

use super::super::types::{EmbedJoin, EmbedSelect, SelectItem};
use super::cursor::{Cursor, Parsed};
use super::field::{alias_separator, field, field_name, identifier, lexeme, lexeme_char};

/// How deeply embeds may nest; deeper input is refused instead of exhausting the stack.
pub(super) const MAX_NESTING: usize = 100;
pub(super) const TOO_DEEP: &str = "nesting too deep";

/// A whole `select=` value, and whether it used an aggregate function.
pub(super) fn select_list(cursor: &mut Cursor) -> Parsed<(Vec<SelectItem>, bool)> {
    let mut uses_aggregates = false;
    let items = forest(cursor, 0, &mut uses_aggregates)?;
    Ok((items, uses_aggregates))
}

/// Comma-separated items; like PostgREST, parsing stops quietly at an unexpected `)`.
fn forest(cursor: &mut Cursor, depth: usize, uses_aggregates: &mut bool) -> Parsed<Vec<SelectItem>> {
    let items = cursor.either(
        |cursor| cursor.sep_by1(|cursor| tree(cursor, depth, uses_aggregates), |cursor| lexeme_char(cursor, ',')),
        |_| Ok(Vec::new()),
    )?;
    Ok(items.into_iter().flatten().collect())
}

/// One item: a spread embed, an embed, or a field. `None` stands for an aggregate.
fn tree(cursor: &mut Cursor, depth: usize, uses_aggregates: &mut bool) -> Parsed<Option<SelectItem>> {
    if let Ok(head) = cursor.attempt(spread_head) {
        return embed_children(cursor, head, depth, uses_aggregates).map(Some);
    }
    if let Ok(head) = cursor.attempt(relation_head) {
        return embed_children(cursor, head, depth, uses_aggregates).map(Some);
    }
    match field_select(cursor)? {
        SelectedField::Item(item) => Ok(Some(item)),
        SelectedField::Aggregate => {
            *uses_aggregates = true;
            Ok(None)
        }
    }
}

/// `(...)` after an embed head.
fn embed_children(
    cursor: &mut Cursor,
    mut head: EmbedSelect,
    depth: usize,
    uses_aggregates: &mut bool,
) -> Parsed<SelectItem> {
    cursor.char_is('(')?;
    if depth >= MAX_NESTING {
        return cursor.fail_with_message(TOO_DEEP);
    }
    head.select = forest(cursor, depth + 1, uses_aggregates)?;
    cursor.char_is(')')?;
    Ok(SelectItem::Embed(head))
}

/// `...rel!hint!inner` followed by `(`.
fn spread_head(cursor: &mut Cursor) -> Parsed<EmbedSelect> {
    lexeme(cursor, |cursor| {
        cursor.string("...")?;
        let relation = field_name(cursor)?;
        let (hint, join) = embed_params(cursor)?;
        cursor.peek_string("(")?;
        Ok(EmbedSelect { relation, alias: None, hint, join, spread: true, select: Vec::new() })
    })
}

/// `alias:rel!hint!inner` followed by `(`.
fn relation_head(cursor: &mut Cursor) -> Parsed<EmbedSelect> {
    lexeme(cursor, |cursor| {
        let alias = cursor.optional(aliased)?;
        let relation = field_name(cursor)?;
        if relation == "count" {
            return Err(super::cursor::Failed);
        }
        let (hint, join) = embed_params(cursor)?;
        cursor.peek_string("(")?;
        Ok(EmbedSelect { relation, alias, hint, join, spread: false, select: Vec::new() })
    })
}

/// `alias:` (the colon must not start a `::` cast).
fn aliased(cursor: &mut Cursor) -> Parsed<String> {
    cursor.attempt(|cursor| {
        let alias = field_name(cursor)?;
        alias_separator(cursor)?;
        Ok(alias)
    })
}

enum EmbedParam {
    Join(EmbedJoin),
    Hint(String),
}

/// Up to two `!left` / `!inner` / `!hint` suffixes, in either order.
fn embed_params(cursor: &mut Cursor) -> Parsed<(Option<String>, EmbedJoin)> {
    let first = cursor.optional(embed_param)?;
    let second = cursor.optional(embed_param)?;
    let mut hint = None;
    let mut join = None;
    for param in [first, second].into_iter().flatten() {
        match param {
            EmbedParam::Hint(name) => hint = hint.or(Some(name)),
            EmbedParam::Join(kind) => join = join.or(Some(kind)),
        }
    }
    Ok((hint, join.unwrap_or_default()))
}

fn embed_param(cursor: &mut Cursor) -> Parsed<EmbedParam> {
    cursor.char_is('!')?;
    cursor.choice(&[
        |cursor| cursor.attempt(|cursor| cursor.string("left")).map(|()| EmbedParam::Join(EmbedJoin::Left)),
        |cursor| cursor.attempt(|cursor| cursor.string("inner")).map(|()| EmbedParam::Join(EmbedJoin::Inner)),
        |cursor| cursor.attempt(field_name).map(EmbedParam::Hint),
    ])
}

enum SelectedField {
    Item(SelectItem),
    Aggregate,
}

/// `*`, `alias:count()::cast`, or `alias:col->path::cast.sum()::cast`, ending at `)`, `,` or the end.
fn field_select(cursor: &mut Cursor) -> Parsed<SelectedField> {
    lexeme(cursor, |cursor| {
        cursor.either(
            |cursor| {
                cursor.attempt(|cursor| {
                    cursor.string("*")?;
                    select_end(cursor)?;
                    Ok(SelectedField::Item(SelectItem::Star))
                })
            },
            |cursor| cursor.either(|cursor| cursor.attempt(count_all), column),
        )
    })
}

fn count_all(cursor: &mut Cursor) -> Parsed<SelectedField> {
    cursor.optional(aliased)?;
    cursor.string("count()")?;
    cursor.optional(cast)?;
    select_end(cursor)?;
    Ok(SelectedField::Aggregate)
}

fn column(cursor: &mut Cursor) -> Parsed<SelectedField> {
    let alias = cursor.optional(aliased)?;
    let field = field(cursor)?;
    let column_cast = cursor.optional(cast)?;
    let aggregate = cursor.optional(|cursor| {
        cursor.attempt(|cursor| {
            cursor.char_is('.')?;
            aggregate_function(cursor)?;
            cursor.string("()")
        })
    })?;
    cursor.optional(cast)?;
    select_end(cursor)?;
    if aggregate.is_some() {
        return Ok(SelectedField::Aggregate);
    }
    Ok(SelectedField::Item(SelectItem::Column { field, alias, cast: column_cast }))
}

/// `::type`.
fn cast(cursor: &mut Cursor) -> Parsed<String> {
    cursor.string("::")?;
    identifier(cursor)
}

fn aggregate_function(cursor: &mut Cursor) -> Parsed<()> {
    cursor.choice(&[
        |cursor| cursor.string("sum"),
        |cursor| cursor.string("avg"),
        |cursor| cursor.string("count"),
        |cursor| cursor.attempt(|cursor| cursor.string("max")),
        |cursor| cursor.attempt(|cursor| cursor.string("min")),
    ])
}

/// A select field must be followed by `)`, `,` or the end of the value.
fn select_end(cursor: &mut Cursor) -> Parsed<()> {
    cursor.choice(&[
        |cursor| cursor.peek_string(")"),
        |cursor| cursor.peek_string(","),
        |cursor| cursor.attempt(Cursor::eof),
    ])
}
