//! Stage 4 (authorize): Cedar policy-as-code turned into typed row filters. Loads `.cedar`
//! files once per load, describes the caller as `PgrestLambda` entities, partially evaluates
//! with the row unknown and translates residuals into `PolicyCondition` nodes.
//!
//! Not wired into the request pipeline yet. Must not write SQL (only `sql/` does) and must
//! never run open: no policies, or an untranslatable forbid, means deny.

mod compare;
mod concrete;
mod entities;
mod eval;
pub mod lint;
mod load;
mod residual;
mod schema;
mod source;
mod translate;

pub use concrete::{authorize_target, Target, TargetDecision};
pub use entities::{Action, Principal, Val, NAMESPACE, SERVICE_ROLE};
pub use eval::PolicyColumn;
pub use load::Policies;
pub use schema::{cedar_schema, validate, CedarSchema, PolicyProblem, Validation};
pub use source::{DirectorySource, FilesFuture, PoliciesPath, PolicyFile, PolicySource};
pub use translate::{authorize_rows, log_decision, RowAuthorization, RowRequest, Untranslatable};

pub use crate::plan::ColumnKind;

use std::sync::Arc;

/// Whether Cedar decides (`Enforce`) or only the database does (`Off`, set explicitly).
#[derive(Debug, Clone)]
pub enum PolicyMode {
    Off,
    Enforce(Arc<Policies>),
}

impl PolicyMode {
    /// Loads the policies a `POLICIES_PATH` value names. Sources other than a directory come
    /// from other crates and are refused here.
    pub async fn load(path: &PoliciesPath) -> Result<PolicyMode, PolicyError> {
        match path {
            PoliciesPath::Off => Ok(PolicyMode::Off),
            PoliciesPath::Directory(dir) => Ok(PolicyMode::Enforce(Arc::new(Policies::load(&DirectorySource::new(dir)).await?))),
            PoliciesPath::S3 { bucket, prefix } => Err(PolicyError::Unavailable(format!("s3://{bucket}/{prefix}"))),
        }
    }
}

/// Why policies could not be loaded or a request could not be described to Cedar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("invalid policy setting: {0}")]
    Setting(String),
    #[error("policy directory {0} does not exist (set POLICIES_PATH=off to run without Cedar)")]
    Missing(String),
    #[error("no Cedar policies found in {0} (set POLICIES_PATH=off to run without Cedar)")]
    Empty(String),
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("policy source {0} is not available in this build")]
    Unavailable(String),
    #[error("cannot describe the request to Cedar: {0}")]
    Model(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn off_is_explicit_and_a_missing_or_empty_directory_never_runs_open() {
        assert!(matches!(PolicyMode::load(&PoliciesPath::parse("off").unwrap()).await, Ok(PolicyMode::Off)));
        let dir = tempfile::tempdir().unwrap();
        let missing = PoliciesPath::Directory(dir.path().join("nope"));
        assert!(matches!(PolicyMode::load(&missing).await, Err(PolicyError::Missing(_))));
        let empty = PoliciesPath::Directory(dir.path().to_path_buf());
        assert!(matches!(PolicyMode::load(&empty).await, Err(PolicyError::Empty(_))));
        std::fs::write(dir.path().join("a.cedar"), "permit(principal, action, resource);").unwrap();
        match PolicyMode::load(&empty).await {
            Ok(PolicyMode::Enforce(p)) => assert_eq!(p.ids(), ["a.cedar:0"]),
            other => panic!("expected policies, got {other:?}"),
        }
        let s3 = PoliciesPath::parse("s3://bucket/prefix/").unwrap();
        assert!(matches!(PolicyMode::load(&s3).await, Err(PolicyError::Unavailable(_))));
    }

    #[tokio::test]
    async fn the_shipped_policy_directory_loads_without_the_examples() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies");
        let Ok(PolicyMode::Enforce(p)) = PolicyMode::load(&PoliciesPath::parse(root).unwrap()).await else {
            panic!("policies/ must load");
        };
        assert!(p.ids().iter().all(|id| id.starts_with("default.cedar:")), "{:?}", p.ids());
    }
}
