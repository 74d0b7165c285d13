//! The mailer's configuration, from the environment, checked at start.

use std::path::PathBuf;

use lettre::message::Mailbox;
use lettre::transport::smtp::SmtpTransport;

#[derive(Debug)]
pub struct Config {
    /// `PG_AUTH_MAILER_DATABASE_URL`: a libpq URL for the `mailer` role.
    pub database_url: String,
    /// `PG_AUTH_MAILER_SMTP_URL`: `smtp://host:port` (plain, for a local
    /// relay), `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:465` (implicit TLS).
    smtp_url: String,
    /// `PG_AUTH_MAILER_FROM`: `Name <address>` or `address`.
    pub from: Mailbox,
    /// `PG_AUTH_MAILER_TEMPLATES`: a folder of templates replacing the
    /// built-in ones (`templates.rs`).
    pub templates_dir: Option<PathBuf>,
    /// `PG_AUTH_MAILER_WORKERS`: messages sent at once (1 to 64, default 4).
    pub workers: usize,
}

const DEFAULT_WORKERS: usize = 4;
const MAX_WORKERS: usize = 64;

impl Config {
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let required = |name: &str| {
            var(name)
                .filter(|value| !value.trim().is_empty())
                .ok_or_else(|| format!("{name} is not set"))
        };
        let database_url = required("PG_AUTH_MAILER_DATABASE_URL")?;
        database_url
            .parse::<postgres::Config>()
            .map_err(|e| format!("PG_AUTH_MAILER_DATABASE_URL: {e}"))?;
        let smtp_url = required("PG_AUTH_MAILER_SMTP_URL")?;
        SmtpTransport::from_url(&smtp_url).map_err(|e| format!("PG_AUTH_MAILER_SMTP_URL: {e}"))?;
        let from = required("PG_AUTH_MAILER_FROM")?
            .parse()
            .map_err(|e| format!("PG_AUTH_MAILER_FROM: {e}"))?;
        let templates_dir = var("PG_AUTH_MAILER_TEMPLATES")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        let workers = match var("PG_AUTH_MAILER_WORKERS").filter(|value| !value.is_empty()) {
            None => DEFAULT_WORKERS,
            Some(value) => value
                .parse()
                .ok()
                .filter(|n| (1..=MAX_WORKERS).contains(n))
                .ok_or_else(|| {
                    format!(
                        "PG_AUTH_MAILER_WORKERS: {value:?} is not a number from 1 to {MAX_WORKERS}"
                    )
                })?,
        };
        Ok(Config {
            database_url,
            smtp_url,
            from,
            templates_dir,
            workers,
        })
    }

    pub fn transport(&self) -> Result<SmtpTransport, String> {
        SmtpTransport::from_url(&self.smtp_url)
            .map(|builder| {
                builder
                    .timeout(Some(std::time::Duration::from_secs(10)))
                    .build()
            })
            .map_err(|e| e.to_string())
    }

    /// The SMTP server without its credentials, for the log.
    pub fn smtp_display(&self) -> String {
        let (scheme, rest) = self
            .smtp_url
            .split_once("://")
            .unwrap_or(("smtp", &self.smtp_url));
        let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        format!("{scheme}://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::Config;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, String> {
        Config::from_env(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    const GOOD: [(&str, &str); 3] = [
        (
            "PG_AUTH_MAILER_DATABASE_URL",
            "postgres://mailer@127.0.0.1/postgres",
        ),
        (
            "PG_AUTH_MAILER_SMTP_URL",
            "smtps://user:secret@mail.example.org:465",
        ),
        ("PG_AUTH_MAILER_FROM", "Example <no-reply@example.org>"),
    ];

    #[test]
    fn a_good_configuration_starts_and_hides_the_smtp_password() {
        let config = from(&GOOD).unwrap();
        assert_eq!(config.smtp_display(), "smtps://mail.example.org:465");
        assert_eq!(config.workers, 4);
        let mut eight = GOOD.to_vec();
        eight.push(("PG_AUTH_MAILER_WORKERS", "8"));
        assert_eq!(from(&eight).unwrap().workers, 8);
    }

    #[test]
    fn a_bad_configuration_says_what_is_wrong() {
        for (name, value, problem) in [
            (
                "PG_AUTH_MAILER_DATABASE_URL",
                "",
                "PG_AUTH_MAILER_DATABASE_URL is not set",
            ),
            (
                "PG_AUTH_MAILER_DATABASE_URL",
                "postgres://mailer@127.0.0.1:port/postgres",
                "PG_AUTH_MAILER_DATABASE_URL: ",
            ),
            (
                "PG_AUTH_MAILER_SMTP_URL",
                "http://mail.example.org",
                "PG_AUTH_MAILER_SMTP_URL",
            ),
            (
                "PG_AUTH_MAILER_FROM",
                "not an address",
                "PG_AUTH_MAILER_FROM",
            ),
            ("PG_AUTH_MAILER_WORKERS", "0", "PG_AUTH_MAILER_WORKERS: "),
            ("PG_AUTH_MAILER_WORKERS", "65", "PG_AUTH_MAILER_WORKERS: "),
            ("PG_AUTH_MAILER_WORKERS", "four", "PG_AUTH_MAILER_WORKERS: "),
        ] {
            let mut pairs: Vec<(&str, &str)> =
                GOOD.iter().filter(|(n, _)| *n != name).copied().collect();
            pairs.push((name, value));
            let error = from(&pairs).unwrap_err();
            assert!(error.starts_with(problem), "{error}");
        }
    }
}
