//! The five auth emails (signup confirmation, magic link, password recovery, email change,
//! invitation): default subjects and bodies, and optional per-project replacements read from a
//! directory, filled with GoTrue's `{{ .Var }}` placeholders.
//!
//! Every value put into HTML is escaped; placeholders it does not know are left untouched. It
//! must not evaluate anything beyond plain `{{ .Name }}` substitution (no Go template logic).

use std::collections::HashMap;
use std::path::Path;

use super::Email;

/// Which auth email to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Template {
    Confirmation,
    MagicLink,
    Recovery,
    EmailChange,
    Invite,
}

impl Template {
    /// All templates, in a fixed order.
    pub const ALL: [Template; 5] =
        [Template::Confirmation, Template::MagicLink, Template::Recovery, Template::EmailChange, Template::Invite];

    /// GoTrue's name for the template, also the file stem used by [`TemplateOverrides::from_dir`].
    pub fn name(self) -> &'static str {
        match self {
            Template::Confirmation => "confirmation",
            Template::MagicLink => "magic_link",
            Template::Recovery => "recovery",
            Template::EmailChange => "email_change",
            Template::Invite => "invite",
        }
    }

    /// The subject used when none is configured: GoTrue's defaults up to v2.189 (`templatemailer.go`;
    /// v2.190 reworded all five).
    pub fn default_subject(self) -> &'static str {
        match self {
            Template::Confirmation => "Confirm Your Email",
            Template::MagicLink => "Your Magic Link",
            Template::Recovery => "Reset Your Password",
            Template::EmailChange => "Confirm Email Change",
            Template::Invite => "You have been invited",
        }
    }
}

/// The values a template can show, under GoTrue's placeholder names.
#[derive(Debug, Clone)]
pub struct TemplateData {
    /// `{{ .SiteURL }}`: the application's address.
    pub site_url: String,
    /// `{{ .ConfirmationURL }}`: the complete link that verifies the token.
    pub confirmation_url: String,
    /// `{{ .Token }}`: the one-time code a user can type instead of following the link.
    pub token: String,
    /// `{{ .TokenHash }}`: the hashed token, for projects that build their own links.
    pub token_hash: String,
    /// `{{ .Email }}`: the account's (current) address.
    pub email: String,
    /// `{{ .NewEmail }}`: the requested new address (email change only).
    pub new_email: Option<String>,
    /// `{{ .RedirectTo }}`: where the user goes after verifying, when the request named a place.
    pub redirect_to: Option<String>,
}

impl TemplateData {
    /// The value of a placeholder by its GoTrue name; `None` for names this mailer does not know.
    pub fn lookup(&self, name: &str) -> Option<&str> {
        Some(match name {
            "SiteURL" => &self.site_url,
            "ConfirmationURL" => &self.confirmation_url,
            "Token" => &self.token,
            "TokenHash" => &self.token_hash,
            "Email" => &self.email,
            "NewEmail" => self.new_email.as_deref().unwrap_or(""),
            "RedirectTo" => self.redirect_to.as_deref().unwrap_or(""),
            _ => return None,
        })
    }
}

/// Renders a default template: `(subject, html, text)`. Values in the HTML are escaped.
pub fn render(template: Template, data: &TemplateData) -> (String, String, String) {
    let wording = wording(template);
    let subject = one_line(template.default_subject());
    let html = default_html(&wording, &subject, data);
    let text = default_text(&wording, data);
    (subject, html, text)
}

/// A ready-to-send message from a default template.
pub fn build(template: Template, to: &str, data: &TemplateData) -> Email {
    let (subject, html, text) = render(template, data);
    Email { to: to.to_string(), subject, html, text }
}

/// Replacements for some or all of the default templates. Anything not replaced falls back to
/// the default, so an empty value renders exactly like [`render`].
#[derive(Debug, Clone, Default)]
pub struct TemplateOverrides {
    custom: HashMap<Template, Custom>,
}

#[derive(Debug, Clone, Default)]
struct Custom {
    subject: Option<String>,
    html: Option<String>,
    text: Option<String>,
}

