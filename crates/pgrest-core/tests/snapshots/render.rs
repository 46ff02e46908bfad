//! Renders one case's snapshot: the request, the statement's SQL (a line break added before a
//! few keywords for review; joining the lines with a space gives the exact text) and its
//! numbered parameters.
//!
//! Must not decide anything the plan decides; it shows what the pipeline produced.

use pgrest_core::plan::Plan;
use pgrest_core::sql;

use crate::Case;

/// Keywords a line break is put before (always preceded by one space in the writer's output).
const BREAKS: &[&str] = &[" FROM ", " WHERE ", " ORDER BY ", " LIMIT ", " OFFSET ", " LEFT JOIN ", " INNER JOIN ", " ON CONFLICT ", " RETURNING ", " UNION ALL "];

pub fn render(case: &Case, plan: &Plan) -> String {
    let mut out = format!("{} {}\n", case.method, case.target);
    for (name, value) in case.headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    if !case.body.is_empty() {
        out.push_str(&format!("body: {}\n", case.body));
    }
    out.push_str(&format!("--- plan\ntx: {:?}\nbody: {:?}\nsingular: {}\ncount: {}\n", plan.tx, plan.body, plan.singular, plan.count));
    let Some(statement) = sql::build_plan(plan) else {
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
