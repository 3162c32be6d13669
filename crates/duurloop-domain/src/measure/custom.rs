//! A short questionnaire a coordinator puts together in the app, without code.

use super::{AnswerOption, Band, Instrument, Item, Rule, Text, builtin_by_code};
use crate::Invalid;

/// Builds and validates a questionnaire from what the coordinator typed:
/// - items `{code}_1`, `{code}_2`, … with the given texts (trimmed), each reverse-scored or
///   not, and all with the same answer `scale` (value and label), shown in the given order;
/// - scored as a plain sum, every item required;
/// - the texts serve as both the Dutch and the English text (the coordinator writes one);
/// - with a `cutoff`, two bands split the possible totals, whole numbers assumed: when lower
///   is better `clinical` runs from the cutoff (rounded up) to the top and `non_clinical`
///   below it; when higher is better `clinical` runs from the bottom to the cutoff (rounded
///   down) and `non_clinical` above it. Both bands must be non-empty. There is no reliable
///   change without norms (a standard deviation and reliability), so [`super::change`] gives
///   `None` for such a questionnaire.
///
/// The code may not be that of a built-in instrument (`questionnaire-code-taken`); a cutoff
/// outside the scale or leaving one band empty is `questionnaire-invalid-cutoff`; everything
/// else as [`Instrument::validate`].
pub fn custom(
    code: &str,
    title: &str,
    items: &[(String, bool)],
    scale: &[(i64, String)],
    higher_is_better: bool,
    cutoff: Option<f64>,
) -> Result<Instrument, Invalid> {
    if builtin_by_code(code).is_some() {
        return Err(Invalid::new("questionnaire-code-taken"));
    }
    let same = |text: &str| Text::new(text.trim(), text.trim());
    let options: Vec<AnswerOption> = scale
        .iter()
        .map(|(value, label)| AnswerOption {
            value: *value,
            text: same(label),
        })
        .collect();
    let mut instrument = Instrument {
        code: code.to_string(),
        version: "1".to_string(),
        title: same(title),
        intro: Text::new(
            "Kies bij elke vraag het antwoord dat het best bij u past.",
            "For each question, choose the answer that fits you best.",
        ),
        licence: "eigen vragenlijst".to_string(),
        source: "Opgesteld door de coördinator in Duurloop.".to_string(),
        loinc_total: None,
        items: items
            .iter()
            .enumerate()
            .map(|(i, (text, reverse))| Item {
                code: format!("{code}_{}", i + 1),
                text: same(text),
                options: options.clone(),
                reverse: *reverse,
            })
            .collect(),
        rule: Rule::Sum,
        max_missing: 0,
        higher_is_better,
        subscales: Vec::new(),
        bands: Vec::new(),
        reliable_change: None,
        safety: Vec::new(),
    };
    instrument.validate()?;
    if let Some(cutoff) = cutoff {
        instrument.bands = cutoff_bands(&instrument, cutoff)?;
        instrument.validate()?;
    }
    Ok(instrument)
}

