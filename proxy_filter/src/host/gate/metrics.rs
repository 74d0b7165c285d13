//! The gate's counters, one per outcome, in Prometheus' text format with the
//! same names and labels as Envoy's (stack/envoy/envoy.yaml `stats_tags`).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Outcome, Policy, DECISION_METRIC};

pub(crate) struct Metrics {
    counters: HashMap<Outcome, AtomicU64>,
}

impl Metrics {
    /// Every series exists from the start, at zero.
    pub(crate) fn new() -> Metrics {
        let counters = Outcome::all()
            .into_iter()
            .map(|outcome| (outcome, AtomicU64::new(0)))
            .collect();
        Metrics { counters }
    }

    pub(crate) fn count(&self, outcome: Outcome) {
        if let Some(counter) = self.counters.get(&outcome) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The decision counters, then the keys' (`<prefix>_token_cache_hit`...).
    pub(crate) fn prometheus(&self, policy: &Policy) -> String {
        let prefix = policy.stat_prefix();
        let name = format!("{prefix}_{DECISION_METRIC}");
        let mut lines: Vec<String> = self
            .counters
            .iter()
            .map(|(outcome, counter)| {
                let labels = match outcome.labels() {
                    (outcome, Some(reason)) => {
                        format!("pg_auth_outcome=\"{outcome}\",pg_auth_reason=\"{reason}\"")
                    }
                    (outcome, None) => format!("pg_auth_outcome=\"{outcome}\""),
                };
                format!("{name}{{{labels}}} {}", counter.load(Ordering::Relaxed))
            })
            .collect();
        lines.sort();
        let mut text = String::new();
        let _ = writeln!(
            text,
            "# HELP {name} Decisions of the pg_auth gate, by outcome and reason."
        );
        let _ = writeln!(text, "# TYPE {name} counter");
        for line in lines {
            let _ = writeln!(text, "{line}");
        }
        for metric in policy.key_metrics() {
            let name = format!("{prefix}_{}", metric.name.replace('.', "_"));
            let kind = if metric.gauge { "gauge" } else { "counter" };
            let _ = writeln!(text, "# TYPE {name} {kind}\n{name} {}", metric.value);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vars;

    #[test]
    fn every_outcome_is_a_labelled_series() {
        let policy = Policy::from_json(
            br#"{"secret":"q4P2vC9S0m0uXc5b1n3gG3m2y7Lr8nN7Qd2Zq1Wc0xE=","secret_is_base64":true}"#,
            &Vars(|_| None),
        )
        .unwrap();
        let metrics = Metrics::new();
        metrics.count(Outcome::Denied("expired"));
        let text = metrics.prometheus(&policy);
        assert!(text.contains("# TYPE pg_auth_decision counter\n"));
        assert!(text.contains(
            "pg_auth_decision{pg_auth_outcome=\"denied\",pg_auth_reason=\"expired\"} 1\n"
        ));
        assert!(text.contains("pg_auth_decision{pg_auth_outcome=\"allowed\"} 0\n"));
        assert!(text.contains("# TYPE pg_auth_jwks_keys gauge\npg_auth_jwks_keys 0\n"));
        assert!(
            text.contains("# TYPE pg_auth_token_cache_hit counter\npg_auth_token_cache_hit 0\n")
        );
        assert_eq!(
            text.lines().count(),
            2 + Outcome::all().len() + 2 * policy.key_metrics().len()
        );
    }
}
