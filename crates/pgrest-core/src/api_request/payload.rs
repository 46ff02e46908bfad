//! Request bodies: JSON objects or arrays of objects for writes, JSON objects for RPC.
//!
//! Validates shape and collects column names; the raw text goes to PostgreSQL unchanged
//! (it parses the JSON again itself). Must not interpret values.

use bytes::Bytes;
use serde_json::Value;

use super::RequestError;

/// A validated write or RPC body.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// The JSON text as received (an object or an array of objects).
    pub raw: Bytes,
    /// Keys of the first object, in order of appearance; every object has the same set.
    pub keys: Vec<String>,
    pub is_array: bool,
    pub rows: usize,
    /// For RPC: the argument object.
    pub args: serde_json::Map<String, Value>,
}

const INVALID_JSON: &str = "Empty or invalid json";

impl Payload {
    /// A body for INSERT/UPDATE/PUT. With `columns=` given (`explicit_columns`), objects may have
    /// different keys: only the named columns are written, absent keys as NULL (as PostgREST).
    pub fn parse(headers: &http::HeaderMap, body: &Bytes, max_rows: usize, explicit_columns: bool) -> Result<Payload, RequestError> {
        check_content_type(headers)?;
        let value: Value = serde_json::from_slice(body).map_err(|_| RequestError::InvalidBody(INVALID_JSON.to_string()))?;
        match value {
            Value::Object(obj) => Ok(Payload {
                raw: body.clone(),
                keys: obj.keys().cloned().collect(),
                is_array: false,
                rows: 1,
                args: serde_json::Map::new(),
            }),
            Value::Array(items) => {
                if items.len() > max_rows {
                    return Err(RequestError::TooManyRows { rows: items.len(), limit: max_rows });
                }
                let mut keys: Option<Vec<String>> = None;
                for item in &items {
                    let Value::Object(obj) = item else {
                        return Err(RequestError::InvalidBody(INVALID_JSON.to_string()));
                    };
                    match &keys {
                        None => keys = Some(obj.keys().cloned().collect()),
                        Some(first) => {
                            if !explicit_columns && (first.len() != obj.len() || !first.iter().all(|k| obj.contains_key(k))) {
                                return Err(RequestError::InvalidBody("All object keys must match".to_string()));
                            }
                        }
                    }
                }
                Ok(Payload { raw: body.clone(), keys: keys.unwrap_or_default(), is_array: true, rows: items.len(), args: serde_json::Map::new() })
            }
            _ => Err(RequestError::InvalidBody(INVALID_JSON.to_string())),
        }
    }

    /// A body for POST /rpc/f: a JSON object of named arguments (empty body = no arguments).
    pub fn parse_args(headers: &http::HeaderMap, body: &Bytes) -> Result<Payload, RequestError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Payload { raw: Bytes::from_static(b"{}"), keys: Vec::new(), is_array: false, rows: 1, args: serde_json::Map::new() });
        }
        check_content_type(headers)?;
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(args)) => Ok(Payload { raw: body.clone(), keys: args.keys().cloned().collect(), is_array: false, rows: 1, args }),
            _ => Err(RequestError::InvalidBody(INVALID_JSON.to_string())),
        }
    }
}

fn check_content_type(headers: &http::HeaderMap) -> Result<(), RequestError> {
    let Some(ct) = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return Ok(()) };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "" | "application/json" | "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => Ok(()),
        _ => Err(RequestError::UnsupportedContentType(ct.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Payload, RequestError> {
        Payload::parse(&http::HeaderMap::new(), &Bytes::from(body.to_string()), 100, false)
    }

    #[test]
    fn object_and_array_bodies() {
        let p = parse(r#"{"a":1,"b":2}"#).unwrap();
        assert_eq!((p.is_array, p.rows, p.keys.len()), (false, 1, 2));
        let p = parse(r#"[{"a":1},{"a":2}]"#).unwrap();
        assert_eq!((p.is_array, p.rows), (true, 2));
    }

    #[test]
    fn rejects_bad_json_and_mismatched_keys() {
        assert_eq!(parse("}{ x = 2"), Err(RequestError::InvalidBody("Empty or invalid json".into())));
        assert_eq!(parse(""), Err(RequestError::InvalidBody("Empty or invalid json".into())));
        assert_eq!(parse(r#"[{"a":1},{"b":1}]"#), Err(RequestError::InvalidBody("All object keys must match".into())));
        assert_eq!(parse("[1]"), Err(RequestError::InvalidBody("Empty or invalid json".into())));
    }

    #[test]
    fn caps_rows() {
        let body = Bytes::from_static(b"[{},{},{}]");
        let r = Payload::parse(&http::HeaderMap::new(), &body, 2, false);
        assert_eq!(r, Err(RequestError::TooManyRows { rows: 3, limit: 2 }));
    }

    #[test]
    fn explicit_columns_allow_differing_keys() {
        let body = Bytes::from_static(br#"[{"a":1,"b":2},{"a":3}]"#);
        assert!(Payload::parse(&http::HeaderMap::new(), &body, 10, true).is_ok());
        assert!(Payload::parse(&http::HeaderMap::new(), &body, 10, false).is_err());
    }
}
