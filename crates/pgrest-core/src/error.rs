//! The one error table: every stage's error → HTTP status, PostgREST code, message, details,
//! hint. Bodies are `{code, message, details, hint}` exactly as PostgREST writes them.
//!
//! Must not be bypassed: no other module chooses an error status. Database texts of server-side
//! failures (5xx) are replaced by an error id unless verbose errors are configured (V-09).

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use serde_json::{json, Value};

use crate::api_request::RequestError;
use crate::auth::jwt::JwtError;
use crate::auth::role::RoleError;
use crate::db::DbError;
use crate::plan::PlanError;

/// Any failure of the REST pipeline.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// A role refused before the database saw it; `anonymous` as for `Db`.
    #[error("{error}")]
    Role { error: RoleError, anonymous: bool },
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("{error}")]
    Db { error: DbError, anonymous: bool },
    #[error("Cannot coerce the result to a single JSON object")]
    Singular { rows: i64 },
    #[error("Requested range not satisfiable")]
    OffsetBeyondTotal { offset: i64, total: i64 },
    #[error("Could not query the database for the schema cache. Retrying.")]
    SchemaCacheNotReady,
    #[error("Invalid path specified in request URL")]
    NotFound,
}

/// An error rendered: status, body fields and extra headers.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorParts {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Value,
    pub hint: Value,
    pub headers: Vec<(header::HeaderName, String)>,
}

fn parts(status: u16, code: &str, message: impl Into<String>, details: Value, hint: Value) -> ErrorParts {
    ErrorParts {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        code: code.to_string(),
        message: message.into(),
        details,
        hint,
        headers: Vec::new(),
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

impl Error {
    /// Status, code and texts of this error (the table).
    pub fn parts(&self, verbose: bool) -> ErrorParts {
        match self {
            Error::Jwt(e) => jwt_parts(e),
            Error::Role { error, anonymous } => role_parts(error, *anonymous),
            Error::Request(e) => request_parts(e),
            Error::Plan(e) => plan_parts(e),
            Error::Db { error, anonymous } => db_parts(error, *anonymous, verbose),
            Error::Singular { rows } => parts(406, "PGRST116", self.to_string(), text(format!("The result contains {rows} rows")), Value::Null),
            Error::OffsetBeyondTotal { offset, total } => {
                let mut p = parts(416, "PGRST103", self.to_string(), text(format!("An offset of {offset} was requested, but there are only {total} rows.")), Value::Null);
                p.headers.push((header::CONTENT_RANGE, format!("*/{total}")));
                p
            }
            Error::SchemaCacheNotReady => parts(503, "PGRST002", self.to_string(), Value::Null, Value::Null),
            Error::NotFound => parts(404, "PGRST125", self.to_string(), Value::Null, Value::Null),
        }
    }

    /// The HTTP response for this error.
    pub fn to_response(&self, verbose: bool) -> http::Response<Bytes> {
        let p = self.parts(verbose);
        let body = json!({"code": p.code, "message": p.message, "details": p.details, "hint": p.hint});
        let mut response = http::Response::new(Bytes::from(body.to_string()));
        *response.status_mut() = p.status;
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        for (name, value) in p.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, v);
            }
        }
        response
    }
}

fn jwt_parts(e: &JwtError) -> ErrorParts {
    let (code, bearer) = match e {
        JwtError::Invalid(_) => ("PGRST301", format!("Bearer error=\"invalid_token\", error_description=\"{e}\"")),
        JwtError::Claims(_) => ("PGRST303", format!("Bearer error=\"invalid_token\", error_description=\"{e}\"")),
        JwtError::Required => ("PGRST302", "Bearer".to_string()),
    };
    let mut p = parts(401, code, e.to_string(), Value::Null, Value::Null);
    p.headers.push((header::WWW_AUTHENTICATE, bearer));
    p
}

/// PostgREST answers a role that does not exist with 401 `22023`; a role the authenticator may
/// not become is PostgreSQL's `42501` (401 for the anonymous role, else 403).
fn role_parts(e: &RoleError, anonymous: bool) -> ErrorParts {
    let (status, code) = match e {
        RoleError::Reserved(_) => (401, "22023"),
        RoleError::NotAllowed(_) => (status_for_sqlstate("42501", "", anonymous), "42501"),
    };
    let mut p = parts(status, code, e.to_string(), Value::Null, Value::Null);
    if status == 401 {
        p.headers.push((header::WWW_AUTHENTICATE, "Bearer".to_string()));
    }
    p
}