fn cutoff_bands(instrument: &Instrument, cutoff: f64) -> Result<Vec<Band>, Invalid> {
    let (low, high) = (instrument.min_total(), instrument.max_total());
    let band = |code: &str, min: f64, max: f64, clinical: bool| {
        let label = if clinical {
            Text::new("In het klinische gebied", "In the clinical range")
        } else {
            Text::new("Buiten het klinische gebied", "Outside the clinical range")
        };
        Band {
            code: code.to_string(),
            min,
            max,
            label,
            clinical,
        }
    };
    let bands = if instrument.higher_is_better {
        let edge = cutoff.floor();
        [
            band("clinical", low, edge, true),
            band("non_clinical", edge + 1.0, high, false),
        ]
    } else {
        let edge = cutoff.ceil();
        [
            band("non_clinical", low, edge - 1.0, false),
            band("clinical", edge, high, true),
        ]
    };
    if cutoff.is_finite() && bands.iter().all(|b| b.min <= b.max) {
        Ok(bands.into())
    } else {
        Err(Invalid::new("questionnaire-invalid-cutoff"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(texts: &[(&str, bool)]) -> Vec<(String, bool)> {
        texts.iter().map(|(t, r)| (t.to_string(), *r)).collect()
    }

    fn scale(low: i64, high: i64) -> Vec<(i64, String)> {
        (low..=high).map(|v| (v, format!("Antwoord {v}"))).collect()
    }

    fn four() -> Vec<(String, bool)> {
        items(&[
            ("Een", false),
            ("Twee", false),
            ("Drie", true),
            ("Vier", false),
        ])
    }

    #[test]
    fn a_custom_questionnaire_is_a_validated_sum_with_numbered_items() {
        let mine = custom(
            "energie",
            " Energie ",
            &items(&[(" Ik voel me fit ", false), ("Ik ben snel moe", true)]),
            &[
                (0, "Nooit".to_string()),
                (1, "Soms".to_string()),
                (2, "Vaak".to_string()),
            ],
            true,
            None,
        )
        .expect("valid");
        assert_eq!(mine.validate(), Ok(()));
        assert_eq!(mine.rule, Rule::Sum);
        assert_eq!(mine.licence, "eigen vragenlijst");
        assert_eq!(mine.max_missing, 0);
        assert_eq!(mine.title, Text::new("Energie", "Energie"));
        let codes: Vec<&str> = mine.items.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(codes, ["energie_1", "energie_2"]);
        assert_eq!(mine.items[0].text.get("en"), "Ik voel me fit");
        assert!(mine.items[1].reverse && !mine.items[0].reverse);
        assert_eq!(mine.items[1].options[2].text.nl, "Vaak");
        assert!(mine.bands.is_empty());
        assert_eq!(super::super::change(&mine, 0.0, 4.0), None);
    }

    #[test]
    fn a_cutoff_splits_the_scale_on_the_clinical_side() {
        // Four items on 0–3: totals 0–12; lower is better, cutoff 8.
        let lower = custom(
            "klachten",
            "Klachten",
            &four(),
            &scale(0, 3),
            false,
            Some(8.0),
        )
        .expect("valid");
        let edges: Vec<_> = lower
            .bands
            .iter()
            .map(|b| (b.code.as_str(), b.min, b.max, b.clinical))
            .collect();
        assert_eq!(
            edges,
            [
                ("non_clinical", 0.0, 7.0, false),
                ("clinical", 8.0, 12.0, true)
            ]
        );
        // A fractional cutoff: 7.5 makes 8 the first clinical total.
        let half = custom(
            "klachten",
            "Klachten",
            &four(),
            &scale(0, 3),
            false,
            Some(7.5),
        )
        .expect("valid");
        assert_eq!(half.bands, lower.bands);
        // Higher is better: 8 or less is clinical.
        let higher =
            custom("welzijn", "Welzijn", &four(), &scale(0, 3), true, Some(8.0)).expect("valid");
        assert_eq!(higher.band(8.0).map(|b| b.clinical), Some(true));
        assert_eq!(higher.band(9.0).map(|b| b.clinical), Some(false));
        assert_eq!(higher.band(0.0).map(|b| b.code.as_str()), Some("clinical"));
        assert_eq!(
            higher.band(12.0).map(|b| b.code.as_str()),
            Some("non_clinical")
        );
    }

    #[test]
    fn a_cutoff_that_leaves_a_band_empty_is_refused() {
        let refused = Err(Invalid::new("questionnaire-invalid-cutoff"));
        let with = |higher, cutoff| custom("k", "K", &four(), &scale(0, 3), higher, Some(cutoff));
        assert_eq!(with(false, 0.0), refused);
        assert_eq!(with(false, 13.0), refused);
        assert_eq!(with(false, f64::NAN), refused);
        assert!(with(false, 1.0).is_ok());
        assert!(with(false, 12.0).is_ok());
        assert_eq!(with(true, 12.0), refused);
        assert_eq!(with(true, -1.0), refused);
        assert!(with(true, 0.0).is_ok());
        assert!(with(true, 11.0).is_ok());
    }

    #[test]
    fn custom_questionnaires_are_checked_like_any_other() {
        let two = scale(0, 1);
        let check = |code: &str, title: &str, items: &[(String, bool)], scale: &[(i64, String)]| {
            custom(code, title, items, scale, false, None).map(|_| ())
        };
        let key = |k| Err(Invalid::new(k));
        assert_eq!(
            check("phq9", "Mijn PHQ", &four(), &two),
            key("questionnaire-code-taken")
        );
        assert_eq!(
            check("Mijn lijst", "T", &four(), &two),
            key("questionnaire-invalid-code")
        );
        assert_eq!(
            check("m", " ", &four(), &two),
            key("questionnaire-missing-title")
        );
        assert_eq!(check("m", "T", &[], &two), key("questionnaire-no-items"));
        let blank = items(&[("Een", false), ("  ", false)]);
        assert_eq!(
            check("m", "T", &blank, &two),
            key("questionnaire-missing-item-text")
        );
        assert_eq!(
            check("m", "T", &four(), &two[..1]),
            key("questionnaire-too-few-options")
        );
        let same = [(1, "Ja".to_string()), (1, "Nee".to_string())];
        assert_eq!(
            check("m", "T", &four(), &same),
            key("questionnaire-duplicate-option")
        );
        let unnamed = [(0, "Nee".to_string()), (1, String::new())];
        assert_eq!(
            check("m", "T", &four(), &unnamed),
            key("questionnaire-missing-option-text")
        );
        let many: Vec<(String, bool)> = (0..51).map(|i| (format!("Vraag {i}"), false)).collect();
        assert_eq!(
            check("m", "T", &many, &two),
            key("questionnaire-too-many-items")
        );
        // The longest code still leaves room for item numbers.
        assert_eq!(check(&"m".repeat(40), "T", &many[..50], &two), Ok(()));
    }
}
