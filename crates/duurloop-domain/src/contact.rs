//! A participant's phone number and the baseline measures taken at intake (SPEC §2 steps 2 and 4).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Invalid;

/// A Dutch phone number, stored in E.164 form (`+31612345678`).
/// `Debug` redacts it: phone numbers are personal data and must not reach logs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts national (`06-12345678`, `020 123 4567`) and international (`+31 6 12345678`,
    /// `0031612345678`, `+31 (0)6 12345678`) notation with spaces, hyphens, dots or brackets.
    /// In national form the number must be ten digits starting with a single `0`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let err = Invalid::new("invalid-phone");
        let s = raw.trim();
        let separator = |c: char| matches!(c, ' ' | '-' | '.' | '(' | ')' | '/');
        if s.chars()
            .any(|c| !(c.is_ascii_digit() || separator(c) || c == '+'))
        {
            return Err(err);
        }
        if s.rfind('+').is_some_and(|i| i > 0) {
            return Err(err);
        }
        let compact: String = s.chars().filter(|c| !separator(*c)).collect();
        let national = match compact
            .strip_prefix("+31")
            .or_else(|| compact.strip_prefix("0031"))
        {
            // `+31 (0)6…` writes the trunk zero in brackets; it is dropped in E.164.
            Some(subscriber) => format!("0{}", subscriber.strip_prefix('0').unwrap_or(subscriber)),
            None if compact.starts_with('+') => return Err(err),
            None => compact,
        };
        let rest = national.strip_prefix('0').ok_or(err.clone())?;
        if national.len() != 10 || rest.starts_with('0') {
            return Err(err);
        }
        Ok(Self(format!("+31{rest}")))
    }

    /// The number in E.164 form, e.g. `+31612345678`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as the Dutch dial it, e.g. `0612345678`.
    pub fn national(&self) -> String {
        format!("0{}", self.0.trim_start_matches("+31"))
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneNumber(<redacted>)")
    }
}

/// Serialised in E.164 form.
impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        PhoneNumber::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A whole number written with digits only (spaces around allowed), inside `min..=max`.
fn whole_number(raw: &str, min: u16, max: u16, key: &'static str) -> Result<u16, Invalid> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::new(key));
    }
    match s.parse::<u16>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(Invalid::new(key)),
    }
}

/// Resting heart rate in beats per minute, 30 to 120.
pub fn parse_heart_rate(raw: &str) -> Result<u16, Invalid> {
    whole_number(raw, 30, 120, "invalid-heart-rate")
}

/// Age in whole years, 16 to 100.
pub fn parse_age(raw: &str) -> Result<u8, Invalid> {
    let age = whole_number(raw, 16, 100, "invalid-age")?;
    u8::try_from(age).map_err(|_| Invalid::new("invalid-age"))
}

/// Height in whole centimetres, 100 to 230.
pub fn parse_height_cm(raw: &str) -> Result<u16, Invalid> {
    whole_number(raw, 100, 230, "invalid-height")
}

