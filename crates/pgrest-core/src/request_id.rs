//! One id per request (V-23): the runner's (the Lambda request id, attached as a `RequestId`
//! extension), else the client's `x-request-id` when it is short and plain, else a new UUID.
//! `App::handle` logs every line of the request inside a span carrying it and echoes it in the
//! `x-request-id` response header.
//!
//! Must not accept an id that could forge log lines or break a header (control characters,
//! spaces, quotes, unbounded length).

use bytes::Bytes;

/// The response (and request) header that carries the id.
pub const HEADER: &str = "x-request-id";

/// Longest client-chosen id kept; longer ones are replaced by a generated id.
pub const MAX_LEN: usize = 128;

/// An id the runner already has for this request (e.g. Lambda's `aws_request_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The id for `request`: runner's, then a sane `x-request-id`, then a generated one.
pub fn resolve(request: &http::Request<Bytes>) -> String {
    if let Some(RequestId(id)) = request.extensions().get::<RequestId>() {
        if is_sane(id) {
            return id.clone();
        }
    }
    request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|id| is_sane(id))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// 1–128 characters from `A-Z a-z 0-9 - _ . : / + = @`.
pub fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'=' | b'@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(header: Option<&str>, runner: Option<&str>) -> http::Request<Bytes> {
        let mut builder = http::Request::builder().uri("/rest/v1/t");
        if let Some(h) = header {
            builder = builder.header(HEADER, h);
        }
        let mut r = builder.body(Bytes::new()).unwrap();
        if let Some(id) = runner {
            r.extensions_mut().insert(RequestId(id.to_string()));
        }
        r
    }

    #[test]
    fn runner_id_wins_then_client_header_then_generated() {
        assert_eq!(resolve(&request(Some("client-1"), Some("lambda-req-9"))), "lambda-req-9");
        assert_eq!(resolve(&request(Some("client-1"), None)), "client-1");
        let generated = resolve(&request(None, None));
        assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    }

    #[test]
    fn unsafe_client_ids_are_replaced() {
        for bad in ["", "a b", "x\"y", "line\\nbreak", "<script>", &"a".repeat(MAX_LEN + 1)] {
            let id = resolve(&request(Some(bad), None));
            assert_ne!(id, bad);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} → {id}");
        }
        assert!(is_sane(&"a".repeat(MAX_LEN)));
        assert!(is_sane("Root=1-5759e988-bd862e3fe1be46a994272793"));
    }
}
