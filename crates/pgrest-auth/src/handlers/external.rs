//! OAuth sign-in: `GET /authorize?provider=` (state bound to a stored flow, redirect to the
//! provider), `GET /callback` (code exchange, user + identity, then a session in the fragment or,
//! for PKCE clients, an auth code), and `grant_type=pkce` on `/token`.
//!
//! Must not put provider tokens inside our tokens (V-07), and every redirect goes to an
//! allow-listed target only, on success and on failure (S-06).

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::AuthError;
use crate::handlers::email::{send_link, LinkKind};
use crate::issue::new_session;
use crate::oauth::{hash_state, new_state, pkce, ProviderConfig};
use crate::request::{json_response, redirect, session_fragment, Req};
use crate::service::NativeAuth;
use crate::sessions::{end_sessions, LogoutScope};
use crate::store::{self, NewUser};

/// Flows older than this are refused (GoTrue allows about ten minutes for the round trip).
const FLOW_TTL_SECS: f64 = 600.0;
/// An auth code must be exchanged within five minutes.
const AUTH_CODE_TTL_SECS: f64 = 300.0;

fn provider<'a>(svc: &'a NativeAuth, name: &str) -> Result<&'a ProviderConfig, AuthError> {
    svc.providers
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| AuthError::new(400, "validation_failed", format!("Unsupported provider: Provider {name} could not be found")))
}

fn callback_uri(svc: &NativeAuth) -> String {
    format!("{}/auth/v1/callback", svc.config.external_url)
}

/// Expired flows one `/authorize` deletes at most (more than it adds, so the table shrinks back).
const FLOW_PURGE_BATCH: i64 = 100;

/// Age past which no flow can still be used: an OAuth round trip or an email link's lifetime,
/// plus the time to exchange the auth code.
fn flow_max_age(svc: &NativeAuth) -> f64 {
    FLOW_TTL_SECS.max(svc.config.otp_ttl.as_secs_f64()) + AUTH_CODE_TTL_SECS
}

pub async fn authorize(svc: &NativeAuth, req: &Req) -> Result<http::Response<Bytes>, AuthError> {
    super::limit(svc, "authorize", &req.ip, svc.config.limits.authorize_per_ip)?;
    let name = req.query("provider").unwrap_or("");
    let provider = provider(svc, name)?;
    let redirect_to = svc.config.choose_redirect(req.query("redirect_to"));
    let (challenge, method) = match req.query("code_challenge").filter(|c| !c.is_empty()) {
        Some(challenge) => {
            if !pkce::is_valid_syntax(challenge) {
                return Err(AuthError::validation("code challenge does not match the required format"));
            }
            let method = pkce::Method::parse(req.query("code_challenge_method").unwrap_or("s256"))
                .ok_or_else(|| AuthError::validation("code challenge method not supported"))?;
            (Some(challenge.to_string()), Some(method.as_str().to_string()))
        }
        None => (None, None),
    };
    let (state, state_hash) = new_state();
    let conn = svc.db.connection().await?;
    conn.execute(
        "DELETE FROM auth.flow_state WHERE id IN (SELECT id FROM auth.flow_state WHERE created_at < now() - make_interval(secs => $1) \
         LIMIT $2 FOR UPDATE SKIP LOCKED)",
        &[&flow_max_age(svc), &FLOW_PURGE_BATCH],
    )
    .await?;
    conn.execute(
        "INSERT INTO auth.flow_state (id, provider_type, code_challenge, code_challenge_method, authentication_method, redirect_to, state_hash, created_at, updated_at) \
         VALUES ($1, $2, coalesce($3, ''), $4::text::auth.code_challenge_method, 'oauth', $5, $6, now(), now())",
        &[&Uuid::new_v4(), &provider.name, &challenge, &method, &redirect_to, &state_hash],
    )
    .await?;
    let mut location = provider.authorize_url(&callback_uri(svc), &state, None);
    if let Some(scopes) = req.query("scopes").filter(|s| !s.is_empty()) {
        location.push_str("&scope=");
        location.push_str(&percent_encoding::utf8_percent_encode(scopes, percent_encoding::NON_ALPHANUMERIC).to_string());
    }
    let mut response = redirect(&location);
    *response.status_mut() = http::StatusCode::FOUND;
    Ok(response)
}

