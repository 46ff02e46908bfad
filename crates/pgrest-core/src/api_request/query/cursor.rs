//! A small Parsec-like cursor over one decoded parameter: position, backtracking and the merged
//! "unexpected/expecting" set that PostgREST's error details are made of.
//!
//! It knows no PostgREST grammar and must never panic, whatever the input.
//!
//! The error model follows Parsec so messages match PostgREST's:
//! * a failure that consumed input is final: alternatives are not tried (unless `attempt`);
//! * errors at the current position accumulate until input is consumed, which drops them;
//! * when errors meet, the one further right wins and equal positions concatenate;
//! * `label` replaces the "expecting" items of a sub-parser that consumed nothing.

use super::super::query_error::{ErrorItem, QueryError};
use super::parsec_text::{parsec_line_column, show_char, show_found, show_string};

/// Error text kept as data and rendered Haskell-style only when an error is reported, so a
/// successful parse (which records and drops many errors) allocates no text.
#[derive(Debug, Clone)]
enum Text {
    /// A label as written (`letter`, `end of input`).
    Raw(&'static str),
    /// Parsec's `show [c]` of what a primitive saw; empty at the end of input.
    Found(Option<char>),
    /// `show c` (`'t'`).
    QuotedChar(char),
    /// `show s` of an expected string (`"abc"`).
    ShownStr(&'static str),
    /// `show [c]` of an expected char (`","`).
    ShownChar(char),
}

impl Text {
    fn render(&self) -> String {
        match self {
            Text::Raw(text) => (*text).to_string(),
            Text::Found(found) => show_found(*found),
            Text::QuotedChar(c) => show_char(*c),
            Text::ShownStr(text) => show_string(text),
            Text::ShownChar(c) => show_string(&c.to_string()),
        }
    }
}

/// An error item before rendering (see `ErrorItem`).
#[derive(Debug, Clone)]
enum Item {
    SysUnexpected(Text),
    Unexpected(Text),
    Expected(Text),
    Message(Text),
}

impl Item {
    fn render(&self) -> ErrorItem {
        match self {
            Item::SysUnexpected(t) => ErrorItem::SysUnexpected(t.render()),
            Item::Unexpected(t) => ErrorItem::Unexpected(t.render()),
            Item::Expected(t) => ErrorItem::Expected(t.render()),
            Item::Message(t) => ErrorItem::Message(t.render()),
        }
    }
}

/// A failed parse; the details live in the cursor.
#[derive(Debug)]
pub(super) struct Failed;

pub(super) type Parsed<T> = Result<T, Failed>;

/// One alternative of `choice_of`: a parser that may capture its context.
pub(super) type Alternative<'a, T> = &'a dyn Fn(&mut Cursor) -> Parsed<T>;

/// Errors gathered at one position (a char index into the input).
#[derive(Debug, Clone)]
struct PendingError {
    at: usize,
    items: Vec<Item>,
}

#[derive(Debug)]
pub(super) struct Cursor {
    chars: Vec<char>,
    pos: usize,
    pending: Option<PendingError>,
    /// Whether errors are recorded. Parsec's errors never steer the parse, so callers parse
    /// untracked first (no error bookkeeping at all) and re-run tracked only to report a failure.
    tracking: bool,
}

impl Cursor {
    /// A cursor that records errors (for reporting).
    pub(super) fn new(input: &str) -> Self {
        Cursor { chars: input.chars().collect(), pos: 0, pending: None, tracking: true }
    }

    /// A cursor that records nothing: the fast path for input that is expected to parse.
    pub(super) fn untracked(input: &str) -> Self {
        Cursor { chars: input.chars().collect(), pos: 0, pending: None, tracking: false }
    }

    /// Chars consumed so far.
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn consume_one(&mut self) {
        self.pos += 1;
        self.pending = None;
    }

    /// Records an error at `at`; `items` is only built when tracking.
    fn record(&mut self, at: usize, items: impl FnOnce() -> Vec<Item>) {
        if !self.tracking {
            return;
        }
        let incoming = Some(PendingError { at, items: items() });
        self.pending = merge(self.pending.take(), incoming);
    }

    /// Parsec's `satisfy` (with an optional `<?>` label).
    pub(super) fn satisfy(&mut self, accept: impl Fn(char) -> bool, label: Option<&'static str>) -> Parsed<char> {
        self.satisfy_text(accept, label.map(Text::Raw))
    }

    fn satisfy_text(&mut self, accept: impl Fn(char) -> bool, expected: Option<Text>) -> Parsed<char> {
        match self.peek() {
            Some(found) if accept(found) => {
                self.consume_one();
                Ok(found)
            }
            found => {
                self.record(self.pos, || {
                    let mut items = vec![Item::SysUnexpected(Text::Found(found))];
                    items.extend(expected.map(Item::Expected));
                    items
                });
                Err(Failed)
            }
        }
    }

    /// Parsec's `char`.
    pub(super) fn char_is(&mut self, wanted: char) -> Parsed<char> {
        self.satisfy_text(|found| found == wanted, Some(Text::ShownChar(wanted)))
    }

    /// Parsec's `string`: a partial match consumes (so callers wrap it in `attempt`), and the
    /// error sits at the start of the string, naming the first char that differed.
    pub(super) fn string(&mut self, wanted: &'static str) -> Parsed<()> {
        let start = self.pos;
        match self.mismatch_at(wanted) {
            None => {
                let length = wanted.chars().count();
                if length > 0 {
                    self.pos = start + length;
                    self.pending = None;
                }
                Ok(())
            }
            Some((matched, found)) => {
                if matched > 0 {
                    self.pos = start + matched;
                    self.pending = None;
                }
                self.record(start, || vec![Item::SysUnexpected(Text::Found(found)), Item::Expected(Text::ShownStr(wanted))]);
                Err(Failed)
            }
        }
    }

    /// `try (lookAhead (string s))`: succeeds without consuming, fails without consuming.
    pub(super) fn peek_string(&mut self, wanted: &'static str) -> Parsed<()> {
        match self.mismatch_at(wanted) {
            None => Ok(()),
            Some((_, found)) => {
                self.record(self.pos, || vec![Item::SysUnexpected(Text::Found(found)), Item::Expected(Text::ShownStr(wanted))]);
                Err(Failed)
            }
        }
    }

    /// How many chars of `wanted` match here, and the first char that did not (None = end).
    fn mismatch_at(&self, wanted: &str) -> Option<(usize, Option<char>)> {
        for (offset, wanted_char) in wanted.chars().enumerate() {
            let found = self.chars.get(self.pos + offset).copied();
            if found != Some(wanted_char) {
                return Some((offset, found));
            }
        }
        None
    }

    /// Parsec's `eof` (`notFollowedBy anyToken <?> "end of input"`).
    pub(super) fn eof(&mut self) -> Parsed<()> {
        let expected = || Item::Expected(Text::Raw("end of input"));
        match self.peek() {
            None => {
                self.record(self.pos, || vec![Item::SysUnexpected(Text::Found(None)), expected()]);
                Ok(())
            }
            Some(found) => {
                self.record(self.pos, || vec![Item::Unexpected(Text::QuotedChar(found)), expected()]);
                Err(Failed)
            }
        }
    }

    /// Parsec's `notFollowedBy (char c)`: fails when the next char is `c`.
    /// Like Parsec, a failure is reported just after the offending char.
    pub(super) fn not_followed_by_char(&mut self, rejected: char) -> Parsed<()> {
        self.not_followed_by_text(|found| found == rejected, Some(Text::ShownChar(rejected)))
    }

    /// Parsec's `notFollowedBy p` for a one-char `p` accepting `rejected` (unlabelled).
    pub(super) fn not_followed_by(&mut self, rejected: impl Fn(char) -> bool) -> Parsed<()> {
        self.not_followed_by_text(rejected, None)
    }

    fn not_followed_by_text(&mut self, rejected: impl Fn(char) -> bool, expected: Option<Text>) -> Parsed<()> {
        match self.peek() {
            Some(found) if rejected(found) => {
                self.record(self.pos + 1, || vec![Item::Unexpected(Text::QuotedChar(found))]);
                Err(Failed)
            }
            found => {
                self.record(self.pos, || {
                    let mut items = vec![Item::SysUnexpected(Text::Found(found))];
                    items.extend(expected.map(Item::Expected));
                    items
                });
                Ok(())
            }
        }
    }

    /// Parsec's `many anyChar`: the rest of the input.
    pub(super) fn rest(&mut self) -> String {
        let rest: String = self.chars.get(self.pos..).unwrap_or_default().iter().collect();
        if self.pos < self.chars.len() {
            self.pos = self.chars.len();
            self.pending = None;
        }
        self.record(self.pos, || vec![Item::SysUnexpected(Text::Found(None))]);
        rest
    }

    /// Parsec's `try`: a failure rewinds to where `parse` started, as if nothing was consumed.
    pub(super) fn attempt<T>(&mut self, parse: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        let start = self.pos;
        // Errors recorded before `parse` are set aside instead of cloned: they only survive if
        // `parse` consumed nothing (then they merge with its errors, as if never removed) or
        // failed after consuming (then `try` rewinds and merges them back).
        let before = self.pending.take();
        let result = parse(self);
        if self.pos == start {
            let inner = self.pending.take();
            self.pending = merge(before, inner);
        } else if result.is_err() {
            self.pos = start;
            let inner = self.pending.take();
            self.pending = merge(before, inner);
        }
        result
    }

    /// Parsec's `<?>`: if `parse` consumed nothing, its "expecting" items become `name`.
    pub(super) fn label<T>(&mut self, name: &'static str, parse: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        let start = self.pos;
        let before = self.pending.take();
        let result = parse(self);
        if self.pos == start {
            if let Some(inner) = &mut self.pending {
                inner.items.retain(|item| !matches!(item, Item::Expected(_)));
                inner.items.insert(0, Item::Expected(Text::Raw(name)));
            }
            let inner = self.pending.take();
            self.pending = merge(before, inner);
        }
        result
    }

    /// `first <|> second`: `second` runs only if `first` failed without consuming.
    pub(super) fn either<T>(
        &mut self,
        first: impl FnOnce(&mut Self) -> Parsed<T>,
        second: impl FnOnce(&mut Self) -> Parsed<T>,
    ) -> Parsed<T> {
        let start = self.pos;
        match first(self) {
            Err(Failed) if self.pos == start => second(self),
            result => result,
        }
    }

    /// Parsec's `choice` over plain functions.
    pub(super) fn choice<T>(&mut self, alternatives: &[fn(&mut Self) -> Parsed<T>]) -> Parsed<T> {
        let start = self.pos;
        for alternative in alternatives {
            match alternative(self) {
                Err(Failed) if self.pos == start => continue,
                result => return result,
            }
        }
        Err(Failed)
    }

    /// Parsec's `choice` over closures that capture their context.
    pub(super) fn choice_of<T>(&mut self, alternatives: &[Alternative<'_, T>]) -> Parsed<T> {
        let start = self.pos;
        for alternative in alternatives {
            match alternative(self) {
                Err(Failed) if self.pos == start => continue,
                result => return result,
            }
        }
        Err(Failed)
    }

    /// Parsec's `optionMaybe`.
    pub(super) fn optional<T>(&mut self, parse: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<Option<T>> {
        let start = self.pos;
        match parse(self) {
            Ok(value) => Ok(Some(value)),
            Err(Failed) if self.pos == start => Ok(None),
            Err(Failed) => Err(Failed),
        }
    }

    /// Parsec's `many` (stops, instead of looping, if `parse` succeeds without consuming).
    pub(super) fn many<T>(&mut self, mut parse: impl FnMut(&mut Self) -> Parsed<T>) -> Parsed<Vec<T>> {
        let mut values = Vec::new();
        loop {
            let start = self.pos;
            match parse(self) {
                Ok(value) => {
                    values.push(value);
                    if self.pos == start {
                        return Ok(values);
                    }
                }
                Err(Failed) if self.pos == start => return Ok(values),
                Err(Failed) => return Err(Failed),
            }
        }
    }

    /// Parsec's `many1`.
    pub(super) fn many1<T>(&mut self, mut parse: impl FnMut(&mut Self) -> Parsed<T>) -> Parsed<Vec<T>> {
        let first = parse(self)?;
        let mut values = vec![first];
        values.extend(self.many(parse)?);
        Ok(values)
    }

    /// Parsec's `sepBy1`.
    pub(super) fn sep_by1<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Parsed<T>,
        mut separator: impl FnMut(&mut Self) -> Parsed<()>,
    ) -> Parsed<Vec<T>> {
        let first = item(self)?;
        let mut values = vec![first];
        values.extend(self.many(|cursor| {
            separator(cursor)?;
            item(cursor)
        })?);
        Ok(values)
    }

    /// Fails with only `message` (used after consuming, so nothing else is merged in).
    pub(super) fn fail_with_message<T>(&mut self, message: &'static str) -> Parsed<T> {
        self.pending = Some(PendingError { at: self.pos, items: vec![Item::Message(Text::Raw(message))] });
        Err(Failed)
    }

    /// The PGRST100 error for the failure just seen, e.g. subject `failed to parse order (x)`.
    pub(super) fn into_error(self, subject: String) -> QueryError {
        let (at, items) = match self.pending {
            Some(pending) => (pending.at, pending.items.iter().map(Item::render).collect::<Vec<_>>()),
            None => (self.pos, Vec::new()),
        };
        let (line, column) = parsec_line_column(self.chars.get(..at).unwrap_or(&self.chars));
        QueryError::from_items(subject, line, column, &items)
    }
}

/// Parsec's `mergeError`: meaningful beats empty, further right wins, equal positions concatenate.
fn merge(first: Option<PendingError>, second: Option<PendingError>) -> Option<PendingError> {
    match (first, second) {
        (None, other) | (other, None) => other,
        (Some(first), Some(second)) if first.items.is_empty() => Some(second),
        (Some(first), Some(second)) if second.items.is_empty() => Some(first),
        (Some(mut first), Some(second)) => {
            if first.at == second.at {
                first.items.extend(second.items);
                Some(first)
            } else if first.at > second.at {
                Some(first)
            } else {
                Some(second)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_string_match_consumes_and_blames_the_start() {
        let mut cursor = Cursor::new("ab!");
        assert!(cursor.string("abc").is_err());
        assert_eq!(cursor.position(), 2);
        let error = cursor.into_error("s".into());
        assert_eq!(error.message(), "\"s\" (line 1, column 1)");
        assert_eq!(error.details().as_deref(), Some("unexpected \"!\" expecting \"abc\""));
    }

    #[test]
    fn attempt_rewinds_and_label_renames_expectations() {
        let mut cursor = Cursor::new("ax");
        let parsed = cursor.label("thing", |cursor| cursor.attempt(|cursor| cursor.string("ab")));
        assert!(parsed.is_err());
        assert_eq!(cursor.position(), 0);
        let error = cursor.into_error("s".into());
        assert_eq!(error.details().as_deref(), Some("unexpected \"x\" expecting thing"));
    }
}
