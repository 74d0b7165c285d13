//! Claiming, sending and marking the outbox's rows.

use std::time::Duration;

use lettre::Transport as _;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::{Client, NoTls};

use crate::config::Config;
use crate::templates::Templates;

/// Connects, LISTENs, and sends until the connection fails.
pub fn serve(config: &Config, templates: &Templates, idle_wait: Duration) -> Result<(), String> {
    let mut client =
        Client::connect(&config.database_url, NoTls).map_err(|e| format!("database: {e}"))?;
    client
        .batch_execute("LISTEN pg_auth_outbox")
        .map_err(|e| format!("LISTEN: {e}"))?;
    let transport = config.transport()?;
    loop {
        // Send every row that is due, then wait for the next NOTIFY.
        while send_one(&mut client, config, templates, &transport)? {}
        client
            .notifications()
            .timeout_iter(idle_wait)
            .next()
            .map_err(|e| format!("waiting for NOTIFY: {e}"))?;
    }
}

/// Claims the oldest due row, sends it and marks it, in one transaction:
/// another mailer skips it meanwhile. Ok(false) when none is due.
fn send_one(
    client: &mut Client,
    config: &Config,
    templates: &Templates,
    transport: &lettre::SmtpTransport,
) -> Result<bool, String> {
    let database = |e: postgres::Error| format!("database: {e}");
    let mut transaction = client.transaction().map_err(database)?;
    let row = transaction
        .query_opt(
            "select id, template, recipient, data::text from auth.outbox \
             where sent_at is null and next_attempt_at <= now() \
             order by id limit 1 for update skip locked",
            &[],
        )
        .map_err(database)?;
    let Some(row) = row else {
        transaction.commit().map_err(database)?;
        return Ok(false);
    };
    let (id, template, recipient, data): (i64, String, String, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let sent = serde_json::from_str(&data)
        .map_err(|e| format!("data: {e}"))
        .and_then(|data| templates.render(&template, &data, &config.from, &recipient))
        .and_then(|message| transport.send(&message).map_err(|e| format!("SMTP: {e}")));
    match sent {
        Ok(_) => {
            transaction
                .execute("select auth.outbox_sent($1)", &[&id])
                .map_err(database)?;
            eprintln!("pg_auth_mailer: sent {template} mail {id}");
        }
        Err(problem) => {
            transaction
                .execute("select auth.outbox_failed($1, $2)", &[&id, &problem])
                .map_err(database)?;
            eprintln!("pg_auth_mailer: {template} mail {id} not sent: {problem}");
        }
    }
    transaction.commit().map_err(database)?;
    Ok(true)
}
