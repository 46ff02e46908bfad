//! Sends auth email through an SMTP server (lettre over tokio, rustls for TLS), configured with
//! GoTrue's `SMTP_*` settings. Each message goes out as `multipart/alternative` (text, then HTML).
//!
//! Must not reveal the SMTP password: `Debug` hides it and error messages are scrubbed of it. It
//! must not fall back to an unencrypted connection when TLS was asked for.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Email, MailError, MailFuture, Mailer};

/// How long one SMTP command may take before the send fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text, no TLS at all: only for local sinks (Mailpit, Inbucket, a test server).
    None,
    /// Connect in plain text, then upgrade with STARTTLS; fail if the server cannot (usually port 587).
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

impl SmtpSecurity {
    fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "none" | "plain" | "off" | "false" => Some(SmtpSecurity::None),
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" | "ssl" | "smtps" | "implicit" => Some(SmtpSecurity::Tls),
            _ => None,
        }
    }
}

/// Where and how to send mail.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The From header: `Name <addr>` or a bare address.
    pub from: String,
    pub security: SmtpSecurity,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("from", &self.from)
            .field("security", &self.security)
            .finish()
    }
}

impl SmtpSettings {
    /// Reads GoTrue's names: `SMTP_HOST`, `SMTP_PORT` (default 587), `SMTP_USER`, `SMTP_PASS`,
    /// `SMTP_ADMIN_EMAIL` (the From address, required with a host), `SMTP_SENDER_NAME`, and
    /// `SMTP_SECURITY` (`none`, `starttls` or `tls`; default `tls` on port 465, else `starttls`).
    /// `Ok(None)` when `SMTP_HOST` is unset or empty; `Err` names the setting that is wrong.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<SmtpSettings>, String> {
        let get = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let Some(host) = get("SMTP_HOST") else { return Ok(None) };
        let port = match get("SMTP_PORT") {
            None => 587,
            Some(v) => match v.parse::<u16>() {
                Ok(p) if p != 0 => p,
                _ => return Err(format!("SMTP_PORT: {v:?} is not a port number")),
            },
        };
        let username = get("SMTP_USER");
        let password = get("SMTP_PASS");
        if password.is_some() && username.is_none() {
            return Err("SMTP_PASS is set but SMTP_USER is not".to_string());
        }
        let Some(admin) = get("SMTP_ADMIN_EMAIL") else {
            return Err("SMTP_ADMIN_EMAIL (the From address) is required when SMTP_HOST is set".to_string());
        };
        let mailbox: Mailbox =
            admin.parse().map_err(|_| format!("SMTP_ADMIN_EMAIL: {admin:?} is not an email address"))?;
        let mailbox = match get("SMTP_SENDER_NAME") {
            Some(name) => Mailbox::new(Some(name), mailbox.email),
            None => mailbox,
        };
        let security = match get("SMTP_SECURITY") {
            None if port == 465 => SmtpSecurity::Tls,
            None => SmtpSecurity::StartTls,
            Some(v) => SmtpSecurity::parse(&v)
                .ok_or_else(|| format!("SMTP_SECURITY: {v:?} is not one of none, starttls, tls"))?,
        };
        Ok(Some(SmtpSettings { host, port, username, password, from: mailbox.to_string(), security }))
    }
}

/// Sends through one SMTP server. Built once at start; each message opens its own connection.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
    security: SmtpSecurity,
    /// Strings that must never appear in an error message (the password).
    secrets: Vec<String>,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Checks the settings and prepares the transport (no connection is made yet).
    pub fn new(settings: SmtpSettings) -> Result<Self, MailError> {
        let SmtpSettings { host, port, username, password, from, security } = settings;
        if host.trim().is_empty() {
            return Err(MailError::Config("the SMTP host is empty".to_string()));
        }
        let from: Mailbox =
            from.parse().map_err(|_| MailError::InvalidAddress { role: "sender", address: from.clone() })?;
        let tls_parameters =
            || TlsParameters::new(host.clone()).map_err(|e| MailError::Config(format!("TLS for {host}: {e}")));
        let tls = match security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_parameters()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(COMMAND_TIMEOUT));
        let mut secrets = Vec::new();
        if let Some(user) = username {
            let pass = password.unwrap_or_default();
            if !pass.is_empty() {
                secrets.push(pass.clone());
            }
            builder = builder.credentials(Credentials::new(user, pass));
        }
        Ok(SmtpMailer { transport: builder.build(), from, host, port, security, secrets })
    }

    fn message(&self, email: Email) -> Result<Message, MailError> {
        let to: Mailbox =
            email.to.parse().map_err(|_| MailError::InvalidAddress { role: "recipient", address: email.to.clone() })?;
        let subject: String = email.subject.split(['\r', '\n']).collect::<Vec<_>>().join(" ");
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(None)
            .multipart(MultiPart::alternative_plain_html(email.text, email.html))
            .map_err(|e| MailError::Message(e.to_string()))
    }

    fn transport_error(&self, err: &lettre::transport::smtp::Error) -> MailError {
        let mut detail = err.to_string();
        for secret in &self.secrets {
            detail = detail.replace(secret.as_str(), "<hidden>");
        }
        let hint = if self.security == SmtpSecurity::StartTls && detail.contains("STARTTLS") {
            " (for a local server without TLS set SMTP_SECURITY=none)"
        } else {
            ""
        };
        MailError::Transport(format!("{}:{}: {detail}{hint}", self.host, self.port))
    }
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, email: Email) -> MailFuture<'a> {
        Box::pin(async move {
            let message = self.message(email)?;
            match self.transport.send(message).await {
                Ok(_) => Ok(()),
                Err(e) => {
                    let err = self.transport_error(&e);
                    tracing::warn!(error = %err, "sending email failed");
                    Err(err)
                }
            }
        })
    }
}
