//! The XML walk shared by GPX and TCX: a streaming reader over the borrowed input that hands the
//! format a few callbacks, refuses DOCTYPE and ENTITY declarations, and checks that the document
//! is complete.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::TrackError;

/// What a format does with the elements it meets. Names are local names (no namespace prefix).
pub(crate) trait Handler {
    fn start(&mut self, name: &str, element: &BytesStart<'_>) -> Result<(), TrackError>;
    fn text(&mut self, text: &str) -> Result<(), TrackError>;
    fn end(&mut self, name: &str) -> Result<(), TrackError>;
    /// Whether text is being captured, so an entity reference there is an error.
    fn in_field(&self) -> bool;
}

/// Walks the whole document, whose root element must be `root`.
pub(crate) fn walk(bytes: &[u8], root: &str, handler: &mut impl Handler) -> Result<(), TrackError> {
    refuse_declarations(bytes)?;
    let mut reader = Reader::from_reader(bytes);
    // Whitespace between elements then makes no events at all.
    reader.config_mut().trim_text(true);
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(error) => return Err(syntax_error(&error, reader.error_position())),
        };
        match event {
            Event::Start(element) => {
                let name = element.local_name();
                check_root(depth, name.as_ref(), root, &mut seen_root)?;
                depth += 1;
                handler.start(name.as_ref(), &element)?;
            }
            Event::Empty(element) => {
                let name = element.local_name();
                check_root(depth, name.as_ref(), root, &mut seen_root)?;
                handler.start(name.as_ref(), &element)?;
                handler.end(name.as_ref())?;
            }
            Event::End(element) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| TrackError::malformed("an end tag without a start tag"))?;
                handler.end(element.local_name().as_ref())?;
            }
            Event::Text(text) if depth > 0 => handler.text(&text)?,
            Event::CData(text) if depth > 0 => handler.text(&text)?,
            Event::Text(_) | Event::CData(_) => {
                return Err(TrackError::malformed("text outside the root element"));
            }
            Event::GeneralRef(_) if handler.in_field() => {
                return Err(TrackError::malformed("an entity reference inside a value"));
            }
            Event::DocType(_) => return Err(TrackError::Hostile),
            Event::Eof if depth > 0 => return Err(TrackError::malformed("the file is truncated")),
            Event::Eof if !seen_root => {
                return Err(TrackError::Malformed(format!(
                    "there is no <{root}> element"
                )));
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

fn check_root(depth: usize, name: &str, root: &str, seen: &mut bool) -> Result<(), TrackError> {
    if depth == 0 {
        if *seen {
            return Err(TrackError::malformed(
                "content after the end of the document",
            ));
        }
        if name != root {
            return Err(TrackError::Malformed(format!(
                "the root element is not <{root}>"
            )));
        }
        *seen = true;
    }
    Ok(())
}

/// Running out of input inside markup is a truncated file; anything else is a syntax error.
/// Only the byte offset is reported, never the file's text (quick-xml's messages quote names).
fn syntax_error(error: &quick_xml::Error, position: u64) -> TrackError {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    match error {
        quick_xml::Error::Syntax(
            SyntaxError::UnclosedPI
            | SyntaxError::UnclosedXmlDecl
            | SyntaxError::UnclosedComment
            | SyntaxError::UnclosedDoctype
            | SyntaxError::UnclosedCData
            | SyntaxError::UnclosedTag
            | SyntaxError::UnclosedSingleQuotedAttributeValue
            | SyntaxError::UnclosedDoubleQuotedAttributeValue,
        )
        | quick_xml::Error::IllFormed(IllFormedError::MissingEndTag(_)) => {
            TrackError::malformed("the file is truncated")
        }
        _ => TrackError::Malformed(format!("XML syntax error near byte {position}")),
    }
}

/// Refuses `<!DOCTYPE` and `<!ENTITY` anywhere in the file (any letter case): entity expansion
/// ("billion laughs") and external entities have no place in a track file.
pub(crate) fn refuse_declarations(bytes: &[u8]) -> Result<(), TrackError> {
    for at in memchr::memmem::find_iter(bytes, b"<!") {
        let rest = &bytes[at + 2..];
        let starts = |word: &[u8]| {
            rest.get(..word.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(word))
        };
        if starts(b"DOCTYPE") || starts(b"ENTITY") {
            return Err(TrackError::Hostile);
        }
    }
    Ok(())
}

/// A decimal number in an element or attribute, surrounded by optional whitespace.
pub(crate) fn number(text: &str, what: &'static str) -> Result<f64, TrackError> {
    if let Some(value) = plain_decimal(text.as_bytes()) {
        return Ok(value);
    }
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(TrackError::Malformed(format!("{what} is not a number"))),
    }
}

/// The fast path for the usual `-12.345678`: at most 2^53 as digits and at most 22 decimals,
/// so the result is one correctly rounded division, exactly what `str::parse` gives (Clinger's
/// fast path). `None` for anything else, which then goes through `str::parse`.
fn plain_decimal(text: &[u8]) -> Option<f64> {
    const POWERS_OF_TEN: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let text = text.trim_ascii();
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    let (mut mantissa, mut count, mut decimals, mut dot) = (0u64, 0usize, 0usize, false);
    for &byte in digits {
        match byte {
            b'0'..=b'9' if count < 19 => {
                mantissa = mantissa * 10 + u64::from(byte - b'0');
                count += 1;
                decimals += usize::from(dot);
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
    }
    if count == 0 || mantissa > 1 << 53 {
        return None;
    }
    let value = mantissa as f64 / *POWERS_OF_TEN.get(decimals)?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_are_refused_in_any_letter_case() {
        assert_eq!(
            refuse_declarations(b"<!DOCTYPE x>"),
            Err(TrackError::Hostile)
        );
        assert_eq!(
            refuse_declarations(b"<a><!entity x 'y'></a>"),
            Err(TrackError::Hostile)
        );
        assert_eq!(
            refuse_declarations(b"<!-- ok --><a><![CDATA[x]]></a><!"),
            Ok(())
        );
    }

    #[test]
    fn the_fast_number_path_agrees_with_the_standard_parser() {
        let cases = [
            "0",
            "-0",
            "52.0907",
            "5.12140000000000",
            "-33.865143",
            "+4.5",
            "1.",
            ".5",
            "9007199254740992",
            "0.1",
            "0.30000000000000004",
            "179.99999999999999",
            "52.09070000000000533",
            "1e3",
            " 7 ",
        ];
        for case in cases {
            let expected: f64 = case.trim().parse().expect("a number");
            let actual = number(case, "x").expect("a number");
            assert_eq!(actual.to_bits(), expected.to_bits(), "{case}");
        }
        assert_eq!(plain_decimal(b"52.09070000000000533"), None);
        assert_eq!(plain_decimal(b"1e3"), None);
        assert_eq!(plain_decimal(b"."), None);
        assert_eq!(plain_decimal(b"1.2.3"), None);
        assert_eq!(plain_decimal(b"--1"), None);
    }

    #[test]
    fn numbers_must_be_finite() {
        assert_eq!(number(" 3.5\n", "x"), Ok(3.5));
        assert!(number("NaN", "x").is_err());
        assert!(number("inf", "x").is_err());
        assert!(number("", "x").is_err());
    }
}
