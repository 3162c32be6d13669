//! Counters for `/metrics` in the Prometheus text format. Labels are route patterns and
//! status codes only: no personal data.

use std::{collections::BTreeMap, fmt::Write, sync::Mutex};

/// (method, route pattern, status).
type Key = (String, String, u16);
/// (count, total seconds).
type Tally = (u64, f64);

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<BTreeMap<Key, Tally>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, ms: f64) {
        if let Ok(mut m) = self.inner.lock() {
            let e = m
                .entry((method.to_string(), route.to_string(), status))
                .or_default();
            e.0 += 1;
            e.1 += ms / 1000.0;
        }
    }

    pub fn render(&self, outbox_pending: i64, db_up: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP duurloop_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE duurloop_http_requests_total counter");
        let snapshot = self.inner.lock().map(|m| m.clone()).unwrap_or_default();
        for ((method, route, status), (n, _)) in &snapshot {
            let _ = writeln!(
                out,
                "duurloop_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP duurloop_http_request_seconds_sum Total time spent on requests."
        );
        let _ = writeln!(out, "# TYPE duurloop_http_request_seconds_sum counter");
        for ((method, route, status), (_, s)) in &snapshot {
            let _ = writeln!(
                out,
                "duurloop_http_request_seconds_sum{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {s:.6}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP duurloop_outbox_pending E-mails waiting to be sent."
        );
        let _ = writeln!(out, "# TYPE duurloop_outbox_pending gauge");
        let _ = writeln!(out, "duurloop_outbox_pending {outbox_pending}");
        let _ = writeln!(
            out,
            "# HELP duurloop_database_up Whether the database answers."
        );
        let _ = writeln!(out, "# TYPE duurloop_database_up gauge");
        let _ = writeln!(out, "duurloop_database_up {}", i32::from(db_up));
        out
    }
}