fn request_parts(e: &RequestError) -> ErrorParts {
    let msg = e.to_string();
    match e {
        RequestError::InvalidPath => parts(404, "PGRST125", msg, Value::Null, Value::Null),
        RequestError::RpcMethod(_) => parts(405, "PGRST101", msg, Value::Null, Value::Null),
        RequestError::UnsupportedMethod(_) => parts(405, "PGRST117", msg, Value::Null, Value::Null),
        RequestError::Query(q) => parts(400, q.code(), q.message(), q.details().map(text).unwrap_or(Value::Null), Value::Null),
        RequestError::InvalidBody(_) => parts(400, "PGRST102", msg, Value::Null, Value::Null),
        RequestError::BodyTooLarge { .. } | RequestError::TooManyRows { .. } => {
            parts(413, "PGRST102", "Request body too large", text(msg), text("Raise PGREST_MAX_BODY_BYTES / PGREST_MAX_BULK_ROWS or send smaller batches"))
        }
        RequestError::InvalidRange(details) => parts(416, "PGRST103", msg, text(details.clone()), Value::Null),
        RequestError::NotAcceptable(_) => parts(406, "PGRST107", msg, Value::Null, Value::Null),
        RequestError::UnsupportedContentType(_) => parts(415, "PGRST107", msg, Value::Null, Value::Null),
        RequestError::UnacceptableSchema(_) => parts(406, "PGRST106", msg, Value::Null, Value::Null),
        RequestError::InvalidPreferences(items) => parts(400, "PGRST122", msg, text(format!("Invalid preferences: {}", items.join(", "))), Value::Null),
        RequestError::TooBroad { what, .. } => parts(400, "PGRST100", msg, Value::Null, text(format!("Raise {} or send a narrower request", what.setting()))),
    }
}

fn plan_parts(e: &PlanError) -> ErrorParts {
    let msg = e.to_string();
    match e {
        PlanError::TableNotFound { schema, suggestion, .. } => parts(
            404,
            "PGRST205",
            msg,
            Value::Null,
            suggestion.as_ref().map(|s| text(format!("Perhaps you meant the table '{schema}.{s}'"))).unwrap_or(Value::Null),
        ),
        PlanError::FunctionNotFound { schema, name, args, suggestion } => {
            let searched = if args.is_empty() {
                format!("Searched for the function {schema}.{name} without parameters, but no matches were found in the schema cache.")
            } else {
                format!(
                    "Searched for the function {schema}.{name} with parameters {} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
                    args.join(", ")
                )
            };
            let hint = suggestion.as_ref().map(|s| text(format!("Perhaps you meant to call the function {s}"))).unwrap_or(Value::Null);
            parts(404, "PGRST202", msg, text(searched), hint)
        }
        PlanError::AmbiguousFunction(_) => parts(300, "PGRST203", msg, Value::Null, text("Try renaming the parameters or the function itself in the database so function overloading can be resolved")),
        PlanError::RelationshipNotFound { parent, target, schema } => parts(
            400,
            "PGRST200",
            msg,
            text(format!("Searched for a foreign key relationship between '{parent}' and '{target}' in the schema '{schema}', but no matches were found.")),
            Value::Null,
        ),
        PlanError::AmbiguousRelationship { target, candidates, .. } => {
            let details: Vec<Value> = candidates
                .iter()
                .map(|c| json!({"cardinality": c.cardinality, "relationship": c.relationship, "embedding": c.embedding}))
                .collect();
            let options: Vec<String> = candidates.iter().map(|c| format!("'{target}!{}'", c.hint)).collect();
            let hint = format!("Try changing '{target}' to one of the following: {}. Find the desired relationship in the 'details' key.", options.join(", "));
            parts(300, "PGRST201", msg, Value::Array(details), text(hint))
        }
        PlanError::NotEmbedded(name) => parts(400, "PGRST108", msg, Value::Null, text(format!("Verify that '{name}' is included in the 'select' query parameter."))),
        PlanError::InvalidRange(details) => parts(416, "PGRST103", msg, text(details.clone()), Value::Null),
        PlanError::UnfilteredMutation(_) => parts(
            400,
            "21000",
            msg,
            Value::Null,
            text("Add a filter to the request (e.g. ?id=eq.1), or allow unfiltered mutations with PGREST_ALLOW_UNFILTERED_MUTATIONS=true"),
        ),
        PlanError::ColumnNotFound { .. } => parts(400, "PGRST204", msg, Value::Null, Value::Null),
        PlanError::EmbedTooDeep { .. } => parts(400, "PGRST100", msg, Value::Null, text("Raise PGREST_MAX_EMBED_DEPTH or nest fewer embeds")),
        PlanError::PutFilters => parts(405, "PGRST105", msg, Value::Null, Value::Null),
        PlanError::PutPayloadMismatch => parts(400, "PGRST115", msg, Value::Null, Value::Null),
        PlanError::Unsupported(_) => parts(400, "PGRST127", "Feature not implemented", text(msg), Value::Null),
    }
}

