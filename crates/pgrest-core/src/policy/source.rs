//! Where policy text comes from: the `POLICIES_PATH` setting and the `PolicySource` trait
//! (a directory here; the S3 reader is another crate's job).
//!
//! Reads files only; must not parse Cedar, and must never turn "nothing found" into "no policies".

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use super::PolicyError;

/// One policy file: its name relative to the source root and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    pub name: String,
    pub text: String,
}

/// The files a source returned, boxed so sources can be chosen at run time.
pub type FilesFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<PolicyFile>, PolicyError>> + Send + 'a>>;

/// A place that holds `.cedar` files.
pub trait PolicySource: Send + Sync {
    /// Where the files come from, for messages (`./policies`, `s3://bucket/prefix/`).
    fn describe(&self) -> String;
    /// Every `.cedar` file, sorted by name. An empty list is allowed here; the loader refuses it.
    fn files(&self) -> FilesFuture<'_>;
}

/// The `POLICIES_PATH` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoliciesPath {
    /// `off`: Cedar is not consulted; database grants and RLS alone decide.
    Off,
    /// A local directory (`./policies`, `/abs/dir`, `file:///abs/dir`).
    Directory(PathBuf),
    /// `s3://bucket/prefix/` (read by the AWS crate's source).
    S3 { bucket: String, prefix: String },
}

impl PoliciesPath {
    /// Parses the setting; `off` (any case) is the explicit opt-out, never an empty value.
    pub fn parse(value: &str) -> Result<PoliciesPath, PolicyError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(PolicyError::Setting("POLICIES_PATH is empty (use `off` to turn Cedar off)".to_string()));
        }
        if value.eq_ignore_ascii_case("off") {
            return Ok(PoliciesPath::Off);
        }
        if let Some(rest) = value.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(PolicyError::Setting(format!("POLICIES_PATH {value:?} names no bucket")));
            }
            return Ok(PoliciesPath::S3 { bucket: bucket.to_string(), prefix: prefix.to_string() });
        }
        if let Some(path) = value.strip_prefix("file://") {
            return Ok(PoliciesPath::Directory(PathBuf::from(path)));
        }
        Ok(PoliciesPath::Directory(PathBuf::from(value)))
    }
}

/// The `.cedar` files directly inside one directory (not its subdirectories, so
/// `policies/examples/` is never loaded by accident).
#[derive(Debug, Clone)]
pub struct DirectorySource {
    root: PathBuf,
}

impl DirectorySource {
    pub fn new(root: impl Into<PathBuf>) -> DirectorySource {
        DirectorySource { root: root.into() }
    }
}

impl PolicySource for DirectorySource {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn files(&self) -> FilesFuture<'_> {
        Box::pin(async move { read_directory(&self.root).await })
    }
}

fn io_error(path: &Path, err: &std::io::Error) -> PolicyError {
    PolicyError::Io { path: path.display().to_string(), message: err.to_string() }
}

async fn read_directory(root: &Path) -> Result<Vec<PolicyFile>, PolicyError> {
    let mut entries = match tokio::fs::read_dir(root).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(PolicyError::Missing(root.display().to_string())),
        Err(e) => return Err(io_error(root, &e)),
    };
    let mut files = Vec::new();
    while let Some(entry) = entries.next_entry().await.map_err(|e| io_error(root, &e))? {
        let path = entry.path();
        let is_cedar = path.extension().is_some_and(|ext| ext == "cedar");
        let is_file = entry.file_type().await.map_err(|e| io_error(&path, &e))?.is_file();
        if !is_cedar || !is_file {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = tokio::fs::read_to_string(&path).await.map_err(|e| io_error(&path, &e))?;
        files.push(PolicyFile { name, text });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_values() {
        assert_eq!(PoliciesPath::parse("off").unwrap(), PoliciesPath::Off);
        assert_eq!(PoliciesPath::parse("OFF").unwrap(), PoliciesPath::Off);
        assert_eq!(PoliciesPath::parse("./policies").unwrap(), PoliciesPath::Directory("./policies".into()));
        assert_eq!(PoliciesPath::parse("file:///etc/p").unwrap(), PoliciesPath::Directory("/etc/p".into()));
        assert_eq!(PoliciesPath::parse("s3://b/pre/fix/").unwrap(), PoliciesPath::S3 { bucket: "b".into(), prefix: "pre/fix/".into() });
        assert!(matches!(PoliciesPath::parse("  "), Err(PolicyError::Setting(_))));
        assert!(matches!(PoliciesPath::parse("s3:///x"), Err(PolicyError::Setting(_))));
    }

    #[tokio::test]
    async fn reads_only_top_level_cedar_files_sorted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.cedar"), "// b").unwrap();
        std::fs::write(dir.path().join("a.cedar"), "// a").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        std::fs::create_dir(dir.path().join("examples")).unwrap();
        std::fs::write(dir.path().join("examples/c.cedar"), "// c").unwrap();
        let files = DirectorySource::new(dir.path()).files().await.unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.cedar", "b.cedar"]);
    }

    #[tokio::test]
    async fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = DirectorySource::new(dir.path().join("nope")).files().await.unwrap_err();
        assert!(matches!(err, PolicyError::Missing(_)), "{err:?}");
    }
}
