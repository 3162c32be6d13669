//! Time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits, 30 s steps), as every
//! authenticator app uses them. Pure: the caller passes the time.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;

/// A shared TOTP secret, shown to the user once as Base32 (and as a QR code).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn from_base32(s: &str) -> Option<Self> {
        let cleaned: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .collect::<String>()
            .to_uppercase();
        BASE32_NOPAD.decode(cleaned.as_bytes()).ok().map(Self)
    }

    pub fn to_base32(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }

    /// The `otpauth://` URI that authenticator apps read from a QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
            enc(issuer),
            enc(account),
            self.to_base32(),
            enc(issuer)
        )
    }

    /// The code for a time step.
    pub fn code_at_step(&self, step: i64) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(&step.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let offset = (digest[19] & 0x0f) as usize;
        let bin = u32::from_be_bytes([
            digest[offset] & 0x7f,
            digest[offset + 1],
            digest[offset + 2],
            digest[offset + 3],
        ]);
        format!(
            "{:0width$}",
            bin % 10u32.pow(DIGITS),
            width = DIGITS as usize
        )
    }

    /// The code valid at a Unix time (seconds).
    pub fn code_at(&self, unix_seconds: i64) -> String {
        self.code_at_step(unix_seconds.div_euclid(STEP_SECONDS))
    }

    /// Checks a code against the current step and one step either side (clock drift).
    /// Returns the matched step, so the caller can refuse a code that was already used
    /// (`step <= last_used_step`): a code can be used once.
    pub fn verify(
        &self,
        code: &str,
        unix_seconds: i64,
        last_used_step: Option<i64>,
    ) -> Option<i64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS as usize || !code.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let now_step = unix_seconds.div_euclid(STEP_SECONDS);
        (now_step - 1..=now_step + 1)
            .filter(|s| last_used_step.is_none_or(|last| *s > last))
            .find(|s| constant_time_eq(self.code_at_step(*s).as_bytes(), code.as_bytes()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA1, secret "12345678901234567890"; the RFC lists 8 digits,
    // authenticator apps use the last 6.
    fn rfc() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn matches_the_rfc_6238_test_vectors() {
        for (t, expected) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(rfc().code_at(t), expected, "t={t}");
        }
    }

    #[test]
    fn accepts_one_step_of_drift_and_refuses_reuse() {
        let s = rfc();
        let code = s.code_at(1_111_111_109);
        let step = 1_111_111_109 / 30;
        assert_eq!(s.verify(&code, 1_111_111_109 + 30, None), Some(step));
        assert_eq!(s.verify(&code, 1_111_111_109 + 90, None), None);
        assert_eq!(s.verify(&code, 1_111_111_109, Some(step)), None);
        assert_eq!(s.verify("12345", 1_111_111_109, None), None);
        assert_eq!(s.verify("abcdef", 1_111_111_109, None), None);
    }

    #[test]
    fn base32_round_trips_and_the_uri_names_issuer_and_account() {
        let s = rfc();
        assert_eq!(TotpSecret::from_base32(&s.to_base32()), Some(s.clone()));
        let uri = s.otpauth_uri("Duurloop", "anna@praktijk.nl");
        assert!(uri.starts_with("otpauth://totp/Duurloop:anna%40praktijk.nl?secret="));
    }
}