/// Weight in whole kilograms, 30 to 300.
pub fn parse_weight_kg(raw: &str) -> Result<u16, Invalid> {
    whole_number(raw, 30, 300, "invalid-weight")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(raw: &str) -> String {
        PhoneNumber::parse(raw).expect(raw).as_str().to_string()
    }

    #[test]
    fn mobile_numbers_in_every_common_notation_become_e164() {
        for raw in [
            "06-12345678",
            "0612345678",
            "06 12 34 56 78",
            "06 - 123 456 78",
            "(06) 12345678",
            "+31 6 12345678",
            "+31612345678",
            "+31 (0)6 12345678",
            "+31-6-1234-5678",
            "0031612345678",
            "0031 6 12345678",
            "  06.12.34.56.78  ",
        ] {
            assert_eq!(phone(raw), "+31612345678", "{raw}");
        }
    }

    #[test]
    fn landline_numbers_keep_their_area_code() {
        assert_eq!(phone("020 123 4567"), "+31201234567");
        assert_eq!(phone("020-1234567"), "+31201234567");
        assert_eq!(phone("0320 123456"), "+31320123456");
        assert_eq!(phone("050/1234567"), "+31501234567");
        assert_eq!(phone("+31 20 123 4567"), "+31201234567");
    }

    #[test]
    fn the_national_form_is_what_a_dutch_person_dials() {
        let p = PhoneNumber::parse("+31 6 12345678").expect("valid");
        assert_eq!(p.national(), "0612345678");
    }

    #[test]
    fn refuses_numbers_that_are_not_ten_national_digits() {
        for bad in [
            "",
            "   ",
            "061234567",
            "06123456789",
            "6 12345678",
            "612345678",
            "0012345678",
            "+31 0 12345678",
            "+31 6 1234567",
            "+31 6 123456789",
            "+32 470 12 34 56",
            "0032470123456",
            "+1 555 123 4567",
            "06+12345678",
            "++31612345678",
            "06 1234 567a",
            "tel: 0612345678",
            "06_12345678",
            "０612345678",
        ] {
            assert_eq!(
                PhoneNumber::parse(bad),
                Err(Invalid::new("invalid-phone")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_same_number_written_differently_is_equal() {
        assert_eq!(
            PhoneNumber::parse("06-12345678"),
            PhoneNumber::parse("+31 6 1234 5678")
        );
    }

    #[test]
    fn debug_never_shows_the_number() {
        let p = PhoneNumber::parse("0612345678").expect("valid");
        let shown = format!("{p:?}");
        assert!(!shown.contains("12345678"), "{shown}");
    }

    #[test]
    fn deserialises_by_parsing_so_bad_input_never_gets_in() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        let de: StrDeserializer<'_, Error> = "06-12345678".into_deserializer();
        assert_eq!(
            PhoneNumber::deserialize(de).map(|p| p.0),
            Ok("+31612345678".into())
        );
        let de: StrDeserializer<'_, Error> = "12345".into_deserializer();
        assert!(PhoneNumber::deserialize(de).is_err());
    }

    #[test]
    fn resting_heart_rate_is_between_30_and_120() {
        assert_eq!(parse_heart_rate("30"), Ok(30));
        assert_eq!(parse_heart_rate(" 62 "), Ok(62));
        assert_eq!(parse_heart_rate("120"), Ok(120));
        for bad in [
            "29", "121", "0", "", "sixty", "62.5", "-60", "+60", "6 2", "99999999",
        ] {
            assert_eq!(
                parse_heart_rate(bad),
                Err(Invalid::new("invalid-heart-rate")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn age_is_between_16_and_100() {
        assert_eq!(parse_age("16"), Ok(16));
        assert_eq!(parse_age("47"), Ok(47));
        assert_eq!(parse_age("100"), Ok(100));
        for bad in ["15", "101", "256", "65536", "", "veertig", "40 jaar"] {
            assert_eq!(parse_age(bad), Err(Invalid::new("invalid-age")), "{bad:?}");
        }
    }

    #[test]
    fn height_is_between_100_and_230_cm() {
        assert_eq!(parse_height_cm("100"), Ok(100));
        assert_eq!(parse_height_cm("178"), Ok(178));
        assert_eq!(parse_height_cm("230"), Ok(230));
        for bad in ["99", "231", "1.78", "178cm", ""] {
            assert_eq!(
                parse_height_cm(bad),
                Err(Invalid::new("invalid-height")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn weight_is_between_30_and_300_kg_in_whole_kilograms() {
        assert_eq!(parse_weight_kg("30"), Ok(30));
        assert_eq!(parse_weight_kg("82"), Ok(82));
        assert_eq!(parse_weight_kg("300"), Ok(300));
        for bad in ["29", "301", "82,5", "82.5", "82 kg", ""] {
            assert_eq!(
                parse_weight_kg(bad),
                Err(Invalid::new("invalid-weight")),
                "{bad:?}"
            );
        }
    }
}
