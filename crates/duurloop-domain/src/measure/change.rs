//! Reliable and clinically significant change after Jacobson & Truax (1991).
//!
//! - Standard error of measurement: `SE = sd × √(1 − r)`; of a difference: `Sdiff = √2 × SE`.
//! - Reliable change index: `RCI = (post − pre) / Sdiff`; the change is reliable when
//!   `|RCI| > 1.96` ([`RELIABLE_Z`]: less than a 5 % chance that measurement error alone made
//!   it).
//! - Which direction is better follows [`Instrument::higher_is_better`]: for PHQ-9 and GAD-7 a
//!   fall is an improvement, for WHO-5 a rise.
//! - The clinical side of the cutoff is [`Instrument::is_clinical`]: at or above it when lower
//!   is better (PHQ-9 10 or more), at or below it when higher is better (WHO-5 50 or less on
//!   0–100).
//! - **Recovered**: a reliable improvement from the clinical side to the other side.
//!   **Improved**: any other reliable improvement. **Deteriorated**: a reliable worsening.
//!   **Unchanged**: everything else.

use super::{Instrument, ReliableChange};

/// The two-sided 95 % z value a reliable change must exceed.
pub const RELIABLE_Z: f64 = 1.96;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Recovered,
    Improved,
    Unchanged,
    Deteriorated,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Recovered,
        Outcome::Improved,
        Outcome::Unchanged,
        Outcome::Deteriorated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Recovered => "recovered",
            Outcome::Improved => "improved",
            Outcome::Unchanged => "unchanged",
            Outcome::Deteriorated => "deteriorated",
        }
    }

    /// Whether this counts as a reliable improvement (recovered or improved).
    pub fn is_reliable_improvement(self) -> bool {
        matches!(self, Outcome::Recovered | Outcome::Improved)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// `post − pre`, on the total's scale.
    pub difference: f64,
    pub rci: f64,
    /// `|rci| > RELIABLE_Z`.
    pub reliable: bool,
    /// From the clinical side of the cutoff at `pre` to the other side at `post`.
    pub crossed_cutoff: bool,
    pub outcome: Outcome,
}

/// `Sdiff = √2 × sd × √(1 − r)`; [`Instrument::validate`] requires it to be a positive, finite
/// number.
pub(super) fn s_diff(params: &ReliableChange) -> f64 {
    let se = params.sd * (1.0 - params.reliability).sqrt();
    std::f64::consts::SQRT_2 * se
}

