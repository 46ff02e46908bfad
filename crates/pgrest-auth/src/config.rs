//! Auth configuration (GoTrue's settings under our names): site URL and redirect allow-list,
//! confirmation policy, password policy, token lifetimes, signing keys, rate limits, providers.
//!
//! Read once at start from an environment map; must not be consulted for secrets anywhere else.

use std::collections::HashMap;
use std::time::Duration;

use crate::password::{KdfParams, PasswordPolicy};
use crate::ratelimit::Limit;

/// Everything the auth service needs besides the database.
#[derive(Clone)]
pub struct AuthConfig {
    /// Where users land after confirming (GoTrue's `SITE_URL`); also the default redirect.
    pub site_url: String,
    /// Extra allowed redirect targets (`URI_ALLOW_LIST`): URLs with GoTrue's globs (`*`, `**`, `?`).
    pub redirect_allow_list: Vec<String>,
    /// Public URL of this API (`API_EXTERNAL_URL`), for links in emails and the OAuth callback.
    pub external_url: String,
    /// Sign-ups without email confirmation. Off unless chosen explicitly (V-08).
    pub autoconfirm: bool,
    pub disable_signup: bool,
    pub anonymous_enabled: bool,
    pub password_policy: PasswordPolicy,
    pub kdf: KdfParams,
    /// Access-token lifetime (GoTrue's `JWT_EXP`, default one hour).
    pub access_token_ttl: Duration,
    /// A refresh token revoked less than this long ago still answers with the session's active
    /// token (GoTrue's reuse interval); the parent of the active token always does.
    pub refresh_reuse_interval: Duration,
    /// One-time tokens (confirmation, magic link, recovery) expire after this long.
    pub otp_ttl: Duration,
    pub issuer: String,
    pub audience: String,
    pub limits: RateLimits,
    /// Minimum time between two emails to one address (GoTrue's `SMTP_MAX_FREQUENCY`).
    pub email_min_interval: Duration,
    /// Wrong guesses after which a mailed code is burnt (`AUTH_OTP_MAX_ATTEMPTS`, V-12).
    pub otp_max_attempts: u32,
    /// Wrong codes per address per window, counted in the database; beyond them verification
    /// for the address answers 429 (`AUTH_OTP_FAILURES_PER_ADDRESS`, V-12).
    pub otp_failures_per_address: Limit,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("site_url", &self.site_url)
            .field("external_url", &self.external_url)
            .field("autoconfirm", &self.autoconfirm)
            .field("anonymous_enabled", &self.anonymous_enabled)
            .finish_non_exhaustive()
    }
}

/// Per-IP and per-email limits on the endpoints that attackers hammer (V-12).
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub signup_per_ip: Limit,
    pub password_per_ip: Limit,
    pub password_per_email: Limit,
    pub otp_per_ip: Limit,
    pub email_per_address: Limit,
    pub refresh_per_ip: Limit,
    pub verify_per_ip: Limit,
    /// `GET /authorize` (each call stores an OAuth flow).
    pub authorize_per_ip: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        let five_min = Duration::from_secs(300);
        RateLimits {
            signup_per_ip: Limit { max: 30, per: five_min },
            password_per_ip: Limit { max: 30, per: five_min },
            password_per_email: Limit { max: 10, per: five_min },
            otp_per_ip: Limit { max: 30, per: five_min },
            email_per_address: Limit { max: 4, per: Duration::from_secs(3600) },
            refresh_per_ip: Limit { max: 150, per: five_min },
            verify_per_ip: Limit { max: 30, per: five_min },
            authorize_per_ip: Limit { max: 30, per: five_min },
        }
    }
}