/// SQLSTATE → HTTP status, row for row as PostgREST's `mapSQLtoHTTP` (src/PostgREST/Error.hs);
/// `message` decides the two rows PostgREST splits by text (21000, 22023). Exact codes come
/// before the class they belong to, as in PostgREST's table.
pub fn status_for_sqlstate(code: &str, message: &str, anonymous: bool) -> u16 {
    if let Some(custom) = code.strip_prefix("PT") {
        return custom.parse::<u16>().ok().filter(|s| (100..1000).contains(s)).unwrap_or(500);
    }
    match code {
        "23503" | "23505" => 409,
        "25006" => 405,
        // pg-safeupdate's refusal is the client's fault; any other cardinality violation is not.
        "21000" => {
            if message.ends_with("requires a WHERE clause") {
                400
            } else {
                500
            }
        }
        // A role named in the JWT that does not exist.
        "22023" => {
            if message.starts_with("role") && message.ends_with("does not exist") {
                401
            } else {
                400
            }
        }
        "53400" => 500,
        "57P01" => 503,
        "P0001" => 400,
        "42883" => {
            if message.starts_with("function xmlagg(") {
                406
            } else {
                404
            }
        }
        "42P01" => 404,
        "42P17" => 500,
        "42501" => {
            if anonymous {
                401
            } else {
                403
            }
        }
        _ => match code.get(..2) {
            Some("08") => 503,
            Some("09" | "25" | "2D" | "38" | "39" | "3B" | "40" | "54" | "55" | "57" | "58" | "F0" | "HV" | "P0" | "XX") => 500,
            Some("0L" | "0P" | "28") => 403,
            Some("53") => 503,
            _ => 400,
        },
    }
}

fn db_parts(e: &DbError, anonymous: bool, verbose: bool) -> ErrorParts {
    match e {
        DbError::Postgres { code, message, details, hint } => {
            let status = status_for_sqlstate(code, message, anonymous);
            let mut p = if status >= 500 && !verbose {
                let id = uuid::Uuid::new_v4();
                tracing::error!(error_id = %id, code = %code, message = %message, details = ?details, "database error");
                parts(status, code, "Internal server error", Value::Null, text(format!("error id {id}")))
            } else {
                parts(
                    status,
                    code,
                    message.clone(),
                    details.clone().map(text).unwrap_or(Value::Null),
                    hint.clone().map(text).unwrap_or(Value::Null),
                )
            };
            if status == 401 {
                p.headers.push((header::WWW_AUTHENTICATE, "Bearer".to_string()));
            }
            p
        }
        DbError::Connection(detail) => connectivity_parts(503, "PGRST000", "Database connection error.", detail, verbose),
        DbError::Unavailable(detail) => connectivity_parts(503, "PGRST001", "Database client error. Retrying the connection.", detail, verbose),
        DbError::PoolTimeout => parts(504, "PGRST003", "Timed out acquiring connection from connection pool.", Value::Null, Value::Null),
    }
}

