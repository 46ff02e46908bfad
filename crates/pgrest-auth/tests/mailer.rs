//! The mailer: default and custom templates (subjects, links, codes, HTML escaping), the capture
//! mailer, and the SMTP mailer against a tiny SMTP sink on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use pgrest_auth::mailer::{
    CaptureMailer, Email, MailError, Mailer, SmtpMailer, SmtpSecurity, SmtpSettings, Template, TemplateData,
    TemplateOverrides, build, extract_link, extract_token, render,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const LINK: &str = "http://localhost:9999/auth/v1/verify?token=abc123&type=signup&redirect_to=http%3A%2F%2Flocalhost%3A3000";

fn data() -> TemplateData {
    TemplateData {
        site_url: "http://localhost:3000".to_string(),
        confirmation_url: LINK.to_string(),
        token: "123456".to_string(),
        token_hash: "abc123".to_string(),
        email: "user@example.com".to_string(),
        new_email: Some("new@example.com".to_string()),
        redirect_to: None,
    }
}

// ---- templates ----

#[test]
fn every_template_has_its_subject_link_and_code() {
    let expected = [
        (Template::Confirmation, "Confirm Your Email"),
        (Template::MagicLink, "Your Magic Link"),
        (Template::Recovery, "Reset Your Password"),
        (Template::EmailChange, "Confirm Email Change"),
        (Template::Invite, "You have been invited"),
    ];
    for (template, subject) in expected {
        let (s, html, text) = render(template, &data());
        assert_eq!(s, subject, "{template:?}");
        assert_eq!(template.default_subject(), subject);
        // The link: raw in the text, escaped (`&amp;`) in the HTML, including the href.
        assert!(text.contains(LINK), "{template:?} text: {text}");
        let escaped = LINK.replace('&', "&amp;");
        assert!(html.contains(&format!("href=\"{escaped}\"")), "{template:?} html: {html}");
        assert!(!html.contains("&type="), "{template:?}: unescaped & in html");
        // The code and the address.
        assert!(text.contains("123456") && html.contains("123456"), "{template:?}");
        assert!(text.contains("user@example.com") && html.contains("user@example.com"), "{template:?}");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("{{") && !text.contains("{{"), "{template:?}: placeholder left");

        let email = build(template, "user@example.com", &data());
        assert_eq!(email.to, "user@example.com");
        assert_eq!(email.subject, subject);
        assert_eq!(extract_link(&email).as_deref(), Some(LINK), "{template:?}");
        assert_eq!(extract_token(&email).as_deref(), Some("123456"), "{template:?}");
    }
}

#[test]
fn email_change_names_both_addresses() {
    let (_, html, text) = render(Template::EmailChange, &data());
    for part in [&html, &text] {
        assert!(part.contains("user@example.com") && part.contains("new@example.com"), "{part}");
    }
}

#[test]
fn html_special_characters_are_escaped_in_html_only() {
    let mut d = data();
    d.email = "o'neil+<b>x</b>&co@example.com".to_string();
    d.redirect_to = Some("http://localhost:3000/after?a=1&b=\"<script>alert(1)</script>".to_string());
    d.confirmation_url = "http://localhost:9999/verify?token=t&type=signup&x=\"><img src=x>".to_string();
    for template in Template::ALL {
        let (_, html, text) = render(template, &d);
        assert!(!html.contains("<b>") && !html.contains("<script>") && !html.contains("<img"), "{template:?}: {html}");
        assert!(!html.contains("o'neil"), "{template:?}: apostrophe kept");
        assert!(html.contains("o&#39;neil+&lt;b&gt;x&lt;/b&gt;&amp;co@example.com"), "{template:?}: {html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{template:?}: redirect missing");
        assert!(html.contains("x=&quot;&gt;&lt;img src=x&gt;"), "{template:?}: url not escaped");
        // The text part is plain text: the values appear as they are.
        assert!(text.contains(&d.email));
        assert!(text.contains(d.redirect_to.as_deref().unwrap()));
    }
}

