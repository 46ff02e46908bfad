//! A serialization failure (40001) on the first attempt: the transaction is retried, succeeds
//! once, and the failed attempt's side effects are gone with its rollback.

use crate::faults_app;

#[tokio::test]
async fn serialization_failure_is_retried_once_without_repeating_side_effects() {
    let t = faults_app(|_| {}).await;
    let r = t.send("POST", "/rest/v1/flaky", &[("content-type", "application/json"), ("prefer", "return=representation")], r#"{"note": "once"}"#).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.json()[0]["note"], "once");
    // Two attempts (the sequence is not rolled back), one row, one side effect.
    assert_eq!(t.sql("SELECT last_value FROM flaky_attempts"), "2");
    assert_eq!(t.sql("SELECT count(*) FROM flaky"), "1");
    assert_eq!(t.sql("SELECT string_agg(note, ',') FROM flaky_side"), "once");
    // Later writes go through on the first attempt.
    let r = t.send("POST", "/rest/v1/flaky", &[("content-type", "application/json")], r#"{"note": "twice"}"#).await;
    assert_eq!(r.status, 201);
    assert_eq!(t.sql("SELECT last_value FROM flaky_attempts"), "3");
    assert_eq!(t.sql("SELECT string_agg(note, ',' ORDER BY id) FROM flaky_side"), "once,twice");
}

#[tokio::test]
async fn a_failure_that_persists_is_retried_three_times_then_500_40001() {
    let t = faults_app(|c| c.verbose_errors = true).await;
    let r = t.send("POST", "/rest/v1/flaky", &[("content-type", "application/json")], r#"{"note": "always"}"#).await;
    assert_eq!(r.status, 500, "{:?}", r.body);
    assert_eq!(r.json()["code"], "40001");
    assert_eq!(r.json()["message"], "injected serialization failure");
    assert_eq!(t.sql("SELECT last_value FROM always_attempts"), "3");
    assert_eq!(t.sql("SELECT count(*) FROM flaky_side"), "0");
}
