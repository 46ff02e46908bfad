//! The database stopped after start: PGRST000 for requests, PGRST002 for a schema reload, and
//! recovery without restarting our server once it is back.

use serde_json::json;

use crate::private::{send, Private};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_down_then_back() {
    let mut private = Private::init();
    private.start_with_fixture();
    let app = private.app("", |c| c.pool_size = 2).await.expect("app");
    assert_eq!(send(&app, "GET", "/rest/v1/fault_items?select=id", &[], "").await.0, 200);

    let mut cluster = private.cluster.take().unwrap();
    let mut cluster = tokio::task::spawn_blocking(move || {
        cluster.stop().unwrap();
        cluster
    })
    .await
    .unwrap();
    let (status, body) = send(&app, "GET", "/rest/v1/fault_items?select=id", &[], "").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "PGRST000");
    assert_eq!(body["message"], "Database connection error.");
    let service = app.keys().sign(&json!({"role": "service_role", "exp": 4_102_444_800_i64})).unwrap();
    let (status, body) = send(&app, "POST", "/rest/v1/_refresh", &[("authorization", &format!("Bearer {service}"))], "").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body, json!({"code": "PGRST002", "message": "Could not query the database for the schema cache. Retrying.", "details": null, "hint": null}));

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start().unwrap();
        cluster
    })
    .await
    .unwrap();
    private.cluster = Some(cluster);
    let (status, body) = send(&app, "GET", "/rest/v1/fault_items?select=id", &[], "").await;
    assert_eq!((status, body), (200, json!([{"id": 1}])));
    let (status, _) = send(&app, "POST", "/rest/v1/_refresh", &[("authorization", &format!("Bearer {service}"))], "").await;
    assert_eq!(status, 200);
}
