//! External provider configuration (GitHub, Google, generic OIDC): defaults, URL overrides,
//! reading `AUTH_EXTERNAL_*` settings, and building the provider's authorize URL.
//!
//! Must not do network I/O; must not print the client secret (Debug redacts it); must not let
//! caller-supplied extra parameters override the ones this module controls (client_id, state ...).

use std::fmt;

use form_urlencoded::Serializer;

/// Which user-info protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// `GET /user` + `GET /user/emails` on the GitHub REST API.
    GitHub,
    /// Google's OIDC userinfo (`sub`, `email_verified`, `picture`, `hd`).
    Google,
    /// Any OpenID Connect provider's userinfo endpoint.
    Oidc,
}

/// One configured external provider.
#[derive(Clone)]
pub struct ProviderConfig {
    /// The name clients pass as `?provider=` (`github`, `google`, or an OIDC provider's name).
    pub name: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret (sent as `client_secret_post`); hidden from `Debug`.
    pub client_secret: String,
    /// The provider's authorization endpoint.
    pub authorize_url: String,
    /// The provider's token endpoint.
    pub token_url: String,
    /// The userinfo endpoint (GitHub: `GET /user`).
    pub userinfo_url: String,
    /// Scopes requested (joined with spaces).
    pub scopes: Vec<String>,
    /// Which protocol to speak.
    pub kind: ProviderKind,
    /// GitHub only: the REST API base whose `/user/emails` lists the user's addresses
    /// (`https://api.github.com`). When `None`, `<userinfo_url>/emails` is used.
    pub api_url: Option<String>,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("userinfo_url", &self.userinfo_url)
            .field("scopes", &self.scopes)
            .field("kind", &self.kind)
            .field("api_url", &self.api_url)
            .finish()
    }
}

const GITHUB_AUTHORIZE: &str = "https://github.com/login/oauth/authorize";
const GITHUB_TOKEN: &str = "https://github.com/login/oauth/access_token";
const GITHUB_API: &str = "https://api.github.com";
const GOOGLE_AUTHORIZE: &str = "https://accounts.google.com/o/oauth2/v2/auth";
const GOOGLE_TOKEN: &str = "https://oauth2.googleapis.com/token";
const GOOGLE_USERINFO: &str = "https://openidconnect.googleapis.com/v1/userinfo";

