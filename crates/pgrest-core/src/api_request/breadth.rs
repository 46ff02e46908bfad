//! Request breadth limits (V-19, V-13): the query string's length and the number of select
//! items and embeds a request may name, checked at parse time, before planning or SQL.
//!
//! Counting only: must not consult the schema cache or change what was parsed. Depth is the
//! planner's (`PGREST_MAX_EMBED_DEPTH`); this bounds how wide a request may be.

use super::types::SelectItem;

/// What a request would exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breadth {
    /// Bytes of the raw (still percent-encoded) query string.
    QueryBytes,
    /// Select items (columns, `*` and embeds) at every level, counted together.
    SelectNodes,
    /// Embedded resources at every level.
    Embeds,
}

impl Breadth {
    /// The setting that raises this limit (for the error's hint).
    pub fn setting(self) -> &'static str {
        match self {
            Breadth::QueryBytes => "PGREST_MAX_QUERY_BYTES",
            Breadth::SelectNodes => "PGREST_MAX_SELECT_NODES",
            Breadth::Embeds => "PGREST_MAX_EMBEDS",
        }
    }

    /// What is counted, for the error's message.
    pub fn counted(self) -> &'static str {
        match self {
            Breadth::QueryBytes => "bytes in the query string",
            Breadth::SelectNodes => "items in the select tree",
            Breadth::Embeds => "embedded resources",
        }
    }
}

/// How many select items and embeds a select tree holds, at every level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SelectCounts {
    pub nodes: usize,
    pub embeds: usize,
}

/// Counts the items of `items` and of every embed below them (no recursion: an explicit stack,
/// so the count itself cannot exhaust the stack whatever the parser let through).
pub fn count_select(items: &[SelectItem]) -> SelectCounts {
    let mut counts = SelectCounts::default();
    let mut pending: Vec<&[SelectItem]> = vec![items];
    while let Some(level) = pending.pop() {
        counts.nodes = counts.nodes.saturating_add(level.len());
        for item in level {
            if let SelectItem::Embed(embed) = item {
                counts.embeds = counts.embeds.saturating_add(1);
                pending.push(&embed.select);
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_request::query::parse_query;

    fn counts(query: &str) -> SelectCounts {
        let parsed = parse_query(query, false).unwrap();
        count_select(parsed.select.as_deref().unwrap_or(&[]))
    }

    #[test]
    fn counts_every_level() {
        assert_eq!(counts("select=id,name"), SelectCounts { nodes: 2, embeds: 0 });
        assert_eq!(counts("select=*,posts(id,users(id,posts(*)))"), SelectCounts { nodes: 7, embeds: 3 });
        assert_eq!(counts("select=a:posts(id),b:posts(id),...profiles(bio)"), SelectCounts { nodes: 6, embeds: 3 });
        assert_eq!(counts(""), SelectCounts { nodes: 0, embeds: 0 });
    }
}