impl TemplateOverrides {
    /// No replacements: every template renders its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads replacements from `dir`. For each template name (`confirmation`, `magic_link`,
    /// `recovery`, `email_change`, `invite`) it looks for `NAME.html` (the HTML body), and
    /// optionally `NAME.txt` (the plain-text body; without it the text is derived from the HTML)
    /// and `NAME.subject` (first line is the subject). Missing files keep the defaults; a missing
    /// directory or an unreadable file is an error.
    pub fn from_dir(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("email template directory {} does not exist", dir.display()),
            ));
        }
        let mut overrides = Self::new();
        for template in Template::ALL {
            let name = template.name();
            if let Some(html) = read_optional(&dir.join(format!("{name}.html")))? {
                overrides.set_html(template, html);
            }
            if let Some(text) = read_optional(&dir.join(format!("{name}.txt")))? {
                overrides.set_text(template, text);
            }
            if let Some(subject) = read_optional(&dir.join(format!("{name}.subject")))? {
                let line = subject.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
                if !line.is_empty() {
                    overrides.set_subject(template, line);
                }
            }
        }
        Ok(overrides)
    }

    /// Replaces a subject (may contain placeholders; nothing in it is escaped).
    pub fn set_subject(&mut self, template: Template, subject: impl Into<String>) {
        self.custom.entry(template).or_default().subject = Some(subject.into());
    }

    /// Replaces an HTML body (placeholders are filled with HTML-escaped values).
    pub fn set_html(&mut self, template: Template, html: impl Into<String>) {
        self.custom.entry(template).or_default().html = Some(html.into());
    }

    /// Replaces a plain-text body (placeholders are filled as they are).
    pub fn set_text(&mut self, template: Template, text: impl Into<String>) {
        self.custom.entry(template).or_default().text = Some(text.into());
    }

    /// Whether nothing is replaced.
    pub fn is_empty(&self) -> bool {
        self.custom.values().all(|c| c.subject.is_none() && c.html.is_none() && c.text.is_none())
    }

    /// Renders `template` with any replacements: `(subject, html, text)`.
    pub fn render(&self, template: Template, data: &TemplateData) -> (String, String, String) {
        let Some(custom) = self.custom.get(&template) else {
            return render(template, data);
        };
        let subject = match &custom.subject {
            Some(s) => one_line(&fill(s, data, false)),
            None => one_line(template.default_subject()),
        };
        let wording = wording(template);
        let html = match &custom.html {
            Some(h) => fill(h, data, true),
            None => default_html(&wording, &subject, data),
        };
        let text = match (&custom.text, &custom.html) {
            (Some(t), _) => fill(t, data, false),
            (None, Some(_)) => html_to_text(&html),
            (None, None) => default_text(&wording, data),
        };
        (subject, html, text)
    }

    /// A ready-to-send message, with any replacements.
    pub fn build(&self, template: Template, to: &str, data: &TemplateData) -> Email {
        let (subject, html, text) = self.render(template, data);
        Email { to: to.to_string(), subject, html, text }
    }
}

fn read_optional(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    }
}

/// The words of one default email. Each piece may hold placeholders.
struct Wording {
    heading: &'static str,
    intro: &'static str,
    button: &'static str,
    ignore: &'static str,
}

fn wording(template: Template) -> Wording {
    match template {
        Template::Confirmation => Wording {
            heading: "Finish creating your account",
            intro: "An account was just opened for {{ .Email }}. Open the link below to prove that this \
                    address belongs to you.",
            button: "Verify my email address",
            ignore: "If you did not sign up, ignore this message: the account stays inactive.",
        },
        Template::MagicLink => Wording {
            heading: "Your sign-in link",
            intro: "Use the link below to sign in as {{ .Email }}. It works once and expires soon.",
            button: "Sign me in",
            ignore: "If you did not try to sign in, ignore this message: nothing about your account changes.",
        },
        Template::Recovery => Wording {
            heading: "Choose a new password",
            intro: "Someone asked to reset the password of the account {{ .Email }}. Open the link below \
                    to pick a new one.",
            button: "Set a new password",
            ignore: "If this was not you, ignore this message: your current password keeps working.",
        },
        Template::EmailChange => Wording {
            heading: "Confirm your new email address",
            intro: "A request was made to move the account {{ .Email }} to the address {{ .NewEmail }}. \
                    Open the link below to approve the change.",
            button: "Approve the change",
            ignore: "If you did not ask for this, ignore this message: the address stays as it is.",
        },
        Template::Invite => Wording {
            heading: "You are invited",
            intro: "An account has been prepared for {{ .Email }}. Open the link below to accept the \
                    invitation and finish setting it up.",
            button: "Accept the invitation",
            ignore: "If you were not expecting this invitation, ignore this message.",
        },
    }
}