#[test]
fn redirect_line_only_when_there_is_a_redirect() {
    let (_, html, text) = render(Template::MagicLink, &data());
    assert!(!html.contains("continue at") && !text.contains("continue at"));
    let mut d = data();
    d.redirect_to = Some("http://localhost:3000/welcome".to_string());
    let (_, html, text) = render(Template::MagicLink, &d);
    assert!(html.contains("continue at http://localhost:3000/welcome"));
    assert!(text.contains("continue at http://localhost:3000/welcome"));
}

#[test]
fn overrides_fill_known_placeholders_and_keep_unknown_ones() {
    let mut o = TemplateOverrides::new();
    assert!(o.is_empty());
    o.set_subject(Template::MagicLink, "{{ .Token }} is your code");
    o.set_html(
        Template::MagicLink,
        "<h1>Hi {{ .Email }}</h1><p><a href=\"{{ .SiteURL }}/auth/confirm?token_hash={{.TokenHash}}&type=magiclink\">Log in</a></p>\
         <p>Code: {{- .Token -}}</p><p>Then: {{ .RedirectTo }}</p><p>{{ .Data.name }} {{ if .Token }}x{{ end }}</p>",
    );
    assert!(!o.is_empty());
    let mut d = data();
    d.email = "a&b@example.com".to_string();
    d.redirect_to = Some("http://localhost:3000/?q=<x>".to_string());
    let (subject, html, text) = o.render(Template::MagicLink, &d);
    assert_eq!(subject, "123456 is your code");
    assert!(html.contains("<h1>Hi a&amp;b@example.com</h1>"), "{html}");
    assert!(html.contains("href=\"http://localhost:3000/auth/confirm?token_hash=abc123&type=magiclink\""), "{html}");
    assert!(html.contains("Code: 123456"), "{html}");
    assert!(html.contains("Then: http://localhost:3000/?q=&lt;x&gt;"), "{html}");
    assert!(html.contains("{{ .Data.name }} {{ if .Token }}x{{ end }}"), "unknown placeholders are kept: {html}");
    // Without a .txt, the text is derived from the HTML: tags gone, the link spelled out.
    assert!(text.contains("Hi a&b@example.com"), "{text}");
    assert!(text.contains("Log in: http://localhost:3000/auth/confirm?token_hash=abc123&type=magiclink"), "{text}");
    assert!(!text.contains('<') || text.contains("<x>"), "{text}");
    let email = o.build(Template::MagicLink, "a@example.com", &d);
    assert_eq!(extract_link(&email).as_deref(), Some("http://localhost:3000/auth/confirm?token_hash=abc123&type=magiclink"));
    assert_eq!(extract_token(&email).as_deref(), Some("123456"));

    // Templates without replacements keep their defaults.
    assert_eq!(o.render(Template::Recovery, &data()), render(Template::Recovery, &data()));
}

#[test]
fn overrides_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("confirmation.html"), "<p>Welcome {{ .Email }}: <a href=\"{{ .ConfirmationURL }}\">go</a></p>").unwrap();
    std::fs::write(dir.path().join("confirmation.txt"), "Welcome {{ .Email }}: {{ .ConfirmationURL }}").unwrap();
    std::fs::write(dir.path().join("invite.subject"), "\n  Join {{ .SiteURL }}  \nignored line\n").unwrap();
    let o = TemplateOverrides::from_dir(dir.path()).unwrap();

    let (subject, html, text) = o.render(Template::Confirmation, &data());
    assert_eq!(subject, "Confirm Your Email");
    assert_eq!(html, format!("<p>Welcome user@example.com: <a href=\"{}\">go</a></p>", LINK.replace('&', "&amp;")));
    assert_eq!(text, format!("Welcome user@example.com: {LINK}"));

    let (subject, html, _) = o.render(Template::Invite, &data());
    assert_eq!(subject, "Join http://localhost:3000");
    assert_eq!(html, render(Template::Invite, &data()).1.replace("You have been invited", "Join http://localhost:3000"));

    assert_eq!(o.render(Template::MagicLink, &data()), render(Template::MagicLink, &data()));
    assert!(TemplateOverrides::from_dir(dir.path().join("missing")).is_err());
}

// ---- capture ----

