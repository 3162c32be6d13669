//! Counters for `/metrics` in the Prometheus text format. Labels are route patterns and
//! status codes only: no personal data. Who may read them: [`may_read`].

use std::{collections::BTreeMap, fmt::Write, net::IpAddr, sync::Mutex};

use axum::http::{HeaderMap, header};

use crate::config::Config;

/// Headers a reverse proxy adds. A request that carries one did not come from this machine
/// directly, whatever its TCP peer.
const PROXY_HEADERS: [&str; 4] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-real-ip",
];

/// Whether a request may read `/metrics` (the others get 404, as if there were no such page).
///
/// The counters hold no personal data, but they show which routes are used and how much, the
/// outbox backlog and whether the database answers: operations data, not for the internet.
/// - With `metrics_token` set: only a request with `Authorization: Bearer <metrics_token>`,
///   from anywhere (a scraper elsewhere; also from this machine).
/// - Without: only a request made on this machine directly: the TCP peer is a loopback
///   address that is not among the `trusted_proxies`, and the request carries none of the
///   headers a reverse proxy adds. A proxy on the same host that adds none of them still makes
///   outside requests look local: set `metrics_token` then, or do not forward `/metrics`.
pub fn may_read(config: &Config, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
    let expected = config.metrics_token.expose();
    if !expected.is_empty() {
        return headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split_once(' '))
            .any(|(scheme, token)| {
                scheme.eq_ignore_ascii_case("bearer")
                    && super::csrf::constant_time_eq(token.trim().as_bytes(), expected.as_bytes())
            });
    }
    let Some(peer) = peer.map(|p| p.to_canonical()) else {
        return false;
    };
    peer.is_loopback()
        && !config.trusted_proxies.iter().any(|r| r.contains(peer))
        && !PROXY_HEADERS.iter().any(|h| headers.contains_key(*h))
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn headers(list: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in list {
            h.append(*k, v.parse().expect("header value"));
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    #[test]
    fn without_a_token_only_direct_requests_from_this_machine_may_read() {
        let cfg = Config::default();
        let none = HeaderMap::new();
        for local in ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"] {
            assert!(may_read(&cfg, ip(local), &none), "{local}");
        }
        for outside in ["10.0.0.5", "192.0.2.7", "2001:db8::1", "0.0.0.0"] {
            assert!(!may_read(&cfg, ip(outside), &none), "{outside}");
        }
        assert!(!may_read(&cfg, None, &none), "no peer known");
        for (name, value) in [
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
            ("x-real-ip", "203.0.113.9"),
            ("x-forwarded-host", "duurloop.example"),
        ] {
            assert!(
                !may_read(&cfg, ip("127.0.0.1"), &headers(&[(name, value)])),
                "through a proxy ({name})"
            );
        }
        let behind_proxy = Config {
            trusted_proxies: vec!["127.0.0.1".parse().expect("range")],
            ..Config::default()
        };
        assert!(!may_read(&behind_proxy, ip("127.0.0.1"), &none));
        assert!(may_read(&behind_proxy, ip("::1"), &none));
    }

    #[test]
    fn with_a_token_only_requests_that_carry_it_may_read_from_anywhere() {
        let token = "0123456789abcdef0123456789abcdef";
        let cfg = Config {
            metrics_token: Secret::new(token),
            ..Config::default()
        };
        let bearer = |t: &str| headers(&[("authorization", &format!("Bearer {t}"))]);
        assert!(may_read(&cfg, ip("10.0.0.5"), &bearer(token)));
        assert!(may_read(&cfg, ip("127.0.0.1"), &bearer(token)));
        assert!(may_read(
            &cfg,
            ip("10.0.0.5"),
            &headers(&[("authorization", &format!("bearer {token}"))])
        ));
        assert!(
            !may_read(&cfg, ip("127.0.0.1"), &HeaderMap::new()),
            "not even from this machine without it"
        );
        for wrong in ["", "0123456789abcdef", "0123456789abcdef0123456789abcdeF"] {
            assert!(!may_read(&cfg, ip("10.0.0.5"), &bearer(wrong)), "{wrong:?}");
        }
        assert!(!may_read(
            &cfg,
            ip("10.0.0.5"),
            &bearer(&format!("{token}x"))
        ));
        assert!(!may_read(
            &cfg,
            ip("10.0.0.5"),
            &headers(&[("authorization", &format!("Basic {token}"))])
        ));
    }
}
