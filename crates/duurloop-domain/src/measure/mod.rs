//! Questionnaires as data: instruments with items, options, reverse scoring, subscales,
//! severity bands, translations, reliable change and safety rules; their scoring; the
//! measurement schedule of a trajectory; and questionnaires a coordinator builds without code
//! (SPEC §2 step 6, C7).
//!
//! The built-in instruments ([`builtin`]) are PHQ-9, GAD-7 and WHO-5 in Dutch and English,
//! kept as JSON under `crates/duurloop-domain/instruments/` (see the README there for licences
//! and sources).
//!
//! Scoring rules:
//! - A reverse-scored item counts as `max option + min option − answer` (on a 1–5 scale a 5
//!   counts as 1). Safety rules look at the answer as given, not reversed.
//! - An answer whose value is not among the item's options counts as missing, so a stored
//!   answer can never push a total outside the scale.
//! - More than [`Instrument::max_missing`] missing answers and there is no score
//!   ([`Incomplete`]). The built-ins allow none, so an incomplete PHQ-9 is never scored.
//! - With fewer missing than that, a sum is prorated: `raw × items / answered`, rounded to a
//!   whole number with halves up, and only then scaled ([`Rule::ScaledSum`]), so a scaled
//!   total stays a multiple of the factor. A mean ([`Rule::Mean`]) is the mean of the given
//!   answers and is not rounded. A sum may only leave answers open when all its items share
//!   one scale (the same lowest and highest option; [`Instrument::validate`]), so a prorated
//!   total, like any other, lies between [`Instrument::min_total`] and
//!   [`Instrument::max_total`].
//!
//! Translation keys of the [`Invalid`](crate::Invalid) errors in this module, for
//! `locales/*/main.ftl`:
//! - [`Instrument::validate`]: `questionnaire-invalid-code`, `questionnaire-invalid-version`,
//!   `questionnaire-missing-title`, `questionnaire-missing-text`, `questionnaire-text-too-long`,
//!   `questionnaire-no-items`, `questionnaire-too-many-items`,
//!   `questionnaire-invalid-item-code`, `questionnaire-duplicate-item`,
//!   `questionnaire-missing-item-text`, `questionnaire-too-few-options`,
//!   `questionnaire-duplicate-option`, `questionnaire-option-out-of-range`,
//!   `questionnaire-missing-option-text`, `questionnaire-invalid-factor`,
//!   `questionnaire-too-many-missing`, `questionnaire-invalid-band`,
//!   `questionnaire-duplicate-band`, `questionnaire-bands-overlap`,
//!   `questionnaire-invalid-subscale`, `questionnaire-duplicate-subscale`,
//!   `questionnaire-unknown-subscale-item`, `questionnaire-invalid-reliable-change`,
//!   `questionnaire-unknown-safety-item`, `questionnaire-invalid-safety-rule`;
//! - [`Instrument::check_answer`]: `questionnaire-unknown-item`, `questionnaire-invalid-answer`;
//! - [`custom`]: everything `validate` says, and `questionnaire-code-taken`,
//!   `questionnaire-invalid-cutoff`;
//! - [`parse_schedule`]: `schedule-unknown-point`, `schedule-duplicate-point`,
//!   `schedule-missing-baseline`.

mod builtin;
mod change;
mod custom;
mod fhir;
mod schedule;
mod score;
#[cfg(test)]
mod test_support;
mod validate;

use serde::{Deserialize, Serialize};

pub use builtin::{builtin, builtin_by_code, builtin_ref};
pub use change::{Change, Outcome, RELIABLE_Z, change};
pub use custom::custom;
pub use fhir::FHIR_BASE;
pub use schedule::{Point, default_schedule, format_schedule, parse_schedule};
pub use validate::{MAX_ITEMS, MAX_OPTION_VALUE, MAX_TEXT_CHARS};

/// A text in Dutch and, optionally, English.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub nl: String,
    /// Empty when there is no English text: [`Text::get`] then falls back to Dutch.
    #[serde(default)]
    pub en: String,
}

impl Text {
    pub fn new(nl: &str, en: &str) -> Text {
        Text {
            nl: nl.to_string(),
            en: en.to_string(),
        }
    }

    /// The text in `lang` (`"en"`, or anything starting with `"en-"`), else Dutch.
    pub fn get(&self, lang: &str) -> &str {
        let english = lang == "en" || lang.starts_with("en-");
        if english && !self.en.is_empty() {
            &self.en
        } else {
            &self.nl
        }
    }
}

/// One possible answer: the value that is stored and scored, and what the participant sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    pub value: i64,
    pub text: Text,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Unique within the instrument, `[a-z0-9_]`, e.g. `phq9_1`; the FHIR `linkId`.
    pub code: String,
    pub text: Text,
    /// In the order they are shown.
    pub options: Vec<AnswerOption>,
    /// Scored as `max option + min option − answer`.
    #[serde(default)]
    pub reverse: bool,
}

impl Item {
    /// The lowest and highest option value (`(0, 0)` for an item without options).
    pub fn range(&self) -> (i64, i64) {
        let values = self.options.iter().map(|o| o.value);
        (values.clone().min().unwrap_or(0), values.max().unwrap_or(0))
    }

