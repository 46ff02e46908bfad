//! Renders one case's snapshot: the request, the statement's SQL (a line break added before a
//! few keywords for review; joining the lines with a space gives the exact text) and its
//! numbered parameters.
//!
//! Must not decide anything the App decides; it shows what the pipeline produced.

use pgrest_core::api_request::preferences::{CountPref, ReturnPref};
use pgrest_core::api_request::ApiRequest;
use pgrest_core::plan::{ActionPlan, CallResult};
use pgrest_core::sql::{self, BodyShape};

use crate::Case;

/// Keywords a line break is put before (always preceded by one space in the writer's output).
const BREAKS: &[&str] = &[" FROM ", " WHERE ", " ORDER BY ", " LIMIT ", " OFFSET ", " LEFT JOIN ", " INNER JOIN ", " ON CONFLICT ", " RETURNING ", " UNION ALL "];

pub fn render(case: &Case, api: &ApiRequest, plan: &ActionPlan) -> String {
    let mut out = format!("{} {}\n", case.method, case.target);
    for (name, value) in case.headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    if !case.body.is_empty() {
        out.push_str(&format!("body: {}\n", case.body));
    }
    // The same decisions App::execute makes today (to move into the plan).
    let count = matches!(api.preferences.count, Some(CountPref::Exact | CountPref::Planned | CountPref::Estimated));
    let Some(statement) = sql::build(plan, body_shape(api, plan), count) else {
        out.push_str("--- no statement\n");
        return out;
    };
    out.push_str("--- sql\n");
    out.push_str(&break_lines(&statement.text));
    out.push_str("\n--- params\n");
    for (i, p) in statement.params.iter().enumerate() {
        match &p.0 {
            Some(text) => out.push_str(&format!("${} = {text:?}\n", i + 1)),
            None => out.push_str(&format!("${} = NULL\n", i + 1)),
        }
    }
    out
}

fn break_lines(text: &str) -> String {
    let mut s = text.to_string();
    for keyword in BREAKS {
        s = s.replace(keyword, &format!("\n{}", &keyword[1..]));
    }
    s
}

/// Mirror of App::execute's `body_shape` (step 1 only; the plan takes this over).
fn body_shape(api: &ApiRequest, plan: &ActionPlan) -> BodyShape {
    match plan {
        ActionPlan::Read { headers_only: true, .. } | ActionPlan::Call { headers_only: true, .. } => BodyShape::None,
        ActionPlan::Read { .. } => BodyShape::for_media(api.accept),
        ActionPlan::Mutate(_) => {
            if api.preferences.return_ == Some(ReturnPref::Representation) { BodyShape::for_media(api.accept) } else { BodyShape::None }
        }
        ActionPlan::Call { plan, .. } => match plan.result {
            CallResult::Rows { single: true } => BodyShape::Object,
            CallResult::Void => BodyShape::None,
            _ => BodyShape::for_media(api.accept),
        },
        ActionPlan::Info => BodyShape::None,
    }
}
