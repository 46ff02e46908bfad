//! Grammar pieces shared by every parameter: blanks, identifiers, quoted names, JSON paths,
//! fields, the `.` delimiter, column lists and the embed paths of parameter keys.
//!
//! Grammar only: these return names as the client wrote them and never resolve them.

use super::super::types::{EmbedPath, Field, JsonKey, JsonStep};
use super::cursor::{Cursor, Parsed};

const FIELD_NAME_LABEL: &str = "field name (* or [a..z0..9_$])";
const JSON_KEY_LABEL: &str = "any non reserved character different from: .,>()";

/// Spaces and tabs.
pub(super) fn blanks(cursor: &mut Cursor) -> Parsed<()> {
    cursor.many(|cursor| cursor.satisfy(|found| found == ' ' || found == '\t', None))?;
    Ok(())
}

/// `parse` surrounded by optional blanks.
pub(super) fn lexeme<T>(cursor: &mut Cursor, parse: impl FnOnce(&mut Cursor) -> Parsed<T>) -> Parsed<T> {
    blanks(cursor)?;
    let value = parse(cursor)?;
    blanks(cursor)?;
    Ok(value)
}

/// `c` surrounded by optional blanks.
pub(super) fn lexeme_char(cursor: &mut Cursor, wanted: char) -> Parsed<()> {
    lexeme(cursor, |cursor| cursor.char_is(wanted).map(drop))
}

/// `"..."` with `\x` escapes; the quotes are dropped.
pub(super) fn quoted_value(cursor: &mut Cursor) -> Parsed<String> {
    cursor.char_is('"')?;
    let chars = cursor.many(|cursor| {
        cursor.either(
            |cursor| cursor.satisfy(|found| found != '\\' && found != '"', None),
            |cursor| {
                cursor.char_is('\\')?;
                cursor.satisfy(|_| true, None)
            },
        )
    })?;
    cursor.char_is('"')?;
    Ok(chars.into_iter().collect())
}

/// Letters, digits, `_`, `$` and spaces, trimmed: a name or a cast type.
pub(super) fn identifier(cursor: &mut Cursor) -> Parsed<String> {
    let chars = cursor.many1(identifier_char)?;
    Ok(trim_haskell_spaces(&chars.into_iter().collect::<String>()))
}

fn identifier_char(cursor: &mut Cursor) -> Parsed<char> {
    cursor.choice(&[
        |cursor| cursor.satisfy(char::is_alphabetic, Some("letter")),
        |cursor| cursor.satisfy(|found| found.is_ascii_digit(), Some("digit")),
        |cursor| cursor.satisfy(|found| matches!(found, '_' | ' ' | '$'), None),
    ])
}

/// A `-` that does not start a `->` arrow.
fn dash(cursor: &mut Cursor) -> Parsed<()> {
    cursor.attempt(|cursor| {
        cursor.char_is('-')?;
        cursor.not_followed_by_char('>')
    })
}

/// Parts joined by dashes: `my-col` is one name.
fn dashed(cursor: &mut Cursor, part: fn(&mut Cursor) -> Parsed<String>) -> Parsed<String> {
    Ok(cursor.sep_by1(part, dash)?.join("-"))
}

/// A column, relation, alias or hint name: `"quoted"` or dashed identifiers.
pub(super) fn field_name(cursor: &mut Cursor) -> Parsed<String> {
    cursor.label(FIELD_NAME_LABEL, |cursor| cursor.either(quoted_value, |cursor| dashed(cursor, identifier)))
}

/// The key after `->`/`->>`: anything but `(-:.,>)` (dashes allowed between parts), or quoted.
fn json_key_name(cursor: &mut Cursor) -> Parsed<String> {
    cursor.label(JSON_KEY_LABEL, |cursor| cursor.either(quoted_value, |cursor| dashed(cursor, json_key_part)))
}

fn json_key_part(cursor: &mut Cursor) -> Parsed<String> {
    let chars = cursor.many1(|cursor| cursor.satisfy(|found| !"(-:.,>)".contains(found), None))?;
    Ok(trim_haskell_spaces(&chars.into_iter().collect::<String>()))
}