#[tokio::test]
async fn capture_mailer_keeps_messages_and_finds_the_last_one() {
    let mailer = CaptureMailer::new();
    let first = build(Template::Confirmation, "a@example.com", &data());
    let mut second = build(Template::MagicLink, "a@example.com", &data());
    second.subject = "second".to_string();
    mailer.send(first.clone()).await.unwrap();
    mailer.send(build(Template::Recovery, "b@example.com", &data())).await.unwrap();
    mailer.send(second.clone()).await.unwrap();

    let all = mailer.messages();
    assert_eq!(all.len(), 3);
    assert_eq!(all.first(), Some(&first));
    assert_eq!(mailer.last_to("A@Example.com"), Some(second));
    assert_eq!(mailer.last_to("b@example.com").unwrap().subject, "Reset Your Password");
    assert_eq!(mailer.last_to("c@example.com"), None);

    mailer.clear();
    assert!(mailer.messages().is_empty());
}

#[tokio::test]
async fn capture_mailer_refuses_bad_addresses_and_stays_bounded() {
    let mailer: Arc<dyn Mailer> = Arc::new(CaptureMailer::new());
    let err = mailer.send(build(Template::Invite, "not an address", &data())).await.unwrap_err();
    assert!(matches!(err, MailError::InvalidAddress { .. }), "{err:?}");

    let capture = CaptureMailer::new();
    for i in 0..CaptureMailer::CAPACITY + 5 {
        let mut e = build(Template::Invite, "x@example.com", &data());
        e.subject = format!("n{i}");
        capture.send(e).await.unwrap();
    }
    let all = capture.messages();
    assert_eq!(all.len(), CaptureMailer::CAPACITY);
    assert_eq!(all.first().unwrap().subject, "n5");
}

#[test]
fn extraction_finds_nothing_in_an_empty_message() {
    let e = Email { to: "a@example.com".into(), subject: "s".into(), html: String::new(), text: "no code 12345 here".into() };
    assert_eq!(extract_link(&e), None);
    assert_eq!(extract_token(&e), None);
    let html_only = Email {
        to: "a@example.com".into(),
        subject: "s".into(),
        html: "<p><a href=\"https://x.example/v?token=1&amp;type=signup\">go</a> code <b>654321</b></p>".into(),
        text: String::new(),
    };
    assert_eq!(extract_link(&html_only).as_deref(), Some("https://x.example/v?token=1&type=signup"));
    assert_eq!(extract_token(&html_only).as_deref(), Some("654321"));
}

// ---- SMTP settings ----

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| map.get(k).cloned()
}

