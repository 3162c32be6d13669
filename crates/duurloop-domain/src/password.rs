//! The password policy (OWASP ASVS 2.1: at least 12 characters, at most 128, no composition
//! rules, and no password that is common or known from breaches).

use std::fmt;

use crate::Invalid;

/// A new password that meets the policy. `Debug` never shows it.
pub struct NewPassword(String);

/// Fewer estimated guesses than this and a password is refused as common (ASVS 2.1.7).
///
/// Why `zxcvbn` and this number: Duurloop may reach no network at run or build time, so a
/// breach API (Have I Been Pwned's range query) is out, and a bundled list file would have to
/// be fetched and kept up to date from somewhere we cannot reach. The `zxcvbn` crate ships,
/// compiled in, Dropbox's frequency lists: the 30,000 most used passwords from breach corpora
/// (ranked), English words, first names and surnames; and it finds them inside a password,
/// with capitals, l33t substitutions (`P@ssw0rd`), reversals, repeats, sequences, keyboard
/// walks and dates, and estimates how many guesses a cracker that knows all this needs. A
/// password on the list is estimated at its rank (at most 30,000 guesses, a few times more
/// with capitals or l33t). Most of those have fewer than 12 characters, so the limit is set
/// where the usual ways of stretching them to 12 land: a hundred million guesses (zxcvbn's
/// scores 0 to 2; 3 and 4 pass) refuses `Password1234`, `P@ssw0rd1234!`, `Welcome2024!`,
/// `qwertyuiop123`, `monkeymonkey`, while a sentence of a few words, which the help text
/// suggests, or 12 characters without a pattern, is estimated far above it (`twaalf teken`:
/// 4.8 × 10¹¹). It is not a composition rule (ASVS 2.1.9): no kind of character is required,
/// and only guessability counts. Its word lists are English (and US names): a Dutch
/// word counts as unknown letters, which still refuses `Wachtwoord123` but not every Dutch
/// favourite.
pub const MIN_GUESSES: u64 = 100_000_000;

/// How much of a password zxcvbn judges (see [`is_common`]).
const JUDGED_CHARS: usize = 32;