/// `->a->>b->0`: zero or more JSON steps.
pub(super) fn json_path(cursor: &mut Cursor) -> Parsed<Vec<JsonStep>> {
    cursor.many(json_step)
}

fn json_step(cursor: &mut Cursor) -> Parsed<JsonStep> {
    let as_text = cursor.either(
        |cursor| cursor.attempt(|cursor| cursor.string("->>")).map(|()| true),
        |cursor| cursor.attempt(|cursor| cursor.string("->")).map(|()| false),
    )?;
    let key = cursor
        .either(|cursor| cursor.attempt(json_index), |cursor| cursor.attempt(json_key_name).map(JsonKey::Name))?;
    Ok(JsonStep { as_text, key })
}

/// `0` or `-1`, only when followed by `->`, `::`, `.`, `,` or the end; otherwise it is a key.
fn json_index(cursor: &mut Cursor) -> Parsed<JsonKey> {
    let minus = cursor.optional(|cursor| cursor.char_is('-'))?;
    let digits: String =
        cursor.many1(|cursor| cursor.satisfy(|found| found.is_ascii_digit(), Some("digit")))?.into_iter().collect();
    cursor.choice(&[
        |cursor| cursor.peek_string("->"),
        |cursor| cursor.peek_string("::"),
        |cursor| cursor.peek_string("."),
        |cursor| cursor.peek_string(","),
        |cursor| cursor.attempt(Cursor::eof),
    ])?;
    let signed = if minus.is_some() { format!("-{digits}") } else { digits };
    // An index too large for i64 cannot address any array element; keep it as a key instead.
    Ok(signed.parse::<i64>().map_or(JsonKey::Name(signed), JsonKey::Index))
}

/// `name->json->>path`, with optional blanks around it.
pub(super) fn field(cursor: &mut Cursor) -> Parsed<Field> {
    lexeme(cursor, |cursor| {
        let name = field_name(cursor)?;
        let json_path = json_path(cursor)?;
        Ok(Field { name, json_path })
    })
}

/// The `.` between parts of a filter or an order term.
pub(super) fn delimiter(cursor: &mut Cursor) -> Parsed<()> {
    cursor.label("delimiter (.)", |cursor| cursor.char_is('.').map(drop))
}

/// The `:` after an alias (but not the `::` of a cast).
pub(super) fn alias_separator(cursor: &mut Cursor) -> Parsed<()> {
    cursor.char_is(':')?;
    cursor.not_followed_by_char(':')
}

/// `a, b ,c` (for `columns=` and `on_conflict=`).
pub(super) fn column_list(cursor: &mut Cursor) -> Parsed<Vec<String>> {
    cursor.sep_by1(field_name, |cursor| lexeme_char(cursor, ','))
}

/// A parameter key such as `clients.tasks.name->x`: the embed path and the last field.
/// Like PostgREST, anything after the first unparseable char is ignored.
pub(super) fn key_path(cursor: &mut Cursor) -> Parsed<(EmbedPath, Field)> {
    let mut names = cursor.sep_by1(field_name, delimiter)?;
    let json_path = json_path(cursor)?;
    let name = names.pop().unwrap_or_default();
    Ok((names, Field { name, json_path }))
}

/// A logic key such as `clients.not.or`: the embed path, and `or` / `not.or` / `and` / `not.and`.
pub(super) fn logic_key_path(cursor: &mut Cursor) -> Parsed<(EmbedPath, String)> {
    let mut names = cursor.sep_by1(field_name, delimiter)?;
    let negated = names.iter().any(|name| name == "not");
    let operator = names.pop().unwrap_or_default();
    names.retain(|name| name != "not");
    let operator = if negated { format!("not.{operator}") } else { operator };
    Ok((names, operator))
}

/// Haskell's `Data.Text.strip`: trims tab..CR, space, NBSP and the other Unicode space separators.
pub(super) fn trim_haskell_spaces(text: &str) -> String {
    text.trim_matches(is_haskell_space).to_string()
}

fn is_haskell_space(candidate: char) -> bool {
    matches!(
        candidate,
        '\t'..='\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}