/// A database that cannot be reached or used: PostgREST's texts; the driver's own text only
/// when verbose (it can name hosts and users), otherwise an error id that the log line carries.
fn connectivity_parts(status: u16, code: &str, message: &str, detail: &str, verbose: bool) -> ErrorParts {
    let id = uuid::Uuid::new_v4();
    tracing::error!(error_id = %id, code, detail = %detail, "database unavailable");
    let details = if verbose { text(detail) } else { text(format!("error id {id}")) };
    parts(status, code, message, details, Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of PostgREST's `mapSQLtoHTTP`, in its order: (SQLSTATE, message, status).
    const POSTGREST_ROWS: &[(&str, &str, u16)] = &[
        ("08006", "", 503),
        ("08P01", "", 503),
        ("09000", "", 500),
        ("0L000", "", 403),
        ("0LP01", "", 403),
        ("0P000", "", 403),
        ("23503", "", 409),
        ("23505", "", 409),
        ("25006", "", 405),
        ("21000", "UPDATE requires a WHERE clause", 400),
        ("21000", "more than one row returned by a subquery used as an expression", 500),
        ("22023", "role \"ghost\" does not exist", 401),
        ("22023", "invalid value for parameter", 400),
        ("25001", "", 500),
        ("25P02", "", 500),
        ("28000", "", 403),
        ("28P01", "", 403),
        ("2D000", "", 500),
        ("38000", "", 500),
        ("38001", "", 500),
        ("39000", "", 500),
        ("39P01", "", 500),
        ("3B000", "", 500),
        ("3B001", "", 500),
        ("40000", "", 500),
        ("40001", "", 500),
        ("40P01", "", 500),
        ("53400", "", 500),
        ("53000", "", 503),
        ("53100", "", 503),
        ("53200", "", 503),
        ("53300", "", 503),
        ("54000", "", 500),
        ("54001", "", 500),
        ("54011", "", 500),
        ("55000", "", 500),
        ("55P03", "", 500),
        ("57P01", "", 503),
        ("57000", "", 500),
        ("57014", "", 500),
        ("57P02", "", 500),
        ("57P03", "", 500),
        ("58000", "", 500),
        ("58030", "", 500),
        ("F0000", "", 500),
        ("HV000", "", 500),
        ("P0001", "", 400),
        ("P0000", "", 500),
        ("P0002", "", 500),
        ("P0003", "", 500),
        ("XX000", "", 500),
        ("XX001", "", 500),
        ("42883", "function xmlagg(integer) does not exist", 406),
        ("42883", "function nope() does not exist", 404),
        ("42P01", "", 404),
        ("42P17", "", 500),
        ("PT418", "", 418),
        ("PT201", "", 201),
        ("PTxyz", "", 500),
        // Everything else is the client's: the fall-through row.
        ("22P02", "", 400),
        ("23P01", "", 400),
        ("23502", "", 400),
        ("2F000", "", 400),
        ("42703", "", 400),
        ("42P10", "", 400),
        ("44000", "", 400),
        ("20000", "", 400),
        ("0A000", "", 400),
    ];

    #[test]
    fn sqlstate_table_matches_postgrest_row_for_row() {
        for &(code, message, status) in POSTGREST_ROWS {
            assert_eq!(status_for_sqlstate(code, message, true), status, "{code} {message:?}");
        }
        assert_eq!(status_for_sqlstate("42501", "permission denied", true), 401);
        assert_eq!(status_for_sqlstate("42501", "permission denied", false), 403);
    }

    #[test]
    fn connectivity_errors_have_postgrest_codes() {
        let render = |error: DbError| {
            let p = Error::Db { error, anonymous: false }.parts(false);
            (p.status.as_u16(), p.code, p.message)
        };
        assert_eq!(render(DbError::Connection("refused".into())), (503, "PGRST000".into(), "Database connection error.".into()));
        assert_eq!(render(DbError::Unavailable("closed".into())), (503, "PGRST001".into(), "Database client error. Retrying the connection.".into()));
        assert_eq!(render(DbError::PoolTimeout), (504, "PGRST003".into(), "Timed out acquiring connection from connection pool.".into()));
    }

    #[test]
    fn internal_errors_are_sanitized_unless_verbose() {
        let e = Error::Db { error: DbError::Postgres { code: "XX000".into(), message: "secret table t".into(), details: None, hint: None }, anonymous: false };
        assert_eq!(e.parts(false).message, "Internal server error");
        assert_eq!(e.parts(true).message, "secret table t");
    }

    #[test]
    fn anonymous_permission_error_asks_for_bearer() {
        let e = Error::Db { error: DbError::Postgres { code: "42501".into(), message: "permission denied for table t".into(), details: None, hint: None }, anonymous: true };
        let r = e.to_response(false);
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
    }
}
