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

/// Limits on requests that make Duurloop e-mail an address anyone can type: a password-reset
/// link (`POST /password/forgot`) or a portal sign-in link (`POST /portal/login`,
/// `POST /api/v1/portal/link`). Per address at most 3 such mails an hour: enough for someone
/// who lost a message, too few to flood an inbox. Per client address at most 20 requests in
/// 15 minutes: a household or office behind one address can still sign in, one client cannot
/// spray mail at many addresses. Over a limit nothing is sent; the answer stays the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailThrottlePolicy {
    pub address_window_ms: i64,
    pub max_per_address: i64,
    pub ip_window_ms: i64,
    pub max_per_ip: i64,
}

impl Default for MailThrottlePolicy {
    fn default() -> Self {
        Self {
            address_window_ms: 60 * 60 * 1000,
            max_per_address: 3,
            ip_window_ms: 15 * 60 * 1000,
            max_per_ip: 20,
        }
    }
}

impl MailThrottlePolicy {
    /// Whether one more request is refused, given the requests already let through in each
    /// window (to this address, and from this client).
    pub fn is_throttled(&self, address_requests: i64, ip_requests: i64) -> bool {
        address_requests >= self.max_per_address || ip_requests >= self.max_per_ip
    }

    /// How long a request must be remembered to apply both limits.
    pub fn longest_window_ms(&self) -> i64 {
        self.address_window_ms.max(self.ip_window_ms)
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

    #[test]
    fn mail_requests_stop_at_three_per_address_and_twenty_per_client() {
        let p = MailThrottlePolicy::default();
        assert!(!p.is_throttled(2, 19));
        assert!(p.is_throttled(3, 0));
        assert!(p.is_throttled(0, 20));
        assert_eq!(p.longest_window_ms(), 3_600_000);
    }
}
