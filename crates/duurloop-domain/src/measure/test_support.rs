//! Fixtures shared by the tests of the `measure` modules.

use std::collections::BTreeMap;

use super::*;

pub fn phq9() -> Instrument {
    builtin_by_code("phq9").expect("built in")
}

pub fn gad7() -> Instrument {
    builtin_by_code("gad7").expect("built in")
}

pub fn who5() -> Instrument {
    builtin_by_code("who5").expect("built in")
}

pub fn zg5() -> Instrument {
    builtin_by_code("zg5").expect("built in")
}

/// Answers to items `{prefix}_1`, `{prefix}_2`, … in order.
pub fn answers(prefix: &str, values: &[i64]) -> BTreeMap<String, i64> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("{prefix}_{}", i + 1), *v))
        .collect()
}

/// A small valid instrument `toy` with `n` items `toy_1`… on the scale `low..=high`, lower
/// is better, no bands.
pub fn toy(rule: Rule, n: usize, low: i64, high: i64) -> Instrument {
    let options = (low..=high)
        .map(|value| AnswerOption {
            value,
            text: Text::new(&format!("{value}"), ""),
        })
        .collect::<Vec<_>>();
    Instrument {
        code: "toy".to_string(),
        version: "1".to_string(),
        title: Text::new("Proef", "Toy"),
        intro: Text::default(),
        licence: "test".to_string(),
        source: "test".to_string(),
        loinc_total: None,
        items: (1..=n)
            .map(|i| Item {
                code: format!("toy_{i}"),
                text: Text::new(&format!("Vraag {i}"), ""),
                options: options.clone(),
                reverse: false,
            })
            .collect(),
        rule,
        max_missing: 0,
        higher_is_better: false,
        subscales: Vec::new(),
        bands: Vec::new(),
        reliable_change: None,
        safety: Vec::new(),
    }
}

pub fn band(code: &str, min: f64, max: f64, clinical: bool) -> Band {
    Band {
        code: code.to_string(),
        min,
        max,
        label: Text::new(code, ""),
        clinical,
    }
}
