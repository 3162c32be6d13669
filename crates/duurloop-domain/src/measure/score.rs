//! Checking answers, scoring a response and finding safety hits (rules in the module docs of
//! [`super`]).

use std::collections::BTreeMap;

use super::{Incomplete, Instrument, Rule, SafetyRule, Score};
use crate::Invalid;

impl Instrument {
    /// Whether `value` is a possible answer to `item`.
    pub fn check_answer(&self, item: &str, value: i64) -> Result<(), Invalid> {
        let item = self
            .item(item)
            .ok_or(Invalid::new("questionnaire-unknown-item"))?;
        item.scored(value)
            .map(|_| ())
            .ok_or(Invalid::new("questionnaire-invalid-answer"))
    }

    /// Scores a response keyed by item code. Answers to other codes are ignored; an answer
    /// that is not one of the item's options counts as missing.
    pub fn score(&self, answers: &BTreeMap<String, i64>) -> Result<Score, Incomplete> {
        let scored: Vec<Option<i64>> = self
            .items
            .iter()
            .map(|item| answers.get(&item.code).and_then(|v| item.scored(*v)))
            .collect();
        let missing: Vec<String> = self
            .items
            .iter()
            .zip(&scored)
            .filter(|(_, s)| s.is_none())
            .map(|(item, _)| item.code.clone())
            .collect();
        let given: Vec<i64> = scored.iter().flatten().copied().collect();
        let Some(total) = aggregate(self.rule, &given, self.items.len())
            .filter(|_| missing.len() <= usize::from(self.max_missing))
        else {
            return Err(Incomplete { missing });
        };
        let subscales = self
            .subscales
            .iter()
            .filter_map(|sub| {
                let given: Vec<i64> = self
                    .items
                    .iter()
                    .zip(&scored)
                    .filter(|(item, _)| sub.items.contains(&item.code))
                    .filter_map(|(_, s)| *s)
                    .collect();
                let total = aggregate(self.rule, &given, sub.items.len())?;
                Some((sub.code.clone(), total))
            })
            .collect();
        Ok(Score {
            raw: given.iter().fold(0, |sum, v| sum.saturating_add(*v)),
            total,
            answered: given.len(),
            prorated: !missing.is_empty(),
            subscales,
            band: self.band(total).map(|b| b.code.clone()),
        })
    }

    /// The safety rules the answers so far set off (answer as given at or above the rule's
    /// `min_value`); works on a partial response, so an alert need not wait for the end.
    pub fn safety_hits(&self, answers: &BTreeMap<String, i64>) -> Vec<&SafetyRule> {
        self.safety
            .iter()
            .filter(|rule| {
                answers
                    .get(&rule.item)
                    .is_some_and(|v| *v >= rule.min_value)
            })
            .collect()
    }
}