impl RateLimits {
    /// Defaults, each overridable with `AUTH_RATE_LIMIT_<NAME>=<max>/<seconds>` where NAME is
    /// SIGNUP, PASSWORD_IP, PASSWORD_EMAIL, OTP, EMAIL, REFRESH, VERIFY or AUTHORIZE (e.g. `30/300`).
    pub fn from_env(env: &HashMap<String, String>) -> Result<RateLimits, AuthConfigError> {
        let mut limits = RateLimits::default();
        let slots: [(&'static str, &mut Limit); 8] = [
            ("AUTH_RATE_LIMIT_SIGNUP", &mut limits.signup_per_ip),
            ("AUTH_RATE_LIMIT_PASSWORD_IP", &mut limits.password_per_ip),
            ("AUTH_RATE_LIMIT_PASSWORD_EMAIL", &mut limits.password_per_email),
            ("AUTH_RATE_LIMIT_OTP", &mut limits.otp_per_ip),
            ("AUTH_RATE_LIMIT_EMAIL", &mut limits.email_per_address),
            ("AUTH_RATE_LIMIT_REFRESH", &mut limits.refresh_per_ip),
            ("AUTH_RATE_LIMIT_VERIFY", &mut limits.verify_per_ip),
            ("AUTH_RATE_LIMIT_AUTHORIZE", &mut limits.authorize_per_ip),
        ];
        for (name, slot) in slots {
            let Some(text) = env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else { continue };
            *slot = parse_limit(text).ok_or_else(|| invalid(name, format!("{text:?} is not <max>/<seconds>, e.g. 30/300")))?;
        }
        Ok(limits)
    }
}

/// `<max>/<seconds>`, e.g. `30/300`.
fn parse_limit(text: &str) -> Option<Limit> {
    let (max, secs) = text.split_once('/')?;
    Some(Limit { max: max.trim().parse().ok()?, per: Duration::from_secs(secs.trim().parse().ok()?) })
}

/// A configuration problem, reported at start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value for {name}: {problem}")]
pub struct AuthConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn invalid(name: &'static str, problem: impl Into<String>) -> AuthConfigError {
    AuthConfigError { name, problem: problem.into() }
}

impl AuthConfig {
    /// Reads `AUTH_*` settings (and GoTrue's names where they are well known) from `env`.
    /// `default_external_url` is where this API is reachable when `API_EXTERNAL_URL` is unset.
    pub fn from_env(env: &HashMap<String, String>, default_external_url: &str) -> Result<AuthConfig, AuthConfigError> {
        let get = |k: &str| env.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let flag = |k: &'static str, default: bool| -> Result<bool, AuthConfigError> {
            match get(k).map(|v| v.to_ascii_lowercase()) {
                None => Ok(default),
                Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
                Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
                Some(v) => Err(invalid(k, format!("{v:?} is not true or false"))),
            }
        };
        let seconds = |k: &'static str, default: u64| -> Result<Duration, AuthConfigError> {
            match get(k) {
                None => Ok(Duration::from_secs(default)),
                Some(v) => v.parse::<u64>().map(Duration::from_secs).map_err(|_| invalid(k, format!("{v:?} is not a number of seconds"))),
            }
        };
        let external_url = get("API_EXTERNAL_URL").unwrap_or_else(|| default_external_url.to_string());
        let external_url = external_url.trim_end_matches('/').to_string();
        let site_url = get("SITE_URL").unwrap_or_else(|| "http://localhost:3000".to_string());
        let password_policy = PasswordPolicy::from_env_values(get("AUTH_PASSWORD_MIN_LENGTH").as_deref(), get("AUTH_PASSWORD_REQUIRED_CHARACTERS").as_deref())
            .map_err(|e| invalid("AUTH_PASSWORD_MIN_LENGTH", e))?;
        let redirect_allow_list: Vec<String> = get("URI_ALLOW_LIST")
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        for entry in &redirect_allow_list {
            let pattern = crate::redirect::Pattern::parse(entry).map_err(|e| invalid("URI_ALLOW_LIST", e))?;
            if pattern.globs_top_level_domain() {
                tracing::warn!(entry = %entry, "URI_ALLOW_LIST: a glob in the last label of the host (or ** in the host) admits other domains; end the host with a literal label, e.g. https://app.example.com/**");
            }
        }
        Ok(AuthConfig {
            redirect_allow_list,
            issuer: get("AUTH_JWT_ISSUER").unwrap_or_else(|| format!("{external_url}/auth/v1")),
            audience: get("AUTH_JWT_AUD").unwrap_or_else(|| "authenticated".to_string()),
            site_url,
            external_url,
            autoconfirm: flag("MAILER_AUTOCONFIRM", false)?,
            disable_signup: flag("DISABLE_SIGNUP", false)?,
            anonymous_enabled: flag("AUTH_ANONYMOUS_USERS_ENABLED", false)?,
            password_policy,
            kdf: KdfParams::default(),
            access_token_ttl: seconds("JWT_EXP", 3600)?,
            refresh_reuse_interval: seconds("AUTH_REFRESH_TOKEN_REUSE_INTERVAL", 10)?,
            otp_ttl: seconds("MAILER_OTP_EXP", 3600)?,
            limits: RateLimits::from_env(env)?,
            email_min_interval: seconds("SMTP_MAX_FREQUENCY", 60)?,
            otp_max_attempts: match get("AUTH_OTP_MAX_ATTEMPTS") {
                None => 5,
                Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| invalid("AUTH_OTP_MAX_ATTEMPTS", format!("{v:?} is not a positive number")))?,
            },
            otp_failures_per_address: match get("AUTH_OTP_FAILURES_PER_ADDRESS") {
                None => Limit { max: 20, per: Duration::from_secs(3600) },
                Some(v) => parse_limit(&v).ok_or_else(|| invalid("AUTH_OTP_FAILURES_PER_ADDRESS", format!("{v:?} is not <max>/<seconds>, e.g. 20/3600")))?,
            },
        })
    }

    /// Whether `target` may receive a redirect: the site URL's scheme and host, or an allow-list
    /// entry matched part by part with GoTrue's globs ([`crate::redirect`]). Everything else,
    /// and anything with userinfo, is refused (S-06).
    pub fn redirect_allowed(&self, target: &str) -> bool {
        crate::redirect::allowed(&self.site_url, &self.redirect_allow_list, target)
    }

    /// The redirect to use: the requested one when allowed, else the site URL.
    pub fn choose_redirect(&self, requested: Option<&str>) -> String {
        match requested {
            Some(r) if self.redirect_allowed(r) => r.to_string(),
            _ => self.site_url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> AuthConfig {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AuthConfig::from_env(&env, "http://127.0.0.1:3000").unwrap()
    }

    #[test]
    fn rate_limits_are_configurable() {
        let c = config(&[("AUTH_RATE_LIMIT_PASSWORD_IP", "1000/60")]);
        assert_eq!(c.limits.password_per_ip, Limit { max: 1000, per: Duration::from_secs(60) });
        assert_eq!(config(&[]).limits.authorize_per_ip, Limit { max: 30, per: Duration::from_secs(300) });
        assert_eq!(config(&[("AUTH_RATE_LIMIT_AUTHORIZE", "5/60")]).limits.authorize_per_ip, Limit { max: 5, per: Duration::from_secs(60) });
        let env = [("AUTH_RATE_LIMIT_OTP".to_string(), "lots".to_string())].into_iter().collect();
        assert!(AuthConfig::from_env(&env, "http://x").is_err());
    }

    #[test]
    fn confirmation_is_required_unless_chosen() {
        assert!(!config(&[]).autoconfirm);
        assert!(config(&[("MAILER_AUTOCONFIRM", "true")]).autoconfirm);
    }

    #[test]
    fn redirects_are_checked_against_site_and_allow_list() {
        let c = config(&[("SITE_URL", "https://app.example.com"), ("URI_ALLOW_LIST", "https://preview.example.com/**,myapp://callback")]);
        assert!(c.redirect_allowed("https://app.example.com/welcome"));
        assert!(c.redirect_allowed("https://preview.example.com/a/b"));
        assert!(!c.redirect_allowed("https://preview.example.com.evil.net/a/b"));
        assert!(!c.redirect_allowed("https://app.example.com@evil.net/"));
        assert!(c.redirect_allowed("myapp://callback"));
        assert!(!c.redirect_allowed("https://evil.example.net/"));
        assert!(!c.redirect_allowed("https://app.example.com.evil.net/"));
        assert!(!c.redirect_allowed("javascript:alert(1)"));
        assert_eq!(c.choose_redirect(Some("https://evil.example.net")), "https://app.example.com");
    }

    #[test]
    fn unreadable_allow_list_entries_stop_the_start() {
        let env = [("URI_ALLOW_LIST".to_string(), "https://ok.example.com/**, preview.example.com".to_string())].into_iter().collect();
        let err = AuthConfig::from_env(&env, "http://x").unwrap_err();
        assert_eq!(err.name, "URI_ALLOW_LIST");
    }
}
