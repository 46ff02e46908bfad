//! A provider with odd answers: form-encoded token responses, HTML errors, missing `sub`.

use super::*;

/// A provider with odd answers: a form-encoded token response, HTML errors, no `sub`.
async fn odd_provider() -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new()
        .route(
            "/token-form",
            post(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/plain")],
                    "access_token=form-token&token_type=bearer&scope=user%3Aemail",
                )
            }),
        )
        .route(
            "/token-html",
            post(|| async {
                (
                    axum::http::StatusCode::BAD_GATEWAY,
                    "<html>upstream code-1234 broke</html>",
                )
            }),
        )
        .route(
            "/token-empty",
            post(|| async { ([(axum::http::header::CONTENT_TYPE, "application/json")], "{}") }),
        )
        .route(
            "/token-echo",
            post(|| async {
                (
                    axum::http::StatusCode::BAD_REQUEST,
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    r#"{"error":"invalid_grant\n<x>","error_description":"code code-1234 with secret s3cr3t-value is bad"}"#,
                )
            }),
        )
        .route(
            "/userinfo-nosub",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    r#"{"email":"a@example.com","email_verified":"true"}"#,
                )
            }),
        )
        .route(
            "/userinfo-strings",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    r#"{"sub":42,"email":" A@Example.com ","email_verified":"TRUE","name":""}"#,
                )
            }),
        )
        .route("/userinfo-text", get(|| async { "not json" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, task)
}

#[tokio::test]
async fn odd_provider_answers() {
    let (base, task) = odd_provider().await;
    let cfg = |token: &str, userinfo: &str| {
        ProviderConfig::oidc(
            "odd",
            "id",
            "s3cr3t-value",
            format!("{base}/authorize"),
            format!("{base}{token}"),
            format!("{base}{userinfo}"),
        )
    };

    let tokens = cfg("/token-form", "/userinfo-strings")
        .exchange_code(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap();
    assert_eq!(tokens.access_token, "form-token");
    assert_eq!(tokens.scope.as_deref(), Some("user:email"));

    let err = cfg("/token-html", "/x")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::Status {
                stage: Stage::Token,
                status: 502
            }
        ),
        "{err:?}"
    );

    let err = cfg("/token-empty", "/x")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::BadResponse {
                stage: Stage::Token,
                ..
            }
        ),
        "{err:?}"
    );

    let err = cfg("/token-echo", "/x")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        !shown.contains("code-1234") && !shown.contains("s3cr3t-value"),
        "{shown}"
    );
    assert!(!shown.contains('\n') && !shown.contains('<'), "{shown}");
    assert!(
        matches!(&err, OAuthError::Refused { error, .. } if error == "invalid_grantx"),
        "{err:?}"
    );

    let user = cfg("/token-form", "/userinfo-strings")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap();
    assert_eq!(user.id, "42");
    assert_eq!(user.email.as_deref(), Some("a@example.com"));
    assert!(user.email_verified);
    assert_eq!(user.name, None);

    let err = cfg("/token-form", "/userinfo-nosub")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::BadResponse {
                stage: Stage::UserInfo,
                ..
            }
        ),
        "{err:?}"
    );

    let err = cfg("/token-form", "/userinfo-text")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::BadResponse {
                stage: Stage::UserInfo,
                ..
            }
        ),
        "{err:?}"
    );
    task.abort();
}