fn has_redirect(data: &TemplateData) -> bool {
    data.redirect_to.as_deref().is_some_and(|r| !r.trim().is_empty())
}

fn default_html(w: &Wording, subject: &str, data: &TemplateData) -> String {
    let body = format!(
        "<h2 style=\"margin:0 0 16px;font-size:20px\">{heading}</h2>\n\
         <p>{intro}</p>\n\
         <p style=\"margin:24px 0\"><a href=\"{{{{ .ConfirmationURL }}}}\" style=\"background:#1f6feb;color:#ffffff;\
         padding:10px 18px;border-radius:6px;text-decoration:none;display:inline-block\">{button}</a></p>\n\
         <p>Or enter this one-time code: <strong style=\"font-size:18px;letter-spacing:2px\">{{{{ .Token }}}}</strong></p>\n\
         {redirect}\
         <p style=\"color:#57606a;font-size:13px\">Link not working? Copy this address into your browser:<br>\n\
         <span style=\"word-break:break-all\">{{{{ .ConfirmationURL }}}}</span></p>\n\
         <p style=\"color:#57606a;font-size:13px\">{ignore}</p>\n\
         <p style=\"color:#57606a;font-size:13px\">Sent by {{{{ .SiteURL }}}}</p>\n",
        heading = w.heading,
        intro = w.intro,
        button = w.button,
        ignore = w.ignore,
        redirect = if has_redirect(data) { "<p>Afterwards you will continue at {{ .RedirectTo }}</p>\n" } else { "" },
    );
    // Filled before it goes into the page, so nothing in the (already final) title is filled twice.
    let body = fill(&body, data, true);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n</head>\n\
         <body style=\"margin:0;padding:24px;background:#f6f8fa;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;\
         color:#1f2328;line-height:1.5\">\n\
         <div style=\"max-width:560px;margin:0 auto;background:#ffffff;border:1px solid #d0d7de;border-radius:8px;padding:24px\">\n\
         {body}</div>\n</body>\n</html>\n",
        title = escape_html(subject),
    )
}

fn default_text(w: &Wording, data: &TemplateData) -> String {
    let text = format!(
        "{heading}\n\n{intro}\n\n{{{{ .ConfirmationURL }}}}\n\nOr enter this one-time code: {{{{ .Token }}}}\n\n\
         {redirect}{ignore}\n\nSent by {{{{ .SiteURL }}}}\n",
        heading = w.heading,
        intro = w.intro,
        ignore = w.ignore,
        redirect = if has_redirect(data) { "Afterwards you will continue at {{ .RedirectTo }}\n\n" } else { "" },
    );
    fill(&text, data, false)
}

