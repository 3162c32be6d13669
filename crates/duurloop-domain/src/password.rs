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
    /// The judgement is [`strength`]'s, so what the strength meter calls acceptable is what
    /// this accepts; a length problem is reported before a mismatch, a mismatch before a
    /// common password.
    pub fn parse(raw: &str, confirmation: &str, context: &[&str]) -> Result<Self, Invalid> {
        // The cheap checks first: zxcvbn (in `strength`) costs about a millisecond, and a
        // mismatched confirmation needs no estimate (fuzzing `forms` ran ten times slower when
        // every form paid for one).
        if let Strength::Weak(key) = length_judgement(raw) {
            return Err(Invalid::new(key));
        }
        if raw != confirmation {
            return Err(Invalid::new("password-mismatch"));
        }
        if let Strength::Weak(key) = strength(raw, context) {
            return Err(Invalid::new(key));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Estimated guesses at or above this, and an acceptable password is called strong rather than
/// fair by the strength meter (ASVS 2.1.8). A hundred times zxcvbn's top score (10¹⁰), because
/// every password here has at least 12 characters and most reach that score: the bare minimum
/// (`twaalf teken`, 4.8 × 10¹¹) is fair, a sentence of four or five words is strong. Only
/// the words change; fair passwords are accepted all the same.
pub const STRONG_GUESSES: u64 = 1_000_000_000_000;

/// How a new password is judged, for the strength meter and for [`NewPassword::parse`] alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// Refused, with the message key of the reason (`password-too-short`,
    /// `password-too-long`, `password-common`).
    Weak(&'static str),
    /// Accepted: at least [`MIN_GUESSES`] estimated guesses.
    Fair,
    /// Accepted: at least [`STRONG_GUESSES`].
    Strong,
}

impl Strength {
    /// Whether a password so judged is accepted when it is submitted.
    pub fn acceptable(self) -> bool {
        !matches!(self, Strength::Weak(_))
    }

    /// `weak`, `fair` or `strong`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strength::Weak(_) => "weak",
            Strength::Fair => "fair",
            Strength::Strong => "strong",
        }
    }
}

/// Judges a new password as the policy does: its length (12 to 128 characters), then how
/// guessable it is for this account (`context`, see [`is_common`]). The confirmation is not
/// part of it ([`NewPassword::parse`] checks that).
pub fn strength(raw: &str, context: &[&str]) -> Strength {
    if let weak @ Strength::Weak(_) = length_judgement(raw) {
        return weak;
    }
    match guesses(raw, context) {
        g if g < MIN_GUESSES => Strength::Weak("password-common"),
        g if g < STRONG_GUESSES => Strength::Fair,
        _ => Strength::Strong,
    }
}

/// The length rule alone (12 to 128 characters): weak with its reason, or fair as far as length
/// goes.
fn length_judgement(raw: &str) -> Strength {
    match raw.chars().count() {
        ..12 => Strength::Weak("password-too-short"),
        129.. => Strength::Weak("password-too-long"),
        _ => Strength::Fair,
    }
}

/// Whether `password` is one of the commonly used or breached passwords, or a small variation
/// of one or of the `context` words (see [`MIN_GUESSES`]).
pub fn is_common(password: &str, context: &[&str]) -> bool {
    guesses(password, context) < MIN_GUESSES
}

/// zxcvbn's estimate of the guesses `password` needs, with the `context` words known to the
/// attacker (see [`is_common`] for how it is judged).
fn guesses(password: &str, context: &[&str]) -> u64 {
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
    zxcvbn::zxcvbn(&judged, &words).guesses()
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
    fn the_meter_calls_acceptable_exactly_what_parse_accepts() {
        for raw in [
            "",
            "elf tekens!",
            "password123",
            "password1234",
            "Welcome2024!",
            "twaalf teken",
            "correct horse battery staple",
            "vJ8#qLz2!mT9wRx4",
            "annadevries123",
            &"x".repeat(129),
        ] {
            let context = ["anna.de.vries@praktijk.example", "Anna de Vries"];
            let judged = strength(raw, &context);
            assert_eq!(
                judged.acceptable(),
                NewPassword::parse(raw, raw, &context).is_ok(),
                "{raw}"
            );
            if let (Strength::Weak(key), Err(e)) = (judged, NewPassword::parse(raw, raw, &context))
            {
                assert_eq!(key, e.key, "the same reason");
            }
        }
        assert_eq!(
            strength("password123", &[]),
            Strength::Weak("password-too-short")
        );
        assert_eq!(
            strength("password1234", &[]),
            Strength::Weak("password-common")
        );
        assert_eq!(
            strength("mijn fiets staat achter de bakkerij in Zwolle", &[]),
            Strength::Strong
        );
        assert_eq!(strength("twaalf teken", &[]), Strength::Fair);
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
