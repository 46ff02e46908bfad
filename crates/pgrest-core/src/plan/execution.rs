//! The plan's execution decisions, made once per request: transaction mode, the shape of the
//! body column, whether the answer is a single object (PGRST116 unless exactly one row), and
//! whether the total is counted. `App` sequences with them; the SQL writer and the response
//! read them.
//!
//! Must not read configuration (how a transaction ends is `App`'s) or write SQL.

use crate::api_request::preferences::{CountPref, ReturnPref};
use crate::api_request::{ApiRequest, MediaType};

use super::types::{ActionPlan, CallResult};

/// How the body column is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyShape {
    /// A JSON array of the rows.
    Array { strip_nulls: bool },
    /// The first row as an object (the caller checks there is exactly one).
    Object,
    /// No body (HEAD, return=minimal).
    None,
}

impl BodyShape {
    pub fn for_media(media: MediaType) -> BodyShape {
        match media {
            MediaType::Json => BodyShape::Array { strip_nulls: false },
            MediaType::JsonStripped => BodyShape::Array { strip_nulls: true },
            MediaType::SingleObject => BodyShape::Object,
        }
    }
}

/// The transaction a plan runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Reads, and functions called with GET/HEAD.
    ReadOnly,
    ReadWrite,
}

/// A plan with its execution decisions.
#[derive(Debug, Clone)]
pub struct Plan {
    pub action: ActionPlan,
    pub tx: TxMode,
    pub body: BodyShape,
    /// `Accept: application/vnd.pgrst.object+json` on rows: anything but exactly one row is
    /// refused (PGRST116) and rolled back. Not for functions returning one value or one row.
    pub singular: bool,
    /// `count=exact|planned|estimated`: the statement also computes the total.
    pub count: bool,
}

impl Plan {
    /// Decides how `action` runs for `request`.
    pub fn new(request: &ApiRequest, action: ActionPlan) -> Plan {
        let tx = match &action {
            ActionPlan::Read { .. } => TxMode::ReadOnly,
            ActionPlan::Call { .. } if request.method == "GET" || request.method == "HEAD" => TxMode::ReadOnly,
            _ => TxMode::ReadWrite,
        };
        let singular = request.accept == MediaType::SingleObject
            && !matches!(&action, ActionPlan::Call { plan, .. } if !matches!(plan.result, CallResult::Rows { single: false }));
        let count = matches!(request.preferences.count, Some(CountPref::Exact | CountPref::Planned | CountPref::Estimated));
        let body = body_shape(request, &action);
        Plan { action, tx, body, singular, count }
    }

    pub fn read_only(&self) -> bool {
        self.tx == TxMode::ReadOnly
    }
}

/// What the statement's body column must hold for this request.
fn body_shape(request: &ApiRequest, action: &ActionPlan) -> BodyShape {
    match action {
        ActionPlan::Read { headers_only: true, .. } | ActionPlan::Call { headers_only: true, .. } => BodyShape::None,
        ActionPlan::Read { .. } => BodyShape::for_media(request.accept),
        ActionPlan::Mutate(_) => {
            if request.preferences.return_ == Some(ReturnPref::Representation) { BodyShape::for_media(request.accept) } else { BodyShape::None }
        }
        ActionPlan::Call { plan, .. } => match plan.result {
            CallResult::Rows { single: true } => BodyShape::Object,
            CallResult::Void => BodyShape::None,
            _ => BodyShape::for_media(request.accept),
        },
        ActionPlan::Info => BodyShape::None,
    }
}