/// Query parameters of the authorize request that only this module sets. Extra parameters with
/// these names (any case) are dropped, as GoTrue strips them from the client's query.
const RESERVED_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "client_secret",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    // GoTrue's own `/authorize` parameters, meaningless to the provider.
    "provider",
    "scopes",
    "redirect_to",
];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl ProviderConfig {
    /// GitHub (github.com / api.github.com), scope `user:email`.
    #[must_use]
    pub fn github(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            name: "github".to_owned(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            authorize_url: GITHUB_AUTHORIZE.to_owned(),
            token_url: GITHUB_TOKEN.to_owned(),
            userinfo_url: format!("{GITHUB_API}/user"),
            scopes: strings(&["user:email"]),
            kind: ProviderKind::GitHub,
            api_url: Some(GITHUB_API.to_owned()),
        }
    }

    /// Google (accounts.google.com, oauth2.googleapis.com, OIDC userinfo), scopes
    /// `openid email profile`.
    #[must_use]
    pub fn google(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            name: "google".to_owned(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            authorize_url: GOOGLE_AUTHORIZE.to_owned(),
            token_url: GOOGLE_TOKEN.to_owned(),
            userinfo_url: GOOGLE_USERINFO.to_owned(),
            scopes: strings(&["openid", "email", "profile"]),
            kind: ProviderKind::Google,
            api_url: None,
        }
    }

    /// A generic OpenID Connect provider given by its endpoints, scopes `openid email profile`.
    #[must_use]
    pub fn oidc(
        name: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        authorize_url: impl Into<String>,
        token_url: impl Into<String>,
        userinfo_url: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            authorize_url: authorize_url.into(),
            token_url: token_url.into(),
            userinfo_url: userinfo_url.into(),
            scopes: strings(&["openid", "email", "profile"]),
            kind: ProviderKind::Oidc,
            api_url: None,
        }
    }

    /// Replaces every endpoint (so tests can point GitHub or Google at a fake provider).
    /// `extra_api_url` is GitHub's REST API base (for `/user/emails`); ignored by other kinds.
    #[must_use]
    pub fn with_urls(
        mut self,
        authorize_url: impl Into<String>,
        token_url: impl Into<String>,
        userinfo_url: impl Into<String>,
        extra_api_url: Option<String>,
    ) -> Self {
        self.authorize_url = authorize_url.into();
        self.token_url = token_url.into();
        self.userinfo_url = userinfo_url.into();
        self.api_url = extra_api_url.map(|u| u.trim_end_matches('/').to_owned());
        self
    }

    /// Adds scopes (comma- or space-separated, like GoTrue's `scopes` parameter), skipping ones
    /// already present.
    #[must_use]
    pub fn with_extra_scopes(mut self, scopes: &str) -> Self {
        self.add_scopes(scopes);
        self
    }

    fn add_scopes(&mut self, scopes: &str) {
        for scope in split_scopes(scopes) {
            if !self.scopes.iter().any(|s| s == scope) {
                self.scopes.push(scope.to_owned());
            }
        }
    }

    /// GitHub's `/user/emails` URL.
    #[must_use]
    pub fn github_emails_url(&self) -> String {
        match &self.api_url {
            Some(api) => format!("{}/user/emails", api.trim_end_matches('/')),
            None => format!("{}/emails", self.userinfo_url.trim_end_matches('/')),
        }
    }

    /// Reads the configured providers through `get` (an environment-like lookup).
    ///
    /// * `AUTH_EXTERNAL_GITHUB_CLIENT_ID` + `AUTH_EXTERNAL_GITHUB_SECRET` enable GitHub;
    ///   optional `_URL` (GitHub Enterprise base, as GoTrue's `GOTRUE_EXTERNAL_GITHUB_URL`),
    ///   `_AUTHORIZE_URL`, `_TOKEN_URL`, `_USERINFO_URL`, `_API_URL`.
    /// * `AUTH_EXTERNAL_GOOGLE_CLIENT_ID` + `_SECRET` enable Google; optional `_AUTHORIZE_URL`,
    ///   `_TOKEN_URL`, `_USERINFO_URL`.
    /// * Every name in `AUTH_EXTERNAL_OIDC_PROVIDERS` (comma list; lower-case letters, digits,
    ///   `-`, `_`) needs `AUTH_EXTERNAL_<NAME>_CLIENT_ID`, `_SECRET`, `_AUTHORIZE_URL`,
    ///   `_TOKEN_URL` and `_USERINFO_URL` (`<NAME>` upper-cased, `-` → `_`).
    /// * Any provider: optional `_SCOPES` (added to the defaults) and `_ENABLED=false` to skip it.
    ///
    /// Empty values count as unset. Errors name the offending variable.
    ///
    /// # Errors
    /// A client id without a secret (or the reverse), a listed OIDC provider missing a setting,
    /// a URL that is not absolute http(s), or a bad / duplicate OIDC provider name.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Vec<ProviderConfig>, String> {
        let get = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut out = Vec::new();

        if let Some((id, secret)) = credentials(&get, "GITHUB")? {
            let mut cfg = Self::github(id, secret);
            if let Some(base) = url_var(&get, "AUTH_EXTERNAL_GITHUB_URL")? {
                let base = base.trim_end_matches('/').to_owned();
                let api = if base.ends_with("api.github.com") {
                    base.clone()
                } else {
                    format!("{base}/api/v3")
                };
                cfg = cfg.with_urls(
                    format!("{base}/login/oauth/authorize"),
                    format!("{base}/login/oauth/access_token"),
                    format!("{api}/user"),
                    Some(api),
                );
            }
            apply_overrides(&get, "GITHUB", &mut cfg)?;
            if let Some(api) = url_var(&get, "AUTH_EXTERNAL_GITHUB_API_URL")? {
                cfg.api_url = Some(api.trim_end_matches('/').to_owned());
            }
            out.push(cfg);
        }

        if let Some((id, secret)) = credentials(&get, "GOOGLE")? {
            let mut cfg = Self::google(id, secret);
            apply_overrides(&get, "GOOGLE", &mut cfg)?;
            out.push(cfg);
        }

        if let Some(list) = get("AUTH_EXTERNAL_OIDC_PROVIDERS") {
            for raw_name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let name = raw_name.to_ascii_lowercase();
                let valid = name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                }) && name
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric());
                if !valid {
                    return Err(format!(
                        "AUTH_EXTERNAL_OIDC_PROVIDERS: invalid provider name {raw_name:?} (use letters, digits, '-' or '_')"
                    ));
                }
                if out.iter().any(|p| p.name == name) {
                    return Err(format!(
                        "AUTH_EXTERNAL_OIDC_PROVIDERS: provider name {name:?} is used twice or clashes with a built-in provider"
                    ));
                }
                let key = name.to_ascii_uppercase().replace('-', "_");
                let Some((id, secret)) = credentials(&get, &key)? else {
                    // Listed but switched off with _ENABLED=false.
                    if is_disabled(&get, &key) {
                        continue;
                    }
                    return Err(format!(
                        "AUTH_EXTERNAL_{key}_CLIENT_ID must be set: {name:?} is listed in AUTH_EXTERNAL_OIDC_PROVIDERS"
                    ));
                };
                let required = |suffix: &str| -> Result<String, String> {
                    let var = format!("AUTH_EXTERNAL_{key}_{suffix}");
                    url_var(&get, &var)?
                        .ok_or_else(|| format!("{var} must be set for the OIDC provider {name:?}"))
                };
                let mut cfg = Self::oidc(
                    name.clone(),
                    id,
                    secret,
                    required("AUTHORIZE_URL")?,
                    required("TOKEN_URL")?,
                    required("USERINFO_URL")?,
                );
                if let Some(scopes) = get(&format!("AUTH_EXTERNAL_{key}_SCOPES")) {
                    cfg.add_scopes(&scopes);
                }
                out.push(cfg);
            }
        }
        Ok(out)
    }

    /// The provider's authorize URL: `response_type=code`, `client_id`, `redirect_uri`, `scope`,
    /// `state`, and `code_challenge` + `code_challenge_method=S256` when a challenge is given.
    #[must_use]
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        state: &str,
        code_challenge: Option<&str>,
    ) -> String {
        self.authorize_url_with(redirect_uri, state, code_challenge, None, &[])
    }

    /// [`Self::authorize_url`] plus GoTrue's pass-through: `extra_scopes` (comma- or
    /// space-separated, appended to the configured scopes) and `extra_params` (e.g. Google's
    /// `access_type=offline`, `prompt=consent`, `login_hint`). Extra parameters named like one this
    /// module sets (`client_id`, `redirect_uri`, `state`, `scope`, `code_challenge`, ..., compared
    /// case-insensitively) or like GoTrue's own (`provider`, `scopes`, `redirect_to`) are dropped.
    #[must_use]
    pub fn authorize_url_with(
        &self,
        redirect_uri: &str,
        state: &str,
        code_challenge: Option<&str>,
        extra_scopes: Option<&str>,
        extra_params: &[(&str, &str)],
    ) -> String {
        let mut scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        for scope in extra_scopes.map(split_scopes).into_iter().flatten() {
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }

        let mut query = Serializer::new(String::new());
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri);
        if !scopes.is_empty() {
            query.append_pair("scope", &scopes.join(" "));
        }
        query.append_pair("state", state);
        if let Some(challenge) = code_challenge {
            query
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
        }
        for (key, value) in extra_params {
            let reserved = RESERVED_PARAMS.iter().any(|r| r.eq_ignore_ascii_case(key));
            if !reserved && !key.is_empty() {
                query.append_pair(key, value);
            }
        }
        let query = query.finish();

        let base = self.authorize_url.split('#').next().unwrap_or_default();
        let separator = if !base.contains('?') {
            "?"
        } else if base.ends_with('?') || base.ends_with('&') {
            ""
        } else {
            "&"
        };
        format!("{base}{separator}{query}")
    }
}

