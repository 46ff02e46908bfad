//! Why a request could not be planned (PostgREST's PGRST1xx/2xx schema-level errors).
//!
//! Values only; `crate::error` maps them to HTTP.

/// One candidate relationship, as listed in PGRST201's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationshipCandidate {
    pub cardinality: &'static str,
    pub relationship: String,
    pub embedding: String,
    /// The `!hint` that would pick this one.
    pub hint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("Could not find the table '{schema}.{name}' in the schema cache")]
    TableNotFound { schema: String, name: String, suggestion: Option<String> },
    #[error("Could not find the function {schema}.{name}{}", describe_args(.args))]
    FunctionNotFound { schema: String, name: String, args: Vec<String>, suggestion: Option<String> },
    #[error("Could not choose the best candidate function between: {0}")]
    AmbiguousFunction(String),
    #[error("Could not find a relationship between '{parent}' and '{target}' in the schema cache")]
    RelationshipNotFound { parent: String, target: String, schema: String },
    #[error("Could not embed because more than one relationship was found for '{parent}' and '{target}'")]
    AmbiguousRelationship { parent: String, target: String, candidates: Vec<RelationshipCandidate> },
    #[error("'{0}' is not an embedded resource in this request")]
    NotEmbedded(String),
    #[error("Requested range not satisfiable")]
    InvalidRange(String),
    #[error("{0} requires a WHERE clause")]
    UnfilteredMutation(&'static str),
    #[error("Could not find the '{column}' column of '{relation}' in the schema cache")]
    ColumnNotFound { column: String, relation: String },
    #[error("embedding is nested {depth} levels deep, more than the limit of {limit}")]
    EmbedTooDeep { depth: usize, limit: usize },
    #[error("Filters must include all and only primary key columns with 'eq' operators")]
    PutFilters,
    #[error("Payload values do not match URL in primary key column(s)")]
    PutPayloadMismatch,
    #[error("{0}")]
    Unsupported(String),
}

fn describe_args(args: &[String]) -> String {
    if args.is_empty() { " without parameters in the schema cache".to_string() } else { format!("({}) in the schema cache", args.join(", ")) }
}

/// The closest name by edit distance, for "Perhaps you meant" hints (none when nothing is close).
pub fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let limit = (wanted.chars().count() / 2).max(2);
    candidates
        .map(|c| (edit_distance(wanted, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let subst = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let insert = cur.get(j).copied().unwrap_or(0) + 1;
            let delete = prev.get(j + 1).copied().unwrap_or(0) + 1;
            cur.push(subst.min(insert).min(delete));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["sayhello", "getitemrange", "ret_void"];
        assert_eq!(closest("sayhell", names.iter().copied()), Some("sayhello".into()));
        assert_eq!(closest("zzzzzzzz", names.iter().copied()), None);
    }

    #[test]
    fn function_message_mentions_parameters() {
        let e = PlanError::FunctionNotFound { schema: "test".into(), name: "f".into(), args: vec![], suggestion: None };
        assert_eq!(e.to_string(), "Could not find the function test.f without parameters in the schema cache");
        let e = PlanError::FunctionNotFound { schema: "test".into(), name: "f".into(), args: vec!["a".into(), "b".into()], suggestion: None };
        assert_eq!(e.to_string(), "Could not find the function test.f(a, b) in the schema cache");
    }
}