/// The change from `pre` to `post` (totals as [`Instrument::score`] gives them); `None` when
/// the instrument has no reliable-change parameters.
pub fn change(instrument: &Instrument, pre: f64, post: f64) -> Option<Change> {
    let s_diff = s_diff(instrument.reliable_change.as_ref()?);
    let difference = post - pre;
    let rci = difference / s_diff;
    let reliable = rci.abs() > RELIABLE_Z;
    let better = if instrument.higher_is_better {
        rci > 0.0
    } else {
        rci < 0.0
    };
    let crossed_cutoff =
        instrument.is_clinical(pre) == Some(true) && instrument.is_clinical(post) == Some(false);
    let outcome = match (reliable, better) {
        (true, true) if crossed_cutoff => Outcome::Recovered,
        (true, true) => Outcome::Improved,
        (true, false) => Outcome::Deteriorated,
        (false, _) => Outcome::Unchanged,
    };
    Some(Change {
        difference,
        rci,
        reliable,
        crossed_cutoff,
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    fn outcome(instrument: &Instrument, pre: f64, post: f64) -> Outcome {
        change(instrument, pre, post)
            .expect("has parameters")
            .outcome
    }

    #[test]
    fn phq9_outcomes_follow_jacobson_and_truax() {
        let phq9 = phq9();
        assert_eq!(outcome(&phq9, 18.0, 6.0), Outcome::Recovered);
        // Reliable, but 11 is still at or above the cutoff of 10.
        assert_eq!(outcome(&phq9, 18.0, 11.0), Outcome::Improved);
        assert_eq!(outcome(&phq9, 18.0, 10.0), Outcome::Improved);
        assert_eq!(outcome(&phq9, 18.0, 9.0), Outcome::Recovered);
        // Crossed the cutoff but not reliably.
        assert_eq!(outcome(&phq9, 12.0, 10.0), Outcome::Unchanged);
        assert_eq!(outcome(&phq9, 12.0, 8.0), Outcome::Unchanged);
        assert_eq!(outcome(&phq9, 8.0, 16.0), Outcome::Deteriorated);
        assert_eq!(outcome(&phq9, 8.0, 8.0), Outcome::Unchanged);
        // Started below the cutoff: a reliable fall is an improvement, not a recovery.
        assert_eq!(outcome(&phq9, 9.0, 0.0), Outcome::Improved);
    }

    #[test]
    fn phq9_needs_a_change_of_more_than_about_five_points() {
        let phq9 = phq9();
        // Threshold 1.96 × √2 × 5.7 × √0.11 = 5.24.
        assert_eq!(outcome(&phq9, 15.0, 10.0), Outcome::Unchanged);
        assert_eq!(outcome(&phq9, 15.0, 9.0), Outcome::Recovered);
        assert_eq!(outcome(&phq9, 4.0, 9.0), Outcome::Unchanged);
        assert_eq!(outcome(&phq9, 4.0, 10.0), Outcome::Deteriorated);
    }

    #[test]
    fn the_rci_is_the_difference_over_the_standard_error_of_a_difference() {
        let c = change(&phq9(), 18.0, 6.0).expect("has parameters");
        let s_diff = 2.0_f64.sqrt() * 5.7 * (1.0_f64 - 0.89).sqrt();
        assert!((s_diff - 2.6735).abs() < 1e-3, "{s_diff}");
        assert_eq!(c.difference, -12.0);
        assert!((c.rci - (-12.0 / s_diff)).abs() < 1e-12);
        assert!((c.rci - (-4.4884)).abs() < 1e-3, "{}", c.rci);
        assert!(c.reliable && c.crossed_cutoff);

        // WHO-5: SE = 20 × √0.16 = 8, Sdiff = 8√2 = 11.314; 40 / 11.314 = 3.5355.
        let c = change(&who5(), 32.0, 72.0).expect("has parameters");
        assert!((c.rci - 40.0 / (8.0 * 2.0_f64.sqrt())).abs() < 1e-12);
        assert!((c.rci - 3.5355).abs() < 1e-3);
    }

    #[test]
    fn for_who5_higher_is_better_and_fifty_or_less_is_clinical() {
        let who5 = who5();
        assert_eq!(outcome(&who5, 32.0, 72.0), Outcome::Recovered);
        assert_eq!(outcome(&who5, 72.0, 32.0), Outcome::Deteriorated);
        // Reliable rise (24 > 22.2) but 48 is still poor well-being.
        assert_eq!(outcome(&who5, 24.0, 48.0), Outcome::Improved);
        // Exactly on the cutoff is still clinical.
        assert_eq!(outcome(&who5, 20.0, 50.0), Outcome::Improved);
        assert_eq!(outcome(&who5, 20.0, 52.0), Outcome::Recovered);
        assert_eq!(outcome(&who5, 40.0, 60.0), Outcome::Unchanged);
    }

    #[test]
    fn gad7_needs_a_change_of_about_four_points() {
        let gad7 = gad7();
        // Threshold 1.96 × √2 × 4.9 × √0.08 = 3.84.
        assert_eq!(outcome(&gad7, 12.0, 9.0), Outcome::Unchanged);
        assert_eq!(outcome(&gad7, 12.0, 8.0), Outcome::Recovered);
        assert_eq!(outcome(&gad7, 18.0, 14.0), Outcome::Improved);
        assert_eq!(outcome(&gad7, 3.0, 7.0), Outcome::Deteriorated);
    }

    #[test]
    fn an_instrument_without_parameters_gives_no_change() {
        let plain = toy(super::super::Rule::Sum, 3, 0, 3);
        assert_eq!(change(&plain, 9.0, 0.0), None);
    }

    #[test]
    fn outcomes_have_stable_names() {
        let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(
            names,
            ["recovered", "improved", "unchanged", "deteriorated"]
        );
        assert!(Outcome::Recovered.is_reliable_improvement());
        assert!(Outcome::Improved.is_reliable_improvement());
        assert!(!Outcome::Unchanged.is_reliable_improvement());
        assert!(!Outcome::Deteriorated.is_reliable_improvement());
    }
}
