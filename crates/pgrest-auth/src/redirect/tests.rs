use super::*;

fn list(patterns: &[&str]) -> Vec<String> {
    patterns.iter().map(|p| p.to_string()).collect()
}

const SITE: &str = "https://app.example.com";

fn ok(patterns: &[&str], target: &str) -> bool {
    allowed(SITE, &list(patterns), target)
}

#[test]
fn a_trailing_star_does_not_cross_into_another_domain() {
    // S-06: `starts_with` admitted both of these.
    let p = ["https://preview.example.com*"];
    assert!(ok(&p, "https://preview.example.com"));
    assert!(!ok(&p, "https://preview.example.com.evil.net/"));
    assert!(!ok(&p, "https://preview.example.com.evil.net/cb?x=1"));
    assert!(!ok(&p, "https://preview.example.com/cb"), "GoTrue: * stops at /, so this entry admits the bare origin only");
    // `**` crosses dots, in the host too (GoTrue's meaning); such entries are warned about.
    assert!(ok(&["https://preview.example.com**"], "https://preview.example.com.evil.net/"));
    assert!(Pattern::parse("https://preview.example.com**").unwrap().globs_top_level_domain());
    assert!(Pattern::parse("https://preview.example.com*").unwrap().globs_top_level_domain());
    assert!(!Pattern::parse("https://*.example.com/**").unwrap().globs_top_level_domain());
    assert!(!Pattern::parse("https://**.example.com/**").unwrap().globs_top_level_domain());
    // A glob in the host matches labels, not the rest of the URL.
    assert!(ok(&["https://*.example.com/**"], "https://pr-12.example.com/auth/cb"));
    assert!(!ok(&["https://*.example.com/**"], "https://a.b.example.com/"));
    assert!(!ok(&["https://*.example.com/**"], "https://example.com.evil.net/"));
    assert!(ok(&["https://**.example.com/**"], "https://a.b.example.com/"));
    assert!(ok(&["https://*-team.vercel.app/**"], "https://app-git-x-team.vercel.app/cb"));
    assert!(!ok(&["https://*-team.vercel.app/**"], "https://x-team.vercel.app.evil.net/cb"));
}

#[test]
fn userinfo_is_refused_everywhere() {
    // S-06: `http://localhost:3000*` admitted `http://localhost:3000@evil.net/`.
    assert!(!ok(&["http://localhost:3000*"], "http://localhost:3000@evil.net/"));
    assert!(!ok(&["http://localhost:3000/**"], "http://localhost:3000@evil.net/"));
    assert!(!ok(&["http://localhost:3000/**"], "http://user@localhost:3000/"));
    assert!(!ok(&[], "https://app.example.com@evil.net/"));
    assert!(!ok(&[], "https://x:y@app.example.com/"), "even on the site's own host");
    assert!(!ok(&["https://**"], "https://a@evil.net/"));
    assert!(Pattern::parse("https://user@app.example.com/").is_err());
}

#[test]
fn parser_tricks_are_judged_by_where_a_browser_would_go() {
    // The WHATWG parser (browsers and the url crate alike) decides the host; the check uses it.
    assert!(!ok(&["http://localhost:3000*"], "http://localhost:3000\\@evil.net/"), "\\ is / here: a path, and * stops at /");
    assert!(!ok(&[], "https:/\\evil.net/"));
    assert!(!ok(&[], "https:evil.net"));
    assert!(!ok(&[], "//evil.net/"));
    assert!(!ok(&[], "https://app.example.com%40evil.net/"));
    assert!(!ok(&[], "https://evil.net\\.app.example.com/"));
    assert!(!ok(&[], "https://evil.net#@app.example.com/"));
    assert!(!ok(&[], "https://evil.net?@app.example.com/"));
    assert!(!ok(&["http://localhost:3000/**"], "http://0x7f.1:3000/"), "127.0.0.1 is not localhost");
    assert!(ok(&[], "HTTPS://APP.EXAMPLE.COM/x"));
}

#[test]
fn scheme_host_and_port_must_match() {
    let p = ["http://localhost:3000/**"];
    assert!(ok(&p, "http://localhost:3000/"));
    assert!(ok(&p, "http://localhost:3000"));
    assert!(ok(&p, "http://localhost:3000/a/b.html?next=/x"));
    assert!(!ok(&p, "https://localhost:3000/"));
    assert!(!ok(&p, "http://localhost:3001/"));
    assert!(!ok(&p, "http://localhost/"));
    assert!(!ok(&p, "http://localhost.evil.net:3000/"));
    assert!(!ok(&["https://app.example.org/cb"], "https://app.example.org:8443/cb"));
    assert!(ok(&["https://app.example.org:443/cb"], "https://app.example.org/cb"));
    assert!(ok(&["https://app.example.org:*/cb"], "https://app.example.org:8443/cb"));
    assert!(!ok(&["https://app.example.org/cb"], "http://app.example.org/cb"));
    // Host case and percent-encoding are normalised by the parser before comparing.
    assert!(ok(&["https://app.example.org/cb"], "https://APP.Example.org/cb"));
    assert!(!ok(&["https://app.example.org/**"], "https://app.example.org%2eevil.net/"));
}

