//! The HTTP side of the OAuth client: the code-for-token exchange (form POST, `client_secret_post`,
//! optional PKCE verifier) and bearer-authenticated JSON GETs of the user's profile.
//!
//! Must not build its own HTTP client or set timeouts (the caller's client does); must not put
//! codes, secrets, verifiers or tokens in errors or logs; must not read unbounded response bodies.

use std::fmt;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use serde_json::Value;

use super::error::{OAuthError, Stage};
use super::providers;
use super::{ProviderConfig, ProviderKind, ProviderUser};

/// Largest provider response body we read.
const MAX_BODY: usize = 1024 * 1024;
/// GitHub's API refuses requests without a User-Agent.
const UA: &str = "pgrest-lambda-auth";
/// Longest provider `error_description` we keep.
const MAX_DESCRIPTION: usize = 200;

/// What the token endpoint returned. `Debug` hides the tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderTokens {
    /// The provider access token (GoTrue hands it to the client as `provider_token`).
    pub access_token: String,
    /// The provider refresh token, when the provider issued one (`provider_refresh_token`).
    pub refresh_token: Option<String>,
    /// `token_type` as sent (normally `bearer`).
    pub token_type: Option<String>,
    /// Granted scopes as sent.
    pub scope: Option<String>,
    /// Lifetime in seconds, when sent.
    pub expires_in: Option<u64>,
}

impl fmt::Debug for ProviderTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderTokens")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The user together with the provider's tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchanged {
    /// Who signed in.
    pub user: ProviderUser,
    /// The provider's tokens.
    pub tokens: ProviderTokens,
}

impl ProviderConfig {
    /// Exchanges the authorization `code` (form POST, `Accept: application/json`,
    /// `client_secret_post`, plus `code_verifier` when given), then fetches the user.
    ///
    /// # Errors
    /// See [`OAuthError`]; a user without any e-mail address is [`OAuthError::NoEmail`].
    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        redirect_uri: &str,
        code: &str,
        code_verifier: Option<&str>,
    ) -> Result<ProviderUser, OAuthError> {
        Ok(self
            .exchange_with_tokens(http, redirect_uri, code, code_verifier)
            .await?
            .user)
    }

    /// [`Self::exchange`], also returning the provider's tokens (for GoTrue's `provider_token` /
    /// `provider_refresh_token`).
    ///
    /// # Errors
    /// See [`OAuthError`].
    pub async fn exchange_with_tokens(
        &self,
        http: &reqwest::Client,
        redirect_uri: &str,
        code: &str,
        code_verifier: Option<&str>,
    ) -> Result<Exchanged, OAuthError> {
        let tokens = self
            .exchange_code(http, redirect_uri, code, code_verifier)
            .await?;
        let user = self.fetch_user(http, &tokens.access_token).await?;
        Ok(Exchanged { user, tokens })
    }

    /// Only the token request of [`Self::exchange`].
    ///
    /// # Errors
    /// [`OAuthError::Refused`] (bad code, client, verifier ...), [`OAuthError::Status`],
    /// [`OAuthError::BadResponse`] (no `access_token`), [`OAuthError::Transport`].
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        redirect_uri: &str,
        code: &str,
        code_verifier: Option<&str>,
    ) -> Result<ProviderTokens, OAuthError> {
        // Built in one go: the serializer is not `Send` and must not live across an await.
        let form = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("client_id", &self.client_id)
                .append_pair("client_secret", &self.client_secret);
            if let Some(verifier) = code_verifier {
                form.append_pair("code_verifier", verifier);
            }
            form.finish()
        };
        let secrets = [
            self.client_secret.as_str(),
            code,
            code_verifier.unwrap_or_default(),
        ];

        let response = http
            .post(&self.token_url)
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(USER_AGENT, UA)
            .body(form)
            .send()
            .await
            .map_err(|e| OAuthError::transport(Stage::Token, e))?;
        let status = response.status();
        let body = read_body(response, Stage::Token).await?;
        let fields = parse_token_body(&body);

        if let Some(err) = oauth_error(fields.as_ref(), status.as_u16(), Stage::Token, &secrets) {
            return Err(err);
        }
        if !status.is_success() {
            return Err(OAuthError::Status {
                stage: Stage::Token,
                status: status.as_u16(),
            });
        }
        let Some(fields) = fields else {
            return Err(OAuthError::bad(
                Stage::Token,
                "body is neither JSON nor a form",
            ));
        };
        let text = |key: &str| {
            fields
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let Some(access_token) = text("access_token") else {
            return Err(OAuthError::bad(Stage::Token, "no access_token"));
        };
        let expires_in = fields.get("expires_in").and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
        Ok(ProviderTokens {
            access_token,
            refresh_token: text("refresh_token"),
            token_type: text("token_type"),
            scope: text("scope"),
            expires_in,
        })
    }

    /// Only the profile requests of [`Self::exchange`], with an access token already obtained.
    ///
    /// # Errors
    /// See [`OAuthError`].
    pub async fn fetch_user(
        &self,
        http: &reqwest::Client,
        access_token: &str,
    ) -> Result<ProviderUser, OAuthError> {
        match self.kind {
            ProviderKind::GitHub => {
                let user =
                    get_json(http, &self.userinfo_url, access_token, Stage::UserInfo).await?;
                let emails =
                    get_json(http, &self.github_emails_url(), access_token, Stage::Emails).await?;
                let issuer = match &self.api_url {
                    Some(api) => api.clone(),
                    None => self
                        .userinfo_url
                        .trim_end_matches('/')
                        .trim_end_matches("/user")
                        .to_owned(),
                };
                providers::github_user(&user, &emails, &issuer)
            }
            ProviderKind::Google => {
                let info =
                    get_json(http, &self.userinfo_url, access_token, Stage::UserInfo).await?;
                providers::google_user(&info)
            }
            ProviderKind::Oidc => {
                let info =
                    get_json(http, &self.userinfo_url, access_token, Stage::UserInfo).await?;
                let fallback_issuer = url::Url::parse(&self.authorize_url)
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_default();
                providers::oidc_user(&info, &fallback_issuer)
            }
        }
    }
}

