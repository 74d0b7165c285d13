//! The forward-auth gate: a native server that answers a proxy's auth
//! subrequest (Caddy `forward_auth`, nginx `auth_request`, Traefik
//! ForwardAuth) with the policy's decision: 200 with `Authorization: Bearer`
//! and the claim headers for the proxy to copy upstream, or the denial
//! (401/403/400 with the JSON body and `WWW-Authenticate`) for the proxy to
//! return. Same JSON configuration as the filter, plus where to listen.

mod feeds;
mod forwarded;
mod metrics;
mod server;

use std::process::ExitCode;
use std::sync::Arc;

use crate::{Env, Policy};

const USAGE: &str = "usage: pg_auth_gate --config FILE [--listen ADDRESS:PORT] [--threads N]
  --config   the filter's JSON configuration (docs/filter.md)
  --listen   where to serve /auth, /healthz and /metrics (default 127.0.0.1:9000)
  --threads  worker threads (default: one per core)";

#[derive(Debug)]
struct Args {
    config: String,
    listen: String,
    threads: Option<usize>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut config, mut listen, mut threads) = (None, "127.0.0.1:9000".to_owned(), None);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--config" => config = Some(value()?),
            "--listen" => listen = value()?,
            "--threads" => {
                let text = value()?;
                threads = Some(
                    text.parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("--threads {text:?} is not a positive number"))?,
                );
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let config = config.ok_or("--config is required")?;
    Ok(Args {
        config,
        listen,
        threads,
    })
}

/// Environment variables and files: the gate may read `secret_file`.
struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_file(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }

    fn can_fetch(&self) -> bool {
        true
    }
}

/// The gate's `main`: refuses to start, with the reason, on bad arguments
/// or a bad configuration.
pub fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("pg_auth_gate: {problem}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let policy = std::fs::read(&args.config)
        .map_err(|e| format!("cannot read {}: {e}", args.config))
        .and_then(|json| Policy::from_json(&json, &ProcessEnv).map_err(|e| e.to_string()))
        .and_then(|policy| feeds::check(&policy).map(|()| policy));
    let policy = match policy {
        Ok(policy) => policy,
        Err(problem) => {
            eprintln!("pg_auth_gate: {problem}");
            return ExitCode::from(1);
        }
    };
    for warning in policy.warnings() {
        eprintln!("pg_auth_gate: warning: {warning}");
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads);
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("pg_auth_gate: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let policy = Arc::new(policy);
    let gate = Arc::new(server::Gate::new(Arc::clone(&policy)));
    let result = runtime.block_on(async {
        tokio::spawn(feeds::refresh(policy));
        let listener = tokio::net::TcpListener::bind(&args.listen).await?;
        eprintln!("pg_auth_gate: listening on {}", listener.local_addr()?);
        server::serve(gate, listener).await
    });
    match result {
        Ok(()) => {
            eprintln!("pg_auth_gate: stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pg_auth_gate: cannot listen on {}: {e}", args.listen);
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse_args(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn arguments() {
        let parsed = args(&["--config", "f.json", "--threads", "2"]).unwrap();
        assert_eq!(parsed.config, "f.json");
        assert_eq!(parsed.listen, "127.0.0.1:9000");
        assert_eq!(parsed.threads, Some(2));
        assert!(args(&[]).unwrap_err().contains("--config is required"));
        assert!(args(&["--config"]).unwrap_err().contains("needs a value"));
        assert!(args(&["--config", "f", "--threads", "0"])
            .unwrap_err()
            .contains("positive"));
        assert!(args(&["--bogus"]).unwrap_err().contains("unknown argument"));
    }
}
