//! The feedback letter from the therapist to the referrer.

use std::fmt;

use serde::Serialize;
use typst::foundations::Bytes;

use crate::DocumentError;
use crate::world::{VirtualFile, render_pdf};

const TEMPLATE: &str = include_str!("../templates/letter.typ");

/// A feedback letter from the therapist to the referrer (Dutch), with score tables and charts.
///
/// It is typeset in this order: sender, recipient, date, subject, participant, `intro`,
/// `sections`, the score table, the charts, `closing`, and the sender's name as signature.
/// In every text a blank line starts a new paragraph and a single line break breaks the line.
#[derive(Clone, Default, Serialize)]
pub struct Letter {
    /// The organisation the therapist works for, e.g. "Huisartsenpraktijk Medi-Stad".
    pub sender_org: String,
    /// The therapist, also printed as the signature.
    pub sender_name: String,
    /// The referrer.
    pub recipient_name: String,
    /// The date as it should be printed, e.g. "23 november 2026".
    pub date: String,
    /// Printed in bold after "Betreft:", e.g. "Terugrapportage runningtherapie: J. Jansen".
    pub subject: String,
    /// Printed after "Deelnemer:", e.g. name and birth year.
    pub participant: String,
    /// The opening paragraph(s), including a salutation if wanted ("Geachte collega,").
    pub intro: String,
    /// Titled paragraphs: attendance, running habit, summary, advice, next steps.
    pub sections: Vec<Section>,
    /// Questionnaire scores before and after; the table is left out when this is empty.
    pub score_table: Vec<ScoreLine>,
    /// Charts shown as numbered figures ("Figuur 1: …").
    pub charts: Vec<Chart>,
    /// The closing paragraph(s), e.g. "Met vriendelijke groet,".
    pub closing: String,
}

/// A titled part of the letter body.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Section {
    pub title: String,
    pub body: String,
}

/// One questionnaire in the score table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScoreLine {
    pub instrument: String,
    pub before: String,
    pub after: String,
    pub band_before: String,
    pub band_after: String,
    pub change: String,
}

/// An SVG chart (its source text) with a caption.
#[derive(Clone, Default, Serialize)]
pub struct Chart {
    pub caption: String,
    /// Handed to typst as the virtual file `/chartN.svg`, not as JSON data.
    #[serde(skip)]
    pub svg: String,
}

/// The participant's name is in several fields: show only the shape of the letter.
impl fmt::Debug for Letter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Letter")
            .field("sections", &self.sections.len())
            .field("score_table", &self.score_table.len())
            .field("charts", &self.charts.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Chart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chart")
            .field("caption", &self.caption)
            .field("svg_bytes", &self.svg.len())
            .finish()
    }
}

/// Renders the letter as an A4 PDF.
pub fn letter_pdf(letter: &Letter) -> Result<Vec<u8>, DocumentError> {
    render_pdf(TEMPLATE, letter, chart_files(letter))
}

fn chart_files(letter: &Letter) -> Vec<VirtualFile> {
    letter
        .charts
        .iter()
        .enumerate()
        .map(|(i, chart)| VirtualFile {
            path: format!("/chart{i}.svg"),
            bytes: Bytes::from_string(chart.svg.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::warnings;

    #[test]
    fn the_letter_template_compiles_without_warnings() {
        let letter = Letter {
            intro: "Geachte collega,\n\nEen alinea.".into(),
            sections: vec![Section { title: "Kop".into(), body: "Tekst.".into() }],
            score_table: vec![ScoreLine { instrument: "PHQ-9".into(), ..ScoreLine::default() }],
            charts: vec![Chart {
                caption: "Grafiek".into(),
                svg: r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 120"><text x="10" y="20" font-family="sans-serif">week 1</text></svg>"#.into(),
            }],
            ..Letter::default()
        };

        let found = warnings(TEMPLATE, &letter, chart_files(&letter)).expect("world builds");

        assert!(found.is_empty(), "{found:?}");
    }
}