/// Redirects to `target` with an OAuth error in the fragment (GoTrue's shape).
fn error_redirect(target: &str, error: &str, code: &str, description: &str) -> http::Response<Bytes> {
    let fragment = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", error)
        .append_pair("error_code", code)
        .append_pair("error_description", description)
        .finish();
    let base = target.split('#').next().unwrap_or(target);
    redirect(&format!("{base}#{fragment}"))
}

/// A stored OAuth flow as `/callback` reads it.
struct Flow {
    id: Uuid,
    provider: String,
    challenge: String,
    method: Option<String>,
    redirect_to: String,
    age: f64,
}

impl Flow {
    fn from_row(row: &tokio_postgres::Row) -> Result<Flow, tokio_postgres::Error> {
        Ok(Flow { id: row.try_get(0)?, provider: row.try_get(1)?, challenge: row.try_get(2)?, method: row.try_get(3)?, redirect_to: row.try_get(4)?, age: row.try_get(5)? })
    }
}

pub async fn callback(svc: &NativeAuth, req: &Req) -> http::Response<Bytes> {
    let site = svc.config.site_url.clone();
    let Some(state) = req.query("state").filter(|s| !s.is_empty()) else {
        return error_redirect(&site, "invalid_request", "bad_oauth_callback", "OAuth state parameter missing");
    };
    let conn = match svc.db.connection().await {
        Ok(c) => c,
        Err(e) => return error_redirect(&site, "server_error", "unexpected_failure", &AuthError::from(e).message),
    };
    let flow = conn
        .query_opt(
            "DELETE FROM auth.flow_state WHERE state_hash = $1 AND auth_code IS NULL RETURNING id, provider_type, coalesce(code_challenge, ''), \
             code_challenge_method::text, coalesce(redirect_to, ''), extract(epoch FROM now() - created_at)::float8",
            &[&hash_state(state)],
        )
        .await;
    let flow = match flow {
        Ok(Some(row)) => row,
        Ok(None) => return error_redirect(&site, "invalid_request", "bad_oauth_state", "OAuth state not found or expired"),
        Err(e) => return error_redirect(&site, "server_error", "unexpected_failure", &AuthError::from(e).message),
    };
    let Ok(Flow { id: flow_id, provider: provider_name, challenge, method, redirect_to, age }) = Flow::from_row(&flow) else {
        return error_redirect(&site, "server_error", "unexpected_failure", "could not read the OAuth flow");
    };
    // The stored target passed the allow-list at /authorize; check again in case the list changed.
    let target = svc.config.choose_redirect(Some(&redirect_to));
    if age > FLOW_TTL_SECS {
        return error_redirect(&target, "invalid_request", "bad_oauth_state", "OAuth state has expired");
    }
    if let Some(error) = req.query("error") {
        let description = req.query("error_description").unwrap_or(error);
        return error_redirect(&target, "access_denied", "provider_error", description);
    }
    let Some(code) = req.query("code").filter(|c| !c.is_empty()) else {
        return error_redirect(&target, "invalid_request", "bad_oauth_callback", "OAuth callback without a code");
    };
    let provider = match provider(svc, &provider_name) {
        Ok(p) => p,
        Err(e) => return error_redirect(&target, "invalid_request", "provider_disabled", &e.message),
    };
    let outcome = sign_in_external(svc, req, provider, code, flow_id, &challenge, method.as_deref(), &target).await;
    match outcome {
        Ok(Outcome::Session(session)) => {
            let base = target.split('#').next().unwrap_or(&target);
            redirect(&format!("{base}#{}", session_fragment(&session, None)))
        }
        Ok(Outcome::AuthCode(auth_code)) => {
            let separator = if target.contains('?') { '&' } else { '?' };
            let base = target.split('#').next().unwrap_or(&target);
            redirect(&format!("{base}{separator}code={auth_code}"))
        }
        Err(e) => error_redirect(&target, if e.status >= 500 { "server_error" } else { "access_denied" }, e.error_code, &e.message),
    }
}

