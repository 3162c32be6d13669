//! The pre-participation health screen at intake, in the style of the PAR-Q+ general questions
//! (SPEC §2 step 4, C4): any "yes" blocks the start until a medical clearance is recorded.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// The seven general health questions of the PAR-Q+.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreenQuestion {
    /// Has a doctor ever said you have a heart condition or high blood pressure?
    HeartConditionOrHighBloodPressure,
    /// Do you feel pain in your chest at rest, during daily activities or during exercise?
    ChestPain,
    /// Do you lose balance because of dizziness, or have you lost consciousness, in the last
    /// 12 months?
    DizzinessOrFainting,
    /// Have you been diagnosed with another chronic medical condition (other than heart
    /// disease or high blood pressure)?
    OtherChronicCondition,
    /// Are you currently taking prescribed medication for a chronic medical condition?
    MedicationForChronicCondition,
    /// Do you have a bone, joint or soft-tissue problem that could be made worse by becoming
    /// more physically active?
    BoneJointProblem,
    /// Has a doctor ever said that you should only do medically supervised physical activity?
    MedicallySupervisedOnly,
}

impl ScreenQuestion {
    pub const ALL: [ScreenQuestion; 7] = [
        ScreenQuestion::HeartConditionOrHighBloodPressure,
        ScreenQuestion::ChestPain,
        ScreenQuestion::DizzinessOrFainting,
        ScreenQuestion::OtherChronicCondition,
        ScreenQuestion::MedicationForChronicCondition,
        ScreenQuestion::BoneJointProblem,
        ScreenQuestion::MedicallySupervisedOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScreenQuestion::HeartConditionOrHighBloodPressure => {
                "heart_condition_or_high_blood_pressure"
            }
            ScreenQuestion::ChestPain => "chest_pain",
            ScreenQuestion::DizzinessOrFainting => "dizziness_or_fainting",
            ScreenQuestion::OtherChronicCondition => "other_chronic_condition",
            ScreenQuestion::MedicationForChronicCondition => "medication_for_chronic_condition",
            ScreenQuestion::BoneJointProblem => "bone_joint_problem",
            ScreenQuestion::MedicallySupervisedOnly => "medically_supervised_only",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|q| q.as_str() == s)
            .ok_or(Invalid::new("invalid-screen-question"))
    }
}

/// A complete screen: every question answered, in the order of [`ScreenQuestion::ALL`].
/// `Debug` shows only whether anything was flagged: the answers are health data.
#[derive(Clone, PartialEq, Eq)]
pub struct ScreenAnswers(Vec<(ScreenQuestion, bool)>);

impl ScreenAnswers {
    /// Reads the answers from form or API fields named after the questions, each `yes` or
    /// `no`. Fields that are not questions (a CSRF token, say) are ignored; a question sent
    /// twice must get the same answer both times.
    pub fn parse(pairs: &[(&str, &str)]) -> Result<ScreenAnswers, Invalid> {
        let mut answers = Vec::with_capacity(ScreenQuestion::ALL.len());
        for question in ScreenQuestion::ALL {
            let mut given = pairs
                .iter()
                .filter(|(name, _)| *name == question.as_str())
                .map(|(_, value)| match value.trim() {
                    "yes" => Ok(true),
                    "no" => Ok(false),
                    _ => Err(Invalid::new("screen-invalid-answer")),
                });
            let first = given.next().ok_or(Invalid::new("screen-incomplete"))??;
            for other in given {
                if other? != first {
                    return Err(Invalid::new("screen-invalid-answer"));
                }
            }
            answers.push((question, first));
        }
        Ok(ScreenAnswers(answers))
    }

    /// Rebuilds a screen from typed answers (as stored); every question must be there once.
    pub fn from_answers(answers: &[(ScreenQuestion, bool)]) -> Result<ScreenAnswers, Invalid> {
        if answers.len() != ScreenQuestion::ALL.len() {
            return Err(Invalid::new("screen-incomplete"));
        }
        let pairs: Vec<(&str, &str)> = answers
            .iter()
            .map(|(q, yes)| (q.as_str(), if *yes { "yes" } else { "no" }))
            .collect();
        Self::parse(&pairs)
    }

    /// Every question with its answer (`true` is yes), in the order of [`ScreenQuestion::ALL`].
    pub fn answers(&self) -> &[(ScreenQuestion, bool)] {
        &self.0
    }

    /// The questions answered "yes".
    pub fn flagged(&self) -> Vec<ScreenQuestion> {
        self.0
            .iter()
            .filter(|(_, yes)| *yes)
            .map(|(q, _)| *q)
            .collect()
    }

    /// Whether any question was answered "yes".
    pub fn is_flagged(&self) -> bool {
        self.0.iter().any(|(_, yes)| *yes)
    }
}

impl fmt::Debug for ScreenAnswers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ScreenAnswers(<redacted>, flagged: {})",
            self.is_flagged()
        )
    }
}

