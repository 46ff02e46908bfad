//! Stage 4 (authorize): Cedar policy-as-code turned into typed row filters. Loads `.cedar`
//! files once per load, describes the caller as `PgrestLambda` entities, partially evaluates
//! with the row unknown and translates residuals into `PolicyCondition` nodes.
//!
//! Not wired into the request pipeline yet. Must not write SQL (only `sql/` does) and must
//! never run open: no policies, or an untranslatable forbid, means deny.

mod compare;
mod entities;
mod eval;
mod load;
mod residual;
mod source;
mod translate;

pub use entities::{Action, Principal, Val, NAMESPACE, SERVICE_ROLE};
pub use eval::PolicyColumn;
pub use load::Policies;
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