#[test]
fn smtp_settings_from_env() {
    assert!(SmtpSettings::from_env(env(&[])).unwrap().is_none());
    assert!(SmtpSettings::from_env(env(&[("SMTP_HOST", "  ")])).unwrap().is_none());

    let s = SmtpSettings::from_env(env(&[("SMTP_HOST", "smtp.example.com"), ("SMTP_ADMIN_EMAIL", "admin@example.com")]))
        .unwrap()
        .unwrap();
    assert_eq!((s.host.as_str(), s.port, s.security), ("smtp.example.com", 587, SmtpSecurity::StartTls));
    assert_eq!((s.username.as_deref(), s.password.as_deref(), s.from.as_str()), (None, None, "admin@example.com"));

    let s = SmtpSettings::from_env(env(&[
        ("SMTP_HOST", "smtp.example.com"),
        ("SMTP_PORT", "465"),
        ("SMTP_USER", "alice"),
        ("SMTP_PASS", "s3cret-pass"),
        ("SMTP_ADMIN_EMAIL", "admin@example.com"),
        ("SMTP_SENDER_NAME", "My App"),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!((s.port, s.security), (465, SmtpSecurity::Tls));
    assert_eq!(s.from, "My App <admin@example.com>");
    let debug = format!("{s:?}");
    assert!(!debug.contains("s3cret-pass") && debug.contains("alice"), "{debug}");

    let s = SmtpSettings::from_env(env(&[
        ("SMTP_HOST", "localhost"),
        ("SMTP_PORT", "1025"),
        ("SMTP_SECURITY", "NONE"),
        ("SMTP_ADMIN_EMAIL", "Dev <dev@localhost>"),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!((s.port, s.security, s.from.as_str()), (1025, SmtpSecurity::None, "Dev <dev@localhost>"));

    let base = [("SMTP_HOST", "h"), ("SMTP_ADMIN_EMAIL", "a@example.com")];
    for (bad, names) in [
        (vec![("SMTP_PORT", "smtp")], "SMTP_PORT"),
        (vec![("SMTP_PORT", "0")], "SMTP_PORT"),
        (vec![("SMTP_SECURITY", "maybe")], "SMTP_SECURITY"),
        (vec![("SMTP_PASS", "x")], "SMTP_PASS"),
        (vec![("SMTP_ADMIN_EMAIL", "not an address")], "SMTP_ADMIN_EMAIL"),
    ] {
        let mut pairs = base.to_vec();
        pairs.retain(|(k, _)| !bad.iter().any(|(b, _)| b == k));
        pairs.extend(bad.iter().copied());
        let err = SmtpSettings::from_env(env(&pairs)).unwrap_err();
        assert!(err.contains(names), "{err}");
    }
    let err = SmtpSettings::from_env(env(&[("SMTP_HOST", "h")])).unwrap_err();
    assert!(err.contains("SMTP_ADMIN_EMAIL"), "{err}");
}

// ---- SMTP against a sink ----

#[derive(Debug, Default)]
struct Transcript {
    commands: Vec<String>,
    data: String,
}

/// A one-connection SMTP server: `extensions` are advertised after EHLO, `auth_reply` answers AUTH.
async fn sink(extensions: &'static [&'static str], auth_reply: &'static str) -> (u16, tokio::task::JoinHandle<Transcript>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let mut t = Transcript::default();
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink.test ESMTP ready\r\n").await.unwrap();
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            let command = line.trim_end().to_string();
            t.commands.push(command.clone());
            let verb = command.split(' ').next().unwrap_or_default().to_ascii_uppercase();
            let reply = match verb.as_str() {
                "EHLO" => {
                    let mut r = String::new();
                    for ext in std::iter::once(&"sink.test").chain(extensions.iter()) {
                        r.push_str(&format!("250-{ext}\r\n"));
                    }
                    r.push_str("250 8BITMIME\r\n");
                    r
                }
                "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => "250 OK\r\n".to_string(),
                "AUTH" => format!("{auth_reply}\r\n"),
                "DATA" => {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    loop {
                        let mut l = String::new();
                        if lines.read_line(&mut l).await.unwrap() == 0 || l == ".\r\n" {
                            break;
                        }
                        t.data.push_str(&l);
                    }
                    "250 queued\r\n".to_string()
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => "502 not implemented\r\n".to_string(),
            };
            write.write_all(reply.as_bytes()).await.unwrap();
        }
        t
    });
    (port, handle)
}

fn settings(port: u16, security: SmtpSecurity) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".to_string(),
        port,
        username: None,
        password: None,
        from: "My App <noreply@example.com>".to_string(),
        security,
    }
}

/// Undoes quoted-printable soft breaks and `=3D`, enough to read a body part.
fn qp(s: &str) -> String {
    s.replace("=\r\n", "").replace("=3D", "=")
}

#[tokio::test]
async fn smtp_mailer_sends_multipart_alternative() {
    let (port, server) = sink(&[], "502 no").await;
    let mailer: Arc<dyn Mailer> = Arc::new(SmtpMailer::new(settings(port, SmtpSecurity::None)).unwrap());
    let email = build(Template::Confirmation, "user@example.com", &data());
    tokio::time::timeout(Duration::from_secs(10), mailer.send(email)).await.unwrap().unwrap();
    let t = tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap();

    assert!(t.commands.iter().any(|c| c == "MAIL FROM:<noreply@example.com>"), "{:?}", t.commands);
    assert!(t.commands.iter().any(|c| c == "RCPT TO:<user@example.com>"), "{:?}", t.commands);
    assert!(!t.commands.iter().any(|c| c.starts_with("AUTH")), "no credentials, no AUTH");
    let data = &t.data;
    assert!(data.contains("Subject: Confirm Your Email\r\n"), "{data}");
    assert!(data.lines().any(|l| l.starts_with("To: ") && l.contains("user@example.com")), "{data}");
    assert!(data.lines().any(|l| l.starts_with("From: ") && l.contains("noreply@example.com")), "{data}");
    assert!(data.contains("Message-ID: <"), "{data}");
    assert!(data.contains("Content-Type: multipart/alternative;"), "{data}");
    let plain = data.find("Content-Type: text/plain").expect("a text/plain part");
    let html = data.find("Content-Type: text/html").expect("a text/html part");
    assert!(plain < html, "text first, then HTML (the preferred part last)");
    let body = qp(data);
    assert!(body.contains("123456"), "{body}");
    assert!(body.contains(LINK), "text part carries the raw link: {body}");
    assert!(body.contains(&LINK.replace('&', "&amp;")), "html part carries the escaped link: {body}");
}

#[tokio::test]
async fn smtp_mailer_authenticates_with_credentials() {
    let (port, server) = sink(&["AUTH PLAIN LOGIN"], "235 2.7.0 accepted").await;
    let mut s = settings(port, SmtpSecurity::None);
    s.username = Some("alice".to_string());
    s.password = Some("s3cret-pass".to_string());
    let mailer = SmtpMailer::new(s).unwrap();
    assert!(!format!("{mailer:?}").contains("s3cret-pass"));
    let email = build(Template::MagicLink, "user@example.com", &data());
    tokio::time::timeout(Duration::from_secs(10), mailer.send(email)).await.unwrap().unwrap();
    let t = tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap();
    // base64 of "\0alice\0s3cret-pass"
    assert!(t.commands.iter().any(|c| c == "AUTH PLAIN AGFsaWNlAHMzY3JldC1wYXNz"), "{:?}", t.commands);
    assert!(t.data.contains("Subject: Your Magic Link"));
}

#[tokio::test]
async fn smtp_errors_never_show_the_password() {
    let (port, server) = sink(&["AUTH PLAIN LOGIN"], "535 5.7.8 rejected alice/s3cret-pass").await;
    let mut s = settings(port, SmtpSecurity::None);
    s.username = Some("alice".to_string());
    s.password = Some("s3cret-pass".to_string());
    let mailer = SmtpMailer::new(s).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), mailer.send(build(Template::Recovery, "user@example.com", &data())))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, MailError::Transport(_)), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("s3cret-pass"), "{shown}");
    assert!(shown.contains("535"), "{shown}");
    let t = tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap();
    assert!(!t.commands.iter().any(|c| c.starts_with("MAIL")), "{:?}", t.commands);
}

