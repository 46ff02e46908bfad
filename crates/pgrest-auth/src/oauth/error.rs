//! Errors of the OAuth client side: which step failed (token exchange, profile, e-mail list) and
//! why, plus the GoTrue message a callback should surface for each.
//!
//! Must not carry client secrets, authorization codes, verifiers or provider tokens in any message
//! or field; provider-supplied texts are cut short and scrubbed of those values before they get here.

use std::fmt;

/// The request to the provider that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The token endpoint (code → access token).
    Token,
    /// The userinfo / `GET /user` endpoint.
    UserInfo,
    /// GitHub's `GET /user/emails`.
    Emails,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Token => "token endpoint",
            Self::UserInfo => "userinfo endpoint",
            Self::Emails => "emails endpoint",
        })
    }
}

/// Why talking to an external OAuth provider failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider answered with an OAuth error (`{"error": "invalid_grant", ...}`), whatever the
    /// HTTP status (GitHub answers a bad code with 200 and an error body).
    #[error("provider {stage} refused the request (HTTP {status}): {error}{}", description_suffix(.description.as_deref()))]
    Refused {
        /// Where.
        stage: Stage,
        /// The HTTP status the provider used.
        status: u16,
        /// The OAuth error code, e.g. `invalid_grant`, `bad_verification_code`.
        error: String,
        /// The provider's `error_description`, shortened and scrubbed of our secrets.
        description: Option<String>,
    },
    /// A non-success status without an OAuth error body.
    #[error("provider {stage} answered HTTP {status}")]
    Status {
        /// Where.
        stage: Stage,
        /// The HTTP status.
        status: u16,
    },
    /// A success status whose body we could not use (not JSON, no access token, no subject ...).
    #[error("provider {stage} sent an unusable response: {reason}")]
    BadResponse {
        /// Where.
        stage: Stage,
        /// What was wrong (never the body itself).
        reason: String,
    },
    /// The provider gave no e-mail address for the user.
    #[error("Error getting user email from external provider")]
    NoEmail,
    /// The request could not be sent or its answer not read (DNS, TLS, timeout, reset ...).
    #[error("could not reach provider {stage}: {cause}")]
    Transport {
        /// Where.
        stage: Stage,
        /// What went wrong, with the innermost cause (e.g. "error sending request: Connection
        /// refused (os error 111)"), or "timed out".
        cause: String,
        /// The underlying error, with its URL removed.
        #[source]
        source: reqwest::Error,
    },
}

fn description_suffix(description: Option<&str>) -> String {
    description.map_or_else(String::new, |d| format!(" ({d})"))
}

impl OAuthError {
    /// The step that failed; `None` for [`OAuthError::NoEmail`].
    #[must_use]
    pub fn stage(&self) -> Option<Stage> {
        match self {
            Self::Refused { stage, .. }
            | Self::Status { stage, .. }
            | Self::BadResponse { stage, .. }
            | Self::Transport { stage, .. } => Some(*stage),
            Self::NoEmail => None,
        }
    }

    /// The message GoTrue's callback reports for this failure (as `error_description` of a
    /// `server_error` redirect): `"Unable to exchange external code"` (GoTrue appends the first
    /// four characters of the code, which the caller has), `"Error getting user profile from
    /// external provider"`, or `"Error getting user email from external provider"`.
    #[must_use]
    pub fn gotrue_message(&self) -> &'static str {
        match self.stage() {
            Some(Stage::Token) => "Unable to exchange external code",
            Some(Stage::UserInfo | Stage::Emails) => {
                "Error getting user profile from external provider"
            }
            None => "Error getting user email from external provider",
        }
    }

    pub(crate) fn transport(stage: Stage, source: reqwest::Error) -> Self {
        let source = source.without_url();
        let mut innermost: Option<&dyn std::error::Error> = None;
        let mut next = std::error::Error::source(&source);
        while let Some(err) = next {
            innermost = Some(err);
            next = err.source();
        }
        let cause: String = if source.is_timeout() {
            "timed out".to_owned()
        } else {
            match innermost {
                Some(inner) => format!("{source}: {inner}"),
                None => source.to_string(),
            }
            .chars()
            .take(200)
            .collect()
        };
        Self::Transport {
            stage,
            cause,
            source,
        }
    }

    pub(crate) fn bad(stage: Stage, reason: impl Into<String>) -> Self {
        Self::BadResponse {
            stage,
            reason: reason.into(),
        }
    }
}
