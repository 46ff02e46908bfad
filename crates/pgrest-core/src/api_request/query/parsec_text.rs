//! How Haskell and Parsec print things in PostgREST's errors: `show` of chars and strings
//! (`"\\233"`, `'t'`) and Parsec's line/column of a position (tabs jump to the next stop).
//!
//! Pure text functions: no parsing state, no grammar, and nothing here may panic.

/// Parsec's source position after reading `before`: tabs jump to the next multiple of 8 plus 1.
pub(super) fn parsec_line_column(before: &[char]) -> (u32, u32) {
    let (mut line, mut column) = (1u32, 1u32);
    for &read in before {
        match read {
            '\n' => {
                line = line.saturating_add(1);
                column = 1;
            }
            '\t' => column = column.saturating_add(8 - (column.saturating_sub(1) % 8)),
            _ => column = column.saturating_add(1),
        }
    }
    (line, column)
}

/// What a primitive saw, as Parsec shows it: `show [c]`, or empty at the end of input.
pub(super) fn show_found(found: Option<char>) -> String {
    found.map(|found| show_string(&found.to_string())).unwrap_or_default()
}

/// Haskell's `show` for a `String`: `"a\"b\233\&1"`.
pub(super) fn show_string(text: &str) -> String {
    let mut shown = String::from("\"");
    let mut chars = text.chars().peekable();
    while let Some(current) = chars.next() {
        if current == '"' {
            shown.push_str("\\\"");
        } else {
            push_literal_char(&mut shown, current, chars.peek().copied());
        }
    }
    shown.push('"');
    shown
}

/// Haskell's `show` for a `Char`: `'t'`, `'\''`, `'"'`.
pub(super) fn show_char(shown_char: char) -> String {
    if shown_char == '\'' {
        return "'\\''".to_string();
    }
    let mut shown = String::from("'");
    push_literal_char(&mut shown, shown_char, Some('\''));
    shown.push('\'');
    shown
}

/// Haskell's `showLitChar`, with its `\&` guard when the next char would change the escape.
fn push_literal_char(shown: &mut String, current: char, next: Option<char>) {
    const CONTROL_NAMES: [&str; 32] = [
        "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "a", "b", "t", "n", "v", "f", "r", "SO", "SI", "DLE", "DC1",
        "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
    ];
    let code = u32::from(current);
    if code > 127 {
        shown.push_str(&format!("\\{code}"));
        if next.is_some_and(|next| next.is_ascii_digit()) {
            shown.push_str("\\&");
        }
    } else if code == 127 {
        shown.push_str("\\DEL");
    } else if current == '\\' {
        shown.push_str("\\\\");
    } else if current >= ' ' {
        shown.push(current);
    } else {
        let name = usize::try_from(code).ok().and_then(|index| CONTROL_NAMES.get(index)).unwrap_or(&"NUL");
        shown.push('\\');
        shown.push_str(name);
        if code == 14 && next == Some('H') {
            shown.push_str("\\&");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haskell_show_escapes() {
        assert_eq!(show_string("t"), "\"t\"");
        assert_eq!(show_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(show_string("é1x"), "\"\\233\\&1x\"");
        assert_eq!(show_string("\n\t\u{7f}\u{1}"), "\"\\n\\t\\DEL\\SOH\"");
        assert_eq!(show_string("\u{e}H"), "\"\\SO\\&H\"");
        assert_eq!(show_char('t'), "'t'");
        assert_eq!(show_char('\''), "'\\''");
        assert_eq!(show_char('"'), "'\"'");
        assert_eq!(show_char('ü'), "'\\252'");
    }

    #[test]
    fn positions_follow_parsec() {
        assert_eq!(parsec_line_column(&[]), (1, 1));
        assert_eq!(parsec_line_column(&['a', 'b']), (1, 3));
        assert_eq!(parsec_line_column(&['a', '\t']), (1, 9));
        assert_eq!(parsec_line_column(&['a', '\n', 'b']), (2, 2));
    }
}
