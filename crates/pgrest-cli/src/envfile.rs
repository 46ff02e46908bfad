//! `.env.local`: reading `KEY=value` lines as defaults, and appending generated secrets once.
//!
//! Must never rewrite or reorder existing lines: it only reads, or appends at the end.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::Failure;

/// The values in `path`; an absent file is empty. Later duplicates win, like the shell.
pub(crate) fn read(path: &Path) -> Result<HashMap<String, String>, Failure> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(parse(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
        Err(e) => Err(Failure::io(format!("reading {}", path.display()), e)),
    }
}

/// Parses `KEY=value`, `export KEY=value`, quoted values; skips blanks and `#` comments.
fn parse(text: &str) -> HashMap<String, String> {
    let mut values = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        values.insert(key.to_string(), unquote(value.trim()).to_string());
    }
    values
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    // An unquoted value ends at a ` #` comment.
    value.split_once(" #").map_or(value, |(v, _)| v.trim_end())
}

/// Appends `KEY=value` (creating the file with mode 0600), after a newline if the file lacks one.
pub(crate) fn append(path: &Path, key: &str, value: &str, comment: &str) -> Result<(), Failure> {
    let needs_newline = fs::read(path)
        .map(|bytes| bytes.last().is_some_and(|b| *b != b'\n'))
        .unwrap_or(false);
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Failure::io(format!("opening {}", path.display()), e))?;
    let mut text = String::new();
    if needs_newline {
        text.push('\n');
    }
    text.push_str(&format!("# {comment}\n{key}={value}\n"));
    file.write_all(text.as_bytes())
        .map_err(|e| Failure::io(format!("writing {}", path.display()), e))
}

/// A new HS256 secret: 32 random bytes as 64 hex characters.
pub(crate) fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let values =
            parse("# c\nA=1\nexport B = two \nC=\"q # x\"\nD='s'\nE=v # note\nbad line\nF=\nA=3\n");
        assert_eq!(values["A"], "3");
        assert_eq!(values["B"], "two");
        assert_eq!(values["C"], "q # x");
        assert_eq!(values["D"], "s");
        assert_eq!(values["E"], "v");
        assert_eq!(values["F"], "");
        assert_eq!(values.len(), 6);
    }

    #[test]
    fn appends_without_touching_existing_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".env.local");
        fs::write(&path, "KEEP=me").unwrap();
        append(&path, "JWT_SECRET", "abc", "generated").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "KEEP=me\n# generated\nJWT_SECRET=abc\n"
        );
        let fresh = tmp.path().join("new");
        append(&fresh, "K", "v", "c").unwrap();
        assert_eq!(read(&fresh).unwrap()["K"], "v");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn secrets_are_64_hex() {
        let secret = generate_secret();
        assert_eq!(secret.len(), 64);
        assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