/// GET `url` with the bearer token; the body must be JSON.
async fn get_json(
    http: &reqwest::Client,
    url: &str,
    access_token: &str,
    stage: Stage,
) -> Result<Value, OAuthError> {
    let response = http
        .get(url)
        .header(AUTHORIZATION, format!("Bearer {access_token}"))
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, UA)
        .send()
        .await
        .map_err(|e| OAuthError::transport(stage, e))?;
    let status = response.status();
    let body = read_body(response, stage).await?;
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    if !status.is_success() {
        let fields = parsed.and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        });
        if let Some(err) = oauth_error(fields.as_ref(), status.as_u16(), stage, &[access_token]) {
            return Err(err);
        }
        return Err(OAuthError::Status {
            stage,
            status: status.as_u16(),
        });
    }
    parsed.ok_or_else(|| OAuthError::bad(stage, "body is not JSON"))
}

/// Reads at most [`MAX_BODY`] bytes of the body.
async fn read_body(mut response: reqwest::Response, stage: Stage) -> Result<Vec<u8>, OAuthError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| OAuthError::transport(stage, e))?
    {
        if body.len().saturating_add(chunk.len()) > MAX_BODY {
            return Err(OAuthError::bad(stage, "body larger than 1 MiB"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The token response as a JSON object, or (for providers that ignore `Accept`) a form.
fn parse_token_body(body: &[u8]) -> Option<serde_json::Map<String, Value>> {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        return Some(map);
    }
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() || text.starts_with('{') || text.starts_with('<') {
        return None;
    }
    let map: serde_json::Map<String, Value> = form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    (map.contains_key("access_token") || map.contains_key("error")).then_some(map)
}

/// An [`OAuthError::Refused`] when the body carries an OAuth `error`.
fn oauth_error(
    fields: Option<&serde_json::Map<String, Value>>,
    status: u16,
    stage: Stage,
    secrets: &[&str],
) -> Option<OAuthError> {
    let fields = fields?;
    let code = fields.get("error").and_then(Value::as_str)?;
    let error: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(64)
        .collect();
    let error = if error.is_empty() {
        "unknown_error".to_owned()
    } else {
        error
    };
    let description = fields
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| scrub(d, secrets))
        .filter(|d| !d.is_empty());
    Some(OAuthError::Refused {
        stage,
        status,
        error,
        description,
    })
}

/// Removes our secrets and control characters from provider text and shortens it.
fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(secret, "[redacted]");
    }
    let mut cleaned: String = out.chars().filter(|c| !c.is_control()).collect();
    if cleaned.chars().count() > MAX_DESCRIPTION {
        cleaned = cleaned.chars().take(MAX_DESCRIPTION).collect();
        cleaned.push('…');
    }
    cleaned.trim().to_owned()
}
