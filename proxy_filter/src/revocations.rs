//! Ended sessions, so that the proxy refuses their access tokens without a
//! query per request (PostgREST then needs no `db-pre-request`). The host
//! fetches `auth.ended_sessions(since)` every `revocation_refresh_seconds`:
//! the sessions ended since its last answer (with an overlap, for
//! transactions that commit late), each with the time its last access
//! token expires; an entry is dropped then. A failed fetch keeps what is
//! known. The worst case between a logout and its refusal here is the
//! refresh interval plus the host's one-second tick plus one fetch; and it
//! is never more than `revocation_max_age_seconds`: a list older than that
//! (never fetched since the start, or PostgREST not answering) passes no
//! session's token, as it cannot tell whether the session has ended.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde::Deserialize;

use crate::feeds::HttpSource;
use crate::schedule::Schedule;

/// Sessions ended within this long before the previous answer are asked
/// for again: `revoked_at` is the ending transaction's start, which may
/// commit later than a fetch that ran meanwhile.
const OVERLAP_SECONDS: f64 = 60.0;
/// However many sessions end, the set stays bounded.
const MAX_ENDED: usize = 1_000_000;

#[derive(Debug)]
pub(crate) struct Revocations {
    source: Option<HttpSource>,
    pub(crate) schedule: Schedule,
    /// How old the list may be and still pass a session's token.
    max_age: i64,
    state: Mutex<State>,
}

/// What the list says of a session.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SessionState {
    Live,
    Ended,
    /// The list is too old to tell.
    Unknown,
}

#[derive(Debug, Default)]
struct State {
    /// Session id -> Unix time after which none of its tokens is valid.
    ended: HashMap<String, i64>,
    /// The database's `now` of the last answer.
    cursor: Option<f64>,
    /// When the last answer arrived (the host's clock, Unix seconds).
    fetched_at: Option<i64>,
}

#[derive(Deserialize)]
struct Answer {
    now: f64,
    sessions: Vec<Ended>,
}

#[derive(Deserialize)]
struct Ended {
    sid: String,
    until: f64,
}

impl Revocations {
    pub(crate) fn new(
        source: Option<HttpSource>,
        refresh_seconds: u32,
        max_age_seconds: u32,
    ) -> Revocations {
        Revocations {
            source,
            schedule: Schedule::new(refresh_seconds),
            max_age: i64::from(max_age_seconds),
            state: Mutex::default(),
        }
    }

