//! Statement-unique SQL aliases for plan levels, named as PostgREST names them (the relation;
//! `name_depth` when embedded), so database errors read `column posts.foo does not exist`.
//!
//! Names only: must not write SQL. Never hands out a name twice, one the SQL writer uses for
//! itself, or one PostgreSQL would cut to collide with another (63-byte identifiers).

/// Table aliases the SQL writer uses itself; a level is never given one of these.
const WRITER_ALIASES: [&str; 9] =
    ["pgrst_row", "pgrst_count", "pgrst_source", "pgrst_body", "pgrst_target", "pgrst_item", "pgrst_rec", "pgrst_t", "pgrst_void"];

/// PostgreSQL keeps the first 63 bytes of an identifier (NAMEDATALEN - 1).
const MAX_IDENT_BYTES: usize = 63;

/// Hands out statement-unique SQL aliases. A level is aliased as PostgREST does, so database
/// errors name the relation (`column posts.foo does not exist`, not an internal `t0`): the root
/// by its relation's name, embedded levels `name_N`. A name already taken or used by the writer
/// gets a numbered suffix, cut to fit PostgreSQL's 63-byte identifiers so no two collide.
#[derive(Debug, Default)]
pub struct Aliases {
    counter: usize,
    taken: std::collections::HashSet<String>,
}

impl Aliases {
    /// `wanted` itself when free, otherwise `wanted_N` with the next free N.
    pub fn claim(&mut self, wanted: &str) -> String {
        let mut candidate = fit(wanted, "");
        while candidate.is_empty() || WRITER_ALIASES.contains(&candidate.as_str()) || self.taken.contains(&candidate) {
            candidate = self.numbered_candidate(wanted);
        }
        self.taken.insert(candidate.clone());
        candidate
    }

    /// Always `base_N` (embedded levels, laterals): `base_preferred` when free (PostgREST names an
    /// embedded level `name_depth`), otherwise the next free N.
    pub fn numbered(&mut self, base: &str, preferred: Option<usize>) -> String {
        let mut candidate = match preferred {
            Some(n) => fit(base, &format!("_{n}")),
            None => self.numbered_candidate(base),
        };
        while WRITER_ALIASES.contains(&candidate.as_str()) || self.taken.contains(&candidate) {
            candidate = self.numbered_candidate(base);
        }
        self.taken.insert(candidate.clone());
        candidate
    }

    fn numbered_candidate(&mut self, base: &str) -> String {
        self.counter = self.counter.saturating_add(1);
        fit(base, &format!("_{}", self.counter))
    }
}

/// `base` + `suffix` within 63 bytes, `base` cut at a character boundary.
fn fit(base: &str, suffix: &str) -> String {
    let room = MAX_IDENT_BYTES.saturating_sub(suffix.len());
    let mut cut = String::with_capacity(MAX_IDENT_BYTES);
    for c in base.chars() {
        if cut.len().saturating_add(c.len_utf8()) > room {
            break;
        }
        cut.push(c);
    }
    cut.push_str(suffix);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_relation_names_and_never_collide() {
        let mut a = Aliases::default();
        assert_eq!(a.claim("posts"), "posts");
        assert_eq!(a.numbered("posts", Some(1)), "posts_1");
        assert_eq!(a.numbered("posts", Some(1)), "posts_2");
        assert_eq!(a.claim("posts"), "posts_3");
        assert_eq!(a.claim("pgrst_row"), "pgrst_row_4");
        assert_eq!(a.claim("posts_5"), "posts_5");
        assert_eq!(a.numbered("posts", None), "posts_6");
        // A name a numbered alias would take later is skipped over.
        let mut a = Aliases::default();
        assert_eq!(a.claim("t_1"), "t_1");
        assert_eq!(a.numbered("t", None), "t_2");
        assert_eq!(a.numbered("t", Some(2)), "t_3");
    }

    #[test]
    fn aliases_fit_in_63_bytes_without_colliding() {
        let long = "é".repeat(40); // 80 bytes
        let mut a = Aliases::default();
        let root = a.claim(&long);
        assert_eq!(root.len(), 62, "cut at a character boundary");
        let embedded = a.numbered(&long, Some(1));
        assert!(embedded.len() <= 63 && embedded.ends_with("_1"), "{embedded}");
        assert_ne!(root, embedded);
        assert_eq!(a.claim(""), "_1");
    }
}