/// A medical clearance to start despite a flagged screen, by a GP or sports physician.
/// `Debug` shows only the date: the name and the note are personal and health data.
#[derive(Clone, PartialEq, Eq)]
pub struct Clearance {
    /// Who gave it (name and profession).
    pub by: String,
    /// When, as `yyyy-mm-dd`.
    pub date: String,
    /// Conditions or remarks; may be empty.
    pub note: String,
}

impl Clearance {
    pub fn parse(by: &str, date: &str, note: &str) -> Result<Clearance, Invalid> {
        let by = by.trim();
        if by.is_empty() || by.chars().count() > 200 || by.chars().any(char::is_control) {
            return Err(Invalid::new("clearance-by-missing"));
        }
        let date = date.trim();
        if !is_calendar_date(date) {
            return Err(Invalid::new("invalid-date"));
        }
        let note = note.trim();
        let stray_control = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
        if note.chars().count() > 2000 || note.chars().any(stray_control) {
            return Err(Invalid::new("clearance-note-invalid"));
        }
        Ok(Clearance {
            by: by.to_string(),
            date: date.to_string(),
            note: note.to_string(),
        })
    }
}

impl fmt::Debug for Clearance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clearance")
            .field("by", &"<redacted>")
            .field("date", &self.date)
            .field("note", &"<redacted>")
            .finish()
    }
}

/// Whether `s` is a real calendar date written `yyyy-mm-dd` (years 1900 to 9999).
fn is_calendar_date(s: &str) -> bool {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return false;
    }
    let number = |range: std::ops::Range<usize>| s[range].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1900 && (1..=days_in_month).contains(&day)
}

