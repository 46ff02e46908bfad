//! `POST /signup`, `GET /user`, `PUT /user`, `POST /logout`.
//!
//! Must not reveal whether an email is registered where GoTrue does not (sign-up with email
//! confirmation on answers the same way for new and existing addresses).

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{caller, check_email, limit};
use crate::error::AuthError;
use crate::handlers::email::{pkce_request, send_link, send_link_with, LinkKind};
use crate::issue::new_session;
use crate::password::{check_password, hash_password};
use crate::request::{json_response, no_content, Req};
use crate::service::NativeAuth;
use crate::sessions::{end_sessions, LogoutScope};
use crate::store::{self, NewUser};

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct SignupBody {
    email: Option<String>,
    password: Option<String>,
    phone: Option<String>,
    data: Option<Value>,
}

fn check_strength(svc: &NativeAuth, password: &str) -> Result<(), AuthError> {
    use crate::password::PasswordRejected;
    check_password(&svc.config.password_policy, password).map_err(|rejected| match rejected {
        PasswordRejected::Weak(weak) => AuthError::weak_password(weak.message, weak.reasons),
        too_long @ PasswordRejected::TooLong { .. } => AuthError::validation(too_long.to_string()),
    })
}

fn metadata(data: Option<Value>) -> Result<Value, AuthError> {
    match data {
        None | Some(Value::Null) => Ok(json!({})),
        Some(v @ Value::Object(_)) => Ok(v),
        // GoTrue decodes `data` into an object: anything else fails to parse.
        Some(_) => Err(AuthError::bad_json("data must be a JSON object")),
    }
}

