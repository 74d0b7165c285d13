//! `pg_auth_mailer`: sends what pg_auth_ext writes to `auth.outbox`.
//!
//! The extension never talks to the network: sign-up, verification and
//! reset write a row in their own transaction and `NOTIFY pg_auth_outbox`.
//! This program LISTENs, claims one unsent row at a time with `FOR UPDATE
//! SKIP LOCKED` (so several mailers can run), renders it (`templates.rs`),
//! sends it over SMTP with lettre, and marks it `auth.outbox_sent` (which
//! drops its token) or `auth.outbox_failed` (retried later, with backoff).
//! Configuration comes from the environment (`config.rs`); a bad one
//! refuses to start.

mod config;
mod outbox;
mod templates;

use std::process::ExitCode;
use std::time::Duration;

use config::Config;

/// How long to wait for a NOTIFY before looking again anyway (a retry's
/// time may come without one).
const IDLE_WAIT: Duration = Duration::from_secs(2);
/// After a lost database connection, before connecting again.
const RECONNECT_WAIT: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    // `--check`: read the configuration and the templates, say whether they
    // hold, and stop (what a deployment runs before it starts the mailer).
    let check_only = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            eprintln!(
                "usage: pg_auth_mailer [--check]  (configuration: PG_AUTH_MAILER_* variables)"
            );
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_env(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(problem) => {
            eprintln!("pg_auth_mailer: {problem}");
            return ExitCode::from(2);
        }
    };
    let templates = match templates::Templates::load(config.templates_dir.as_deref()) {
        Ok(templates) => templates,
        Err(problem) => {
            eprintln!("pg_auth_mailer: {problem}");
            return ExitCode::from(2);
        }
    };
    if check_only {
        eprintln!(
            "pg_auth_mailer: configuration and templates hold; would send through {}",
            config.smtp_display()
        );
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "pg_auth_mailer: sending auth.outbox through {} with {} workers",
        config.smtp_display(),
        config.workers
    );
    // Each worker has its own database and SMTP connections and claims rows
    // like a mailer of its own. Several, because one SMTP connection sends
    // about 20 messages a second: lettre 0.11.23 leaves Nagle on, so the
    // end of each message waits for the server's delayed ACK (40 ms on
    // Linux; lettre/lettre#1159 fixes it, unreleased as of 2026-12).
    std::thread::scope(|scope| {
        for _ in 0..config.workers {
            scope.spawn(|| loop {
                if let Err(problem) = outbox::serve(&config, &templates, IDLE_WAIT) {
                    eprintln!("pg_auth_mailer: {problem}; connecting again");
                }
                std::thread::sleep(RECONNECT_WAIT);
            });
        }
    });
    ExitCode::FAILURE
}
