//! Account takeover through provider linking: with autoconfirm on, an address is confirmed at
//! sign-up without anyone proving it, so a provider's verified owner of the address must not be
//! linked into whatever account claimed it first (a sign-up with the attacker's password, an
//! anonymous user's claim, an identity whose provider never verified the address). Such accounts
//! are handed to the verified owner instead, as GoTrue does for unconfirmed ones.

use serde_json::json;

use crate::harness::*;
use crate::oauth::browse;
use crate::support::fake_oauth::{FakeProvider, FakeUser};

fn users() -> Vec<FakeUser> {
    vec![
        FakeUser::new(2001, "mona", "mona@example.com"),
        FakeUser::new(2002, "sneaky", "mona@example.com").unverified(),
    ]
}

async fn setup(anonymous: bool) -> (FakeProvider, TestAuth) {
    let fake = FakeProvider::start(users()).await;
    let t = Setup::new().oauth(&fake).anonymous(anonymous).start().await;
    (fake, t)
}

fn providers(user: &serde_json::Value) -> Vec<String> {
    user["identities"].as_array().unwrap().iter().map(|i| i["provider"].as_str().unwrap().to_string()).collect()
}

/// Mona signs in with GitHub, which has verified her address; her session's user.
async fn owner_signs_in(t: &TestAuth, fake: &FakeProvider) -> serde_json::Value {
    let r = browse(t, fake, "provider=github", Some("mona")).await;
    let f = fragment(&r.location());
    assert!(f.contains_key("access_token"), "{}", r.location());
    t.get("/user").bearer(&f["access_token"]).send().await.expect(200)
}

#[tokio::test]
async fn an_autoconfirmed_pre_registration_is_not_linked_into() {
    let (fake, t) = setup(false).await;
    // The attacker registers the victim's address with a password of theirs (autoconfirm: the
    // account is confirmed at once) and keeps the session.
    let r = t.post("/signup").json(json!({"email": "mona@example.com", "password": "attacker's password", "data": {"planted": true}})).send().await;
    let attacker = Session::from_body(r.expect(200));
    let user = owner_signs_in(&t, &fake).await;
    assert_eq!(user["id"], attacker.user_id, "the address's account, handed over");
    assert_eq!(providers(&user), ["github"]);
    assert_eq!(user["app_metadata"]["providers"], json!(["github"]));
    assert!(user["user_metadata"].get("planted").is_none(), "{user}");
    // The attacker is out: password, session and refresh token.
    t.password_grant("mona@example.com", "attacker's password").await.expect_error(400, "invalid_credentials", "Invalid login credentials");
    t.get("/user").bearer(&attacker.access_token).send().await.expect_code(403, "session_not_found");
    t.refresh(&attacker.refresh_token).await.expect_code(400, "refresh_token_not_found");
}

#[tokio::test]
async fn an_anonymous_users_claimed_address_is_not_proof() {
    let (fake, t) = setup(true).await;
    let anon = Session::from_body(t.post("/signup").json(json!({})).send().await.expect(200));
    // With autoconfirm an anonymous user may set an address directly (as in GoTrue)...
    let claimed = t.put("/user").bearer(&anon.access_token).json(json!({"email": "mona@example.com"})).send().await.expect(200);
    assert_eq!(claimed["email"], "mona@example.com");
    assert_eq!(claimed["identities"][0]["identity_data"]["email_verified"], false);
    // ...but that does not make the owner's provider sign-in land in the attacker's account.
    let user = owner_signs_in(&t, &fake).await;
    assert_eq!(providers(&user), ["github"]);
    t.get("/user").bearer(&anon.access_token).send().await.expect_code(403, "session_not_found");
    t.refresh(&anon.refresh_token).await.expect_code(400, "refresh_token_not_found");
}

#[tokio::test]
async fn an_anonymous_user_cannot_take_a_registered_address() {
    let (_fake, t) = setup(true).await;
    // Proven (confirmed by its link) and unproven (autoconfirmed) addresses alike.
    t.signup("taken@example.com", PASSWORD).await;
    let t2 = Setup::new().anonymous(true).autoconfirm(false).start().await;
    t2.post("/signup").json(json!({"email": "pending@example.com", "password": PASSWORD})).send().await.expect(200);
    for (t, address) in [(&t, "taken@example.com"), (&t, "TAKEN@example.com"), (&t2, "pending@example.com")] {
        let anon = Session::from_body(t.post("/signup").json(json!({})).send().await.expect(200));
        t.put("/user").bearer(&anon.access_token).json(json!({"email": address})).send().await.expect_error(422, "email_exists", "A user with this email address has already been registered");
        let user = t.get("/user").bearer(&anon.access_token).send().await.expect(200);
        assert_eq!(user["is_anonymous"], true);
        assert_eq!(user["email"], "");
    }
}

#[tokio::test]
async fn an_unverified_provider_address_keeps_no_access_once_the_owner_arrives() {
    let (fake, t) = setup(false).await;
    // The attacker's GitHub account lists the victim's address, unverified; autoconfirm lets
    // them in with an account for that address.
    let r = browse(&t, &fake, "provider=github", Some("sneaky")).await;
    assert!(fragment(&r.location()).contains_key("access_token"), "{}", r.location());
    let user = owner_signs_in(&t, &fake).await;
    assert_eq!(providers(&user), ["github"]);
    let ids: Vec<String> = user["identities"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, ["2001"], "only the owner's identity is left");
    // The attacker's identity no longer opens the account (nor can it claim the address again).
    let r = browse(&t, &fake, "provider=github", Some("sneaky")).await;
    let f = fragment(&r.location());
    assert!(!f.contains_key("access_token"), "{}", r.location());
    assert_eq!(f["error_code"], "email_exists");
}

#[tokio::test]
async fn proving_the_address_by_mail_makes_the_account_linkable() {
    let (fake, t) = setup(false).await;
    let s = t.signup("mona@example.com", PASSWORD).await;
    // A magic link proves the owner reads the address.
    t.post("/magiclink").json(json!({"email": "mona@example.com"})).send().await.expect(200);
    let r = t.get(&TestAuth::local_path(&t.link_for("mona@example.com"))).send().await;
    assert!(fragment(&r.location()).contains_key("access_token"));
    let user = owner_signs_in(&t, &fake).await;
    assert_eq!(user["id"], s.user_id);
    assert_eq!(providers(&user), ["email", "github"]);
    t.sign_in("mona@example.com", PASSWORD).await;
    t.get("/user").bearer(&s.access_token).send().await.expect(200);
}