/// Whether the participant may start training: nothing flagged, or a clearance recorded.
pub fn may_start(answers: &ScreenAnswers, clearance: Option<&Clearance>) -> bool {
    !answers.is_flagged() || clearance.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    use ScreenQuestion as Q;

    /// Every question answered "no", except those named.
    fn form(yes: &[Q]) -> Vec<(&'static str, &'static str)> {
        Q::ALL
            .iter()
            .map(|q| (q.as_str(), if yes.contains(q) { "yes" } else { "no" }))
            .collect()
    }

    fn clearance() -> Clearance {
        Clearance::parse("Dr. J. Bakker, sportarts", "2024-06-03", "").expect("valid")
    }

    #[test]
    fn questions_round_trip_through_their_names() {
        for q in Q::ALL {
            assert_eq!(Q::parse(q.as_str()), Ok(q));
        }
        assert_eq!(
            Q::parse("smoking"),
            Err(Invalid::new("invalid-screen-question"))
        );
        let names: Vec<_> = Q::ALL.iter().map(|q| q.as_str()).collect();
        assert_eq!(
            names,
            [
                "heart_condition_or_high_blood_pressure",
                "chest_pain",
                "dizziness_or_fainting",
                "other_chronic_condition",
                "medication_for_chronic_condition",
                "bone_joint_problem",
                "medically_supervised_only",
            ]
        );
    }

    #[test]
    fn all_no_is_a_clean_screen_and_may_start_without_clearance() {
        let a = ScreenAnswers::parse(&form(&[])).expect("complete");
        assert!(!a.is_flagged());
        assert!(a.flagged().is_empty());
        assert_eq!(a.answers().len(), 7);
        assert!(may_start(&a, None));
        assert!(may_start(&a, Some(&clearance())));
    }

    #[test]
    fn each_yes_is_flagged_and_blocks_the_start_until_cleared() {
        for q in Q::ALL {
            let a = ScreenAnswers::parse(&form(&[q])).expect("complete");
            assert!(a.is_flagged(), "{q:?}");
            assert_eq!(a.flagged(), [q]);
            assert!(!may_start(&a, None), "{q:?}");
            assert!(may_start(&a, Some(&clearance())), "{q:?}");
        }
    }

    #[test]
    fn flags_are_listed_in_question_order_whatever_the_field_order() {
        let mut fields = form(&[Q::MedicallySupervisedOnly, Q::ChestPain]);
        fields.reverse();
        let a = ScreenAnswers::parse(&fields).expect("complete");
        assert_eq!(a.flagged(), [Q::ChestPain, Q::MedicallySupervisedOnly]);
        assert_eq!(a.answers()[0].0, Q::HeartConditionOrHighBloodPressure);
    }

    #[test]
    fn a_missing_answer_makes_the_screen_incomplete() {
        for q in Q::ALL {
            let fields: Vec<_> = form(&[])
                .into_iter()
                .filter(|(name, _)| *name != q.as_str())
                .collect();
            assert_eq!(
                ScreenAnswers::parse(&fields),
                Err(Invalid::new("screen-incomplete")),
                "{q:?}"
            );
        }
        assert_eq!(
            ScreenAnswers::parse(&[]),
            Err(Invalid::new("screen-incomplete"))
        );
    }

    #[test]
    fn only_yes_or_no_is_an_answer() {
        for bad in ["", "ja", "nee", "Yes", "NO", "true", "1", "maybe"] {
            let mut fields = form(&[]);
            fields[3].1 = bad;
            assert_eq!(
                ScreenAnswers::parse(&fields),
                Err(Invalid::new("screen-invalid-answer")),
                "{bad:?}"
            );
        }
        let mut fields = form(&[]);
        fields[0].1 = " yes ";
        assert!(ScreenAnswers::parse(&fields).expect("trimmed").is_flagged());
    }

    #[test]
    fn other_fields_are_ignored_but_contradicting_answers_are_not() {
        let mut fields = form(&[]);
        fields.push(("csrf", "token"));
        fields.push(("chest_pain", "no"));
        assert!(ScreenAnswers::parse(&fields).is_ok());
        fields.push(("chest_pain", "yes"));
        assert_eq!(
            ScreenAnswers::parse(&fields),
            Err(Invalid::new("screen-invalid-answer"))
        );
    }

    #[test]
    fn stored_answers_rebuild_the_same_screen() {
        let a = ScreenAnswers::parse(&form(&[Q::BoneJointProblem])).expect("complete");
        assert_eq!(ScreenAnswers::from_answers(a.answers()), Ok(a.clone()));
        assert_eq!(
            ScreenAnswers::from_answers(&a.answers()[1..]),
            Err(Invalid::new("screen-incomplete"))
        );
        let mut doubled = a.answers().to_vec();
        doubled[6] = (Q::ChestPain, false);
        assert_eq!(
            ScreenAnswers::from_answers(&doubled),
            Err(Invalid::new("screen-incomplete"))
        );
    }

    #[test]
    fn debug_does_not_show_the_answers() {
        let a = ScreenAnswers::parse(&form(&[Q::ChestPain])).expect("complete");
        let shown = format!("{a:?}");
        assert!(!shown.contains("ChestPain"), "{shown}");
        assert!(shown.contains("flagged: true"));
    }

    #[test]
    fn a_clearance_needs_who_gave_it_and_a_real_date() {
        let c = Clearance::parse(
            "  Huisarts De Vries ",
            " 2024-02-29 ",
            "  Rustig opbouwen. ",
        )
        .expect("valid");
        assert_eq!(c.by, "Huisarts De Vries");
        assert_eq!(c.date, "2024-02-29");
        assert_eq!(c.note, "Rustig opbouwen.");
        for by in ["", "   ", "Dr.\u{0}Bakker"] {
            assert_eq!(
                Clearance::parse(by, "2024-06-03", ""),
                Err(Invalid::new("clearance-by-missing"))
            );
        }
        assert!(Clearance::parse(&"a".repeat(200), "2024-06-03", "").is_ok());
        assert_eq!(
            Clearance::parse(&"a".repeat(201), "2024-06-03", ""),
            Err(Invalid::new("clearance-by-missing"))
        );
    }

    #[test]
    fn the_clearance_date_must_be_a_real_calendar_date() {
        for ok in [
            "2024-02-29",
            "2000-02-29",
            "2023-12-31",
            "2024-01-01",
            "1900-03-01",
        ] {
            assert!(is_calendar_date(ok), "{ok}");
        }
        for bad in [
            "",
            "2023-02-29",
            "1900-02-29",
            "2024-04-31",
            "2024-13-01",
            "2024-00-10",
            "2024-06-00",
            "2024-6-3",
            "03-06-2024",
            "2024/06/03",
            "20240603",
            "2024-06-03T10:00",
            "1899-12-31",
            "+024-06-03",
            "2024-0６-03",
        ] {
            assert_eq!(
                Clearance::parse("Dr. Bakker", bad, ""),
                Err(Invalid::new("invalid-date")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_clearance_note_is_optional_and_at_most_2000_characters() {
        let lines = "Geen intervallen boven de praattest.\nEerst wandelen.";
        assert_eq!(
            Clearance::parse("Dr. Bakker", "2024-06-03", lines).map(|c| c.note),
            Ok(lines.to_string())
        );
        assert!(Clearance::parse("Dr. Bakker", "2024-06-03", &"é".repeat(2000)).is_ok());
        assert_eq!(
            Clearance::parse("Dr. Bakker", "2024-06-03", &"é".repeat(2001)),
            Err(Invalid::new("clearance-note-invalid"))
        );
    }

    #[test]
    fn debug_of_a_clearance_hides_the_name_and_the_note() {
        let c = Clearance::parse("Dr. Bakker", "2024-06-03", "hartritme").expect("valid");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("Bakker") && !shown.contains("hartritme"),
            "{shown}"
        );
        assert!(shown.contains("2024-06-03"));
    }
}
