//! Outgoing auth email: the [`Email`] value, the [`Mailer`] trait the auth service sends through,
//! the default and custom templates ([`templates`]), an SMTP sender ([`smtp`]) and an in-memory
//! sender for `dev` and tests ([`capture`]).
//!
//! A mailer only delivers what it is given: it must not decide who gets mail or how often (the
//! auth service and its rate limits do that), and its errors and `Debug` output must never carry
//! SMTP credentials.

pub mod capture;
pub mod smtp;
pub mod templates;

pub use capture::{CaptureMailer, extract_link, extract_token};
pub use smtp::{SmtpMailer, SmtpSecurity, SmtpSettings};
pub use templates::{Template, TemplateData, TemplateOverrides, build, render};

/// One message, ready to send: a single recipient, a subject, and the same content as HTML and as
/// plain text (sent together as `multipart/alternative`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Why a message was not sent. Messages name the problem, never a password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A recipient or sender address that cannot be used in a mail header.
    #[error("invalid email address for {role}: {address:?}")]
    InvalidAddress { role: &'static str, address: String },
    /// The mailer's own settings cannot work (for example TLS for an unusable host name).
    #[error("mailer configuration: {0}")]
    Config(String),
    /// The message could not be put together.
    #[error("could not build the email: {0}")]
    Message(String),
    /// Connecting to the mail server, or the conversation with it, failed.
    #[error("mail transport failed: {0}")]
    Transport(String),
}

/// The future a [`Mailer`] returns: resolves once the message has been handed over (or refused).
pub type MailFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), MailError>> + Send + 'a>>;

/// Something that delivers an [`Email`]. Implementations are shared across requests.
pub trait Mailer: Send + Sync + std::fmt::Debug {
    fn send<'a>(&'a self, email: Email) -> MailFuture<'a>;
}
