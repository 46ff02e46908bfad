use super::*;

fn lint(text: &str) -> Vec<(&'static str, usize)> {
    let report = lint_files(&[PolicyFile { name: "p.cedar".into(), text: text.into() }]);
    report.findings.iter().map(|f| (f.rule.code(), f.line)).collect()
}

#[test]
fn each_rule_fires_on_its_case_with_the_policy_line() {
    assert_eq!(lint("// c\n\npermit(principal, action, resource);"), [("E001", 3), ("W001", 3), ("W002", 3)]);
    let tautology = "permit(principal is PgrestLambda::User, action, resource is PgrestLambda::Row) when { 1 == 1 };";
    assert_eq!(lint(tautology), [("E002", 1)]);
    assert_eq!(lint("permit(principal is PgrestLambda::User, action, resource is PgrestLambda::Row) when { true };"), [("E002", 1)]);
    let unknown = "permit(principal is PgrestLambda::User, action == PgrestLambda::Action::\"sel\", resource is PgrestLambda::Row);";
    assert_eq!(lint(unknown), [("E004", 1)]);
    let in_condition = "permit(principal is PgrestLambda::User, action, resource is PgrestLambda::Row) when { action == Action::\"select\" };";
    assert_eq!(lint(in_condition), [("E004", 1)]);
    let unguarded = "permit(principal is PgrestLambda::User, action, resource is PgrestLambda::Row) when { resource.a == 1 && resource has b && resource.b == 2 };";
    assert_eq!(lint(unguarded), [("W003", 1)]);
    assert_eq!(lint("\nforbid(principal, action, resource);"), [("W004", 2)]);
    assert_eq!(lint("forbid(principal, action, resource) when { false };\n\npermit(principal action, resource);"), [("E003", 3)]);
}

#[test]
fn clean_policies_and_suppression() {
    assert_eq!(lint("permit(principal is PgrestLambda::ServiceRole, action, resource);"), []);
    let guarded = "permit(principal is PgrestLambda::User, action in [PgrestLambda::Action::\"select\", PgrestLambda::Action::\"call\"], resource is PgrestLambda::Row) when { resource has a.b && resource.a.b == 1 };";
    assert_eq!(lint(guarded), []);
    assert_eq!(lint("forbid(principal, action, resource) when { context.table == \"x\" };"), []);
    assert_eq!(lint("@lint_allow(\"E001, principal-type-missing,w002\")\npermit(principal, action, resource);"), []);
    assert_eq!(lint("@lint_allow(\"W001\")\npermit(principal, action, resource);"), [("E001", 1), ("W002", 1)]);
}

#[test]
fn later_identical_policies_get_their_own_line() {
    let text = "forbid(principal, action, resource);\nforbid(principal, action, resource);\n";
    assert_eq!(lint(text), [("W004", 1), ("W004", 2)]);
}
