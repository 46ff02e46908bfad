//! S-06 through the endpoints: allow-list entries written as prefixes (`https://preview.example.com*`)
//! must not hand a magic-link session or an OAuth start to another host.

use serde_json::json;

use crate::harness::*;

const BYPASSES: [&str; 4] = [
    "https://preview.example.com.evil.net/steal",
    "http://localhost:3000@evil.net/",
    "https://preview.example.com@evil.net/",
    "http://localhost:3000.evil.net/",
];

fn setup() -> Setup {
    Setup::new().set("URI_ALLOW_LIST", "https://preview.example.com*,http://localhost:3000*")
}

#[tokio::test]
async fn prefix_entries_do_not_send_magic_links_to_other_hosts() {
    let t = setup().start().await;
    let e = email("s06");
    t.signup(&e, PASSWORD).await;
    for evil in BYPASSES {
        let encoded = percent_encoding::utf8_percent_encode(evil, percent_encoding::NON_ALPHANUMERIC);
        t.post(&format!("/magiclink?redirect_to={encoded}")).json(json!({"email": e})).send().await.expect(200);
        let link = t.link_for(&e);
        let query = pairs(link.split_once('?').unwrap().1);
        assert_eq!(query["redirect_to"], SITE_URL, "{evil} must not be the link's target");
        let r = t.get(&format!("/verify?token={}&type=magiclink&redirect_to={encoded}", query["token"])).send().await;
        assert_eq!(r.status, 303);
        assert!(r.location().starts_with(&format!("{SITE_URL}#access_token=")), "{evil} -> {}", r.location());
    }
    // The entry itself still works.
    t.post("/magiclink?redirect_to=https://preview.example.com").json(json!({"email": e})).send().await.expect(200);
    let query = pairs(t.link_for(&e).split_once('?').unwrap().1);
    assert_eq!(query["redirect_to"], "https://preview.example.com");
}

#[tokio::test]
async fn an_allow_list_entry_with_userinfo_or_no_scheme_stops_the_start() {
    for entry in ["https://user@preview.example.com/**", "preview.example.com"] {
        let env = [("URI_ALLOW_LIST".to_string(), entry.to_string())].into_iter().collect();
        let err = pgrest_auth::config::AuthConfig::from_env(&env, EXTERNAL_URL).unwrap_err();
        assert_eq!(err.name, "URI_ALLOW_LIST", "{entry}");
    }
}
