//! The `Prefer` header (RFC 7240 as PostgREST reads it): several lines or comma lists,
//! unknown or repeated preferences ignored unless `handling=strict`.
//!
//! Must not decide what is honoured: `response` builds `Preference-Applied` from the plan.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnPref {
    Minimal,
    HeadersOnly,
    Representation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountPref {
    Exact,
    Planned,
    Estimated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    MergeDuplicates,
    IgnoreDuplicates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxPref {
    Commit,
    Rollback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    Strict,
    Lenient,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    pub return_: Option<ReturnPref>,
    pub count: Option<CountPref>,
    pub resolution: Option<Resolution>,
    pub tx: Option<TxPref>,
    pub missing_default: bool,
    pub handling: Option<Handling>,
    pub max_affected: Option<i64>,
    pub params_single_object: bool,
    pub timezone: Option<String>,
    /// Preferences we did not understand (reported under `handling=strict`).
    pub invalid: Vec<String>,
}

impl Preferences {
    /// Reads every `Prefer` header line; the first occurrence of a preference wins.
    pub fn from_headers(headers: &http::HeaderMap) -> Preferences {
        let mut prefs = Preferences::default();
        for value in headers.get_all("prefer") {
            let Ok(text) = value.to_str() else {
                prefs.invalid.push("<non-ASCII>".to_string());
                continue;
            };
            for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                prefs.apply(item);
            }
        }
        prefs
    }

    fn apply(&mut self, item: &str) {
        let (key, value) = item.split_once('=').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((item, ""));
        match (key, value) {
            ("return", "minimal") => set_once(&mut self.return_, ReturnPref::Minimal),
            ("return", "headers-only") => set_once(&mut self.return_, ReturnPref::HeadersOnly),
            ("return", "representation") => set_once(&mut self.return_, ReturnPref::Representation),
            ("count", "exact") => set_once(&mut self.count, CountPref::Exact),
            ("count", "planned") => set_once(&mut self.count, CountPref::Planned),
            ("count", "estimated") => set_once(&mut self.count, CountPref::Estimated),
            ("resolution", "merge-duplicates") => set_once(&mut self.resolution, Resolution::MergeDuplicates),
            ("resolution", "ignore-duplicates") => set_once(&mut self.resolution, Resolution::IgnoreDuplicates),
            ("tx", "commit") => set_once(&mut self.tx, TxPref::Commit),
            ("tx", "rollback") => set_once(&mut self.tx, TxPref::Rollback),
            ("missing", "default") => self.missing_default = true,
            ("missing", "null") => {}
            ("handling", "strict") => set_once(&mut self.handling, Handling::Strict),
            ("handling", "lenient") => set_once(&mut self.handling, Handling::Lenient),
            ("params", "single-object") => self.params_single_object = true,
            ("max-affected", n) => match n.parse::<i64>() {
                Ok(n) if self.max_affected.is_none() => self.max_affected = Some(n),
                Ok(_) => {}
                Err(_) => self.invalid.push(item.to_string()),
            },
            ("timezone", tz) if !tz.is_empty() => {
                if self.timezone.is_none() {
                    self.timezone = Some(tz.to_string());
                }
            }
            _ => self.invalid.push(item.to_string()),
        }
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_and_lists_first_wins() {
        let mut h = http::HeaderMap::new();
        h.append("prefer", "return=representation".parse().unwrap());
        h.append("prefer", "count=exact, return=minimal, tx=rollback, foo=bar".parse().unwrap());
        let p = Preferences::from_headers(&h);
        assert_eq!(p.return_, Some(ReturnPref::Representation));
        assert_eq!(p.count, Some(CountPref::Exact));
        assert_eq!(p.tx, Some(TxPref::Rollback));
        assert_eq!(p.invalid, vec!["foo=bar".to_string()]);
    }
}
