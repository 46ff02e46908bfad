//! Redirect allow-list matching (S-06): a target is parsed as a URL and compared with the site
//! URL or an allow-list pattern part by part (scheme, host, port, then path and query), with
//! GoTrue's glob rules: `*` and `?` stop at `.` and `/`, `**` crosses them, `\c` is a literal `c`.
//!
//! Must not compare raw strings (a prefix admits `https://app.example.com.evil.net/` and
//! `http://localhost:3000@evil.net/`), and must never admit a target carrying userinfo or
//! control characters, whatever the patterns say.

use url::Url;

/// One piece of a glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `?`: one character that is not a separator.
    One,
    /// `*`: any run of non-separator characters.
    Star,
    /// `**`: any run of characters.
    StarStar,
}

/// A compiled glob (GoTrue compiles its allow-list with separators `.` and `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Glob(Vec<Token>);

const SEPARATORS: [char; 2] = ['.', '/'];

impl Glob {
    fn compile(text: &str, lowercase: bool) -> Glob {
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let token = match c {
                '\\' => Token::Literal(chars.next().unwrap_or('\\')),
                '?' => Token::One,
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    Token::StarStar
                }
                '*' => Token::Star,
                c if lowercase => Token::Literal(c.to_ascii_lowercase()),
                c => Token::Literal(c),
            };
            tokens.push(token);
        }
        Glob(tokens)
    }

    /// Whether the whole of `text` matches: a sweep over the positions each token can reach
    /// (O(tokens × length), no backtracking whatever the target).
    fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let is_sep = |j: usize| chars.get(j).is_none_or(|c| SEPARATORS.contains(c));
        let mut reach = vec![false; chars.len() + 1];
        if let Some(first) = reach.first_mut() {
            *first = true;
        }
        for token in &self.0 {
            let mut next = vec![false; chars.len() + 1];
            let mut carry = false;
            for (j, slot) in next.iter_mut().enumerate() {
                let here = reach.get(j).copied().unwrap_or(false);
                let before = j.checked_sub(1).is_some_and(|i| reach.get(i).copied().unwrap_or(false));
                *slot = match *token {
                    Token::Literal(c) => before && j.checked_sub(1).and_then(|i| chars.get(i)) == Some(&c),
                    Token::One => before && j.checked_sub(1).is_some_and(|i| !is_sep(i)),
                    Token::Star | Token::StarStar => {
                        carry |= here;
                        let reached = carry;
                        if *token == Token::Star && is_sep(j) {
                            carry = false;
                        }
                        reached
                    }
                };
            }
            reach = next;
        }
        reach.last().copied().unwrap_or(false)
    }
}

/// A parsed allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    scheme: Glob,
    /// `None` for entries without an authority (`myapp:callback`).
    authority: Option<(Glob, Option<Glob>)>,
    /// Path and query (`/cb?x=1`); the fragment is never compared.
    rest: Glob,
}

impl Pattern {
    /// Parses `scheme://host[:port][/path][?query]` or `scheme:rest`; the fragment is ignored.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let text = text.split('#').next().unwrap_or(text);
        let (scheme, after) = text.split_once(':').ok_or_else(|| format!("{text:?} has no scheme (e.g. https://)"))?;
        if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.*?".contains(c)) {
            return Err(format!("{text:?} has no valid scheme"));
        }
        let special = matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https");
        let Some(after) = after.strip_prefix("//") else {
            if special {
                return Err(format!("{text:?}: an http(s) entry needs a host (https://host/...)"));
            }
            return Ok(Pattern { scheme: Glob::compile(scheme, true), authority: None, rest: Glob::compile(after, false) });
        };
        let end = after.find(['/', '?']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        if authority.contains('@') {
            return Err(format!("{text:?}: userinfo (user@host) is not allowed in a redirect URL"));
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (inside, tail) = v6.split_once(']').ok_or_else(|| format!("{text:?}: unclosed [ in the host"))?;
                let port = match tail.strip_prefix(':') {
                    Some(p) => Some(p),
                    None if tail.is_empty() => None,
                    None => return Err(format!("{text:?}: unexpected {tail:?} after the host")),
                };
                (format!("[{inside}]"), port)
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), Some(port)),
                None => (authority.to_string(), None),
            },
        };
        if special && host.is_empty() {
            return Err(format!("{text:?}: an http(s) entry needs a host"));
        }
        // A literal host is compared in the parser's form (punycode, dotted IPv4, lower case).
        let host = if special && !host.contains(['*', '?', '\\']) {
            url::Host::parse(&host).map_err(|e| format!("{text:?}: {e}"))?.to_string()
        } else {
            host
        };
        // The URL parser writes an empty http(s) path as `/`, also before a query.
        let rest = if special && !rest.starts_with('/') { format!("/{rest}") } else { rest.to_string() };
        Ok(Pattern {
            scheme: Glob::compile(scheme, true),
            authority: Some((Glob::compile(&host, true), port.map(|p| Glob::compile(p, false)))),
            rest: Glob::compile(&rest, false),
        })
    }

    /// Whether a glob sits in the host's last label (`https://app.example.com*`), where it
    /// admits other registrable domains (`app.example.community`, or with `**` any suffix).
    pub fn globs_top_level_domain(&self) -> bool {
        let Some((host, _)) = &self.authority else { return false };
        let mut last_label = host.0.iter().rev().take_while(|t| **t != Token::Literal('.'));
        last_label.any(|t| !matches!(t, Token::Literal(_)))
    }

    /// Whether the parsed target falls under this entry.
    fn admits(&self, target: &Url) -> bool {
        if !self.scheme.matches(target.scheme()) {
            return false;
        }
        match (&self.authority, target.host_str()) {
            (Some((host, port)), Some(target_host)) => {
                if !host.matches(&target_host.to_ascii_lowercase()) {
                    return false;
                }
                let port_ok = match port {
                    // No port in the entry: the scheme's default (or none) only.
                    None => target.port().is_none(),
                    Some(port) => port.matches(&target.port_or_known_default().map(|p| p.to_string()).unwrap_or_default()),
                };
                if !port_ok {
                    return false;
                }
            }
            (None, None) => {}
            _ => return false,
        }
        self.rest.matches(&path_and_query(target))
    }
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Whether `target` may receive a redirect: the site URL's scheme, host and port, or an
/// allow-list entry. Entries that do not parse admit nothing (configuration refuses them at
/// start). Unlike GoTrue, other loopback ports than the site URL's are not admitted: list them.
pub fn allowed(site_url: &str, allow_list: &[String], target: &str) -> bool {
    // The URL parser silently drops tabs and newlines; a Location header cannot carry them.
    if target.chars().any(char::is_control) {
        return false;
    }
    let Ok(url) = Url::parse(target) else { return false };
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    if let (Ok(site), Some(host)) = (Url::parse(site_url), url.host()) {
        let same_host = site.host_str().is_some_and(|h| h.eq_ignore_ascii_case(&host.to_string()));
        if same_host && site.scheme() == url.scheme() && site.port_or_known_default() == url.port_or_known_default() {
            return true;
        }
    }
    allow_list.iter().filter_map(|p| Pattern::parse(p).ok()).any(|p| p.admits(&url))
}

#[cfg(test)]
mod tests;
