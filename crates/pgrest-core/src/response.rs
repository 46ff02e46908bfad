//! Stage 7 (response): result row → status, headers (Content-Range, Preference-Applied,
//! Content-Type) and body, following PostgREST's rules for each action.
//!
//! Must not touch the database; the body is passed through as PostgreSQL rendered it.

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};

use crate::api_request::preferences::{CountPref, Resolution, ReturnPref, TxPref};
use crate::api_request::{ApiRequest, MediaType};
use crate::db::ResultRow;
use crate::error::Error;
use crate::plan::{ActionPlan, CallResult, MutationKind, Plan};

/// What the transaction stage honoured, for `Preference-Applied`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Applied {
    pub tx: Option<TxPref>,
}

/// `Preference-Applied` items in PostgREST's order.
pub fn preference_applied(request: &ApiRequest, plan: &ActionPlan, applied: Applied) -> Option<String> {
    let p = &request.preferences;
    let mut items: Vec<&str> = Vec::new();
    if let ActionPlan::Mutate(m) = plan {
        if m.kind == MutationKind::Insert {
            match p.resolution {
                Some(Resolution::MergeDuplicates) => items.push("resolution=merge-duplicates"),
                Some(Resolution::IgnoreDuplicates) => items.push("resolution=ignore-duplicates"),
                None => {}
            }
            if p.missing_default {
                items.push("missing=default");
            }
        }
        match p.return_ {
            Some(ReturnPref::Representation) => items.push("return=representation"),
            Some(ReturnPref::Minimal) => items.push("return=minimal"),
            Some(ReturnPref::HeadersOnly) => items.push("return=headers-only"),
            None => {}
        }
    }
    if p.count == Some(CountPref::Exact) {
        items.push("count=exact");
    }
    match applied.tx {
        Some(TxPref::Commit) => items.push("tx=commit"),
        Some(TxPref::Rollback) => items.push("tx=rollback"),
        None => {}
    }
    (!items.is_empty()).then(|| items.join(", "))
}

/// `lower-upper/total`, `*/total` for no rows; total `*` when not counted.
pub fn content_range(offset: i64, rows: i64, total: Option<i64>) -> String {
    let total = total.map(|t| t.to_string()).unwrap_or_else(|| "*".to_string());
    // `offset` comes from the request; the last index saturates rather than wrap.
    if rows <= 0 { format!("*/{total}") } else { format!("{offset}-{}/{total}", offset.saturating_add(rows.saturating_sub(1))) }
}

fn content_type(media: MediaType) -> &'static str {
    match media {
        MediaType::Json => "application/json; charset=utf-8",
        MediaType::SingleObject => "application/vnd.pgrst.object+json; charset=utf-8",
        MediaType::JsonStripped => "application/vnd.pgrst.array+json; nulls=stripped; charset=utf-8",
    }
}

struct Builder {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
}

impl Builder {
    fn new(status: StatusCode) -> Self {
        Builder { status, headers: http::HeaderMap::new(), body: Bytes::new() }
    }

    fn header(&mut self, name: header::HeaderName, value: &str) {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
    }

    fn finish(self) -> http::Response<Bytes> {
        let mut r = http::Response::new(self.body);
        *r.status_mut() = self.status;
        *r.headers_mut() = self.headers;
        r
    }
}

/// Builds the success response (or the range/singular error) for a finished statement.
/// Singular is the plan's decision (`Plan::singular`), not taken again here.
pub fn respond(request: &ApiRequest, plan: &Plan, row: ResultRow, applied: Applied) -> Result<http::Response<Bytes>, Error> {
    if plan.singular && row.page_total != 1 {
        return Err(Error::Singular { rows: row.page_total });
    }
    let pref_applied = preference_applied(request, &plan.action, applied);
    let mut b = match &plan.action {
        ActionPlan::Read { plan: read, headers_only } => rows_response(request, read.offset, &row, *headers_only)?,
        ActionPlan::Call { plan: call, headers_only } => match call.result {
            CallResult::Void => Builder::new(StatusCode::NO_CONTENT),
            CallResult::Rows { single: false } | CallResult::Scalar { set: true } => rows_response(request, call.read.offset, &row, *headers_only)?,
            CallResult::Rows { single: true } | CallResult::Scalar { set: false } => {
                let mut b = Builder::new(StatusCode::OK);
                b.header(header::CONTENT_TYPE, content_type(MediaType::Json));
                if !*headers_only {
                    b.body = single_value_body(&row.body, call.result);
                }
                b
            }
        },
        ActionPlan::Mutate(m) => {
            let representation = request.preferences.return_ == Some(ReturnPref::Representation);
            let status = match m.kind {
                MutationKind::Insert if m.track_inserted && row.inserted != Some(true) && m.put_key_check.is_none() => StatusCode::OK,
                MutationKind::Insert if m.put_key_check.is_some() => {
                    if representation { StatusCode::OK } else { StatusCode::NO_CONTENT }
                }
                MutationKind::Insert => StatusCode::CREATED,
                _ if representation => StatusCode::OK,
                _ => StatusCode::NO_CONTENT,
            };
            let mut b = Builder::new(status);
            let range = match m.kind {
                MutationKind::Update => content_range(0, row.page_total, row.total),
                _ => content_range(1, 0, row.total),
            };
            b.header(header::CONTENT_RANGE, &range);
            if representation {
                b.header(header::CONTENT_TYPE, content_type(request.accept));
                b.body = Bytes::from(row.body);
            }
            b
        }
        ActionPlan::Info => Builder::new(StatusCode::OK),
    };
    if let Some(applied) = pref_applied {
        b.header(header::HeaderName::from_static("preference-applied"), &applied);
    }
    if request.schema_from_header {
        b.header(header::HeaderName::from_static("content-profile"), &request.schema);
    }
    Ok(b.finish())
}

/// Reads and set-returning calls: 200/206/416 with `Content-Range`.
fn rows_response(request: &ApiRequest, offset: i64, row: &ResultRow, headers_only: bool) -> Result<Builder, Error> {
    if let Some(total) = row.total {
        if offset > total {
            return Err(Error::OffsetBeyondTotal { offset, total });
        }
    }
    let partial = row.total.is_some_and(|t| row.page_total < t);
    let mut b = Builder::new(if partial { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK });
    b.header(header::CONTENT_TYPE, content_type(request.accept));
    b.header(header::CONTENT_RANGE, &content_range(offset, row.page_total, row.total));
    if !headers_only {
        b.body = Bytes::from(row.body.clone());
    }
    Ok(b)
}

fn single_value_body(body: &str, result: CallResult) -> Bytes {
    match result {
        // A composite result: the first row (the SQL renders `null` text for none).
        CallResult::Rows { single: true } if body.is_empty() => Bytes::from_static(b"null"),
        _ => Bytes::from(body.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_forms() {
        assert_eq!(content_range(2, 3, None), "2-4/*");
        assert_eq!(content_range(0, 0, Some(15)), "*/15");
        assert_eq!(content_range(1, 1, Some(2)), "1-1/2");
        assert_eq!(content_range(i64::MAX, 2, None), "9223372036854775807-9223372036854775807/*");
        assert_eq!(content_range(i64::MAX - 1, i64::MAX, Some(i64::MAX)), "9223372036854775806-9223372036854775807/9223372036854775807");
    }
}
