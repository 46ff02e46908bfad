//! `lint-policies`: the predecessor's eight rules over parsed `.cedar` files, `@lint_allow`
//! suppression, and the line each finding points at.
//!
//! Must not decide access (that is `translate`) nor print (the CLI formats the report). Line
//! numbers: cedar-policy 4.14.1 has no public source location on `Policy`, so a policy's line is
//! found by locating its exact source text (`Policy`'s lossless `Display`) in the file, in
//! order; parse errors carry their span (miette `labels`).

mod rules;

use std::collections::HashMap;
use std::str::FromStr;

use cedar_policy::PolicySet;
use miette::Diagnostic;
use serde_json::{json, Value};

use super::PolicyFile;

pub use rules::ACTIONS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warn,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

/// The eight rules, with their code, name and severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    UnconditionalPermit,
    TautologicalWhen,
    SyntaxError,
    UnknownAction,
    PrincipalTypeMissing,
    ResourceTypeMissing,
    MissingHasGuard,
    UnscopedForbid,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::UnconditionalPermit,
        Rule::TautologicalWhen,
        Rule::SyntaxError,
        Rule::UnknownAction,
        Rule::PrincipalTypeMissing,
        Rule::ResourceTypeMissing,
        Rule::MissingHasGuard,
        Rule::UnscopedForbid,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::UnconditionalPermit => "E001",
            Rule::TautologicalWhen => "E002",
            Rule::SyntaxError => "E003",
            Rule::UnknownAction => "E004",
            Rule::PrincipalTypeMissing => "W001",
            Rule::ResourceTypeMissing => "W002",
            Rule::MissingHasGuard => "W003",
            Rule::UnscopedForbid => "W004",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rule::UnconditionalPermit => "unconditional-permit",
            Rule::TautologicalWhen => "tautological-when",
            Rule::SyntaxError => "syntax-error",
            Rule::UnknownAction => "unknown-action",
            Rule::PrincipalTypeMissing => "principal-type-missing",
            Rule::ResourceTypeMissing => "resource-type-missing",
            Rule::MissingHasGuard => "missing-has-guard",
            Rule::UnscopedForbid => "unscoped-forbid",
        }
    }

    pub fn severity(self) -> Severity {
        if self.code().starts_with('E') {
            Severity::Error
        } else {
            Severity::Warn
        }
    }

    /// Whether `@lint_allow` names this rule (by code or name, any case). E003 never is.
    fn allowed_by(self, allow: &str) -> bool {
        self != Rule::SyntaxError
            && allow.split(',').map(str::trim).any(|item| {
                item.eq_ignore_ascii_case(self.code()) || item.eq_ignore_ascii_case(self.name())
            })
    }
}

/// One finding: where, which rule, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub rule: Rule,
    pub message: String,
    /// `file:index`, the policy's id at load (none for a file that does not parse).
    pub policy: Option<String>,
}

/// What a lint run found.
#[derive(Debug, Clone, Default)]
pub struct LintReport {
    pub policies_scanned: usize,
    /// Unsuppressed findings in file and line order.
    pub findings: Vec<Finding>,
}

impl LintReport {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.rule.severity() == severity)
            .count()
    }

    /// The JSON form: `{summary:{policiesScanned,errors,warnings}, findings:[...]}`.
    pub fn to_json(&self, findings: &[&Finding]) -> Value {
        let findings: Vec<Value> = findings
            .iter()
            .map(|f| json!({"file": f.file, "line": f.line, "severity": f.rule.severity().as_str(), "rule": f.rule.code(), "name": f.rule.name(), "message": f.message, "policy": f.policy}))
            .collect();
        json!({"summary": {"policiesScanned": self.policies_scanned, "errors": self.count(Severity::Error), "warnings": self.count(Severity::Warn)}, "findings": findings})
    }
}

/// Lints every file (as `DirectorySource` returns them: sorted, top level only).
pub fn lint_files(files: &[PolicyFile]) -> LintReport {
    let mut report = LintReport::default();
    for file in files {
        lint_file(file, &mut report);
    }
    report
}

