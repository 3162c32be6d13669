//! PDF documents for Duurloop, typeset with typst used as a library.
//!
//! Pure: no file system, network, clock or async. Every call compiles an embedded template
//! (`templates/*.typ`) against the caller's data and returns the PDF bytes.
//!
//! User text never becomes typst markup: the data is handed to the template as a virtual JSON
//! file (`/data.json`) and SVG charts as virtual files (`/chart0.svg`, …), so a name such as
//! `#exit *bold* $x$` is printed literally.
//!
//! Rendering is CPU-bound (tens to hundreds of milliseconds): call it from a blocking thread
//! (`tokio::task::spawn_blocking`), not on the async executor.

mod letter;
mod table;
mod world;

pub use letter::{Chart, Letter, ScoreLine, Section, letter_pdf};
pub use table::{TableDoc, table_pdf};

/// Why a document could not be rendered. The message is meant for logs, not for end users.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The input does not fit the document, e.g. a table row with the wrong number of cells.
    #[error("invalid document input: {0}")]
    Input(String),
    /// The data could not be handed to the template.
    #[error("document data could not be prepared: {0}")]
    Data(String),
    /// typst could not typeset the document (template error, unreadable SVG, …).
    #[error("document could not be typeset: {0}")]
    Compile(String),
    /// typst could not write the PDF.
    #[error("PDF could not be written: {0}")]
    Export(String),
}
