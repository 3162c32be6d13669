//! Renders real PDFs and reads their text back with `pdf-extract` (pure Rust, offline).

use std::time::Instant;

use duurloop_documents::{
    Chart, DocumentError, Letter, ScoreLine, Section, TableDoc, letter_pdf, table_pdf,
};

const CHART_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 120">
  <polyline points="10,100 60,80 110,85 160,50 210,40 260,20" fill="none" stroke="#1f6f8b" stroke-width="3"/>
  <text x="10" y="115" font-family="sans-serif" font-size="10">week 12</text>
</svg>"##;

const BODY_SENTENCE: &str =
    "Hij liep in de laatste weken drie keer per week dertig minuten aaneen.";

fn letter() -> Letter {
    Letter {
        sender_org: "Huisartsenpraktijk Medi-Stad".into(),
        sender_name: "M. de Vries, runningtherapeut".into(),
        recipient_name: "Dr. A. Bakker, huisarts".into(),
        date: "23 november 2026".into(),
        subject: "Terugrapportage runningtherapie: J. Jansen".into(),
        participant: "J. Jansen (1971)".into(),
        intro: "Geachte collega,\n\nHierbij informeer ik u over het verloop van de \
                runningtherapie die u voor uw patiënt hebt aangevraagd."
            .into(),
        sections: vec![
            Section {
                title: "Aanwezigheid".into(),
                body: "De deelnemer was bij 22 van de 24 trainingen aanwezig.".into(),
            },
            Section {
                title: "Hardloopgewoonte".into(),
                body: BODY_SENTENCE.into(),
            },
            Section {
                title: "Advies".into(),
                body: "Wij adviseren om samen met een loopgroep verder te trainen.".into(),
            },
        ],
        score_table: vec![
            ScoreLine {
                instrument: "PHQ-9".into(),
                before: "17".into(),
                after: "8".into(),
                band_before: "matig ernstig".into(),
                band_after: "licht".into(),
                change: "betrouwbaar verbeterd".into(),
            },
            ScoreLine {
                instrument: "GAD-7".into(),
                before: "12".into(),
                after: "6".into(),
                band_before: "matig".into(),
                band_after: "licht".into(),
                change: "betrouwbaar verbeterd".into(),
            },
        ],
        charts: vec![Chart {
            caption: "PHQ-9 per meetmoment".into(),
            svg: CHART_SVG.into(),
        }],
        closing: "Met vriendelijke groet,".into(),
    }
}

/// Writes the PDF to `$DUURLOOP_DOCUMENTS_OUT/{name}.pdf` when that variable is set, to look at.
fn keep(name: &str, pdf: &[u8]) {
    if let Some(dir) = std::env::var_os("DUURLOOP_DOCUMENTS_OUT") {
        let path = std::path::Path::new(&dir).join(format!("{name}.pdf"));
        std::fs::write(&path, pdf).expect("writes the PDF");
    }
}