fn lint_file(file: &PolicyFile, report: &mut LintReport) {
    let set = match PolicySet::from_str(&file.text) {
        Ok(set) => set,
        Err(errors) => {
            for error in errors.iter() {
                let offset = error
                    .labels()
                    .and_then(|mut labels| labels.next())
                    .map_or(0, |label| label.offset());
                let message = error.to_string();
                report.findings.push(Finding {
                    file: file.name.clone(),
                    line: line_of(&file.text, offset),
                    rule: Rule::SyntaxError,
                    message,
                    policy: None,
                });
            }
            return;
        }
    };
    if let Some(template) = set.templates().next() {
        let offset = locate(&file.text, &template.to_string(), 0).unwrap_or(0);
        let message =
            "templates (`?principal`, `?resource`) are not supported; the policy set does not load"
                .to_string();
        report.findings.push(Finding {
            file: file.name.clone(),
            line: line_of(&file.text, offset),
            rule: Rule::SyntaxError,
            message,
            policy: None,
        });
        return;
    }
    // The parser names the n-th policy of a text `policyN`, as the loader relies on.
    let by_name: HashMap<String, &cedar_policy::Policy> =
        set.policies().map(|p| (p.id().to_string(), p)).collect();
    let mut cursor = 0;
    for index in 0..by_name.len() {
        let Some(policy) = by_name.get(&format!("policy{index}")) else {
            continue;
        };
        report.policies_scanned = report.policies_scanned.saturating_add(1);
        let text = policy.to_string();
        let start = locate(&file.text, &text, cursor).unwrap_or(cursor);
        cursor = start.saturating_add(text.len());
        let allow = policy.annotation("lint_allow").unwrap_or_default();
        for (rule, message) in rules::check(policy) {
            if rule.allowed_by(allow) {
                continue;
            }
            let id = format!("{}:{index}", file.name);
            report.findings.push(Finding {
                file: file.name.clone(),
                line: line_of(&file.text, start),
                rule,
                message,
                policy: Some(id),
            });
        }
    }
}

/// Byte offset of `needle` in `text` at or after `from`.
fn locate(text: &str, needle: &str, from: usize) -> Option<usize> {
    let rest = text.get(from..)?;
    rest.find(needle).and_then(|at| at.checked_add(from))
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(text: &str) -> Vec<(&'static str, usize)> {
        let report = lint_files(&[PolicyFile {
            name: "p.cedar".into(),
            text: text.into(),
        }]);
        report
            .findings
            .iter()
            .map(|f| (f.rule.code(), f.line))
            .collect()
    }

    #[test]
    fn each_rule_fires_on_its_case_with_the_policy_line() {
        assert_eq!(
            lint("// c\n\npermit(principal, action, resource);"),
            [("E001", 3), ("W001", 3), ("W002", 3)]
        );
        let tautology = "permit(principal is PgrestLambda::User, action, resource is PgrestLambda::Row) when { 1 == 1 };";
        assert_eq!(lint(tautology), [("E002", 1)]);
        assert_eq!(lint("permit(principal is PgrestLambda::User, action, resource is PgrestLambda::Row) when { true };"), [("E002", 1)]);
        let unknown = "permit(principal is PgrestLambda::User, action == PgrestLambda::Action::\"sel\", resource is PgrestLambda::Row);";
        assert_eq!(lint(unknown), [("E004", 1)]);
        let in_condition = "permit(principal is PgrestLambda::User, action, resource is PgrestLambda::Row) when { action == Action::\"select\" };";
        assert_eq!(lint(in_condition), [("E004", 1)]);
        let unguarded = "permit(principal is PgrestLambda::User, action, resource is PgrestLambda::Row) when { resource.a == 1 && resource has b && resource.b == 2 };";
        assert_eq!(lint(unguarded), [("W003", 1)]);
        assert_eq!(
            lint("\nforbid(principal, action, resource);"),
            [("W004", 2)]
        );
        assert_eq!(lint("forbid(principal, action, resource) when { false };\n\npermit(principal action, resource);"), [("E003", 3)]);
    }

    #[test]
    fn clean_policies_and_suppression() {
        assert_eq!(
            lint("permit(principal is PgrestLambda::ServiceRole, action, resource);"),
            []
        );
        let guarded = "permit(principal is PgrestLambda::User, action in [PgrestLambda::Action::\"select\", PgrestLambda::Action::\"call\"], resource is PgrestLambda::Row) when { resource has a.b && resource.a.b == 1 };";
        assert_eq!(lint(guarded), []);
        assert_eq!(
            lint("forbid(principal, action, resource) when { context.table == \"x\" };"),
            []
        );
        assert_eq!(lint("@lint_allow(\"E001, principal-type-missing,w002\")\npermit(principal, action, resource);"), []);
        assert_eq!(
            lint("@lint_allow(\"W001\")\npermit(principal, action, resource);"),
            [("E001", 1), ("W002", 1)]
        );
    }

    #[test]
    fn later_identical_policies_get_their_own_line() {
        let text = "forbid(principal, action, resource);\nforbid(principal, action, resource);\n";
        assert_eq!(lint(text), [("W004", 1), ("W004", 2)]);
    }
}
