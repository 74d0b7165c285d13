//! The gate's JWKS refresher: a task that asks the policy every second
//! whether a fetch is due, reads `jwks_file` or GETs `jwks_uri` (plain
//! HTTP: PostgREST next to the gate), and hands the result back. A failure
//! keeps the last good keys and is logged once per change of state.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use crate::{unix_seconds, HttpSource, JwksSource, Policy};

/// A JWKS larger than this is refused (ours is a few hundred bytes a key).
const MAX_JWKS_BYTES: usize = 1 << 20;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Refuses, at start, a source the gate cannot fetch.
pub(crate) fn check(policy: &Policy) -> Result<(), String> {
    match policy.jwks_source() {
        Some(JwksSource::Http(source)) if source.tls => Err(format!(
            "jwks_uri {:?}: the gate fetches over plain HTTP (PostgREST on the same host or network); use jwks_file, or http://",
            source.uri
        )),
        _ => Ok(()),
    }
}

/// Runs for the gate's life.
pub(crate) async fn refresh(policy: Arc<Policy>) {
    let Some(source) = policy.jwks_source().cloned() else {
        return;
    };
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut last_problem: Option<String> = None;
    loop {
        ticks.tick().await;
        let Some(now) = unix_seconds(Some(SystemTime::now())) else {
            continue;
        };
        if !policy.jwks_due(now) {
            continue;
        }
        let fetched = tokio::time::timeout(FETCH_TIMEOUT, fetch(&source))
            .await
            .unwrap_or_else(|_| Err("timed out".into()));
        let now = unix_seconds(Some(SystemTime::now())).unwrap_or(now);
        match policy.jwks_fetched(now, fetched.as_deref().map_err(Clone::clone)) {
            Ok(keys) if last_problem.is_some() => {
                eprintln!("pg_auth_gate: JWKS fetched again ({keys} keys)");
                last_problem = None;
            }
            Ok(_) => {}
            Err(problem) => {
                if last_problem.as_ref() != Some(&problem) {
                    eprintln!(
                        "pg_auth_gate: JWKS refresh failed, keeping the last keys: {problem}"
                    );
                }
                last_problem = Some(problem);
            }
        }
    }
}

async fn fetch(source: &JwksSource) -> Result<Vec<u8>, String> {
    match source {
        JwksSource::File(path) => tokio::fs::read(path)
            .await
            .map_err(|e| format!("jwks_file {path:?}: {e}")),
        JwksSource::Http(source) => get(source)
            .await
            .map_err(|e| format!("{}: {e}", source.uri)),
    }
}

async fn get(source: &HttpSource) -> Result<Vec<u8>, String> {
    let stream = tokio::net::TcpStream::connect(&source.authority)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut request = hyper::Request::get(source.path.as_str())
        .header(hyper::header::HOST, source.authority.as_str())
        .header(hyper::header::ACCEPT, "application/json");
    for (name, value) in &source.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("answered {}", response.status()));
    }
    let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(body.to_bytes().to_vec())
}
