//! The typst "world" for one render: an embedded template as `/main.typ`, the data as
//! `/data.json`, extra virtual files (SVG charts), and the fonts bundled by `typst-assets`.
//!
//! Nothing is read from disk, the network or the clock: a file that is not in the world is
//! "not found", and `today()` is `None` (templates use dates given as data).

use std::collections::HashMap;
use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

use crate::DocumentError;

/// How many renders an unused memoized result may survive (see [`typst::comemo::evict`]).
const CACHE_MAX_AGE: usize = 10;

/// A virtual file handed to the template next to `/data.json`.
pub(crate) struct VirtualFile {
    /// Absolute virtual path, e.g. `/chart0.svg`.
    pub path: String,
    pub bytes: Bytes,
}

/// Compiles `template` against `data` (serialised to `/data.json`) and `files`, and exports a PDF.
///
/// Clears typst's global memoization caches of entries older than [`CACHE_MAX_AGE`] renders
/// afterwards, also on failure, so memory does not grow with every document.
pub(crate) fn render_pdf(
    template: &'static str,
    data: &impl serde::Serialize,
    files: Vec<VirtualFile>,
) -> Result<Vec<u8>, DocumentError> {
    let json = serde_json::to_vec(data).map_err(|e| DocumentError::Data(e.to_string()))?;
    let mut all = vec![VirtualFile {
        path: "/data.json".into(),
        bytes: Bytes::new(json),
    }];
    all.extend(files);
    let world = DocWorld::new(template, all)?;
    let result = compile_and_export(&world);
    typst::comemo::evict(CACHE_MAX_AGE);
    result
}

/// The warnings typst gives for `template` with `data` (the rendering itself ignores them).
#[cfg(test)]
pub(crate) fn warnings(
    template: &'static str,
    data: &impl serde::Serialize,
    files: Vec<VirtualFile>,
) -> Result<Vec<String>, DocumentError> {
    let json = serde_json::to_vec(data).map_err(|e| DocumentError::Data(e.to_string()))?;
    let mut all = vec![VirtualFile {
        path: "/data.json".into(),
        bytes: Bytes::new(json),
    }];
    all.extend(files);
    let world = DocWorld::new(template, all)?;
    let warned = typst::compile::<PagedDocument>(&world);
    Ok(warned
        .warnings
        .iter()
        .map(|w| describe(&world, std::slice::from_ref(w)))
        .collect())
}

fn compile_and_export(world: &DocWorld) -> Result<Vec<u8>, DocumentError> {
    let document: PagedDocument = typst::compile(world)
        .output
        .map_err(|errors| DocumentError::Compile(describe(world, &errors)))?;
    typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
        .map_err(|errors| DocumentError::Export(describe(world, &errors)))
}

/// Turns diagnostics into one line each: message, location in the template, hints.
fn describe(world: &DocWorld, diagnostics: &[SourceDiagnostic]) -> String {
    let lines: Vec<String> = diagnostics
        .iter()
        .map(|diag| {
            let mut line = diag.message.to_string();
            if let Some(at) = location(world, diag) {
                line.push_str(&format!(" (at {at})"));
            }
            for hint in &diag.hints {
                line.push_str(&format!("; hint: {}", hint.v));
            }
            line
        })
        .collect();
    lines.join("\n")
}

fn location(world: &DocWorld, diag: &SourceDiagnostic) -> Option<String> {
    let id = diag.span.id()?;
    let path = id.vpath().get_with_slash().to_owned();
    let line = world
        .range(diag.span)
        .and_then(|range| world.source(id).ok()?.lines().byte_to_line(range.start));
    Some(match line {
        Some(line) => format!("{path}:{}", line + 1),
        None => path,
    })
}

fn file_id(path: &str) -> Result<FileId, DocumentError> {
    let vpath = VirtualPath::new(path)
        .map_err(|e| DocumentError::Data(format!("invalid virtual path {path:?}: {e}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// The fonts bundled in the binary by `typst-assets` (Libertinus Serif, New Computer Modern,
/// DejaVu Sans Mono), parsed once per process.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

static LIBRARY: LazyLock<LazyHash<Library>> =
    LazyLock::new(|| LazyHash::new(Library::builder().build()));

/// One render's files. File ids are interned process-wide by path and never freed, so the
/// paths are fixed names (`/main.typ`, `/data.json`, `/chartN.svg`) that every render reuses.
struct DocWorld {
    main: Source,
    files: HashMap<FileId, Bytes>,
}

impl DocWorld {
    fn new(template: &'static str, files: Vec<VirtualFile>) -> Result<Self, DocumentError> {
        let main = Source::new(file_id("/main.typ")?, template.to_owned());
        let files = files
            .into_iter()
            .map(|file| Ok((file_id(&file.path)?, file.bytes)))
            .collect::<Result<_, DocumentError>>()?;
        Ok(Self { main, files })
    }
}

impl World for DocWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else if self.files.contains_key(&id) {
            Err(FileError::NotSource)
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.text().to_owned()));
        }
        self.files.get(&id).cloned().ok_or_else(|| not_found(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_seen_so_the_template_tests_can_catch_them() {
        let found = warnings(
            "#set text(font: \"Geen Bestaand Font\")\nHallo",
            &(),
            Vec::new(),
        )
        .expect("world builds");

        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("/main.typ:1"), "{found:?}");
    }

    #[test]
    fn a_file_outside_the_world_is_not_found() {
        let err = render_pdf("#read(\"/etc/passwd\")", &(), Vec::new()).expect_err("no disk");

        assert!(
            matches!(err, DocumentError::Compile(ref m) if m.contains("not found")),
            "{err}"
        );
    }
}
