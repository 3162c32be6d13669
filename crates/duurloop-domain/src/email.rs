//! E-mail addresses, parsed once at the edge.

use std::fmt;

use crate::Invalid;

/// A syntactically plausible e-mail address, trimmed and lower-cased.
/// `Debug` redacts it: addresses are personal data and must not reach logs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim().to_lowercase();
        let err = Invalid::new("invalid-email");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err);
        }
        let (local, domain) = s.split_once('@').ok_or(err.clone())?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.len() > 64 || !domain_ok || local.contains('<') {
            return Err(err);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_normalises_case() {
        let e = EmailAddress::parse("  Anna.de.Vries@Praktijk-MediStad.nl ").expect("valid");
        assert_eq!(e.as_str(), "anna.de.vries@praktijk-medistad.nl");
    }

    #[test]
    fn refuses_what_cannot_be_an_address() {
        for bad in [
            "",
            "anna",
            "anna@",
            "@praktijk.nl",
            "anna@praktijk",
            "anna@.nl",
            "an na@praktijk.nl",
            "anna@prak..tijk.nl",
            "anna@praktijk.nl.",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_address() {
        let e = EmailAddress::parse("anna@praktijk.nl").expect("valid");
        assert!(!format!("{e:?}").contains("anna"));
    }
}