/// The PDF's text per page, with all runs of white space turned into one space.
fn pages(pdf: &[u8]) -> Vec<String> {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    pdf_extract::extract_text_from_mem_by_pages(pdf)
        .expect("pdf-extract reads the PDF")
        .iter()
        .map(|page| page.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn a_letter_renders_to_a_pdf_with_the_scores_and_the_body_text() {
    let started = Instant::now();
    let pdf = letter_pdf(&letter()).expect("letter renders");
    eprintln!(
        "letter rendered in {:?}, {} bytes",
        started.elapsed(),
        pdf.len()
    );
    keep("letter", &pdf);

    let pages = pages(&pdf);
    assert!(!pages.is_empty());
    let text = pages.join(" ");
    for expected in [
        "Huisartsenpraktijk Medi-Stad",
        "Terugrapportage runningtherapie: J. Jansen",
        "23 november 2026",
        BODY_SENTENCE,
        "PHQ-9 17 8 matig ernstig licht betrouwbaar verbeterd",
        "GAD-7 12 6 matig licht",
        "PHQ-9 per meetmoment",
        "Met vriendelijke groet,",
        "pagina 1 van",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn user_text_with_typst_syntax_is_printed_literally() {
    let name = r#"J. #Jansen* $x^2$ _y_ <script>alert(1)</script> @ref [a] \n {b} // c"#;
    let mut letter = letter();
    letter.participant = name.into();
    letter.sections[0].title = "#pagebreak() = Kop".into();

    let pdf = letter_pdf(&letter).expect("letter renders");
    keep("injection", &pdf);
    let text = pages(&pdf).join(" ");

    assert!(
        text.contains(name),
        "name not printed literally in:\n{text}"
    );
    assert!(
        text.contains("#pagebreak() = Kop"),
        "title not printed literally in:\n{text}"
    );
}

#[test]
fn a_long_letter_numbers_its_pages_in_the_footer() {
    let mut letter = letter();
    let long = (0..12).map(|_| BODY_SENTENCE).collect::<Vec<_>>().join(" ");
    letter.sections = (1..=8)
        .map(|i| Section {
            title: format!("Onderdeel {i}"),
            body: long.clone(),
        })
        .collect();

    let pdf = letter_pdf(&letter).expect("letter renders");
    keep("long-letter", &pdf);
    let pages = pages(&pdf);

    assert!(
        pages.len() >= 2,
        "expected several pages, got {}",
        pages.len()
    );
    let total = pages.len();
    for (i, page) in pages.iter().enumerate() {
        let footer = format!("pagina {} van {total}", i + 1);
        assert!(
            page.contains(&footer),
            "page {} lacks {footer:?}: {page}",
            i + 1
        );
    }
}

#[test]
fn the_same_svg_chart_can_be_embedded_several_times_and_rendered_again() {
    let mut letter = letter();
    letter.charts = vec![
        Chart {
            caption: "Eerste".into(),
            svg: CHART_SVG.into(),
        },
        Chart {
            caption: "Tweede".into(),
            svg: CHART_SVG.into(),
        },
    ];

    let first = letter_pdf(&letter).expect("letter with two charts renders");
    let second = letter_pdf(&letter).expect("renders again after cache eviction");

    assert_eq!(first, second, "rendering is deterministic");
    let text = pages(&first).join(" ");
    assert!(
        text.contains("Figuur 1: Eerste") && text.contains("Figuur 2: Tweede"),
        "{text}"
    );
}

#[test]
fn an_unreadable_svg_is_an_error_not_a_panic() {
    let mut letter = letter();
    letter.charts = vec![Chart {
        caption: "Kapot".into(),
        svg: "<svg".into(),
    }];

    let err = letter_pdf(&letter).expect_err("broken SVG is refused");

    assert!(matches!(err, DocumentError::Compile(_)), "{err}");
}

#[test]
fn an_empty_letter_still_renders() {
    let pdf = letter_pdf(&Letter::default()).expect("empty letter renders");
    assert_eq!(pages(&pdf).len(), 1);
}

fn invoice() -> TableDoc {
    TableDoc {
        title: "Factuur 2026-0042".into(),
        header_lines: vec![
            "Gemeente Medi-Stad".into(),
            "Factuurdatum: 1 december 2026".into(),
        ],
        columns: vec!["Omschrijving".into(), "Aantal".into(), "Bedrag".into()],
        rows: vec![
            vec![
                "Runningtherapie groep, blok 12 weken".into(),
                "3".into(),
                "€ 1.140,00".into(),
            ],
            vec!["Intake $ & #korting_".into(), "1".into(), "€ 0,00".into()],
        ],
        footer_lines: vec![
            "Totaal: € 1.140,00".into(),
            "Betaling binnen 30 dagen.".into(),
        ],
    }
}

#[test]
fn a_table_document_renders_title_rows_and_totals() {
    let pdf = table_pdf(&invoice()).expect("table renders");
    keep("table", &pdf);
    let pages = pages(&pdf);

    assert_eq!(pages.len(), 1);
    let text = &pages[0];
    for expected in [
        "Factuur 2026-0042",
        "Factuurdatum: 1 december 2026",
        "Omschrijving Aantal Bedrag",
        "Runningtherapie groep, blok 12 weken 3 € 1.140,00",
        "Intake $ & #korting_ 1 € 0,00",
        "Totaal: € 1.140,00",
        "pagina 1 van 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn a_table_row_with_the_wrong_number_of_cells_is_refused() {
    let mut doc = invoice();
    doc.rows.push(vec!["alleen omschrijving".into()]);

    let err = table_pdf(&doc).expect_err("short row is refused");

    assert!(matches!(err, DocumentError::Input(_)), "{err}");
}
