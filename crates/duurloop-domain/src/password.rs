//! The password policy (OWASP ASVS 2.1: at least 12 characters, at most 128, no composition rules).

use std::fmt;

use crate::Invalid;

/// A new password that meets the policy. `Debug` never shows it.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str, confirmation: &str) -> Result<Self, Invalid> {
        let n = raw.chars().count();
        if n < 12 {
            return Err(Invalid::new("password-too-short"));
        }
        if n > 128 {
            return Err(Invalid::new("password-too-long"));
        }
        if raw != confirmation {
            return Err(Invalid::new("password-mismatch"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy_boundaries() {
        assert_eq!(
            NewPassword::parse("elf tekens!", "elf tekens!").map(|_| ()),
            Err(Invalid::new("password-too-short"))
        );
        assert!(NewPassword::parse("twaalf teken", "twaalf teken").is_ok());
        let long = "x".repeat(129);
        assert!(NewPassword::parse(&long, &long).is_err());
        assert_eq!(
            NewPassword::parse("rustig lopen 3x", "rustig lopen 4x").map(|_| ()),
            Err(Invalid::new("password-mismatch"))
        );
    }
}
