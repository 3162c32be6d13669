//! Session lifetime and login throttling rules. Times are Unix milliseconds passed in by the caller.

/// How long a session lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session not used for this long ends (ms).
    pub idle_ms: i64,
    /// A session ends this long after login, however active (ms).
    pub absolute_ms: i64,
}

impl SessionPolicy {
    pub fn is_expired(&self, created_at: i64, last_seen_at: i64, now: i64) -> bool {
        now - last_seen_at >= self.idle_ms || now - created_at >= self.absolute_ms
    }
}

/// Login throttling: after `max_failures` failed attempts within `window_ms` for one account
/// (or `max_failures_per_ip` from one address), further attempts are refused until the window
/// has passed. The answer to the user is the same as for a wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub window_ms: i64,
    pub max_failures_per_account: i64,
    pub max_failures_per_ip: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window_ms: 15 * 60 * 1000,
            max_failures_per_account: 5,
            max_failures_per_ip: 30,
        }
    }
}

impl ThrottlePolicy {
    pub fn is_throttled(&self, account_failures: i64, ip_failures: i64) -> bool {
        account_failures >= self.max_failures_per_account || ip_failures >= self.max_failures_per_ip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_idle_or_too_old() {
        let p = SessionPolicy {
            idle_ms: 100,
            absolute_ms: 1000,
        };
        assert!(!p.is_expired(0, 0, 99));
        assert!(p.is_expired(0, 0, 100));
        assert!(!p.is_expired(0, 950, 999));
        assert!(p.is_expired(0, 950, 1000));
    }

    #[test]
    fn throttling_starts_at_the_limit() {
        let p = ThrottlePolicy::default();
        assert!(!p.is_throttled(4, 29));
        assert!(p.is_throttled(5, 0));
        assert!(p.is_throttled(0, 30));
    }
}
