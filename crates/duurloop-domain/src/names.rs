//! Names of people and organisations.

use std::fmt;

use crate::Invalid;

fn clean(raw: &str, max: usize, key: &'static str) -> Result<String, Invalid> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(Invalid::new(key));
    }
    Ok(s.to_string())
}

/// A person's display name. `Debug` redacts it (personal data stays out of logs).
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        clean(raw, 200, "invalid-name").map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(<redacted>)")
    }
}

/// An organisation's name (not personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        clean(raw, 200, "invalid-org-name").map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_must_not_be_empty_or_too_long() {
        assert_eq!(
            PersonName::parse("  Anna de Vries ").map(|n| n.0),
            Ok("Anna de Vries".into())
        );
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"a".repeat(201)).is_err());
        assert!(OrgName::parse("Huisartsenpraktijk\u{0}").is_err());
        assert!(OrgName::parse("Medi-Stad").is_ok());
    }
}
