//! Whether an instrument is fit to be filled in and scored.

use std::collections::BTreeSet;

use super::{Instrument, Item, Rule, Text};
use crate::Invalid;

/// The most items an instrument may have.
pub const MAX_ITEMS: usize = 50;
/// Option values lie in `-MAX_OPTION_VALUE..=MAX_OPTION_VALUE`, so totals cannot overflow.
pub const MAX_OPTION_VALUE: i64 = 1000;
/// The longest text, in characters, in either language.
pub const MAX_TEXT_CHARS: usize = 2000;
const MAX_CODE_CHARS: usize = 40;
/// Longer than instrument codes, so `{instrument}_{n}` always fits.
const MAX_ITEM_CODE_CHARS: usize = 50;
const MAX_FACTOR: i64 = 100;

/// `[a-z0-9_]{1,max}`.
pub(super) fn is_code(code: &str, max: usize) -> bool {
    (1..=max).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn require(ok: bool, key: &'static str) -> Result<(), Invalid> {
    if ok { Ok(()) } else { Err(Invalid::new(key)) }
}

/// A Dutch text is required (`missing` when blank); neither language may be too long.
fn text(text: &Text, missing: &'static str) -> Result<(), Invalid> {
    require(!text.nl.trim().is_empty(), missing)?;
    optional_text(text)
}

fn optional_text(text: &Text) -> Result<(), Invalid> {
    require(
        text.nl.chars().count() <= MAX_TEXT_CHARS && text.en.chars().count() <= MAX_TEXT_CHARS,
        "questionnaire-text-too-long",
    )
}

impl Instrument {
    /// Checks the whole definition; the first problem found is returned:
    /// - the code is `[a-z0-9_]{1,40}`, the version is 1 to 40 characters without spaces, the
    ///   title and licence are not blank, no text is longer than [`MAX_TEXT_CHARS`];
    /// - 1 to [`MAX_ITEMS`] items, each with a unique code `[a-z0-9_]{1,50}`, a Dutch text and
    ///   at least two options with unique values within ±[`MAX_OPTION_VALUE`] and a Dutch text;
    /// - a scale factor of 1 to 100; fewer allowed missing answers than items, and none for a
    ///   sum whose items do not all share the same lowest and highest option (prorating fills
    ///   an open answer in with the mean of the others, which on items of different scales can
    ///   give a total outside the possible totals);
    /// - bands with unique codes, `min <= max`, within the possible totals, not overlapping;
    /// - subscales with unique codes and at least one item, each an item of the instrument,
    ///   none twice;
    /// - reliable change with `sd > 0`, reliability strictly between 0 and 1, a standard error
    ///   of a difference (`√2 × sd × √(1 − r)`) that is positive and finite (a tiny `sd` could
    ///   make it 0, and the RCI of an unchanged total 0 / 0), a cutoff within the possible
    ///   totals and a source;
    /// - safety rules on items of the instrument that some answers, but not all, set off.
    pub fn validate(&self) -> Result<(), Invalid> {
        require(
            is_code(&self.code, MAX_CODE_CHARS),
            "questionnaire-invalid-code",
        )?;
        require(
            (1..=MAX_CODE_CHARS).contains(&self.version.chars().count())
                && !self.version.contains(char::is_whitespace),
            "questionnaire-invalid-version",
        )?;
        text(&self.title, "questionnaire-missing-title")?;
        optional_text(&self.intro)?;
        require(
            !self.licence.trim().is_empty(),
            "questionnaire-missing-text",
        )?;
        require(!self.items.is_empty(), "questionnaire-no-items")?;
        require(
            self.items.len() <= MAX_ITEMS,
            "questionnaire-too-many-items",
        )?;
        let mut codes = BTreeSet::new();
        for item in &self.items {
            validate_item(item)?;
            require(
                codes.insert(item.code.as_str()),
                "questionnaire-duplicate-item",
            )?;
        }
        if let Rule::ScaledSum { factor } = self.rule {
            require(
                (1..=MAX_FACTOR).contains(&factor),
                "questionnaire-invalid-factor",
            )?;
        }
        require(
            usize::from(self.max_missing) < self.items.len(),
            "questionnaire-too-many-missing",
        )?;
        let one_scale = self.items.windows(2).all(|w| w[0].range() == w[1].range());
        require(
            self.max_missing == 0 || self.rule == Rule::Mean || one_scale,
            "questionnaire-too-many-missing",
        )?;
        self.validate_bands()?;
        self.validate_subscales(&codes)?;
        self.validate_reliable_change()?;
        self.validate_safety()
    }

    fn validate_bands(&self) -> Result<(), Invalid> {
        let (low, high) = (self.min_total(), self.max_total());
        let mut codes = BTreeSet::new();
        for band in &self.bands {
            require(
                is_code(&band.code, MAX_CODE_CHARS)
                    && band.min.is_finite()
                    && band.max.is_finite()
                    && low <= band.min
                    && band.min <= band.max
                    && band.max <= high,
                "questionnaire-invalid-band",
            )?;
            text(&band.label, "questionnaire-missing-text")?;
            require(
                codes.insert(band.code.as_str()),
                "questionnaire-duplicate-band",
            )?;
        }
        let mut sorted: Vec<_> = self.bands.iter().collect();
        sorted.sort_by(|a, b| a.min.total_cmp(&b.min));
        require(
            sorted.windows(2).all(|pair| pair[0].max < pair[1].min),
            "questionnaire-bands-overlap",
        )
    }

    fn validate_subscales(&self, items: &BTreeSet<&str>) -> Result<(), Invalid> {
        let mut codes = BTreeSet::new();
        for sub in &self.subscales {
            let unique: BTreeSet<&str> = sub.items.iter().map(String::as_str).collect();
            require(
                is_code(&sub.code, MAX_CODE_CHARS)
                    && !sub.items.is_empty()
                    && unique.len() == sub.items.len(),
                "questionnaire-invalid-subscale",
            )?;
            text(&sub.title, "questionnaire-missing-text")?;
            require(
                unique.is_subset(items),
                "questionnaire-unknown-subscale-item",
            )?;
            require(
                codes.insert(sub.code.as_str()),
                "questionnaire-duplicate-subscale",
            )?;
        }
        Ok(())
    }

    fn validate_reliable_change(&self) -> Result<(), Invalid> {
        let Some(rc) = &self.reliable_change else {
            return Ok(());
        };
        let s_diff = super::change::s_diff(rc);
        require(
            rc.sd.is_finite()
                && rc.sd > 0.0
                && rc.reliability > 0.0
                && rc.reliability < 1.0
                && s_diff > 0.0
                && s_diff.is_finite()
                && self.min_total() <= rc.cutoff
                && rc.cutoff <= self.max_total()
                && !rc.source.trim().is_empty(),
            "questionnaire-invalid-reliable-change",
        )
    }

    fn validate_safety(&self) -> Result<(), Invalid> {
        for rule in &self.safety {
            let item = self
                .item(&rule.item)
                .ok_or(Invalid::new("questionnaire-unknown-safety-item"))?;
            let (min, max) = item.range();
            require(
                min < rule.min_value && rule.min_value <= max,
                "questionnaire-invalid-safety-rule",
            )?;
            text(&rule.message, "questionnaire-missing-text")?;
        }
        Ok(())
    }
}

fn validate_item(item: &Item) -> Result<(), Invalid> {
    require(
        is_code(&item.code, MAX_ITEM_CODE_CHARS),
        "questionnaire-invalid-item-code",
    )?;
    text(&item.text, "questionnaire-missing-item-text")?;
    require(item.options.len() >= 2, "questionnaire-too-few-options")?;
    let mut values = BTreeSet::new();
    for option in &item.options {
        // Not `value.abs() <= MAX`: `i64::MIN.abs()` overflows (a panic with overflow checks,
        // and without them it wraps to `i64::MIN` and passes).
        require(
            (-MAX_OPTION_VALUE..=MAX_OPTION_VALUE).contains(&option.value),
            "questionnaire-option-out-of-range",
        )?;
        require(
            values.insert(option.value),
            "questionnaire-duplicate-option",
        )?;
        text(&option.text, "questionnaire-missing-option-text")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::is_code;
    use crate::Invalid;

    fn refused(instrument: &Instrument, key: &'static str) {
        assert_eq!(instrument.validate(), Err(Invalid::new(key)));
    }

    fn valid() -> Instrument {
        let mut instrument = toy(Rule::Sum, 3, 0, 3);
        instrument.bands = vec![band("low", 0.0, 4.0, false), band("high", 5.0, 9.0, true)];
        instrument.reliable_change = Some(ReliableChange {
            sd: 3.0,
            reliability: 0.8,
            cutoff: 5.0,
            source: "test".to_string(),
        });
        instrument.safety = vec![SafetyRule {
            item: "toy_3".to_string(),
            min_value: 2,
            message: Text::new("Bel 113", ""),
        }];
        instrument
    }

    #[test]
    fn every_builtin_and_the_fixture_are_valid() {
        for instrument in builtin() {
            assert_eq!(instrument.validate(), Ok(()), "{}", instrument.code);
        }
        assert_eq!(valid().validate(), Ok(()));
    }

    #[test]
    fn codes_are_lowercase_letters_digits_and_underscores() {
        assert!(is_code("phq9", 40));
        assert!(is_code("mijn_lijst_2", 40));
        for bad in ["", "PHQ9", "phq-9", "phq 9", "é", &"a".repeat(41)] {
            assert!(!is_code(bad, 40), "{bad:?}");
        }
        let mut instrument = valid();
        instrument.code = "Toy".to_string();
        refused(&instrument, "questionnaire-invalid-code");
        let mut instrument = valid();
        instrument.items[1].code = "toy-2".to_string();
        refused(&instrument, "questionnaire-invalid-item-code");
        let mut instrument = valid();
        instrument.version = "1 a".to_string();
        refused(&instrument, "questionnaire-invalid-version");
    }

    #[test]
    fn items_must_be_there_not_too_many_and_unique() {
        let mut instrument = valid();
        instrument.items.clear();
        instrument.safety.clear();
        refused(&instrument, "questionnaire-no-items");
        let mut many = toy(Rule::Sum, MAX_ITEMS + 1, 0, 1);
        refused(&many, "questionnaire-too-many-items");
        many.items.pop();
        assert_eq!(many.validate(), Ok(()));
        let mut instrument = valid();
        instrument.items[2].code = "toy_1".to_string();
        instrument.safety.clear();
        refused(&instrument, "questionnaire-duplicate-item");
    }

    #[test]
    fn every_item_needs_a_text_and_two_distinct_options() {
        let mut instrument = valid();
        instrument.items[0].options.truncate(1);
        refused(&instrument, "questionnaire-too-few-options");
        let mut instrument = valid();
        instrument.items[0].options[1].value = 0;
        refused(&instrument, "questionnaire-duplicate-option");
        let mut instrument = valid();
        instrument.items[0].options[1].value = MAX_OPTION_VALUE + 1;
        refused(&instrument, "questionnaire-option-out-of-range");
        let mut instrument = valid();
        instrument.items[1].text.nl = "  ".to_string();
        instrument.items[1].text.en = "Question".to_string();
        refused(&instrument, "questionnaire-missing-item-text");
        let mut instrument = valid();
        instrument.items[1].options[0].text.nl.clear();
        refused(&instrument, "questionnaire-missing-option-text");
        let mut instrument = valid();
        instrument.title.nl.clear();
        refused(&instrument, "questionnaire-missing-title");
        let mut instrument = valid();
        instrument.intro.en = "x".repeat(MAX_TEXT_CHARS + 1);
        refused(&instrument, "questionnaire-text-too-long");
    }

    #[test]
    fn the_most_negative_option_value_is_out_of_range_not_an_overflow() {
        // Found by the `questionnaire` fuzz target: a scale line "-9223372036854775808" in the
        // own-questionnaire form made `i64::MIN.abs()` overflow.
        for value in [i64::MIN, i64::MIN + 1, -MAX_OPTION_VALUE - 1, i64::MAX] {
            let mut instrument = valid();
            instrument.items[0].options[0].value = value;
            refused(&instrument, "questionnaire-option-out-of-range");
        }
        let mut instrument = valid();
        instrument.items[0].options[0].value = -MAX_OPTION_VALUE;
        instrument.safety.clear();
        instrument.bands.clear();
        instrument.reliable_change = None;
        assert_eq!(instrument.validate(), Ok(()));
        let scale = [(i64::MIN, "Nooit".to_string()), (1, "Vaak".to_string())];
        let items = [("Vraag".to_string(), true)];
        assert_eq!(
            custom("mijn", "Mijn lijst", &items, &scale, false, None),
            Err(Invalid::new("questionnaire-option-out-of-range"))
        );
    }

    #[test]
    fn the_scale_factor_and_allowed_missing_answers_are_bounded() {
        let mut instrument = valid();
        instrument.rule = Rule::ScaledSum { factor: 0 };
        refused(&instrument, "questionnaire-invalid-factor");
        let mut instrument = valid();
        instrument.max_missing = 3;
        refused(&instrument, "questionnaire-too-many-missing");
        instrument.max_missing = 2;
        assert_eq!(instrument.validate(), Ok(()));
    }

    #[test]
    fn a_sum_may_leave_answers_open_only_when_all_items_share_one_scale() {
        // Found by the `questionnaire` fuzz target: items on 0–3, 0–1 and 0–10 (reversed),
        // scaled × 4 (totals 0–56), one answer allowed open. Answers 3, open, 0 (scored 10)
        // were prorated to round(13 × 3 / 2) = 20 and scaled to 80, off the scale.
        let mut mixed = toy(Rule::ScaledSum { factor: 4 }, 3, 0, 3);
        mixed.items[1].options.truncate(2);
        mixed.items[2].options = toy(Rule::Sum, 1, 0, 10).items[0].options.clone();
        mixed.items[2].reverse = true;
        assert_eq!(mixed.validate(), Ok(()));
        mixed.max_missing = 1;
        refused(&mixed, "questionnaire-too-many-missing");
        // The same items averaged stay between the lowest and highest option: allowed.
        mixed.rule = Rule::Mean;
        assert_eq!(mixed.validate(), Ok(()));
        // One scale for every item (reversed or not): allowed.
        let mut same = toy(Rule::ScaledSum { factor: 4 }, 3, 0, 3);
        same.items[2].reverse = true;
        same.max_missing = 2;
        assert_eq!(same.validate(), Ok(()));
        // The same values in another order are the same scale.
        same.items[1].options.reverse();
        assert_eq!(same.validate(), Ok(()));
        // A scale that differs only in the options between the ends is still one scale.
        same.items[0].options.remove(1);
        assert_eq!(same.validate(), Ok(()));
        same.items[0].options.pop();
        refused(&same, "questionnaire-too-many-missing");
    }

    #[test]
    fn bands_may_touch_but_not_overlap_and_must_fit_the_scale() {
        let mut instrument = valid();
        instrument.bands = vec![band("high", 4.0, 9.0, true), band("low", 0.0, 4.0, false)];
        refused(&instrument, "questionnaire-bands-overlap");
        instrument.bands[0].min = 4.5;
        assert_eq!(instrument.validate(), Ok(()));
        instrument.bands[0].max = 10.0;
        refused(&instrument, "questionnaire-invalid-band");
        instrument.bands[0] = band("high", 6.0, 5.0, true);
        refused(&instrument, "questionnaire-invalid-band");
        instrument.bands[0] = band("high", f64::NAN, 9.0, true);
        refused(&instrument, "questionnaire-invalid-band");
        instrument.bands[0] = band("low", 5.0, 9.0, true);
        refused(&instrument, "questionnaire-duplicate-band");
    }

    #[test]
    fn subscales_use_existing_items_once() {
        let sub = |code: &str, items: &[&str]| Subscale {
            code: code.to_string(),
            title: Text::new("Deel", ""),
            items: items.iter().map(|i| i.to_string()).collect(),
        };
        let mut instrument = valid();
        instrument.subscales = vec![sub("a", &["toy_1", "toy_2"]), sub("b", &["toy_3"])];
        assert_eq!(instrument.validate(), Ok(()));
        instrument.subscales[1] = sub("b", &["toy_4"]);
        refused(&instrument, "questionnaire-unknown-subscale-item");
        instrument.subscales[1] = sub("b", &["toy_3", "toy_3"]);
        refused(&instrument, "questionnaire-invalid-subscale");
        instrument.subscales[1] = sub("b", &[]);
        refused(&instrument, "questionnaire-invalid-subscale");
        instrument.subscales[1] = sub("a", &["toy_3"]);
        refused(&instrument, "questionnaire-duplicate-subscale");
    }

    #[test]
    fn reliable_change_needs_a_positive_sd_and_a_reliability_below_one() {
        let with = |sd: f64, reliability: f64, cutoff: f64| {
            let mut instrument = valid();
            instrument.reliable_change = Some(ReliableChange {
                sd,
                reliability,
                cutoff,
                source: "test".to_string(),
            });
            instrument.validate()
        };
        let refused = Err(Invalid::new("questionnaire-invalid-reliable-change"));
        assert_eq!(with(3.0, 0.8, 5.0), Ok(()));
        assert_eq!(with(0.0, 0.8, 5.0), refused);
        assert_eq!(with(-1.0, 0.8, 5.0), refused);
        assert_eq!(with(f64::INFINITY, 0.8, 5.0), refused);
        assert_eq!(with(3.0, 1.0, 5.0), refused);
        assert_eq!(with(3.0, 0.0, 5.0), refused);
        assert_eq!(with(3.0, f64::NAN, 5.0), refused);
        assert_eq!(with(3.0, 0.8, 10.0), refused);
        assert_eq!(with(3.0, 0.8, f64::NAN), refused);
    }

    #[test]
    fn reliable_change_needs_a_standard_error_of_a_difference_above_zero_and_finite() {
        // Found with the `questionnaire` fuzz target's invariants: sd 5e-324 passed `sd > 0`,
        // but √2 × sd × √(1 − 0.85) rounds to 0, so the RCI of an unchanged total was 0 / 0.
        let with = |sd: f64, reliability: f64| {
            let mut instrument = valid();
            instrument.reliable_change = Some(ReliableChange {
                sd,
                reliability,
                cutoff: 5.0,
                source: "test".to_string(),
            });
            instrument
        };
        let refused = Err(Invalid::new("questionnaire-invalid-reliable-change"));
        assert_eq!(with(5e-324, 0.85).validate(), refused);
        assert_eq!(with(1e-323, 0.99).validate(), refused);
        // √2 × 1.7e308 × √(1 − 1e-9) overflows to ∞.
        assert_eq!(with(1.7e308, 1e-9).validate(), refused);
        for sd in [1e-300, 5e-324 * 8.0, 1e300] {
            let instrument = with(sd, 0.85);
            assert_eq!(instrument.validate(), Ok(()), "{sd:e}");
            for total in [0.0, 5.0, 9.0] {
                let c = change(&instrument, total, total).expect("parameters");
                assert_eq!((c.rci, c.outcome), (0.0, Outcome::Unchanged), "{sd:e}");
            }
        }
    }

    #[test]
    fn safety_rules_must_name_an_item_and_a_value_that_can_be_reached() {
        let mut instrument = valid();
        instrument.safety[0].item = "toy_9".to_string();
        refused(&instrument, "questionnaire-unknown-safety-item");
        let mut instrument = valid();
        instrument.safety[0].min_value = 4;
        refused(&instrument, "questionnaire-invalid-safety-rule");
        instrument.safety[0].min_value = 0;
        refused(&instrument, "questionnaire-invalid-safety-rule");
        instrument.safety[0].min_value = 3;
        assert_eq!(instrument.validate(), Ok(()));
        instrument.safety[0].message.nl.clear();
        refused(&instrument, "questionnaire-missing-text");
    }
}