    pub(crate) fn source(&self) -> Option<&HttpSource> {
        self.source.as_ref()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the session `sid` has ended, as of a fetch at most
    /// `max_age` seconds old (always live without a feed).
    pub(crate) fn session(&self, sid: &str, now: i64) -> SessionState {
        if self.source.is_none() {
            return SessionState::Live;
        }
        let state = self.state();
        match state.fetched_at {
            Some(at) if now - at <= self.max_age => {
                if state.ended.contains_key(sid) {
                    SessionState::Ended
                } else {
                    SessionState::Live
                }
            }
            _ => SessionState::Unknown,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.state().ended.len()
    }

    pub(crate) fn due(&self, now: i64) -> bool {
        self.source.is_some() && self.schedule.due(now)
    }

    /// The path of the next fetch: the source's, with `since`.
    pub(crate) fn path(&self) -> Option<String> {
        let source = self.source.as_ref()?;
        let separator = if source.path.contains('?') { '&' } else { '?' };
        Some(match self.state().cursor {
            Some(cursor) => format!(
                "{}{separator}since={:.3}",
                source.path,
                cursor - OVERLAP_SECONDS
            ),
            None => source.path.clone(),
        })
    }

    /// Folds in an answer; the number of ended sessions now known.
    pub(crate) fn fetched(
        &self,
        now: i64,
        fetched: Result<&[u8], String>,
    ) -> Result<usize, String> {
        let answer = fetched.and_then(|body| {
            serde_json::from_slice::<Answer>(body)
                .map_err(|e| format!("bad ended-sessions answer: {e}"))
        });
        let answer = self.schedule.finished(now, answer)?;
        let mut state = self.state();
        // A token verifies until its exp plus the configured leeway.
        let slack = i64::from(jwt_core::MAX_LEEWAY_SECONDS);
        state
            .ended
            .retain(|_, until| until.saturating_add(slack) >= now);
        for ended in answer.sessions {
            if state.ended.len() >= MAX_ENDED {
                break;
            }
            let until = if ended.until.is_finite() {
                ended.until.ceil() as i64
            } else {
                i64::MAX
            };
            if until.saturating_add(slack) >= now {
                state.ended.insert(ended.sid, until);
            }
        }
        state.cursor = Some(answer.now);
        state.fetched_at = Some(now);
        Ok(state.ended.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use jwt_core::{sign, Algorithm, Key};

    use crate::testing::Fetching;
    use crate::Vars;
    use crate::{Decision, Feed, FeedSource, Policy, RequestHead};

    const SECRET: &str = "q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE=";
    const NOW: i64 = 1_800_000_000;

    fn policy() -> Policy {
        let json = format!(
            r#"{{"secret":"{SECRET}","secret_is_base64":true,"revocation_uri":"http://postgrest:3000/rpc/ended_sessions","revocation_headers":{{"accept-profile":"auth"}}}}"#
        );
        Policy::from_json(json.as_bytes(), &Fetching(&[])).unwrap()
    }

    fn token(sid: &str) -> String {
        let claims = format!(
            r#"{{"role":"r","sub":"demo","sid":"{sid}","exp":{}}}"#,
            NOW + 600
        );
        sign(
            Algorithm::HS256,
            &Key::from_secret(SECRET, true).unwrap(),
            &claims,
        )
    }

    fn decide(policy: &Policy, path: &str, sid: &str, now: i64) -> Result<(), String> {
        let request = RequestHead {
            method: "GET".into(),
            path: path.into(),
            cookies: vec![format!("access_token={}", token(sid))],
            ..RequestHead::default()
        };
        match policy.decide(&request, Some(now)) {
            Decision::Forward(_) => Ok(()),
            Decision::Deny(denial) => Err(format!("{} {}", denial.status, denial.outcome.metric())),
        }
    }

    fn path_of_due(policy: &Policy, now: i64) -> String {
        let due = policy.due_fetches(now);
        let [(Feed::EndedSessions, FeedSource::Http(source))] = due.as_slice() else {
            panic!("not due: {due:?}");
        };
        source.path.clone()
    }

    #[test]
    fn ended_sessions_are_refused_until_their_tokens_expire() {
        let policy = policy();
        assert_eq!(
            path_of_due(&policy, NOW),
            "/rpc/ended_sessions",
            "no cursor yet"
        );
        let answer = format!(
            r#"{{"now":{NOW}.5,"sessions":[{{"sid":"gone","until":{}}}]}}"#,
            NOW + 600
        );
        assert_eq!(
            policy.fetched(Feed::EndedSessions, NOW, Ok(answer.as_bytes())),
            Ok(1)
        );
        assert_eq!(
            decide(&policy, "/rest/task", "gone", NOW),
            Err("401 decision.denied.session_ended".into())
        );
        assert_eq!(decide(&policy, "/rest/task", "alive", NOW), Ok(()));
        assert_eq!(
            decide(&policy, "/rpc/logout", "gone", NOW),
            Ok(()),
            "public routes still pass (without the token)"
        );
        // The next fetch asks from the last answer's time, with an overlap.
        assert!(policy.due_fetches(NOW).is_empty(), "once a second");
        assert_eq!(
            path_of_due(&policy, NOW + 1),
            format!("/rpc/ended_sessions?since={}.500", NOW - 60)
        );
        // A failed fetch keeps what is known; entries go once their tokens expire.
        assert!(policy
            .fetched(Feed::EndedSessions, NOW + 1, Err("refused".into()))
            .is_err());
        assert_eq!(
            decide(&policy, "/rest/task", "gone", NOW + 1),
            Err("401 decision.denied.session_ended".into())
        );
        let _ = path_of_due(&policy, NOW + 700);
        let empty = format!(r#"{{"now":{},"sessions":[]}}"#, NOW + 700);
        assert_eq!(
            policy.fetched(Feed::EndedSessions, NOW + 700, Ok(empty.as_bytes())),
            Ok(0)
        );
    }

    #[test]
    fn a_list_never_fetched_or_too_old_passes_no_session() {
        let policy = policy();
        // A proxy that just started: nothing known yet, so no session passes
        // (a logout just before a restart must not reach data).
        let stale = Err("503 decision.refused.revocations_stale".to_owned());
        assert_eq!(decide(&policy, "/rest/task", "any", NOW), stale);
        assert_eq!(
            decide(&policy, "/rpc/logout", "any", NOW),
            Ok(()),
            "public routes still pass"
        );
        let _ = path_of_due(&policy, NOW);
        let empty = format!(r#"{{"now":{NOW},"sessions":[]}}"#);
        assert_eq!(
            policy.fetched(Feed::EndedSessions, NOW, Ok(empty.as_bytes())),
            Ok(0)
        );
        assert_eq!(decide(&policy, "/rest/task", "any", NOW + 5), Ok(()));
        // Fetches failing (PostgREST down): what is known serves for 5 s.
        let _ = path_of_due(&policy, NOW + 1);
        assert!(policy
            .fetched(Feed::EndedSessions, NOW + 1, Err("refused".into()))
            .is_err());
        assert_eq!(decide(&policy, "/rest/task", "any", NOW + 5), Ok(()));
        assert_eq!(decide(&policy, "/rest/task", "any", NOW + 6), stale);
        // The answer carries Retry-After.
        let request = RequestHead {
            method: "GET".into(),
            path: "/rest/task".into(),
            cookies: vec![format!("access_token={}", token("any"))],
            ..RequestHead::default()
        };
        let Decision::Deny(denial) = policy.decide(&request, Some(NOW + 6)) else {
            panic!("passed");
        };
        assert!(denial
            .headers
            .contains(&("retry-after".to_owned(), "1".to_owned())));
        assert!(denial.body.contains(r#""details":"revocations_stale""#));
    }

    #[test]
    fn the_feed_is_never_served_to_clients() {
        let policy = policy();
        for path in ["/rpc/ended_sessions", "/rest/rpc/ended_sessions"] {
            assert_eq!(
                decide(&policy, path, "any", NOW),
                Err("404 decision.refused.not_found".into()),
                "{path}"
            );
        }
    }

    #[test]
    fn bad_answers_and_settings_are_refused() {
        let policy = policy();
        let _ = policy.due_fetches(NOW);
        assert!(policy
            .fetched(Feed::EndedSessions, NOW, Ok(b"[]"))
            .unwrap_err()
            .contains("bad ended-sessions answer"));
        let error = |json: &str| {
            Policy::from_json(json.as_bytes(), &Fetching(&[]))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let base = format!(r#""secret":"{SECRET}","secret_is_base64":true"#);
        assert!(error(&format!(r#"{{{base},"revocation_uri":"ftp://x"}}"#)).contains("http://"));
        assert!(error(&format!(r#"{{{base},"revocation_uri_env":"NOPE"}}"#))
            .contains("NOPE (revocation_uri_env)"));
        assert!(error(&format!(
            r#"{{{base},"revocation_uri":"http://x/","revocation_refresh_seconds":0}}"#
        ))
        .contains("1 to 3600"));
        assert!(error(&format!(
            r#"{{{base},"revocation_uri":"http://x/","revocation_refresh_seconds":5,"revocation_max_age_seconds":6}}"#
        ))
        .contains("must be 7 (revocation_refresh_seconds + 2) to 7200"));
        assert!(error(&format!(r#"{{{base},"revocation_cluster":"x"}}"#)).contains("go with"));
        let static_host = Policy::from_json(
            format!(r#"{{{base},"revocation_uri":"http://x/"}}"#).as_bytes(),
            &Vars(|_| None),
        );
        assert!(static_host
            .unwrap_err()
            .to_string()
            .contains("cannot fetch the ended sessions"));
    }
}