pub async fn signup(svc: &NativeAuth, req: &Req) -> Result<http::Response<Bytes>, AuthError> {
    let body: SignupBody = req.json()?;
    let pkce = pkce_request(req)?;
    limit(svc, "signup", &req.ip, svc.config.limits.signup_per_ip)?;
    let user_metadata = metadata(body.data)?;
    let mut conn = svc.db.connection().await?;
    let tx = conn.transaction().await?;

    // GoTrue signs in anonymously whenever neither an email nor a phone is given.
    let blank = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
    if blank(&body.email) && blank(&body.phone) {
        if !svc.config.anonymous_enabled {
            return Err(AuthError::new(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled"));
        }
        let new = NewUser { email: None, encrypted_password: None, user_metadata: &user_metadata, provider: "anonymous", confirmed: false, is_anonymous: true, aud: &svc.config.audience };
        let user = store::create_user(&tx, &new).await?.ok_or_else(|| AuthError::unexpected("anonymous user id collision"))?;
        let session = new_session(svc, &tx, &user, "anonymous", &req.ip, req.user_agent()).await?;
        tx.commit().await?;
        return Ok(json_response(200, &session));
    }
    if svc.config.disable_signup {
        return Err(AuthError::new(422, "signup_disabled", "Signups not allowed for this instance"));
    }
    if blank(&body.email) {
        return Err(AuthError::new(400, "phone_provider_disabled", "Phone signups are disabled"));
    }
    let email = check_email(body.email.as_deref().unwrap_or(""))?;
    let password = body.password.filter(|p| !p.is_empty()).ok_or_else(|| AuthError::validation("Signup requires a valid password"))?;
    check_strength(svc, &password)?;
    let hashed = hash_password(password, &svc.config.kdf).await.map_err(AuthError::unexpected)?;

    if let Some(existing) = store::user_by_email(&tx, &email).await? {
        if svc.config.autoconfirm || existing.confirmed() {
            if svc.config.autoconfirm {
                return Err(AuthError::new(422, "user_already_exists", "User already registered"));
            }
            // Confirmation on: answer like a fresh sign-up so the address's existence stays
            // private (GoTrue's `sanitizeUser`): a random id, this request's metadata, no dates
            // or identities of the real account.
            return Ok(json_response(200, &store::user_json(&sanitized(&existing, &svc.config.audience, user_metadata), &[])));
        }
        // Unconfirmed: send the confirmation again.
        let redirect = svc.config.choose_redirect(req.query("redirect_to"));
        send_link_with(svc, &tx, &existing, LinkKind::Signup, &redirect, pkce.as_ref()).await?;
        tx.commit().await?;
        let identities = store::identities(&svc.db.connection().await?, existing.id).await?;
        return Ok(json_response(200, &store::user_json(&existing, &identities)));
    }

    let new = NewUser {
        email: Some(&email),
        encrypted_password: Some(&hashed),
        user_metadata: &user_metadata,
        provider: "email",
        confirmed: svc.config.autoconfirm,
        is_anonymous: false,
        aud: &svc.config.audience,
    };
    let user = store::create_user(&tx, &new).await?.ok_or_else(|| AuthError::new(422, "user_already_exists", "User already registered"))?;
    tracing::info!(user_id = %user.id, "auth: user signed up");
    if svc.config.autoconfirm {
        let session = new_session(svc, &tx, &user, "password", &req.ip, req.user_agent()).await?;
        tx.commit().await?;
        return Ok(json_response(200, &session));
    }
    let redirect = svc.config.choose_redirect(req.query("redirect_to"));
    send_link_with(svc, &tx, &user, LinkKind::Signup, &redirect, pkce.as_ref()).await?;
    let user = store::user_by_id(&tx, user.id).await?.ok_or_else(|| AuthError::unexpected("user vanished"))?;
    let identities = store::identities(&tx, user.id).await?;
    tx.commit().await?;
    Ok(json_response(200, &store::user_json(&user, &identities)))
}

/// What a repeated sign-up for a confirmed address sees instead of the account.
fn sanitized(existing: &store::UserRow, aud: &str, user_metadata: Value) -> store::UserRow {
    let now = chrono::Utc::now();
    store::UserRow {
        id: uuid::Uuid::new_v4(),
        aud: aud.to_string(),
        role: String::new(),
        email: existing.email.clone(),
        phone: String::new(),
        encrypted_password: None,
        email_confirmed_at: None,
        phone_confirmed_at: None,
        confirmation_sent_at: Some(now),
        recovery_sent_at: None,
        email_change: None,
        email_change_sent_at: None,
        last_sign_in_at: None,
        app_metadata: json!({"provider": "email", "providers": ["email"]}),
        user_metadata,
        created_at: Some(now),
        updated_at: Some(now),
        is_anonymous: false,
        banned_until: None,
    }
}

pub async fn get_user(svc: &NativeAuth, req: &Req) -> Result<http::Response<Bytes>, AuthError> {
    let conn = svc.db.connection().await?;
    let who = caller(svc, &conn, req).await?;
    let identities = store::identities(&conn, who.user.id).await?;
    Ok(json_response(200, &store::user_json(&who.user, &identities)))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct UpdateBody {
    email: Option<String>,
    password: Option<String>,
    data: Option<Value>,
}

pub async fn update_user(svc: &NativeAuth, req: &Req) -> Result<http::Response<Bytes>, AuthError> {
    let body: UpdateBody = req.json()?;
    let mut conn = svc.db.connection().await?;
    let tx = conn.transaction().await?;
    let who = caller(svc, &tx, req).await?;
    let user_id = who.user.id;
    if let Some(data) = body.data {
        let data = metadata(Some(data))?;
        store::merge_user_metadata(&tx, user_id, &data).await?;
    }
    if let Some(password) = body.password {
        if who.user.is_anonymous && body.email.as_deref().is_none_or(str::is_empty) {
            return Err(AuthError::new(422, "validation_failed", "Updating password of an anonymous user without an email or phone is not allowed"));
        }
        check_strength(svc, &password)?;
        let same = crate::password::verify_password(password.clone(), who.user.encrypted_password.clone(), &svc.config.kdf).await.map_err(AuthError::unexpected)?;
        if same.ok {
            return Err(AuthError::new(422, "same_password", "New password should be different from the old password."));
        }
        let hashed = hash_password(password, &svc.config.kdf).await.map_err(AuthError::unexpected)?;
        store::set_password(&tx, user_id, &hashed).await?;
        // As GoTrue: a new password voids pending one-time tokens and ends the user's other
        // sessions (all of them when the token names no session).
        store::clear_one_time_tokens(&tx, user_id).await?;
        end_sessions(&tx, user_id, who.session_id, LogoutScope::Others).await?;
        tracing::info!(user_id = %user_id, "auth: password changed");
    }
    if let Some(email) = body.email {
        let email = check_email(&email)?;
        if who.user.email.as_deref() != Some(email.as_str()) {
            if store::user_by_email(&tx, &email).await?.is_some_and(|u| u.id != user_id) {
                return Err(AuthError::new(422, "email_exists", "A user with this email address has already been registered"));
            }
            // GoTrue: only anonymous users may add an address without confirming it (with
            // autoconfirm on); a permanent user always confirms a new address (V-08).
            if svc.config.autoconfirm && who.user.is_anonymous {
                // Confirmed, not proven: no provider identity may link into it by this address.
                if !store::apply_email(&tx, user_id, &email, false).await? {
                    return Err(AuthError::new(422, "email_exists", "A user with this email address has already been registered"));
                }
            } else {
                store::set_email_change(&tx, user_id, &email).await?;
                let user = store::user_by_id(&tx, user_id).await?.ok_or_else(|| AuthError::unexpected("user vanished"))?;
                let redirect = svc.config.choose_redirect(req.query("redirect_to"));
                send_link(svc, &tx, &user, LinkKind::EmailChange, &redirect).await?;
            }
        }
    }
    let user = store::user_by_id(&tx, user_id).await?.ok_or_else(|| AuthError::unexpected("user vanished"))?;
    let identities = store::identities(&tx, user_id).await?;
    tx.commit().await?;
    Ok(json_response(200, &store::user_json(&user, &identities)))
}

pub async fn logout(svc: &NativeAuth, req: &Req) -> Result<http::Response<Bytes>, AuthError> {
    let scope = LogoutScope::parse(req.query("scope")).ok_or_else(|| AuthError::validation(format!("Unsupported logout scope {:?}", req.query("scope").unwrap_or(""))))?;
    let conn = svc.db.connection().await?;
    let who = caller(svc, &conn, req).await?;
    let ended = end_sessions(&conn, who.user.id, who.session_id, scope).await?;
    tracing::info!(user_id = %who.user.id, ?scope, ended, "auth: logout");
    Ok(no_content())
}