#[tokio::test]
async fn starttls_is_required_not_optional() {
    // The sink offers no STARTTLS: the mailer must give up before sending anything in the clear.
    let (port, server) = sink(&[], "502 no").await;
    let mailer = SmtpMailer::new(settings(port, SmtpSecurity::StartTls)).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), mailer.send(build(Template::Invite, "user@example.com", &data())))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, MailError::Transport(_)), "{err:?}");
    assert!(err.to_string().contains("SMTP_SECURITY=none"), "{err}");
    let t = tokio::time::timeout(Duration::from_secs(10), server).await.unwrap().unwrap();
    assert!(!t.commands.iter().any(|c| c.starts_with("MAIL") || c.starts_with("AUTH")), "{:?}", t.commands);
}

#[tokio::test]
async fn refused_connection_is_an_error_not_a_panic() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mailer = SmtpMailer::new(settings(port, SmtpSecurity::None)).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), mailer.send(build(Template::Confirmation, "user@example.com", &data())))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, MailError::Transport(_)), "{err:?}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
}

#[tokio::test]
async fn bad_addresses_are_reported() {
    let mut s = settings(25, SmtpSecurity::None);
    s.from = "nobody".to_string();
    assert!(matches!(SmtpMailer::new(s).unwrap_err(), MailError::InvalidAddress { role: "sender", .. }));
    assert!(matches!(SmtpMailer::new(SmtpSettings { host: " ".into(), ..settings(25, SmtpSecurity::None) }).unwrap_err(), MailError::Config(_)));

    let mailer = SmtpMailer::new(settings(1, SmtpSecurity::None)).unwrap();
    let err = mailer.send(build(Template::Confirmation, "user@example.com\r\nBcc: x@example.com", &data())).await.unwrap_err();
    assert!(matches!(err, MailError::InvalidAddress { role: "recipient", .. }), "{err:?}");
}
