//! A mailer that sends nothing: for `dev` and tests it keeps each message in memory and logs its
//! link and code at INFO, so a developer can follow the link straight from the console.
//!
//! Must not be used where real users sign up: it logs one-time codes and links. It keeps only the
//! most recent [`CaptureMailer::CAPACITY`] messages so a long `dev` session cannot grow without end.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use super::templates::{html_to_text, unescape_html};
use super::{Email, MailError, MailFuture, Mailer};

/// For `dev` and tests: keeps every message in memory and logs the first link found in it at
/// INFO (tracing), so a developer can click it from the console.
#[derive(Debug, Default)]
pub struct CaptureMailer {
    messages: Mutex<VecDeque<Email>>,
}

impl CaptureMailer {
    /// How many messages are kept; older ones are dropped first.
    pub const CAPACITY: usize = 1000;

    pub fn new() -> Self {
        Self::default()
    }

    /// Every kept message, oldest first.
    pub fn messages(&self) -> Vec<Email> {
        self.lock().iter().cloned().collect()
    }

    /// The most recent message to `address` (compared without regard to ASCII case).
    pub fn last_to(&self, address: &str) -> Option<Email> {
        let address = address.trim();
        self.lock().iter().rev().find(|e| e.to.trim().eq_ignore_ascii_case(address)).cloned()
    }

    /// Forgets every kept message.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Email>> {
        // A panic while holding the lock cannot leave the queue half-changed; keep using it.
        self.messages.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Mailer for CaptureMailer {
    fn send<'a>(&'a self, email: Email) -> MailFuture<'a> {
        Box::pin(async move {
            // Refuse what the SMTP mailer would refuse, so `dev` shows the same errors.
            if email.to.parse::<lettre::message::Mailbox>().is_err() {
                return Err(MailError::InvalidAddress { role: "recipient", address: email.to });
            }
            let link = extract_link(&email);
            let code = extract_token(&email);
            tracing::info!(
                to = %email.to,
                subject = %email.subject,
                link = link.as_deref().unwrap_or("-"),
                code = code.as_deref().unwrap_or("-"),
                "email captured (not sent)"
            );
            let mut messages = self.lock();
            while messages.len() >= Self::CAPACITY {
                messages.pop_front();
            }
            messages.push_back(email);
            Ok(())
        })
    }
}

/// The one-time code in a message: the first word of 6 to 10 digits (GoTrue's OTP lengths), looked
/// for in the text part, then in the HTML part's text.
pub fn extract_token(email: &Email) -> Option<String> {
    fn find(text: &str) -> Option<String> {
        text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>'))
            .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
            .find(|w| (6..=10).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string)
    }
    find(&email.text).or_else(|| find(&html_to_text(&email.html)))
}

/// The link in a message: the first http(s) link that carries a token (`token=` or `token_hash=`),
/// otherwise the first http(s) link at all; the text part is searched before the HTML part.
/// Links from the HTML part are returned with entities decoded (`&amp;` becomes `&`).
pub fn extract_link(email: &Email) -> Option<String> {
    let mut links = links_in(&email.text);
    links.extend(links_in(&email.html).into_iter().map(|l| unescape_html(&l)));
    let carries_token = |l: &&String| l.contains("token=") || l.contains("token_hash=");
    links.iter().find(carries_token).or_else(|| links.first()).cloned()
}

fn links_in(s: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = s;
    loop {
        let http = rest.find("http://");
        let https = rest.find("https://");
        let start = match (http, https) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => break,
        };
        let Some(tail) = rest.get(start..) else { break };
        let end = tail.find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`')).unwrap_or(tail.len());
        let (link, after) = tail.split_at(end);
        let link = link.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        if link.len() > "https://".len() {
            links.push(link.to_string());
        }
        rest = after;
        if after.is_empty() {
            break;
        }
    }
    links
}