/// The total of the given item scores out of `n_items` by `rule`; `None` when nothing was
/// given. Sums are prorated to `n_items` with halves rounded up, then scaled.
fn aggregate(rule: Rule, given: &[i64], n_items: usize) -> Option<f64> {
    if given.is_empty() {
        return None;
    }
    let sum: i128 = given.iter().map(|v| i128::from(*v)).sum();
    let answered = given.len() as i128;
    let prorated = if given.len() >= n_items {
        sum
    } else {
        // floor(sum × n / answered + ½), exact in integers (also for negative sums).
        (2 * sum * n_items as i128 + answered).div_euclid(2 * answered)
    };
    Some(match rule {
        Rule::Sum => prorated as f64,
        Rule::ScaledSum { factor } => (prorated * i128::from(factor)) as f64,
        Rule::Mean => sum as f64 / answered as f64,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::test_support::*;
    use super::super::*;
    use super::aggregate;
    use crate::Invalid;

    fn total(instrument: &Instrument, prefix: &str, values: &[i64]) -> (f64, Option<String>) {
        let score = instrument
            .score(&answers(prefix, values))
            .expect("complete");
        (score.total, score.band)
    }

    fn banded(total: f64, band: &str) -> (f64, Option<String>) {
        (total, Some(band.to_string()))
    }

    #[test]
    fn phq9_all_zeros_is_zero_and_minimal() {
        let score = phq9().score(&answers("phq9", &[0; 9])).expect("complete");
        assert_eq!(score.raw, 0);
        assert_eq!(score.total, 0.0);
        assert_eq!(score.answered, 9);
        assert!(!score.prorated);
        assert_eq!(score.band.as_deref(), Some("minimal"));
        assert!(score.subscales.is_empty());
    }

    #[test]
    fn phq9_totals_fall_in_the_published_bands() {
        let phq9 = phq9();
        // 1+1+1+1+1+1+2+2+0 = 10.
        let ten = [1, 1, 1, 1, 1, 1, 2, 2, 0];
        assert_eq!(total(&phq9, "phq9", &ten), banded(10.0, "moderate"));
        assert_eq!(total(&phq9, "phq9", &[3; 9]), banded(27.0, "severe"));
        assert_eq!(
            total(&phq9, "phq9", &[1, 1, 1, 1, 0, 0, 0, 0, 0]),
            banded(4.0, "minimal")
        );
        assert_eq!(
            total(&phq9, "phq9", &[1, 1, 1, 1, 1, 0, 0, 0, 0]),
            banded(5.0, "mild")
        );
        assert_eq!(
            total(&phq9, "phq9", &[3, 3, 3, 3, 3, 0, 0, 0, 0]),
            banded(15.0, "moderately_severe")
        );
        assert_eq!(
            total(&phq9, "phq9", &[3, 3, 3, 3, 3, 3, 1, 0, 0]),
            banded(19.0, "moderately_severe")
        );
        assert_eq!(
            total(&phq9, "phq9", &[3, 3, 3, 3, 3, 3, 2, 0, 0]),
            banded(20.0, "severe")
        );
    }

    #[test]
    fn an_incomplete_phq9_is_not_scored_and_says_what_is_missing() {
        let phq9 = phq9();
        let mut given = answers("phq9", &[1; 9]);
        given.remove("phq9_4");
        assert_eq!(
            phq9.score(&given),
            Err(Incomplete {
                missing: vec!["phq9_4".to_string()]
            })
        );
        given.remove("phq9_9");
        let missing = phq9.score(&given).expect_err("incomplete").missing;
        assert_eq!(missing, ["phq9_4", "phq9_9"]);
        let all = phq9.score(&BTreeMap::new()).expect_err("empty").missing;
        assert_eq!(all.len(), 9);
    }

    #[test]
    fn answers_outside_the_options_are_refused_and_count_as_missing() {
        let phq9 = phq9();
        assert_eq!(
            phq9.check_answer("phq9_1", 4),
            Err(Invalid::new("questionnaire-invalid-answer"))
        );
        assert_eq!(
            phq9.check_answer("phq9_1", -1),
            Err(Invalid::new("questionnaire-invalid-answer"))
        );
        assert_eq!(
            phq9.check_answer("phq9_10", 1),
            Err(Invalid::new("questionnaire-unknown-item"))
        );
        for value in 0..=3 {
            assert_eq!(phq9.check_answer("phq9_9", value), Ok(()));
        }
        let mut given = answers("phq9", &[3; 9]);
        given.insert("phq9_2".to_string(), 4);
        let missing = phq9.score(&given).expect_err("invalid").missing;
        assert_eq!(missing, ["phq9_2"]);
    }

    #[test]
    fn answers_to_other_items_are_ignored() {
        let mut given = answers("phq9", &[2; 9]);
        given.insert("gad7_1".to_string(), 3);
        let score = phq9().score(&given).expect("complete");
        assert_eq!(score.total, 18.0);
        assert_eq!(score.answered, 9);
    }

    #[test]
    fn gad7_band_boundaries_are_four_five_nine_ten_fourteen_fifteen() {
        let gad7 = gad7();
        let cases = [
            ([0, 0, 0, 0, 0, 0, 0], 0.0, "minimal"),
            ([1, 1, 1, 1, 0, 0, 0], 4.0, "minimal"),
            ([1, 1, 1, 1, 1, 0, 0], 5.0, "mild"),
            ([3, 3, 3, 0, 0, 0, 0], 9.0, "mild"),
            ([3, 3, 3, 1, 0, 0, 0], 10.0, "moderate"),
            ([2, 2, 2, 2, 2, 2, 2], 14.0, "moderate"),
            ([3, 2, 2, 2, 2, 2, 2], 15.0, "severe"),
            ([3, 3, 3, 3, 3, 3, 3], 21.0, "severe"),
        ];
        for (values, expected, band) in cases {
            assert_eq!(
                total(&gad7, "gad7", &values),
                banded(expected, band),
                "{values:?}"
            );
        }
    }

    #[test]
    fn who5_is_the_raw_sum_times_four_with_fifty_or_less_poor() {
        let who5 = who5();
        let score = who5
            .score(&answers("who5", &[3, 3, 3, 2, 2]))
            .expect("complete");
        assert_eq!((score.raw, score.total), (13, 52.0));
        assert_eq!(score.band.as_deref(), Some("adequate_wellbeing"));
        assert_eq!(who5.is_clinical(52.0), Some(false));
        assert_eq!(who5.band(52.0).map(|b| b.clinical), Some(false));

        let score = who5
            .score(&answers("who5", &[3, 3, 2, 2, 2]))
            .expect("complete");
        assert_eq!((score.raw, score.total), (12, 48.0));
        assert_eq!(score.band.as_deref(), Some("poor_wellbeing"));
        assert_eq!(who5.is_clinical(48.0), Some(true));
        assert_eq!(who5.band(48.0).map(|b| b.clinical), Some(true));

        assert_eq!(
            total(&who5, "who5", &[2, 2, 1, 1, 1]),
            banded(28.0, "likely_depression")
        );
        assert_eq!(
            total(&who5, "who5", &[5; 5]),
            banded(100.0, "adequate_wellbeing")
        );
    }

    #[test]
    fn a_reverse_item_counts_from_the_other_end_of_the_scale() {
        let scale: Vec<(i64, String)> = (1..=5).map(|v| (v, format!("{v}"))).collect();
        let items = [
            ("Ik voel me goed".to_string(), true),
            ("Ik pieker veel".to_string(), false),
            ("Ik slaap slecht".to_string(), false),
        ];
        let mine = custom("stemming", "Stemming", &items, &scale, false, None).expect("valid");
        // 5 reversed is 1, 1 reversed is 5, 3 stays 3: 1 + 4 + 2 = 7 and 5 + 1 + 1 = 7.
        assert_eq!(total(&mine, "stemming", &[5, 4, 2]).0, 7.0);
        assert_eq!(total(&mine, "stemming", &[1, 1, 1]).0, 7.0);
        assert_eq!(total(&mine, "stemming", &[3, 5, 5]).0, 13.0);
        assert_eq!(total(&mine, "stemming", &[2, 1, 1]).0, 6.0);
        assert_eq!(mine.min_total(), 3.0);
        assert_eq!(mine.max_total(), 15.0);
    }

    #[test]
    fn up_to_max_missing_answers_are_prorated_with_halves_rounded_up() {
        let mut four = toy(Rule::Sum, 4, 0, 3);
        four.max_missing = 1;
        let score_of = |values: &[(usize, i64)], instrument: &Instrument| {
            let given = values
                .iter()
                .map(|(i, v)| (format!("toy_{i}"), *v))
                .collect();
            instrument.score(&given)
        };
        // 3 + 2 + 2 = 7 of 3 answered: 7 × 4 / 3 = 9.33 → 9.
        let score = score_of(&[(1, 3), (2, 2), (3, 2)], &four).expect("one missing");
        assert_eq!((score.raw, score.total), (7, 9.0));
        assert!(score.prorated);
        assert_eq!(score.answered, 3);
        // 3 + 3 + 2 = 8: 8 × 4 / 3 = 10.67 → 11.
        let score = score_of(&[(1, 3), (2, 3), (4, 2)], &four).expect("one missing");
        assert_eq!(score.total, 11.0);
        // Two missing is too many.
        let err = score_of(&[(1, 3), (3, 3)], &four).expect_err("two missing");
        assert_eq!(err.missing, ["toy_2", "toy_4"]);

        let mut three = toy(Rule::Sum, 3, 0, 3);
        three.max_missing = 1;
        // 1 × 3 / 2 = 1.5 → 2 and 3 × 3 / 2 = 4.5 → 5: halves go up.
        assert_eq!(score_of(&[(1, 1), (3, 0)], &three).expect("ok").total, 2.0);
        assert_eq!(score_of(&[(1, 3), (3, 0)], &three).expect("ok").total, 5.0);
        // Prorated first, scaled after: stays a multiple of the factor.
        three.rule = Rule::ScaledSum { factor: 4 };
        assert_eq!(score_of(&[(1, 1), (3, 0)], &three).expect("ok").total, 8.0);
    }

    #[test]
    fn a_prorated_total_stays_on_the_scale_of_a_valid_instrument() {
        // Every response with at most two open answers (open = 4 below), on items sharing the
        // scale -2..=3 with one reversed, summed and scaled: always between the lowest and
        // highest total. (Items on different scales may not be prorated, see `validate`.)
        for rule in [Rule::Sum, Rule::ScaledSum { factor: 3 }, Rule::Mean] {
            let mut instrument = toy(rule, 4, -2, 3);
            instrument.items[1].reverse = true;
            instrument.max_missing = 2;
            assert_eq!(instrument.validate(), Ok(()));
            let (low, high) = (instrument.min_total(), instrument.max_total());
            let mut scored = 0;
            for n in 0..7_i64.pow(4) {
                let values: Vec<i64> = (0..4).map(|i| n / 7_i64.pow(i) % 7 - 2).collect();
                let given = (1..=4)
                    .zip(&values)
                    .filter(|(_, v)| **v <= 3)
                    .map(|(i, v)| (format!("toy_{i}"), *v))
                    .collect();
                if let Ok(score) = instrument.score(&given) {
                    scored += 1;
                    assert!(
                        (low..=high).contains(&score.total),
                        "{rule:?} {values:?}: {} outside {low}..={high}",
                        score.total
                    );
                }
            }
            // 6^4 complete, 4 × 6^3 with one open, 6 × 6^2 with two open.
            assert_eq!(scored, 1296 + 864 + 216);
        }
    }

    #[test]
    fn prorating_rounds_half_up_also_below_zero() {
        assert_eq!(aggregate(Rule::Sum, &[-1], 3), Some(-3.0));
        // −1 × 3 / 2 = −1.5 → −1 (half up), −3 × 3 / 2 = −4.5 → −4.
        assert_eq!(aggregate(Rule::Sum, &[-1, 0], 3), Some(-1.0));
        assert_eq!(aggregate(Rule::Sum, &[-3, 0], 3), Some(-4.0));
        assert_eq!(aggregate(Rule::Sum, &[], 3), None);
    }

    #[test]
    fn the_mean_rule_averages_the_given_answers_after_reversal() {
        let mut mean = toy(Rule::Mean, 4, 1, 5);
        let score = mean
            .score(&answers("toy", &[1, 2, 4, 5]))
            .expect("complete");
        assert_eq!((score.raw, score.total), (12, 3.0));
        mean.items[3].reverse = true;
        // 5 reversed is 1: (1 + 2 + 4 + 1) / 4 = 2.
        let score = mean
            .score(&answers("toy", &[1, 2, 4, 5]))
            .expect("complete");
        assert_eq!(score.total, 2.0);
        mean.max_missing = 1;
        // Not rounded: 7 / 3.
        let score = mean
            .score(&answers("toy", &[1, 2, 4]))
            .expect("one missing");
        assert!((score.total - 7.0 / 3.0).abs() < 1e-12);
        assert!(score.prorated);
        assert_eq!((mean.min_total(), mean.max_total()), (1.0, 5.0));
    }

    #[test]
    fn subscales_are_scored_by_the_same_rule_over_their_own_items() {
        let mut two = toy(Rule::Sum, 4, 0, 3);
        two.max_missing = 2;
        two.subscales = vec![
            Subscale {
                code: "a".to_string(),
                title: Text::new("A", ""),
                items: vec!["toy_1".to_string(), "toy_2".to_string()],
            },
            Subscale {
                code: "b".to_string(),
                title: Text::new("B", ""),
                items: vec!["toy_3".to_string(), "toy_4".to_string()],
            },
        ];
        let score = two.score(&answers("toy", &[1, 2, 3, 0])).expect("complete");
        assert_eq!(
            score.subscales,
            [("a".to_string(), 3.0), ("b".to_string(), 3.0)]
        );
        // toy_4 missing: b = 3 × 2 / 1 = 6; total (1 + 2 + 3) × 4 / 3 = 8.
        let score = two.score(&answers("toy", &[1, 2, 3])).expect("prorated");
        assert_eq!(score.total, 8.0);
        assert_eq!(
            score.subscales,
            [("a".to_string(), 3.0), ("b".to_string(), 6.0)]
        );
        // Nothing of b answered: b is left out.
        let score = two.score(&answers("toy", &[1, 2])).expect("prorated");
        assert_eq!(score.subscales, [("a".to_string(), 3.0)]);
    }

    #[test]
    fn phq9_item_nine_sets_off_the_safety_rule_from_several_days_up() {
        let phq9 = phq9();
        let mut given = answers("phq9", &[3, 3, 3, 3, 3, 3, 3, 3, 0]);
        assert!(phq9.safety_hits(&given).is_empty());
        given.insert("phq9_9".to_string(), 1);
        let hits = phq9.safety_hits(&given);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].item, "phq9_9");
        assert!(hits[0].message.nl.contains("0800-0113"));
        assert!(hits[0].message.en.contains("112"));

        let only_nine = [("phq9_9".to_string(), 2)].into_iter().collect();
        assert_eq!(phq9.safety_hits(&only_nine).len(), 1);
        assert!(phq9.safety_hits(&BTreeMap::new()).is_empty());
        let other_items = answers("phq9", &[3; 8]);
        assert!(phq9.safety_hits(&other_items).is_empty());
        assert!(gad7().safety_hits(&answers("gad7", &[3; 7])).is_empty());
    }
}
