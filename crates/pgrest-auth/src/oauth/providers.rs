//! Per-provider mapping of profile JSON to a [`ProviderUser`] and its GoTrue-shaped
//! `identity_data` (GitHub `/user` + `/user/emails`, Google userinfo, generic OIDC userinfo).
//!
//! Must not do I/O; must not trust an unverified address over a verified one when choosing the
//! e-mail; must not copy tokens or unknown provider claims into `identity_data`.

use serde_json::{Map, Value};

use super::ProviderUser;
use super::error::{OAuthError, Stage};

/// The issuer GoTrue records for Google identities.
const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// OIDC / GoTrue `Claims` string fields copied verbatim from a userinfo response.
const OIDC_STRING_CLAIMS: &[&str] = &[
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone",
];

fn str_field<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A subject that may be sent as a string or a number.
fn id_field(obj: &Value, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `true`, or the strings `"true"` (some providers, e.g. Cognito, send it quoted).
fn bool_field(obj: &Value, key: &str) -> Option<bool> {
    match obj.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s.trim().eq_ignore_ascii_case("true")),
        _ => None,
    }
}

/// Inserts `value` under `key` unless it is absent (GoTrue's `omitempty`).
fn put(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        map.insert(key.to_owned(), Value::String(v.to_owned()));
    }
}

/// Finishes a user: the chosen e-mail (required), and the fields every identity carries.
fn finish(
    id: String,
    email: Option<(&str, bool)>,
    name: Option<&str>,
    avatar_url: Option<&str>,
    mut raw: Map<String, Value>,
) -> Result<ProviderUser, OAuthError> {
    let Some((email, verified)) = email else {
        return Err(OAuthError::NoEmail);
    };
    put(&mut raw, "email", Some(email));
    raw.insert("email_verified".to_owned(), Value::Bool(verified));
    raw.insert("phone_verified".to_owned(), Value::Bool(false));
    Ok(ProviderUser {
        id,
        email: Some(email.to_lowercase()),
        email_verified: verified,
        name: name.map(str::to_owned),
        avatar_url: avatar_url.map(str::to_owned),
        raw: Value::Object(raw),
    })
}

struct GitHubEmail<'a> {
    email: &'a str,
    primary: bool,
    verified: bool,
}

/// GitHub: `GET /user` for the profile, `GET /user/emails` for addresses. The address used is
/// the primary one if verified, else the first verified one, else the primary, else the first.
pub(crate) fn github_user(
    user: &Value,
    emails: &Value,
    issuer: &str,
) -> Result<ProviderUser, OAuthError> {
    let id = id_field(user, "id").ok_or_else(|| OAuthError::bad(Stage::UserInfo, "no user id"))?;
    let Some(list) = emails.as_array() else {
        return Err(OAuthError::bad(Stage::Emails, "not a JSON array"));
    };
    let list: Vec<GitHubEmail<'_>> = list
        .iter()
        .filter_map(|e| {
            Some(GitHubEmail {
                email: str_field(e, "email")?,
                primary: bool_field(e, "primary").unwrap_or(false),
                verified: bool_field(e, "verified").unwrap_or(false),
            })
        })
        .collect();
    let chosen = list
        .iter()
        .find(|e| e.primary && e.verified)
        .or_else(|| list.iter().find(|e| e.verified))
        .or_else(|| list.iter().find(|e| e.primary))
        .or_else(|| list.first())
        .map(|e| (e.email, e.verified));

    let login = str_field(user, "login");
    let name = str_field(user, "name");
    let avatar = str_field(user, "avatar_url");
    let mut raw = Map::new();
    put(&mut raw, "iss", Some(issuer));
    put(&mut raw, "sub", Some(&id));
    put(&mut raw, "name", name);
    put(&mut raw, "preferred_username", login);
    put(&mut raw, "avatar_url", avatar);
    put(&mut raw, "full_name", name);
    put(&mut raw, "provider_id", Some(&id));
    put(&mut raw, "user_name", login);
    finish(id, chosen, name, avatar, raw)
}

/// Google's userinfo: the OIDC shape (`sub`, `email_verified`) or the legacy v2 shape (`id`,
/// `verified_email`).
pub(crate) fn google_user(info: &Value) -> Result<ProviderUser, OAuthError> {
    let id = id_field(info, "sub")
        .or_else(|| id_field(info, "id"))
        .ok_or_else(|| OAuthError::bad(Stage::UserInfo, "no sub"))?;
    let verified = bool_field(info, "email_verified").unwrap_or(false)
        || bool_field(info, "verified_email").unwrap_or(false);
    let email = str_field(info, "email").map(|e| (e, verified));
    let name = str_field(info, "name");
    let picture = str_field(info, "picture");

    let mut raw = Map::new();
    put(&mut raw, "iss", Some(GOOGLE_ISSUER));
    put(&mut raw, "sub", Some(&id));
    put(&mut raw, "name", name);
    put(&mut raw, "picture", picture);
    put(&mut raw, "avatar_url", picture);
    put(&mut raw, "full_name", name);
    put(&mut raw, "provider_id", Some(&id));
    if let Some(hd) = str_field(info, "hd") {
        let mut custom = Map::new();
        custom.insert("hd".to_owned(), Value::String(hd.to_owned()));
        raw.insert("custom_claims".to_owned(), Value::Object(custom));
    }
    finish(id, email, name, picture, raw)
}

/// A generic OIDC userinfo response. Standard profile claims are kept; other claims are not
/// copied (as GoTrue's custom OIDC providers without a claims allow-list).
pub(crate) fn oidc_user(info: &Value, fallback_issuer: &str) -> Result<ProviderUser, OAuthError> {
    let id = id_field(info, "sub").ok_or_else(|| OAuthError::bad(Stage::UserInfo, "no sub"))?;
    let verified = bool_field(info, "email_verified").unwrap_or(false);
    let email = str_field(info, "email").map(|e| (e, verified));
    let name = str_field(info, "name");
    let picture = str_field(info, "picture");

    let mut raw = Map::new();
    put(
        &mut raw,
        "iss",
        str_field(info, "iss").or(Some(fallback_issuer)),
    );
    put(&mut raw, "sub", Some(&id));
    for claim in OIDC_STRING_CLAIMS {
        put(&mut raw, claim, str_field(info, claim));
    }
    put(&mut raw, "avatar_url", picture);
    put(&mut raw, "full_name", name);
    put(&mut raw, "provider_id", Some(&id));
    finish(id, email, name, picture, raw)
}