#[test]
fn paths_follow_gotrues_separators() {
    let p = ["https://app.example.org/*"];
    assert!(ok(&p, "https://app.example.org/welcome"));
    assert!(!ok(&p, "https://app.example.org/a/b"), "* stops at /");
    assert!(!ok(&p, "https://app.example.org/a.html"), "* stops at .");
    assert!(ok(&["https://app.example.org/**"], "https://app.example.org/a/b.html"));
    assert!(ok(&["https://app.example.org/cb?x=?"], "https://app.example.org/cb?x=1"));
    // Exact entries are exact, apart from the fragment, which is never compared.
    assert!(ok(&["https://app.example.org/cb"], "https://app.example.org/cb#frag"));
    assert!(!ok(&["https://app.example.org/cb"], "https://app.example.org/cb/x"));
    assert!(!ok(&["https://app.example.org/cb"], "https://app.example.org/cb?x=1"));
    // Dot segments are resolved before comparing, so they cannot climb out of a prefix.
    assert!(!ok(&["https://app.example.org/app/**"], "https://app.example.org/app/../admin"));
    assert!(ok(&["https://app.example.org/app/**"], "https://app.example.org/app/./x"));
    assert!(ok(&[r"https://app.example.org/\*"], "https://app.example.org/*"));
    assert!(!ok(&[r"https://app.example.org/\*"], "https://app.example.org/x"));
}

#[test]
fn the_site_url_admits_its_own_origin_only() {
    assert!(ok(&[], "https://app.example.com/welcome"));
    assert!(!ok(&[], "http://app.example.com/welcome"));
    assert!(!ok(&[], "https://app.example.com:8443/"));
    assert!(!ok(&[], "https://app.example.com.evil.net/"));
    assert!(allowed("http://localhost:3000", &[], "http://localhost:3000/cb"));
    assert!(!allowed("http://localhost:3000", &[], "http://localhost:8080/cb"), "other local ports must be listed");
    assert!(!allowed("http://localhost:3000", &[], "http://localhost:3000@evil.net/"));
}

#[test]
fn custom_schemes_come_from_the_list_only() {
    let p = ["myapp://callback", "com.example.app:/oauth2redirect", "exp://192.168.1.5:19000/--/**"];
    assert!(ok(&p, "myapp://callback"));
    assert!(!ok(&p, "myapp://callback.evil"));
    assert!(!ok(&p, "myapp://evil/callback"));
    assert!(ok(&p, "com.example.app:/oauth2redirect"));
    assert!(ok(&p, "exp://192.168.1.5:19000/--/auth"));
    assert!(!ok(&p, "javascript:alert(1)"));
    assert!(!ok(&["javascript:*"], "javascript://app.example.com/%0aalert(1)"), "an entry without // admits no authority");
    assert!(!ok(&p, "data:text/html,hi"));
}

#[test]
fn control_characters_and_garbage_are_refused() {
    assert!(!ok(&["https://**"], "https://app.example.com/\n"));
    assert!(!ok(&["https://**"], "https://app.ex\tample.com/"));
    assert!(!ok(&["https://**"], "not a url"));
    assert!(!ok(&["https://**"], ""));
}

#[test]
fn literal_hosts_and_paths_are_compared_in_the_parsers_form() {
    assert!(ok(&["https://app.example.org?next=1"], "https://app.example.org/?next=1"));
    assert!(ok(&["https://app.example.org?next=1"], "https://app.example.org?next=1"));
    assert!(ok(&["https://Bücher.example/**"], "https://xn--bcher-kva.example/x"));
    assert!(ok(&["https://bücher.example/**"], "https://BÜCHER.example/x"));
    assert!(ok(&["http://127.0.0.1:3000/**"], "http://2130706433:3000/x"));
    assert!(!ok(&["http://127.0.0.1:3000/**"], "http://127.0.0.2:3000/x"));
}

#[test]
fn bad_entries_are_reported() {
    assert!(Pattern::parse("preview.example.com").is_err());
    assert!(Pattern::parse("https:preview.example.com").is_err());
    assert!(Pattern::parse("https:///cb").is_err());
    assert!(Pattern::parse("https://[::1/cb").is_err());
    assert!(Pattern::parse("http://[::1]:3000/**").is_ok());
    assert!(ok(&["http://[::1]:3000/**"], "http://[::1]:3000/x"));
}

#[test]
fn long_targets_match_in_linear_time() {
    let target = format!("https://app.example.org/{}", "a".repeat(100_000));
    let started = std::time::Instant::now();
    assert!(!ok(&["https://app.example.org/*a*a*a*a*a*a*a*a*b"], &target));
    assert!(ok(&["https://app.example.org/**"], &target));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