impl NewPassword {
    /// Checks a new password and its confirmation. `context` holds what an attacker would try
    /// first for this account (its e-mail address, the person's name); the password may not
    /// be (a small variation of) those either.
    pub fn parse(raw: &str, confirmation: &str, context: &[&str]) -> Result<Self, Invalid> {
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
        if is_common(raw, context) {
            return Err(Invalid::new("password-common"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Whether `password` is one of the commonly used or breached passwords, or a small variation
/// of one or of the `context` words (see [`MIN_GUESSES`]).
pub fn is_common(password: &str, context: &[&str]) -> bool {
    let mut words: Vec<String> = vec!["duurloop".to_string()];
    for c in context {
        let c = c.trim().to_lowercase();
        if c.is_empty() {
            continue;
        }
        // The whole text, the local part of an address, each without its separators
        // (`annadevries`), and their parts of three characters or more (`vries`).
        let local = c.split('@').next().unwrap_or_default().to_string();
        for s in [c, local] {
            words.push(s.chars().filter(|ch| ch.is_alphanumeric()).collect());
            words.extend(
                s.split(|ch: char| !ch.is_alphanumeric())
                    .filter(|w| w.chars().count() >= 3)
                    .map(str::to_string),
            );
            words.push(s);
        }
    }
    // The password is judged on its first 32 characters (below), so the account's own
    // longer words are matched on theirs too.
    let prefixes: Vec<String> = words
        .iter()
        .filter(|w| w.chars().count() > JUDGED_CHARS)
        .map(|w| w.chars().take(JUDGED_CHARS).collect())
        .collect();
    words.extend(prefixes);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    // Judged in lower case and on its first 32 characters. zxcvbn multiplies a dictionary
    // word's rank by its capitalisation and l33t variants in unchecked u64 arithmetic, which
    // overflows when a long word matches with many capitals, such as a password that repeats
    // the account's own address in mixed case (the forms fuzzer found one: a panic where
    // overflow is checked, a wrapped, meaningless count where it is not). In lower case there
    // are no capitalisation variants, and within 32 characters the l33t ones stay below 2^32.
    // It makes the check a little stricter (capitals earn no extra guesses); a password whose
    // first 32 characters are common is refused as one. It takes a few milliseconds at most,
    // far less than the argon2 hash that follows.
    let judged = password
        .chars()
        .take(JUDGED_CHARS)
        .collect::<String>()
        .to_lowercase();
    zxcvbn::zxcvbn(&judged, &words).guesses() < MIN_GUESSES
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str, context: &[&str]) -> Result<(), &'static str> {
        NewPassword::parse(raw, raw, context)
            .map(|_| ())
            .map_err(|e| e.key)
    }

    #[test]
    fn password_policy_boundaries() {
        assert_eq!(
            NewPassword::parse("elf tekens!", "elf tekens!", &[]).map(|_| ()),
            Err(Invalid::new("password-too-short"))
        );
        assert!(NewPassword::parse("twaalf teken", "twaalf teken", &[]).is_ok());
        let long = "x".repeat(129);
        assert!(NewPassword::parse(&long, &long, &[]).is_err());
        assert_eq!(
            NewPassword::parse("rustig lopen 3x", "rustig lopen 4x", &[]).map(|_| ()),
            Err(Invalid::new("password-mismatch"))
        );
    }

    #[test]
    fn breached_and_common_passwords_are_refused() {
        // On the breach list as they are, with capitals, with digits or marks after them, as
        // keyboard walks, repeats and sequences.
        for common in [
            "password1234",
            "Password1234",
            "P@ssw0rd1234!",
            "qwertyuiop123",
            "1q2w3e4r5t6y",
            "123qweasdzxc",
            "iloveyou1234",
            "welcome12345",
            "Welcome2024!",
            "Liverpool2024",
            "jennifer1985!",
            "abcdefghijkl",
            "123456789012",
            "aaaaaaaaaaaa",
            "football2020",
            "monkeymonkey",
            "drowssapdrowssap",
        ] {
            assert_eq!(key(common, &[]), Err("password-common"), "{common}");
        }
    }

    #[test]
    fn the_account_s_own_address_and_name_are_refused_too() {
        let context = ["anna.de.vries@praktijk.example", "Anna de Vries"];
        for own in [
            "anna.de.vries@praktijk.example",
            "annadevries123",
            "AnnaDeVries2026",
            "praktijk12345",
        ] {
            assert_eq!(key(own, &context), Err("password-common"), "{own}");
        }
        // Without that context the address is not known as a password.
        assert_eq!(key("anna.de.vries@praktijk.example", &[]), Ok(()));
        // The application's own name never does.
        assert_eq!(key("duurloop2026!", &[]), Err("password-common"));
    }

    #[test]
    fn sentences_and_the_passwords_the_project_uses_are_accepted() {
        for fine in [
            "twaalf teken",
            "een lang wachtwoord",
            "een nieuw wachtwoord",
            "nog een wachtwoord",
            "een heel ander wachtwoord",
            "een sterk wachtwoord",
            "rustig duurlopen",
            "rustig-duurlopen-2026",
            "correct horse battery staple",
            "ik loop graag in het bos",
            "Morgen 5 km hardlopen!",
            "wij lopen elke dinsdag",
        ] {
            assert_eq!(key(fine, &[]), Ok(()), "{fine}");
        }
    }

    #[test]
    fn long_words_with_many_capitals_do_not_overflow_the_estimate() {
        // Found by the forms fuzzer: with the password itself among the account's own words,
        // zxcvbn's dictionary estimate overflowed on this one.
        let found = "ccabccabseninvitenousinuousWWWWWWWWWWWGEZDGNBY3VGY3TQOJQGEZDGOJNBVGY3TQOJQ";
        assert!(is_common(found, &[found]), "it is the account's own word");
        assert!(!is_common(found, &[]));
        // A sequence, so common; what matters is that it is judged without a panic.
        let capitals: String = "AbCdEfGhIjKlMnOpQrStUvWxYz".repeat(4);
        assert!(is_common(&capitals, &["Anna de Vries"]));
    }

    #[test]
    fn no_composition_rule_applies() {
        // Lower case only, letters only, digits and marks, any script: none is required.
        for fine in [
            "zonneschijn boven de heide",
            "ВесеннийЛесПробег",
            "🏃‍♀️🌳🏃‍♂️🌲 zondag",
            "9371 4826 0553",
        ] {
            assert_eq!(key(fine, &[]), Ok(()), "{fine}");
        }
    }
}
