//! Exact PostgREST error texts for malformed query strings, and a no-panic sweep over garbage.
//!
//! Expected texts come from PostgREST's own test suite and doctests; tests only, no fixtures.

use super::super::query_error::QueryError;
use super::parse_query;

/// `(message, details)` of the error `query` produces (not as an RPC).
fn error_of(query: &str) -> (String, String) {
    let error = parse_query(query, false).unwrap_err();
    assert_eq!(error.code(), "PGRST100", "{query}");
    (error.message(), error.details().unwrap())
}

fn assert_error(query: &str, message: &str, details: &str) {
    assert_eq!(error_of(query), (message.to_string(), details.to_string()), "query: {query}");
}

#[test]
fn order_with_a_misspelled_nulls_option() {
    assert_error(
        "order=id.asc.nullslasttt",
        "\"failed to parse order (id.asc.nullslasttt)\" (line 1, column 17)",
        "unexpected 't' expecting \",\" or end of input",
    );
}

#[test]
fn order_errors_match_upstream_doctests() {
    let cases = [
        ("id.ac", 4, "unexpected \"c\" expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\""),
        ("id.descc", 8, "unexpected 'c' expecting delimiter (.), \",\" or end of input"),
        ("id.nulsfist", 4, "unexpected \"n\" expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\""),
        ("id.nullslasttt", 13, "unexpected 't' expecting \",\" or end of input"),
        ("id.smth34", 4, "unexpected \"s\" expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\""),
        ("id.asc.nlsfst", 8, "unexpected \"l\" expecting \"nullsfirst\" or \"nullslast\""),
        ("id.asc.smth34", 8, "unexpected \"s\" expecting \"nullsfirst\" or \"nullslast\""),
        (
            "clients(name,id)",
            8,
            "unexpected '(' expecting letter, digit, \"-\", \"->>\", \"->\", delimiter (.), \",\" or end of input",
        ),
    ];
    for (value, column, details) in cases {
        let message = format!("\"failed to parse order ({value})\" (line 1, column {column})");
        assert_error(&format!("order={value}"), &message, details);
    }
}

#[test]
fn filter_without_an_operator() {
    assert_error(
        "id=0",
        "\"failed to parse filter (0)\" (line 1, column 1)",
        "unexpected \"0\" expecting \"not\" or operator (eq, gt, ...)",
    );
    assert_error(
        "a.b=noop.0",
        "\"failed to parse filter (noop.0)\" (line 1, column 1)",
        "unexpected \"o\" expecting \"not\" or operator (eq, gt, ...)",
    );
}

#[test]
fn filter_errors_match_upstream_doctests() {
    let cases = [
        ("fts().value", 5, "unexpected \")\" expecting operator (eq, gt, ...)"),
        ("eq().value", 4, "unexpected \")\" expecting operator (eq, gt, ...)"),
        ("is().value", 3, "unexpected \"(\" expecting operator (eq, gt, ...)"),
        ("in().value", 3, "unexpected \"(\" expecting operator (eq, gt, ...)"),
        ("is.nil", 5, "unexpected \"i\" expecting isVal: (null, not_null, true, false, unknown)"),
        ("in.1,2", 4, "unexpected \"1\" expecting \"(\""),
        ("not.xx", 5, "unexpected \"x\" expecting operator (eq, gt, ...)"),
        ("é", 1, "unexpected \"\\233\" expecting \"not\" or operator (eq, gt, ...)"),
    ];
    for (value, column, details) in cases {
        let message = format!("\"failed to parse filter ({value})\" (line 1, column {column})");
        assert_error(&format!("col={value}"), &message, details);
    }
}

#[test]
fn select_errors_match_upstream() {
    let cases = [
        (
            "data->(!@#$%^%26*_d->>!@#$%^%26*_e::integer",
            "data->(!@#$%^&*_d->>!@#$%^&*_e::integer",
            7,
            "unexpected \"(\" expecting \"-\", digit or any non reserved character different from: .,>()",
        ),
        ("data->>--34", "data->>--34", 9, "unexpected \"-\" expecting digit"),
        (
            "data->>-78xy",
            "data->>-78xy",
            11,
            "unexpected 'x' expecting digit, \"->\", \"::\", \".\", \",\" or end of input",
        ),
        (
            "id,clients(name[])",
            "id,clients(name[])",
            16,
            "unexpected '[' expecting letter, digit, \"-\", \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input",
        ),
        (
            "name!hint",
            "name!hint",
            5,
            "unexpected '!' expecting letter, digit, \"-\", \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input",
        ),
        ("*,*!hint", "*,*!hint", 4, "unexpected '!' expecting \")\", \",\" or end of input"),
        ("name::", "name::", 7, "unexpected end of input expecting letter or digit"),
        (
            "rel->jsonpath(*)",
            "rel->jsonpath(*)",
            14,
            "unexpected '(' expecting \"-\", \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input",
        ),
    ];
    for (raw, decoded, column, details) in cases {
        let message = format!("\"failed to parse select parameter ({decoded})\" (line 1, column {column})");
        assert_error(&format!("select={raw}"), &message, details);
    }
}

