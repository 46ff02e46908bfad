//! Start-up decisions of the API Lambda that depend on its environment: whether to trust the
//! REQUEST authorizer's context, and which log format to write.
//!
//! Must not read the environment itself (main passes the values in) or parse engine settings.

/// The `trust_authorizer` override handed to `Config::load`.
///
/// Behind API Gateway the authorizer context is trusted unless `PGREST_TRUST_AUTHORIZER` says
/// otherwise: unset (or empty) gives `Some(true)`; any other value is left to `Config`, which
/// parses it (`false` turns trust off, garbage is a start-up error). Trust only ever applies to
/// events that actually carry our authorizer's context: the adapter attaches nothing otherwise,
/// and the App then verifies the tokens itself (S-04).
pub fn trust_authorizer_override(env_value: Option<&str>) -> Option<bool> {
    match env_value.map(str::trim) {
        None | Some("") => Some(true),
        Some(_) => None,
    }
}

/// JSON logs when `LOG_FORMAT=json`, or by default inside Lambda; plain text otherwise.
pub fn json_logs(log_format: Option<&str>, in_lambda: bool) -> bool {
    match log_format.map(str::trim).filter(|f| !f.is_empty()) {
        Some(format) => format.eq_ignore_ascii_case("json"),
        None => in_lambda,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_defaults_on_and_defers_explicit_values_to_config() {
        assert_eq!(trust_authorizer_override(None), Some(true));
        assert_eq!(trust_authorizer_override(Some("")), Some(true));
        assert_eq!(trust_authorizer_override(Some("false")), None);
        assert_eq!(trust_authorizer_override(Some("true")), None);
    }

    #[test]
    fn log_format() {
        assert!(json_logs(Some("json"), false));
        assert!(json_logs(Some("JSON"), false));
        assert!(!json_logs(Some("text"), true));
        assert!(json_logs(None, true));
        assert!(!json_logs(None, false));
        assert!(json_logs(Some(""), true));
    }
}
