//! The gate's feeds (the JWKS, the ended sessions): a task that asks the
//! policy every second which fetches are due, reads `jwks_file` or GETs the
//! endpoint (plain HTTP: PostgREST next to the gate), and hands the result
//! back. A failure keeps what is known and is logged once per change.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use crate::{
    unix_seconds, Feed, FeedSource, HttpSource, Policy, FETCH_TIMEOUT_SECONDS, MAX_FEED_BYTES,
};

const FETCH_TIMEOUT: Duration = Duration::from_secs(FETCH_TIMEOUT_SECONDS);

/// Refuses, at start, an endpoint the gate cannot fetch.
pub(crate) fn check(policy: &Policy) -> Result<(), String> {
    match policy.feed_endpoints().into_iter().find(|source| source.tls) {
        Some(source) => Err(format!(
            "{:?}: the gate fetches over plain HTTP (PostgREST on the same host or network); use http:// (or jwks_file)",
            source.uri
        )),
        None => Ok(()),
    }
}

/// Runs for the gate's life.
pub(crate) async fn refresh(policy: Arc<Policy>) {
    if !policy.has_feeds() {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut problems: HashMap<Feed, String> = HashMap::new();
    loop {
        ticks.tick().await;
        let Some(now) = unix_seconds(Some(SystemTime::now())) else {
            continue;
        };
        for (feed, source) in policy.due_fetches(now) {
            let fetched = tokio::time::timeout(FETCH_TIMEOUT, fetch(&source))
                .await
                .unwrap_or_else(|_| Err("timed out".into()));
            let now = unix_seconds(Some(SystemTime::now())).unwrap_or(now);
            match policy.fetched(feed, now, fetched.as_deref().map_err(Clone::clone)) {
                Ok(count) => {
                    if problems.remove(&feed).is_some() {
                        eprintln!("pg_auth_gate: {feed:?} fetched again ({count})");
                    }
                }
                Err(problem) => {
                    if problems.get(&feed) != Some(&problem) {
                        eprintln!(
                            "pg_auth_gate: {feed:?} fetch failed, keeping what is known: {problem}"
                        );
                    }
                    problems.insert(feed, problem);
                }
            }
        }
    }
}

async fn fetch(source: &FeedSource) -> Result<Vec<u8>, String> {
    match source {
        FeedSource::File(path) => tokio::fs::read(path)
            .await
            .map_err(|e| format!("jwks_file {path:?}: {e}")),
        FeedSource::Http(source) => get(source)
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
    let body = Limited::new(response.into_body(), MAX_FEED_BYTES)
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(body.to_bytes().to_vec())
}