#[test]
fn logic_tree_errors_match_upstream() {
    let cases = [
        (
            "or",
            "()",
            4,
            "unexpected \")\" expecting field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)",
        ),
        ("or", "(id.in.1,2,id.eq.3)", 10, "unexpected \"1\" expecting \"(\""),
        ("or", ")(", 3, "unexpected \")\" expecting \"(\""),
        ("and", "(ord(id.eq.1,id.eq.1),id.eq.2)", 7, "unexpected \"d\" expecting \"(\""),
        ("or", "(id.eq.1,not.xor(id.eq.2,id.eq.3))", 16, "unexpected \"x\" expecting logic operator (and, or)"),
    ];
    for (key, value, column, details) in cases {
        let message = format!("\"failed to parse logic tree ({value})\" (line 1, column {column})");
        assert_error(&format!("{key}={value}"), &message, details);
    }
}

#[test]
fn columns_keys_and_paths() {
    assert_error(
        "columns=",
        "\"failed to parse columns parameter ()\" (line 1, column 1)",
        "unexpected end of input expecting field name (* or [a..z0..9_$])",
    );
    assert_error(
        "on_conflict=,a",
        "\"failed to parse on_conflict parameter (,a)\" (line 1, column 1)",
        "unexpected \",\" expecting field name (* or [a..z0..9_$])",
    );
    assert_error(
        "a..b=eq.1",
        "\"failed to parse tree path (a..b)\" (line 1, column 3)",
        "unexpected \".\" expecting field name (* or [a..z0..9_$])",
    );
    assert_error(
        ":x.or=(a.eq.1)",
        "\"failed to parse logic path (:x.or)\" (line 1, column 1)",
        "unexpected \":\" expecting field name (* or [a..z0..9_$])",
    );
}

#[test]
fn positions_count_decoded_chars_lines_and_tabs() {
    let (message, _) = error_of("order=%C3%A9.x");
    assert_eq!(message, "\"failed to parse order (é.x)\" (line 1, column 3)");
    let (message, _) = error_of("order=%22a%0Ab%22.x");
    assert_eq!(message, "\"failed to parse order (\"a\nb\".x)\" (line 2, column 4)");
    let (message, _) = error_of("order=%09id.x");
    assert_eq!(message, "\"failed to parse order (\tid.x)\" (line 1, column 12)");
}

#[test]
fn errors_are_reported_in_postgrest_order() {
    let (message, _) = error_of("id=bad&select=a!&order=x.y&or=()");
    assert!(message.starts_with("\"failed to parse order (x.y)\""), "{message}");
    let (message, _) = error_of("id=bad&select=a!&or=()");
    assert!(message.starts_with("\"failed to parse logic tree (())\""), "{message}");
    let (message, _) = error_of("id=bad&select=a!");
    assert!(message.starts_with("\"failed to parse select parameter (a!)\""), "{message}");
}

#[test]
fn aggregates_are_refused_after_grammar_errors() {
    for query in ["select=count()", "select=id.sum()", "select=total:amount.avg()::int", "select=c(x.max())"] {
        assert_eq!(parse_query(query, false), Err(QueryError::AggregatesNotAllowed), "{query}");
    }
    let (message, _) = error_of("select=count()&id=bad");
    assert!(message.starts_with("\"failed to parse filter (bad)\""), "{message}");
}

#[test]
fn nesting_is_limited_without_exhausting_the_stack() {
    let deep_select = format!("select={}x{}", "a(".repeat(5000), ")".repeat(5000));
    let (message, details) = error_of(&deep_select);
    assert!(message.starts_with("\"failed to parse select parameter ("), "{message}");
    assert_eq!(details, "nesting too deep");
    let deep_logic = format!("or=({}a.eq.1{})", "or(".repeat(5000), ")".repeat(5000));
    let (message, details) = error_of(&deep_logic);
    assert!(message.starts_with("\"failed to parse logic tree ("), "{message}");
    assert_eq!(details, "nesting too deep");
    let allowed = format!("select={}x{}", "a(".repeat(99), ")".repeat(99));
    assert!(parse_query(&allowed, false).is_ok());
}

/// A tiny deterministic generator, so the sweep needs no extra crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
}

#[test]
fn garbage_never_panics() {
    const PIECES: [&str; 48] = [
        "select=",
        "order=",
        "or=",
        "and=",
        "not.",
        "limit=",
        "offset=",
        "columns=",
        "on_conflict=",
        "a.",
        "id",
        "=",
        "&",
        ";",
        "(",
        ")",
        ",",
        ".",
        ":",
        "::",
        "!",
        "!inner",
        "...",
        "*",
        "\"",
        "\\",
        "->",
        "->>",
        "-",
        "0",
        "-1",
        "eq.",
        "in.",
        "is.",
        "fts(",
        "any",
        "{",
        "}",
        "%",
        "%2",
        "%E9",
        "%FF%FE",
        "é",
        "🙂",
        " ",
        "%09",
        "%0A",
        "+",
    ];
    let mut random = Lcg(0x5eed);
    for round in 0..4000 {
        let length = random.next(14);
        let query: String = (0..length).map(|_| PIECES[random.next(PIECES.len())]).collect();
        for is_rpc in [false, true] {
            if let Err(error) = parse_query(&query, is_rpc) {
                assert!(!error.message().is_empty(), "round {round}: {query}");
                let _ = (error.details(), error.code(), error.hint());
            }
        }
    }
}
