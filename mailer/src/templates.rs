//! The mails: a subject, a text part and an HTML part per template, built
//! in, each replaceable by a file in `PG_AUTH_MAILER_TEMPLATES`
//! (`verify_email.subject`, `verify_email.txt`, `verify_email.html`...).
//! Placeholders: `{link}` (the link, or the bare token when
//! `pg_auth.site_url` is unset), `{username}`, `{expires_at}`, `{new_email}`. Values are
//! HTML-escaped in the HTML part.

use std::collections::HashMap;
use std::path::Path;

use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

/// The templates auth.outbox may name.
const NAMES: [&str; 5] = [
    "verify_email",
    "reset_password",
    "signup_existing",
    "change_email",
    "email_changed",
];

#[derive(Debug, Clone)]
struct Template {
    subject: String,
    text: String,
    html: String,
}

#[derive(Debug)]
pub struct Templates(HashMap<&'static str, Template>);

fn built_in(name: &str) -> Template {
    let (subject, text) = match name {
        "verify_email" => (
            "Confirm your email address",
            "Open this link to confirm your email address:\n\n{link}\n\n\
             It works once, until {expires_at}. If you did not sign up, ignore this mail.\n",
        ),
        "reset_password" => (
            "Reset your password",
            "Open this link to choose a new password for {username}:\n\n{link}\n\n\
             It works once, until {expires_at}, and signs out every device. \
             If you did not ask for it, ignore this mail: your password stays as it is.\n",
        ),
        "change_email" => (
            "Confirm your new email address",
            "Open this link to make this the address of {username}:\n\n{link}\n\n\
             It works once, until {expires_at}. If you did not ask for it, ignore this mail.\n",
        ),
        "email_changed" => (
            "Your email address is being changed",
            "Someone signed in as {username} asked to move the account to {new_email}. \
             Nothing changes until that address confirms. If it was not you, change your \
             password now.\n",
        ),
        _ => (
            "Someone tried to sign up with your address",
            "Someone, maybe you, tried to open an account with this address, which already \
             has one ({username}). Sign in with your password, or ask for a new one on the \
             site if you forgot it. If it was not you, ignore this mail.\n",
        ),
    };
    let paragraphs: String = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            if p.trim() == "{link}" {
                "<p><a href=\"{link}\">{link}</a></p>\n".to_owned()
            } else {
                format!("<p>{}</p>\n", p.trim())
            }
        })
        .collect();
    Template {
        subject: subject.to_owned(),
        text: text.to_owned(),
        html: format!("<!doctype html>\n<html><body>\n{paragraphs}</body></html>\n"),
    }
}

impl Templates {
    /// The built-in templates, with any file of `dir` in their place.
    pub fn load(dir: Option<&Path>) -> Result<Templates, String> {
        let mut templates = HashMap::new();
        for name in NAMES {
            let mut template = built_in(name);
            if let Some(dir) = dir {
                for (extension, part) in [
                    ("subject", &mut template.subject),
                    ("txt", &mut template.text),
                    ("html", &mut template.html),
                ] {
                    let path = dir.join(format!("{name}.{extension}"));
                    match std::fs::read_to_string(&path) {
                        Ok(text) => *part = text,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(format!("{}: {e}", path.display())),
                    }
                }
            }
            if template.subject.trim_end().contains(['\r', '\n']) {
                return Err(format!("{name}.subject: one line"));
            }
            templates.insert(name, template);
        }
        Ok(Templates(templates))
    }

    pub fn render(
        &self,
        name: &str,
        data: &serde_json::Value,
        from: &Mailbox,
        recipient: &str,
    ) -> Result<Message, String> {
        let template = self
            .0
            .get(name)
            .ok_or_else(|| format!("no template {name:?}"))?;
        let field = |key: &str| {
            data.get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let link = Some(field("link"))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| field("token"));
        let values = [
            ("{link}", link),
            ("{username}", field("username")),
            ("{expires_at}", field("expires_at")),
            ("{new_email}", field("new_email")),
        ];
        let fill = |text: &str, escape: bool| {
            values
                .iter()
                .fold(text.to_owned(), |text, (placeholder, value)| {
                    text.replace(
                        placeholder,
                        &if escape {
                            html_escape(value)
                        } else {
                            value.clone()
                        },
                    )
                })
        };
        Message::builder()
            .from(from.clone())
            .to(recipient.parse().map_err(|e| format!("recipient: {e}"))?)
            .subject(fill(template.subject.trim(), false))
            .multipart(MultiPart::alternative_plain_html(
                fill(&template.text, false),
                fill(&template.html, true),
            ))
            .map_err(|e| format!("message: {e}"))
    }
}

fn html_escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> Mailbox {
        "Example <no-reply@example.org>".parse().unwrap()
    }

    #[test]
    fn every_template_renders_its_link_in_both_parts() {
        let templates = Templates::load(None).unwrap();
        let data = serde_json::json!({"link": "https://app.example.org/?verify=abc&x=<1>", "username": "ann",
                                      "expires_at": "2026-12-04T10:00:00+00:00", "token": "abc"});
        let message = templates
            .render("verify_email", &data, &from(), "ann@example.org")
            .unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(
            text.contains("Subject: Confirm your email address"),
            "{text}"
        );
        assert!(text.contains("To: ann@example.org"), "{text}");
        // (quoted-printable writes = as =3D)
        assert!(
            text.contains("&amp;x=3D&lt;1&gt;"),
            "escaped in HTML: {text}"
        );
        for name in NAMES {
            assert!(
                templates
                    .render(name, &data, &from(), "ann@example.org")
                    .is_ok(),
                "{name}"
            );
        }
    }

    #[test]
    fn a_recipient_with_a_header_in_it_is_refused() {
        let templates = Templates::load(None).unwrap();
        let data = serde_json::json!({"token": "abc"});
        for recipient in ["ann@example.org\r\nBcc: eve@example.org", "not an address"] {
            assert!(
                templates
                    .render("verify_email", &data, &from(), recipient)
                    .is_err(),
                "{recipient:?}"
            );
        }
        assert!(templates
            .render("unknown", &data, &from(), "ann@example.org")
            .is_err());
    }

    #[test]
    fn files_replace_the_built_in_parts() {
        let dir =
            std::env::temp_dir().join(format!("pg-auth-mailer-templates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("reset_password.subject"),
            "Your {username} reset\n",
        )
        .unwrap();
        std::fs::write(dir.join("reset_password.txt"), "Here: {link}\n").unwrap();
        let templates = Templates::load(Some(&dir)).unwrap();
        let data = serde_json::json!({"token": "t0k3n", "username": "ann"});
        let message = templates
            .render("reset_password", &data, &from(), "ann@example.org")
            .unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(text.contains("Subject: Your ann reset"), "{text}");
        assert!(
            text.contains("Here: t0k3n"),
            "the token when no link: {text}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
