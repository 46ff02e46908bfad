//! Loading: every `.cedar` file of a source parsed once into one `PolicySet`, each policy
//! renamed to its stable id `file:index` (index within the file, from 0).
//!
//! Must not run open: a missing source, no files or no policies is an error, never "allow".

use std::collections::HashMap;
use std::str::FromStr;

use cedar_policy::{PolicyId, PolicySet};

use super::source::{PolicyFile, PolicySource};
use super::PolicyError;

/// A parsed policy set, ready for every request until the next reload.
#[derive(Debug, Clone)]
pub struct Policies {
    set: PolicySet,
    /// `file:index` ids in file order, for logs and `explain-policy`.
    ids: Vec<String>,
    source: String,
}

impl Policies {
    /// Reads and parses everything `source` holds.
    pub async fn load(source: &dyn PolicySource) -> Result<Policies, PolicyError> {
        let files = source.files().await?;
        Policies::from_files(&source.describe(), &files)
    }

    /// Parses already-read files (`describe` names their source in errors).
    pub fn from_files(describe: &str, files: &[PolicyFile]) -> Result<Policies, PolicyError> {
        if files.is_empty() {
            return Err(PolicyError::Empty(describe.to_string()));
        }
        let mut set = PolicySet::new();
        let mut ids = Vec::new();
        for file in files {
            for (index, policy) in parse_file(file)? {
                let id = format!("{}:{index}", file.name);
                set.add(policy.new_id(PolicyId::new(&id))).map_err(|e| PolicyError::Parse { file: file.name.clone(), message: e.to_string() })?;
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Err(PolicyError::Empty(describe.to_string()));
        }
        Ok(Policies { set, ids, source: describe.to_string() })
    }

    pub fn set(&self) -> &PolicySet {
        &self.set
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Where they were loaded from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// The policies of one file with their index in it.
fn parse_file(file: &PolicyFile) -> Result<Vec<(usize, cedar_policy::Policy)>, PolicyError> {
    let parsed = PolicySet::from_str(&file.text).map_err(|e| PolicyError::Parse { file: file.name.clone(), message: parse_message(&e) })?;
    if parsed.templates().next().is_some() {
        return Err(PolicyError::Parse { file: file.name.clone(), message: "templates (`?principal`, `?resource`) are not supported".to_string() });
    }
    // The parser names the n-th policy of a text `policyN`.
    let by_name: HashMap<String, &cedar_policy::Policy> = parsed.policies().map(|p| (p.id().to_string(), p)).collect();
    let mut out = Vec::with_capacity(by_name.len());
    for index in 0..by_name.len() {
        let policy = by_name.get(&format!("policy{index}")).ok_or_else(|| PolicyError::Parse { file: file.name.clone(), message: format!("policy {index} is missing after parsing") })?;
        out.push((index, (*policy).clone()));
    }
    Ok(out)
}

/// All parse errors of a file on one line.
fn parse_message(err: &cedar_policy::ParseErrors) -> String {
    err.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> PolicyFile {
        PolicyFile { name: name.into(), text: text.into() }
    }

    #[test]
    fn ids_are_file_and_index() {
        let files = [
            file("a.cedar", "permit(principal, action, resource);\nforbid(principal, action, resource) when { false };"),
            file("b.cedar", "permit(principal is PgrestLambda::ServiceRole, action, resource);"),
        ];
        let p = Policies::from_files("dir", &files).unwrap();
        assert_eq!(p.ids(), ["a.cedar:0", "a.cedar:1", "b.cedar:0"]);
        let forbid = p.set().policy(&PolicyId::new("a.cedar:1")).unwrap();
        assert_eq!(forbid.effect(), cedar_policy::Effect::Forbid);
    }

    #[test]
    fn empty_sources_and_files_without_policies_refuse() {
        assert!(matches!(Policies::from_files("dir", &[]), Err(PolicyError::Empty(_))));
        let only_comments = [file("a.cedar", "// nothing here\n")];
        assert!(matches!(Policies::from_files("dir", &only_comments), Err(PolicyError::Empty(_))));
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let files = [file("ok.cedar", "permit(principal, action, resource);"), file("bad.cedar", "permit(principal, action resource);")];
        match Policies::from_files("dir", &files) {
            Err(PolicyError::Parse { file, message }) => {
                assert_eq!(file, "bad.cedar");
                assert!(!message.is_empty());
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn templates_are_refused() {
        let files = [file("t.cedar", "permit(principal == ?principal, action, resource);")];
        assert!(matches!(Policies::from_files("dir", &files), Err(PolicyError::Parse { .. })));
    }
}
