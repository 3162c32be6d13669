//! The instruments that come with Duurloop, compiled into the binary from
//! `crates/duurloop-domain/instruments/*.json`.

use std::sync::LazyLock;

use super::Instrument;

const SOURCES: [&str; 4] = [
    include_str!("../../instruments/phq9.json"),
    include_str!("../../instruments/gad7.json"),
    include_str!("../../instruments/who5.json"),
    include_str!("../../instruments/zg5.json"),
];

/// Parsed once. The files are part of the source, and a unit test parses and validates every
/// one of them, so a failure here is a build mistake, not something a user can cause.
static BUILTIN: LazyLock<Vec<Instrument>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|json| {
            let instrument: Instrument =
                serde_json::from_str(json).expect("built-in instrument parses (unit-tested)");
            instrument
        })
        .collect()
});

/// PHQ-9, GAD-7, WHO-5 and ZG-5 (care use, our own text), in that order, in Dutch and
/// English.
pub fn builtin() -> Vec<Instrument> {
    BUILTIN.clone()
}

/// The built-in instrument with this code (`phq9`, `gad7`, `who5`, `zg5`).
pub fn builtin_by_code(code: &str) -> Option<Instrument> {
    builtin_ref(code).cloned()
}

/// The built-in instrument with this code, borrowed: for the hot paths (the participant's
/// home scores every questionnaire on every request) that need not copy its items and texts.
pub fn builtin_ref(code: &str) -> Option<&'static Instrument> {
    BUILTIN.iter().find(|i| i.code == code)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    #[test]
    fn the_builtins_are_phq9_gad7_who5_and_zg5_and_all_validate() {
        let codes: Vec<String> = builtin().into_iter().map(|i| i.code).collect();
        assert_eq!(codes, ["phq9", "gad7", "who5", "zg5"]);
        for json in SOURCES {
            let instrument: Instrument = serde_json::from_str(json).expect("parses");
            assert_eq!(instrument.validate(), Ok(()), "{}", instrument.code);
        }
        assert_eq!(builtin_by_code("phq9").map(|i| i.items.len()), Some(9));
        assert_eq!(builtin_by_code("gad7").map(|i| i.items.len()), Some(7));
        assert_eq!(builtin_by_code("who5").map(|i| i.items.len()), Some(5));
        assert_eq!(builtin_by_code("zg5").map(|i| i.items.len()), Some(5));
        assert_eq!(builtin_by_code("PHQ9"), None);
        assert_eq!(builtin_by_code("bdi"), None);
    }

    #[test]
    fn every_builtin_round_trips_through_json() {
        for instrument in builtin() {
            let json = serde_json::to_string(&instrument).expect("serialises");
            let back: Instrument = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, instrument);
        }
    }

    #[test]
    fn every_builtin_text_is_in_dutch_and_english() {
        for instrument in builtin() {
            let mut texts = vec![&instrument.title, &instrument.intro];
            for item in &instrument.items {
                texts.push(&item.text);
                texts.extend(item.options.iter().map(|o| &o.text));
            }
            texts.extend(instrument.bands.iter().map(|b| &b.label));
            texts.extend(instrument.safety.iter().map(|s| &s.message));
            for text in texts {
                assert!(!text.nl.is_empty() && !text.en.is_empty(), "{text:?}");
                assert_ne!(text.nl, text.en, "{text:?}");
            }
        }
    }

    #[test]
    fn the_builtins_carry_their_scales_bands_and_cutoffs() {
        let phq9 = phq9();
        assert_eq!((phq9.min_total(), phq9.max_total()), (0.0, 27.0));
        assert_eq!(phq9.loinc_total.as_deref(), Some("44261-6"));
        assert_eq!(phq9.max_missing, 0);
        assert!(!phq9.higher_is_better);
        assert_eq!(phq9.band(9.0).map(|b| b.clinical), Some(false));
        assert_eq!(phq9.band(10.0).map(|b| b.clinical), Some(true));
        assert_eq!(phq9.is_clinical(10.0), Some(true));
        assert_eq!(phq9.is_clinical(9.0), Some(false));
        let item9 = phq9.item("phq9_9").expect("item 9");
        assert!(item9.text.nl.starts_with("Gedachten dat u beter dood"));
        let labels: Vec<&str> = item9.options.iter().map(|o| o.text.get("nl")).collect();
        assert_eq!(
            labels,
            [
                "Helemaal niet",
                "Meerdere dagen",
                "Meer dan de helft van de dagen",
                "Bijna elke dag"
            ]
        );
        assert_eq!(phq9.safety.len(), 1);

        let gad7 = gad7();
        assert_eq!((gad7.min_total(), gad7.max_total()), (0.0, 21.0));
        assert_eq!(gad7.loinc_total.as_deref(), Some("70274-6"));
        assert_eq!(gad7.band(9.0).map(|b| b.clinical), Some(false));
        assert_eq!(gad7.band(10.0).map(|b| b.clinical), Some(true));

        let who5 = who5();
        assert_eq!((who5.min_total(), who5.max_total()), (0.0, 100.0));
        assert_eq!(who5.rule, Rule::ScaledSum { factor: 4 });
        assert_eq!(who5.loinc_total, None);
        assert!(who5.higher_is_better);
        assert_eq!(who5.is_clinical(50.0), Some(true));
        assert_eq!(who5.is_clinical(52.0), Some(false));
        // Every possible WHO-5 total (multiples of 4) falls in a band.
        for raw in 0..=25 {
            assert!(who5.band(f64::from(raw * 4)).is_some(), "{raw}");
        }
        for instrument in builtin() {
            assert_eq!(instrument.max_missing, 0, "{}", instrument.code);
            // ZG-5 is not validated: it claims no reliable change (see its file).
            let validated = instrument.code != "zg5";
            assert_eq!(
                instrument.reliable_change.is_some(),
                validated,
                "{}",
                instrument.code
            );
        }
    }

    #[test]
    fn zg5_counts_care_contacts_and_days_absent_roughly_lower_being_better() {
        let zg5 = zg5();
        assert_eq!((zg5.min_total(), zg5.max_total()), (0.0, 35.0));
        assert_eq!(zg5.rule, Rule::Sum);
        assert!(!zg5.higher_is_better);
        assert!(zg5.safety.is_empty() && zg5.loinc_total.is_none());
        // Every item: none, 1, 2, 3–5 (as 4), 6 or more (as 7).
        for item in &zg5.items {
            let values: Vec<i64> = item.options.iter().map(|o| o.value).collect();
            assert_eq!(values, [0, 1, 2, 4, 7], "{}", item.code);
        }
        // Twice the GP, 3–5 times the psychologist, no physio, once the hospital, 6+ days off.
        let score = zg5
            .score(&answers("zg5", &[2, 4, 0, 1, 7]))
            .expect("complete");
        assert_eq!((score.raw, score.total), (14, 14.0));
        assert_eq!(
            score.subscales,
            [
                ("care_contacts".to_string(), 7.0),
                ("days_absent".to_string(), 7.0)
            ]
        );
        assert_eq!(score.band.as_deref(), Some("much"));
        assert_eq!(
            zg5.score(&answers("zg5", &[0; 5])).map(|s| s.band),
            Ok(Some("none".to_string()))
        );
        // Every total falls in a band; a band value (3) that is no option counts as missing,
        // and none may be missing.
        for total in 0..=35 {
            assert!(zg5.band(f64::from(total)).is_some(), "{total}");
        }
        assert!(zg5.score(&answers("zg5", &[3, 0, 0, 0, 0])).is_err());
        assert!(zg5.score(&answers("zg5", &[0, 0, 0, 0])).is_err());
        // No reliable change, no cutoff: nothing is claimed about a change.
        assert_eq!(zg5.is_clinical(20.0), None);
        assert!(change(&zg5, 14.0, 2.0).is_none());
        assert!(zg5.licence.contains("Own text") && zg5.licence.contains("EUPL-1.2"));
    }

    #[test]
    fn texts_fall_back_to_dutch() {
        let text = Text::new("Hallo", "Hello");
        assert_eq!(text.get("nl"), "Hallo");
        assert_eq!(text.get("en"), "Hello");
        assert_eq!(text.get("en-GB"), "Hello");
        assert_eq!(text.get("de"), "Hallo");
        assert_eq!(Text::new("Alleen NL", "").get("en"), "Alleen NL");
        let parsed: Text = serde_json::from_str(r#"{"nl":"Alleen NL"}"#).expect("parses");
        assert_eq!(parsed, Text::new("Alleen NL", ""));
    }

    #[test]
    fn a_misspelt_field_in_an_instrument_is_refused() {
        let json = SOURCES[0].replace("\"higher_is_better\"", "\"higher_is_beter\"");
        assert!(serde_json::from_str::<Instrument>(&json).is_err());
    }
}