fn split_scopes(scopes: &str) -> impl Iterator<Item = &str> {
    scopes
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
}

fn is_disabled(get: &impl Fn(&str) -> Option<String>, key: &str) -> bool {
    get(&format!("AUTH_EXTERNAL_{key}_ENABLED")).is_some_and(|v| {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "false" | "0" | "no" | "off"
        )
    })
}

/// `Some((client_id, secret))` when the provider is configured, `None` when it is not (or is
/// disabled), an error when only one of the two is set.
fn credentials(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
) -> Result<Option<(String, String)>, String> {
    if is_disabled(get, key) {
        return Ok(None);
    }
    let id_var = format!("AUTH_EXTERNAL_{key}_CLIENT_ID");
    let secret_var = format!("AUTH_EXTERNAL_{key}_SECRET");
    match (get(&id_var), get(&secret_var)) {
        (None, None) => Ok(None),
        (Some(id), Some(secret)) => Ok(Some((id, secret))),
        (Some(_), None) => Err(format!("{secret_var} must be set when {id_var} is set")),
        (None, Some(_)) => Err(format!("{id_var} must be set when {secret_var} is set")),
    }
}

/// Reads an optional URL variable, requiring an absolute http(s) URL with a host.
fn url_var(get: &impl Fn(&str) -> Option<String>, var: &str) -> Result<Option<String>, String> {
    let Some(value) = get(var) else {
        return Ok(None);
    };
    match url::Url::parse(&value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(Some(value)),
        _ => Err(format!("{var} must be an absolute http(s) URL")),
    }
}

fn apply_overrides(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    cfg: &mut ProviderConfig,
) -> Result<(), String> {
    if let Some(u) = url_var(get, &format!("AUTH_EXTERNAL_{key}_AUTHORIZE_URL"))? {
        cfg.authorize_url = u;
    }
    if let Some(u) = url_var(get, &format!("AUTH_EXTERNAL_{key}_TOKEN_URL"))? {
        cfg.token_url = u;
    }
    if let Some(u) = url_var(get, &format!("AUTH_EXTERNAL_{key}_USERINFO_URL"))? {
        cfg.userinfo_url = u;
    }
    if let Some(scopes) = get(&format!("AUTH_EXTERNAL_{key}_SCOPES")) {
        cfg.add_scopes(&scopes);
    }
    Ok(())
}
