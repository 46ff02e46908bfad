//! GoTrue's password strength rules (minimum length, required character groups, 72-byte cap) and
//! their wording. Must not hash, log or store passwords, and does no breached-password lookup
//! (GoTrue's optional HaveIBeenPwned check, reason `"pwned"`, is not implemented).

#[cfg(test)]
mod tests;

/// GoTrue's floor for `GOTRUE_PASSWORD_MIN_LENGTH`: smaller (or unset) values become 6.
pub const DEFAULT_MIN_LENGTH: usize = 6;

/// GoTrue refuses new passwords longer than this many bytes (bcrypt's input limit), with HTTP 400
/// `validation_failed` rather than `weak_password`.
pub const MAX_PASSWORD_LENGTH: usize = 72;

/// Strength requirements for new passwords (sign-up, password change, admin create/update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in bytes (GoTrue compares Go's `len`, i.e. UTF-8 bytes, not characters).
    pub min_length: usize,
    /// Character groups, e.g. `"abcdefghijklmnopqrstuvwxyz"`, `"ABCDEFGHIJKLMNOPQRSTUVWXYZ"`,
    /// `"0123456789"`, a symbols group: the password needs at least one character of each.
    pub required_characters: Vec<String>,
}

impl Default for PasswordPolicy {
    /// GoTrue's defaults: at least 6, no required characters.
    fn default() -> Self {
        Self {
            min_length: DEFAULT_MIN_LENGTH,
            required_characters: Vec::new(),
        }
    }
}

impl PasswordPolicy {
    /// Builds the policy from the raw values of `GOTRUE_PASSWORD_MIN_LENGTH` and
    /// `GOTRUE_PASSWORD_REQUIRED_CHARACTERS`.
    ///
    /// Minimum length: unset or blank means 6; an integer below 6 is raised to 6 (as GoTrue
    /// does); a value above [`MAX_PASSWORD_LENGTH`] is an error here (GoTrue accepts it and then
    /// no password can ever pass).
    ///
    /// Required characters: GoTrue's format, groups separated by `:`, `\:` standing for a literal
    /// colon inside a group (any other backslash is literal), empty groups ignored; e.g.
    ///
    /// ```text
    /// abcdefghijklmnopqrstuvwxyz:ABCDEFGHIJKLMNOPQRSTUVWXYZ:0123456789:!@#$%^&*()_+-=[]{};'\:"|<>?,./`~
    /// ```
    ///
    /// One divergence: GoTrue mis-splits two escaped colons in one group (`a\:b\:c` gives it
    /// `a:b\` and `c`); here it is the single group `a:b:c`.
    pub fn from_env_values(
        min_length: Option<&str>,
        required: Option<&str>,
    ) -> Result<Self, String> {
        let min_length = match min_length.map(str::trim) {
            None | Some("") => DEFAULT_MIN_LENGTH,
            Some(raw) => {
                let parsed: i64 = raw.parse().map_err(|_| {
                    format!("GOTRUE_PASSWORD_MIN_LENGTH must be an integer, got {raw:?}")
                })?;
                let at_least_default = usize::try_from(parsed)
                    .unwrap_or(DEFAULT_MIN_LENGTH)
                    .max(DEFAULT_MIN_LENGTH);
                if at_least_default > MAX_PASSWORD_LENGTH {
                    return Err(format!(
                        "GOTRUE_PASSWORD_MIN_LENGTH is {parsed}, but passwords cannot be longer \
                         than {MAX_PASSWORD_LENGTH} characters"
                    ));
                }
                at_least_default
            }
        };
        Ok(Self {
            min_length,
            required_characters: required.map(split_groups).unwrap_or_default(),
        })
    }
}

/// Splits GoTrue's `:`-separated required-character groups (see [`PasswordPolicy::from_env_values`]).
fn split_groups(value: &str) -> Vec<String> {
    let mut groups = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&':') => {
                current.push(':');
                chars.next();
            }
            ':' => {
                if !current.is_empty() {
                    groups.push(std::mem::take(&mut current));
                }
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// A password that does not meet the policy: GoTrue answers HTTP 422 with error code
/// `weak_password`, `msg` = `message` and `weak_password: { "reasons": reasons }`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WeakPassword {
    /// GoTrue's sentences, space-separated, e.g. `"Password should be at least 6 characters."`.
    pub message: String,
    /// In order: `"length"`, `"characters"` (GoTrue also has `"pwned"`, not produced here).
    pub reasons: Vec<&'static str>,
}

/// Why [`check_password`] refused a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejected {
    /// Over [`MAX_PASSWORD_LENGTH`] bytes: GoTrue answers HTTP 400, error code
    /// `validation_failed`, with this message. On a successful password sign-in GoTrue ignores
    /// this case (it only logs it).
    #[error("Password cannot be longer than {max} characters")]
    TooLong {
        /// [`MAX_PASSWORD_LENGTH`].
        max: usize,
    },
    /// Too short or missing a character group: HTTP 422 `weak_password`. On a successful password
    /// sign-in GoTrue does not refuse but returns it as `weak_password` in the token response.
    #[error(transparent)]
    Weak(WeakPassword),
}

/// Checks `password` the way GoTrue's `checkPasswordStrength` does: first the 72-byte cap, then
/// the minimum length (bytes) and each required group (one message for all groups).
pub fn check_password(policy: &PasswordPolicy, password: &str) -> Result<(), PasswordRejected> {
    if password.len() > MAX_PASSWORD_LENGTH {
        return Err(PasswordRejected::TooLong {
            max: MAX_PASSWORD_LENGTH,
        });
    }
    let mut messages = Vec::new();
    let mut reasons = Vec::new();
    if password.len() < policy.min_length {
        reasons.push("length");
        messages.push(format!(
            "Password should be at least {} characters.",
            policy.min_length
        ));
    }
    let misses_a_group = policy
        .required_characters
        .iter()
        .filter(|group| !group.is_empty())
        .any(|group| !password.chars().any(|c| group.contains(c)));
    if misses_a_group {
        reasons.push("characters");
        messages.push(format!(
            "Password should contain at least one character of each: {}.",
            policy.required_characters.join(", ")
        ));
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(PasswordRejected::Weak(WeakPassword {
            message: messages.join(" "),
            reasons,
        }))
    }
}
