//! How runners turn auth on: `AUTH_PROVIDER` = `native` (must start), `none` (off), or unset
//! (native when the auth schema is present, otherwise off with a warning naming the fix).
//! Picks the mailer: the runner's (dev capture), else SMTP from the environment, else none (only
//! with confirmation off: confirming needs mail).
//!
//! Must not run migrations; `pgrest-lambda migrate-auth` and `dev` do that explicitly (V-22).

use std::collections::HashMap;
use std::sync::Arc;

use pgrest_core::App;

use crate::mailer::{MailError, MailFuture, Mailer, SmtpMailer, SmtpSettings, Email};
use crate::service::{AuthStartError, NativeAuth};

/// What `install_from_env` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSetup {
    Installed { mailer: &'static str },
    Disabled(String),
}

/// A mailer for deployments without one: sending fails with an explanation.
#[derive(Debug, Default)]
pub struct NoMailer;

impl Mailer for NoMailer {
    fn send<'a>(&'a self, _email: Email) -> MailFuture<'a> {
        Box::pin(async { Err(MailError::Config("no mailer configured: set SMTP_HOST (and SMTP_ADMIN_EMAIL) to send auth email".to_string())) })
    }
}

/// Why confirmation without a mailer refuses to start: every sign-up would fail.
pub const NO_MAILER: &str = "email confirmation is on (MAILER_AUTOCONFIRM is not true) but no mailer is configured, \
     so every sign-up would fail: set SMTP_HOST (and SMTP_ADMIN_EMAIL) to send auth email, \
     or MAILER_AUTOCONFIRM=true to sign users up without confirming their address";

/// Builds and installs the native auth service according to `AUTH_PROVIDER`. Refuses to start
/// when email confirmation is on and no mailer is configured ([`NO_MAILER`]).
/// `mailer` overrides the environment's choice (dev passes a capture mailer).
pub async fn install_from_env(app: &App, env: &HashMap<String, String>, default_external_url: &str, mailer: Option<Arc<dyn Mailer>>) -> Result<AuthSetup, AuthStartError> {
    let provider = env.get("AUTH_PROVIDER").map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty());
    let required = match provider.as_deref() {
        Some("none" | "off" | "false") => return Ok(AuthSetup::Disabled("AUTH_PROVIDER=none".to_string())),
        Some("native") => true,
        None => false,
        Some(other) => return Err(AuthStartError::Config(format!("AUTH_PROVIDER={other}: expected native or none (cognito arrives with the AWS adapters)"))),
    };
    let (mailer, kind): (Arc<dyn Mailer>, &'static str) = match mailer {
        Some(m) => (m, "capture"),
        None => match SmtpSettings::from_env(|k| env.get(k).cloned()).map_err(AuthStartError::Config)? {
            Some(settings) => (Arc::new(SmtpMailer::new(settings).map_err(|e| AuthStartError::Config(e.to_string()))?), "smtp"),
            None => (Arc::new(NoMailer), "none"),
        },
    };
    match NativeAuth::from_env(app, env, default_external_url, mailer).await {
        Ok(service) if kind == "none" && !service.config().autoconfirm => Err(AuthStartError::Config(NO_MAILER.to_string())),
        Ok(service) => {
            service.install(app);
            Ok(AuthSetup::Installed { mailer: kind })
        }
        Err(AuthStartError::Schema(message)) if !required => {
            tracing::warn!("auth disabled: {message}");
            Ok(AuthSetup::Disabled(message))
        }
        Err(e) => Err(e),
    }
}