    /// What an answer counts for, after reversal; `None` when it is not one of the options.
    pub fn scored(&self, value: i64) -> Option<i64> {
        if !self.options.iter().any(|o| o.value == value) {
            return None;
        }
        let (min, max) = self.range();
        Some(if self.reverse {
            max.saturating_add(min).saturating_sub(value)
        } else {
            value
        })
    }
}

/// A part of the instrument scored on its own, by the instrument's rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscale {
    pub code: String,
    pub title: Text,
    /// Item codes.
    pub items: Vec<String>,
}

/// How the item scores make the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// The sum of the item scores.
    Sum,
    /// The sum times a factor, e.g. WHO-5: raw 0–25 × 4 gives 0–100.
    ScaledSum { factor: i64 },
    /// The mean of the item scores.
    Mean,
}

/// A severity band, e.g. PHQ-9 10–14 "moderate". Both ends are included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub code: String,
    pub min: f64,
    pub max: f64,
    pub label: Text,
    /// On the dysfunctional side of the instrument's clinical cutoff.
    pub clinical: bool,
}

/// The parameters of the reliable change index and the clinical cutoff (Jacobson & Truax
/// 1991), see [`change`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReliableChange {
    /// Standard deviation of the total in a reference sample, on the total's scale.
    pub sd: f64,
    /// Reliability of the total (e.g. Cronbach's α), strictly between 0 and 1.
    pub reliability: f64,
    /// The clinical cutoff on the total's scale; which side is clinical depends on
    /// [`Instrument::higher_is_better`], see [`Instrument::is_clinical`].
    pub cutoff: f64,
    /// Where the numbers come from.
    pub source: String,
}

/// An answer that must reach the therapist at once, e.g. PHQ-9 item 9.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetyRule {
    pub item: String,
    /// Alert when the answer as given (not reversed) is at least this.
    pub min_value: i64,
    /// Shown to the participant: where to get help now.
    pub message: Text,
}

/// A questionnaire as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// `[a-z0-9_]{1,40}`, e.g. `phq9`.
    pub code: String,
    /// The version of this definition; stored with every response.
    pub version: String,
    pub title: Text,
    /// The instructions above the items; may be empty.
    #[serde(default)]
    pub intro: Text,
    pub licence: String,
    pub source: String,
    /// The LOINC code of the total score, for FHIR export.
    #[serde(default)]
    pub loinc_total: Option<String>,
    pub items: Vec<Item>,
    pub rule: Rule,
    /// How many items may be left open and still be scored (prorated).
    #[serde(default)]
    pub max_missing: u8,
    pub higher_is_better: bool,
    #[serde(default)]
    pub subscales: Vec<Subscale>,
    #[serde(default)]
    pub bands: Vec<Band>,
    #[serde(default)]
    pub reliable_change: Option<ReliableChange>,
    #[serde(default)]
    pub safety: Vec<SafetyRule>,
}

/// A scored response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The plain sum of the given answers after reversal: not prorated, not scaled.
    pub raw: i64,
    /// The score that counts: prorated and scaled, or the mean (see the module rules).
    pub total: f64,
    pub answered: usize,
    /// Whether answers were missing and the total was made up for them.
    pub prorated: bool,
    /// Subscale code and score, by the same rule over the subscale's items; a subscale with
    /// none of its items answered is left out.
    pub subscales: Vec<(String, f64)>,
    /// The code of the band the total falls in.
    pub band: Option<String>,
}

/// Too many answers are missing to score; `missing` lists the item codes in item order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("questionnaire incomplete: {} item(s) missing", missing.len())]
pub struct Incomplete {
    pub missing: Vec<String>,
}

impl Instrument {
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.code == code)
    }

    /// The band `total` falls in (both ends included), if any.
    pub fn band(&self, total: f64) -> Option<&Band> {
        self.bands.iter().find(|b| b.min <= total && total <= b.max)
    }

    /// Whether a total lies on the clinical side of the cutoff: at or above it when lower is
    /// better (PHQ-9: 10 or more), at or below it when higher is better (WHO-5: 50 or less).
    /// `None` without reliable-change parameters.
    pub fn is_clinical(&self, total: f64) -> Option<bool> {
        let cutoff = self.reliable_change.as_ref()?.cutoff;
        Some(if self.higher_is_better {
            total <= cutoff
        } else {
            total >= cutoff
        })
    }

    /// The lowest total possible; for a mean, the lowest option of any item.
    pub fn min_total(&self) -> f64 {
        self.total_range().0
    }

    /// The highest total possible; for a mean, the highest option of any item.
    pub fn max_total(&self) -> f64 {
        self.total_range().1
    }

    fn total_range(&self) -> (f64, f64) {
        let ranges = self.items.iter().map(Item::range);
        let sum =
            |pick: fn((i64, i64)) -> i64| ranges.clone().map(pick).fold(0i64, i64::saturating_add);
        let (low, high) = match self.rule {
            Rule::Sum => (sum(|r| r.0), sum(|r| r.1)),
            Rule::ScaledSum { factor } => (
                sum(|r| r.0).saturating_mul(factor),
                sum(|r| r.1).saturating_mul(factor),
            ),
            Rule::Mean => (
                ranges.clone().map(|r| r.0).min().unwrap_or(0),
                ranges.map(|r| r.1).max().unwrap_or(0),
            ),
        };
        (low as f64, high as f64)
    }
}
