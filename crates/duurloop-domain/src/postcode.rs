//! Dutch postcodes and the distance between two places (SPEC §2 step 1, C2).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Invalid;

/// Letter pairs PostNL never hands out (they carry unwanted associations).
const FORBIDDEN_LETTERS: [[u8; 2]; 3] = [*b"SA", *b"SD", *b"SS"];

/// Mean radius of the earth in kilometres (IUGG).
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A Dutch postcode: four digits (the first not 0) and, optionally, two capital letters.
/// The four digits alone (PC4, a neighbourhood) are enough to search the directory.
///
/// `Debug` shows only the four digits: a full postcode narrows a person down to a street.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Postcode {
    digits: u16,
    letters: Option<[u8; 2]>,
}

impl Postcode {
    /// Accepts `1234 AB`, `1234AB`, `1234 ab` and a bare `1234`, with spaces around.
    pub fn parse(raw: &str) -> Result<Postcode, Invalid> {
        let err = Invalid::new("invalid-postcode");
        let s = raw.trim();
        let (digits, rest) = s.split_at_checked(4).ok_or(err.clone())?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return Err(err);
        }
        let digits: u16 = digits.parse().map_err(|_| err.clone())?;
        let letters = match rest.trim_start().as_bytes() {
            [] => None,
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                let pair = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
                if FORBIDDEN_LETTERS.contains(&pair) {
                    return Err(err);
                }
                Some(pair)
            }
            _ => return Err(err),
        };
        Ok(Postcode { digits, letters })
    }

    /// The four digits (PC4), e.g. `8232` for `8232 AB`.
    pub fn pc4(&self) -> u16 {
        self.digits
    }

    /// The two letters, if the postcode has them.
    pub fn letters(&self) -> Option<&str> {
        self.letters
            .as_ref()
            .and_then(|l| std::str::from_utf8(l).ok())
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.letters() {
            Some(letters) => write!(f, "{} {letters}", self.digits),
            None => write!(f, "{}", self.digits),
        }
    }
}

impl fmt::Debug for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.letters {
            Some(_) => write!(f, "Postcode({} <redacted>)", self.digits),
            None => write!(f, "Postcode({})", self.digits),
        }
    }
}

/// Serialised as its display form, `"1234 AB"`.
impl Serialize for Postcode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Postcode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Postcode::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Great-circle distance in kilometres between two points given as (latitude, longitude) in
/// degrees (haversine formula; good to well within a kilometre at Dutch distances).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().clamp(0.0, 1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pc(raw: &str) -> Postcode {
        Postcode::parse(raw).expect(raw)
    }

    #[test]
    fn accepts_the_usual_ways_of_writing_a_postcode() {
        for raw in [
            "8232 AB",
            "8232AB",
            "8232 ab",
            "8232aB",
            "  8232   AB  ",
            "8232\tAB",
        ] {
            assert_eq!(pc(raw).to_string(), "8232 AB", "{raw}");
            assert_eq!(pc(raw).pc4(), 8232);
            assert_eq!(pc(raw).letters(), Some("AB"));
        }
    }

    #[test]
    fn four_digits_alone_are_a_postcode_without_letters() {
        let p = pc("9712");
        assert_eq!(p.pc4(), 9712);
        assert_eq!(p.letters(), None);
        assert_eq!(p.to_string(), "9712");
        assert_eq!(pc(" 1000 ").to_string(), "1000");
    }

    #[test]
    fn the_lowest_and_highest_postcodes_are_accepted() {
        assert_eq!(pc("1000 AA").to_string(), "1000 AA");
        assert_eq!(pc("9999 ZZ").to_string(), "9999 ZZ");
        assert_eq!(pc("9999ZZ").pc4(), 9999);
    }

    #[test]
    fn a_postcode_never_starts_with_zero() {
        assert!(Postcode::parse("0123 AB").is_err());
        assert!(Postcode::parse("0999").is_err());
    }

    #[test]
    fn the_letter_pairs_sa_sd_and_ss_do_not_exist() {
        for raw in ["1234 SA", "1234 sd", "1234SS", "1234 Ss"] {
            assert_eq!(
                Postcode::parse(raw),
                Err(Invalid::new("invalid-postcode")),
                "{raw}"
            );
        }
        assert!(Postcode::parse("1234 SB").is_ok());
        assert!(Postcode::parse("1234 AS").is_ok());
    }

    #[test]
    fn refuses_what_cannot_be_a_postcode() {
        for bad in [
            "",
            "   ",
            "123",
            "123 AB",
            "12345",
            "12345 AB",
            "1234 A",
            "1234 ABC",
            "1234 A1",
            "1234-AB",
            "AB 1234",
            "12 34AB",
            "1234 ÄB",
            "１２３４ AB",
            "+234 AB",
            "1234 A B",
            "1234AB.",
        ] {
            assert!(Postcode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn equal_postcodes_compare_equal_however_they_were_written() {
        assert_eq!(pc("1234ab"), pc("1234 AB"));
        assert_ne!(pc("1234 AB"), pc("1234"));
        assert!(pc("1234 AB") < pc("1234 AC"));
        assert!(pc("1234") < pc("1234 AA"));
    }

    #[test]
    fn debug_shows_the_neighbourhood_but_not_the_street() {
        let shown = format!("{:?}", pc("8232 AB"));
        assert!(shown.contains("8232"));
        assert!(!shown.contains("AB"));
        assert_eq!(format!("{:?}", pc("8232")), "Postcode(8232)");
    }

    #[test]
    fn deserialises_by_parsing_so_bad_input_never_gets_in() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        let de: StrDeserializer<'_, Error> = "1234ab".into_deserializer();
        assert_eq!(Postcode::deserialize(de), Ok(pc("1234 AB")));
        let de: StrDeserializer<'_, Error> = "0123 AB".into_deserializer();
        assert!(Postcode::deserialize(de).is_err());
    }

    #[test]
    fn distance_between_amsterdam_and_rotterdam_centraal_is_about_58_km() {
        let amsterdam = (52.3791, 4.9003);
        let rotterdam = (51.9244, 4.4690);
        let d = distance_km(amsterdam, rotterdam);
        assert!((d - 58.5).abs() < 0.5, "{d}");
        assert!((distance_km(rotterdam, amsterdam) - d).abs() < 1e-9);
    }

    #[test]
    fn distance_from_groningen_to_maastricht_is_about_270_km() {
        let d = distance_km((53.2194, 6.5665), (50.8514, 5.6910));
        assert!((d - 270.0).abs() < 1.0, "{d}");
    }

    #[test]
    fn distance_to_the_same_place_is_zero_and_one_degree_of_longitude_at_the_equator_is_111_km() {
        assert_eq!(distance_km((52.0, 5.0), (52.0, 5.0)), 0.0);
        let d = distance_km((0.0, 0.0), (0.0, 1.0));
        assert!((d - 111.19).abs() < 0.01, "{d}");
    }

    #[test]
    fn distance_to_the_other_side_of_the_earth_is_half_its_circumference() {
        let d = distance_km((0.0, 0.0), (0.0, 180.0));
        assert!(
            (d - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6,
            "{d}"
        );
        assert!(!distance_km((90.0, 0.0), (-90.0, 0.0)).is_nan());
    }
}
