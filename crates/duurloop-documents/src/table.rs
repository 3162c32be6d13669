//! A generic document with a title, header lines, one table and footer lines (invoices).

use std::fmt;

use serde::Serialize;

use crate::DocumentError;
use crate::world::render_pdf;

const TEMPLATE: &str = include_str!("../templates/table.typ");

/// A generic table document on A4: title, header lines, a table, then footer lines (totals).
///
/// The first column takes the remaining width; the other columns are as wide as their
/// content and right-aligned (quantities, amounts). The table header repeats on every page.
#[derive(Clone, Default, Serialize)]
pub struct TableDoc {
    pub title: String,
    /// Lines under the title (addresses, invoice number, date).
    pub header_lines: Vec<String>,
    pub columns: Vec<String>,
    /// Each row has exactly one cell per column.
    pub rows: Vec<Vec<String>>,
    /// Lines under the table (totals, payment terms).
    pub footer_lines: Vec<String>,
}

/// Header and footer lines may hold names and addresses: show only the shape.
impl fmt::Debug for TableDoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableDoc")
            .field("columns", &self.columns)
            .field("rows", &self.rows.len())
            .finish_non_exhaustive()
    }
}

/// Renders the table document as an A4 PDF.
///
/// Fails with [`DocumentError::Input`] when there are no columns or a row does not have one
/// cell per column (typst would silently shift the cells).
pub fn table_pdf(doc: &TableDoc) -> Result<Vec<u8>, DocumentError> {
    if doc.columns.is_empty() {
        return Err(DocumentError::Input(
            "a table needs at least one column".into(),
        ));
    }
    if let Some((i, row)) = doc
        .rows
        .iter()
        .enumerate()
        .find(|(_, row)| row.len() != doc.columns.len())
    {
        return Err(DocumentError::Input(format!(
            "row {i} has {} cells, expected {}",
            row.len(),
            doc.columns.len()
        )));
    }
    render_pdf(TEMPLATE, doc, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::warnings;

    #[test]
    fn the_table_template_compiles_without_warnings() {
        let doc = TableDoc {
            title: "Factuur".into(),
            columns: vec!["Omschrijving".into(), "Bedrag".into()],
            rows: vec![vec!["Blok".into(), "€ 1,00".into()]],
            footer_lines: vec!["Totaal".into()],
            ..TableDoc::default()
        };

        let found = warnings(TEMPLATE, &doc, Vec::new()).expect("world builds");

        assert!(found.is_empty(), "{found:?}");
    }
}
