//! The HTTP side of the gate: `/auth` answers a proxy's subrequest with the
//! policy's decision, `/healthz` and `/metrics` serve operators. Nothing on a
//! request path can panic: every failure is an answer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use super::forwarded::{self, NotForwarded, Style};
use super::metrics::Metrics;
use crate::{filter_failure, front_misconfigured, unix_seconds, Decision, Denial, Policy};

/// How long a stopping gate lets requests in flight finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub(crate) struct Gate {
    policy: Arc<Policy>,
    metrics: Metrics,
}

impl Gate {
    pub(crate) fn new(policy: Arc<Policy>) -> Gate {
        let metrics = Metrics::new();
        Gate { policy, metrics }
    }

    fn answer(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        match request.uri().path() {
            "/auth" => self.decide(request),
            "/healthz" => text(StatusCode::OK, "text/plain", "ok\n".into()),
            "/metrics" => text(
                StatusCode::OK,
                "text/plain; version=0.0.4",
                self.metrics.prometheus(&self.policy),
            ),
            _ => text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
        }
    }

    fn decide(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        let headers: Vec<(&str, &[u8])> = request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        let (head, style) = match forwarded::read(&self.policy, &headers) {
            Ok(read) => read,
            Err(why) => {
                let message = match why {
                    NotForwarded::Missing => "The proxy sent no X-Forwarded-Method and X-Forwarded-Uri (nor X-Original-Method and X-Original-URI): configure it as docs/proxies.md shows",
                    NotForwarded::Both => "The subrequest carries both X-Forwarded-* and X-Original-* headers: the proxy must set one style and clear the other",
                };
                return self.deny(front_misconfigured(message), Style::Forwarded);
            }
        };
        let now = unix_seconds(Some(SystemTime::now()));
        match self.policy.decide_without_removal(&head, now) {
            Decision::Forward(forward) => {
                let mut response = Response::new(Full::new(Bytes::new()));
                for (name, value) in &forward.set_headers {
                    let (Ok(name), Ok(value)) = (
                        HeaderName::from_bytes(name.as_bytes()),
                        HeaderValue::from_str(value),
                    ) else {
                        return self.deny(filter_failure(), style);
                    };
                    response.headers_mut().insert(name, value);
                }
                self.metrics.count(forward.outcome);
                response
            }
            Decision::Deny(denial) => self.deny(denial, style),
        }
    }

    fn deny(&self, denial: Denial, style: Style) -> Response<Full<Bytes>> {
        self.metrics.count(denial.outcome);
        let status = match style {
            Style::Forwarded => denial.status,
            // nginx's auth_request turns anything but 401 and 403 into 500.
            Style::Original if denial.status == 403 => 403,
            Style::Original => 401,
        };
        let mut response = Response::new(Full::new(Bytes::from(denial.body.clone())));
        *response.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut headers = denial.headers;
        if style == Style::Original {
            headers.push(("x-pg-auth-status".into(), denial.status.to_string()));
            headers.push(("x-pg-auth-body".into(), denial.body));
        }
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    response
}

/// Serves until SIGTERM or SIGINT, then lets requests in flight finish.
pub(crate) async fn serve(gate: Arc<Gate>, listener: TcpListener) -> std::io::Result<()> {
    let http = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .clone();
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer): (_, SocketAddr) = match accepted {
                    Ok(accepted) => accepted,
                    // Out of file descriptors and the like: wait, go on.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let gate = Arc::clone(&gate);
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let response = gate.answer(&request);
                    async move { Ok::<_, Infallible>(response) }
                });
                let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            _ = &mut stop => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        // Without signal handlers the gate stops only when killed.
        _ => std::future::pending::<()>().await,
    }
}