/// Subjects are a single header line.
fn one_line(s: &str) -> String {
    s.split(['\r', '\n']).map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Replaces each `{{ .Name }}` this mailer knows (spaces and Go's `-` trim markers optional) by
/// its value, HTML-escaped when `html`. Anything else between braces is copied unchanged.
pub(crate) fn fill(template: &str, data: &TemplateData, html: bool) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some((before, after)) = rest.split_once("{{") {
        out.push_str(before);
        let Some((inner, tail)) = after.split_once("}}") else {
            out.push_str("{{");
            rest = after;
            break;
        };
        let name = inner.trim().trim_start_matches('-').trim_end_matches('-').trim();
        match name.strip_prefix('.').and_then(|n| data.lookup(n)) {
            Some(value) if html => out.push_str(&escape_html(value)),
            Some(value) => out.push_str(value),
            None => {
                out.push_str("{{");
                out.push_str(inner);
                out.push_str("}}");
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Escapes the five characters that matter in HTML text and quoted attributes.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Decodes the entities an email body is likely to hold (named basics and numeric ones);
/// anything else is kept as written.
pub(crate) fn unescape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((before, after)) = rest.split_once('&') {
        out.push_str(before);
        let decoded = after.split_once(';').filter(|(name, _)| name.len() <= 10).and_then(|(name, tail)| {
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => {
                    let code = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        u32::from_str_radix(hex, 16).ok()
                    } else {
                        name.strip_prefix('#').and_then(|d| d.parse::<u32>().ok())
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, tail))
        });
        match decoded {
            Some((c, tail)) => {
                out.push(c);
                rest = tail;
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A readable plain-text version of an HTML body: tags dropped, block ends become line breaks,
/// links become `label: url`, entities decoded, blank runs collapsed.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut raw = String::with_capacity(html.len());
    let mut rest = html;
    // (href, position in `raw` where the link's label starts)
    let mut open_link: Option<(String, usize)> = None;
    while let Some((before, after)) = rest.split_once('<') {
        raw.push_str(&collapse_spaces(&unescape_html(before)));
        if let Some(comment) = after.strip_prefix("!--") {
            rest = comment.split_once("-->").map_or("", |(_, t)| t);
            continue;
        }
        let Some((tag, tail)) = after.split_once('>') else {
            rest = "";
            break;
        };
        rest = tail;
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match name.as_str() {
            "style" | "script" | "head" | "title" if !closing => {
                let end = format!("</{name}");
                let lower = rest.to_ascii_lowercase();
                rest = match lower.find(&end) {
                    Some(at) => rest.get(at..).and_then(|r| r.split_once('>')).map_or("", |(_, t)| t),
                    None => "",
                };
            }
            "a" if !closing => {
                open_link = attribute(tag, "href").map(|h| (unescape_html(&h), raw.len()));
            }
            "a" => {
                if let Some((href, start)) = open_link.take() {
                    let label = raw.get(start..).unwrap_or_default().trim().to_string();
                    if href.starts_with("http") && label != href {
                        if label.is_empty() {
                            raw.push_str(&href);
                        } else {
                            raw.push_str(": ");
                            raw.push_str(&href);
                        }
                    }
                }
            }
            "br" => raw.push('\n'),
            "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "li" | "tr" | "table" | "ul" | "ol"
            | "blockquote" | "hr" | "section" | "article" | "header" | "footer" | "center" => raw.push_str("\n\n"),
            _ => {}
        }
    }
    raw.push_str(&collapse_spaces(&unescape_html(rest)));

    let mut out = String::with_capacity(raw.len());
    let mut blank = true;
    for line in raw.lines().map(str::trim) {
        if line.is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
        } else {
            out.push_str(line);
            out.push('\n');
            blank = false;
        }
    }
    out.trim_end().to_string() + "\n"
}

fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    if space {
        out.push(' ');
    }
    out
}

/// The value of attribute `name` in the inside of a tag (`a href="..." class=x`).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|s| s.find(name)) {
        let at = from + found;
        from = at + name.len();
        let preceded_by_space = lower.get(..at).and_then(|s| s.chars().last()).is_some_and(char::is_whitespace);
        let after = tag.get(at + name.len()..)?.trim_start();
        let Some(value) = after.strip_prefix('=') else { continue };
        if !preceded_by_space {
            continue;
        }
        let value = value.trim_start();
        let parsed = if let Some(v) = value.strip_prefix('"') {
            v.split_once('"').map(|(v, _)| v)
        } else if let Some(v) = value.strip_prefix('\'') {
            v.split_once('\'').map(|(v, _)| v)
        } else {
            value.split(|c: char| c.is_whitespace() || c == '/').next()
        };
        return parsed.map(str::to_string);
    }
    None
}