enum Outcome {
    Session(Value),
    AuthCode(String),
}

#[expect(clippy::too_many_arguments, reason = "one call site; the flow's parts")]
async fn sign_in_external(
    svc: &NativeAuth,
    req: &Req,
    provider: &ProviderConfig,
    code: &str,
    flow_id: Uuid,
    challenge: &str,
    method: Option<&str>,
    redirect_to: &str,
) -> Result<Outcome, AuthError> {
    let user = provider.exchange(&svc.http, &callback_uri(svc), code, None).await.map_err(|e| {
        tracing::warn!(provider = %provider.name, error = %e, "auth: OAuth exchange failed");
        AuthError::new(400, "bad_oauth_callback", e.gotrue_message())
    })?;
    let mut conn = svc.db.connection().await?;
    let tx = conn.transaction().await?;
    let email = user.email.as_ref().map(|e| e.to_lowercase());
    let mut data = match &user.raw {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    data.insert("sub".into(), json!(user.id));
    data.insert("provider_id".into(), json!(user.id));
    data.insert("email".into(), json!(email));
    data.insert("email_verified".into(), json!(user.email_verified));
    if let Some(name) = &user.name {
        data.insert("full_name".into(), json!(name));
        data.insert("name".into(), json!(name));
    }
    if let Some(avatar) = &user.avatar_url {
        data.insert("avatar_url".into(), json!(avatar));
    }
    let identity_data = Value::Object(data);
    let user_id = match store::user_by_identity(&tx, &provider.name, &user.id).await? {
        Some(id) => id,
        None => {
            // Link to an existing account only when the provider vouches for the address.
            let existing = match (&email, user.email_verified) {
                (Some(e), true) => store::user_by_email(&tx, e).await?,
                _ => None,
            };
            let proven = match &existing {
                Some(u) => u.confirmed() && store::email_proven(&tx, u.id).await?,
                None => false,
            };
            match existing {
                Some(u) if !proven => {
                    // GoTrue's guard against pre-account takeover, also for accounts confirmed
                    // without proof (autoconfirm sign-ups, anonymous users' claimed addresses):
                    // whoever took this address without proving it loses the account's password,
                    // identities, metadata and sessions to the provider's verified owner of it.
                    store::reset_unconfirmed_account(&tx, u.id, &provider.name, &identity_data).await?;
                    let ended = end_sessions(&tx, u.id, None, LogoutScope::Global).await?;
                    tracing::warn!(user_id = %u.id, provider = %provider.name, ended, "auth: unproven account handed to the provider's verified owner of its address");
                    u.id
                }
                Some(u) => u.id,
                None => {
                    if svc.config.disable_signup {
                        return Err(AuthError::new(422, "signup_disabled", "Signups not allowed for this instance"));
                    }
                    let new = NewUser {
                        email: email.as_deref(),
                        encrypted_password: None,
                        user_metadata: &identity_data,
                        provider: &provider.name,
                        confirmed: user.email_verified,
                        is_anonymous: false,
                        aud: &svc.config.audience,
                    };
                    let created = store::create_user(&tx, &new).await?.ok_or_else(|| AuthError::new(422, "email_exists", "A user with this email address has already been registered"))?;
                    created.id
                }
            }
        }
    };
    store::insert_identity(&tx, user_id, &user.id, &provider.name, &identity_data).await?;
    store::add_provider(&tx, user_id, &provider.name).await?;
    let account = store::user_by_id(&tx, user_id).await?.ok_or_else(|| AuthError::unexpected("user vanished"))?;
    // The provider proves the account's address only when it vouches for that very address.
    let vouched = user.email_verified && email.is_some() && account.email.as_deref().map(str::to_lowercase) == email;
    if vouched {
        store::confirm_email(&tx, user_id).await?;
    } else if email.is_some() && svc.config.autoconfirm {
        store::autoconfirm_email(&tx, user_id).await?;
    }
    let account = store::user_by_id(&tx, user_id).await?.ok_or_else(|| AuthError::unexpected("user vanished"))?;
    if account.banned() {
        return Err(AuthError::new(403, "user_banned", "User is banned"));
    }
    if !account.confirmed() {
        // GoTrue: an address the provider has not verified must be confirmed by mail first; the
        // account (and its identity) is kept, the sign-in refused.
        send_link(svc, &tx, &account, LinkKind::Signup, redirect_to).await?;
        tx.commit().await?;
        let p = &provider.name;
        return Err(AuthError::new(422, "provider_email_needs_verification", format!("Unverified email with {p}. A confirmation email has been sent to your {p} email")));
    }
    if !challenge.is_empty() && method.is_some() {
        let auth_code = Uuid::new_v4().to_string();
        tx.execute(
            "INSERT INTO auth.flow_state (id, user_id, auth_code, provider_type, code_challenge, code_challenge_method, authentication_method, auth_code_issued_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6::text::auth.code_challenge_method, 'oauth', now(), now(), now())",
            &[&flow_id, &user_id, &auth_code, &provider.name, &challenge, &method],
        )
        .await?;
        tx.commit().await?;
        return Ok(Outcome::AuthCode(auth_code));
    }
    let session = new_session(svc, &tx, &account, "oauth", &req.ip, req.user_agent()).await?;
    tx.commit().await?;
    Ok(Outcome::Session(session))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct PkceBody {
    auth_code: Option<String>,
    code_verifier: Option<String>,
}

/// `POST /token?grant_type=pkce` with `{auth_code, code_verifier}`.
pub async fn pkce_grant(svc: &NativeAuth, req: &Req) -> Result<http::Response<Bytes>, AuthError> {
    let body: PkceBody = req.json()?;
    let (Some(auth_code), Some(verifier)) = (body.auth_code.filter(|c| !c.is_empty()), body.code_verifier.filter(|v| !v.is_empty())) else {
        return Err(AuthError::validation("invalid request: both auth code and code verifier should be non-empty"));
    };
    let mut conn = svc.db.connection().await?;
    let tx = conn.transaction().await?;
    let row = tx
        .query_opt(
            "DELETE FROM auth.flow_state WHERE auth_code = $1 RETURNING user_id, code_challenge, code_challenge_method::text, \
             coalesce(authentication_method, 'oauth'), extract(epoch FROM now() - coalesce(auth_code_issued_at, created_at))::float8",
            &[&auth_code],
        )
        .await?;
    let Some(row) = row else { return Err(AuthError::new(404, "flow_state_not_found", "invalid flow state, no valid flow state found")) };
    let user_id: Option<Uuid> = row.try_get(0)?;
    let challenge: Option<String> = row.try_get(1)?;
    let method: Option<String> = row.try_get(2)?;
    let auth_method: String = row.try_get(3)?;
    let age: f64 = row.try_get(4)?;
    if age > AUTH_CODE_TTL_SECS {
        tx.commit().await?;
        return Err(AuthError::new(400, "flow_state_expired", "invalid flow state, flow state has expired"));
    }
    let method = method.as_deref().and_then(pkce::Method::parse).unwrap_or(pkce::Method::S256);
    if !pkce::verify(&verifier, challenge.as_deref().unwrap_or(""), method) {
        tx.commit().await?;
        return Err(AuthError::new(400, "bad_code_verifier", "code challenge does not match previously saved code verifier"));
    }
    let user_id = user_id.ok_or_else(|| AuthError::new(404, "flow_state_not_found", "invalid flow state, no valid flow state found"))?;
    let user = store::user_by_id(&tx, user_id).await?.ok_or_else(|| AuthError::new(404, "user_not_found", "User not found"))?;
    let session = new_session(svc, &tx, &user, &auth_method, &req.ip, req.user_agent()).await?;
    tx.commit().await?;
    Ok(json_response(200, &session))
}
