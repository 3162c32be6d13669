//! Table exports: CSV (RFC 4180, `;`-safe and formula-safe via the domain's `csv_escape`)
//! and a minimal XLSX workbook (one or more sheets, inline strings and numbers), written
//! without a spreadsheet library: the format is a zip of a few small XML parts (four, and one
//! per sheet).

use std::io::Write;

use duurloop_domain::report::csv_escape;

/// One spreadsheet cell.
#[derive(Debug, Clone, PartialEq)]
pub enum XCell {
    Text(String),
    Number(f64),
    Empty,
}

impl XCell {
    fn csv(&self) -> String {
        match self {
            XCell::Text(s) => csv_escape(s),
            XCell::Number(n) => format!("{n}"),
            XCell::Empty => String::new(),
        }
    }
}

/// Rows as CSV with CRLF line ends and a UTF-8 byte-order mark (so Excel reads the accents).
pub fn csv(rows: &[Vec<XCell>]) -> String {
    let mut out = String::from("\u{feff}");
    for row in rows {
        let line: Vec<String> = row.iter().map(XCell::csv).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The spreadsheet column name of a 0-based index: A, B, …, Z, AA, …
fn column(mut i: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

fn sheet_xml(rows: &[Vec<XCell>]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>",
    );
    for (r, row) in rows.iter().enumerate() {
        x.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, cell) in row.iter().enumerate() {
            let at = format!("{}{}", column(c), r + 1);
            match cell {
                XCell::Text(s) => x.push_str(&format!(
                    "<c r=\"{at}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
                    xml_escape(s)
                )),
                XCell::Number(n) if n.is_finite() => {
                    x.push_str(&format!("<c r=\"{at}\"><v>{n}</v></c>"))
                }
                _ => {}
            }
        }
        x.push_str("</row>");
    }
    x.push_str("</sheetData></worksheet>");
    x
}

/// One sheet as an XLSX workbook.
pub fn xlsx(sheet: &str, rows: &[Vec<XCell>]) -> std::io::Result<Vec<u8>> {
    xlsx_sheets(&[(sheet, rows)])
}

/// Several sheets, in order, as an XLSX workbook.
pub fn xlsx_sheets(sheets: &[(&str, &[Vec<XCell>])]) -> std::io::Result<Vec<u8>> {
    let numbers = 1..=sheets.len();
    let overrides: String = numbers
        .clone()
        .map(|n| format!("<Override PartName=\"/xl/worksheets/sheet{n}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"))
        .collect();
    let listed: String = sheets
        .iter()
        .zip(numbers.clone())
        .map(|((name, _), n)| {
            let name: String = xml_escape(name).chars().take(31).collect();
            format!("<sheet name=\"{name}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>")
        })
        .collect();
    let rels: String = numbers
        .clone()
        .map(|n| format!("<Relationship Id=\"rId{n}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"))
        .collect();
    let mut parts = vec![
        (
            "[Content_Types].xml".to_string(),
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>{overrides}</Types>"),
        ),
        (
            "_rels/.rels".to_string(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>".to_string(),
        ),
        (
            "xl/workbook.xml".to_string(),
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>{listed}</sheets></workbook>"),
        ),
        (
            "xl/_rels/workbook.xml.rels".to_string(),
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}</Relationships>"),
        ),
    ];
    for ((_, rows), n) in sheets.iter().zip(numbers) {
        parts.push((format!("xl/worksheets/sheet{n}.xml"), sheet_xml(rows)));
    }
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, body) in parts {
        w.start_file(name, options)?;
        w.write_all(body.as_bytes())?;
    }
    Ok(w.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn rows() -> Vec<Vec<XCell>> {
        vec![
            vec![
                XCell::Text("Praktijk".into()),
                XCell::Text("Verwezen".into()),
            ],
            vec![
                XCell::Text("Medi-Stad & Co <1>".into()),
                XCell::Number(12.0),
            ],
            vec![XCell::Text("=SOM(A1)".into()), XCell::Empty],
        ]
    }

    #[test]
    fn columns_are_named_like_a_spreadsheet() {
        assert_eq!(column(0), "A");
        assert_eq!(column(25), "Z");
        assert_eq!(column(26), "AA");
        assert_eq!(column(27), "AB");
        assert_eq!(column(701), "ZZ");
        assert_eq!(column(702), "AAA");
    }

    #[test]
    fn csv_quotes_and_neutralises_formulas() {
        let s = csv(&rows());
        assert!(s.starts_with('\u{feff}'));
        assert!(s.contains("Praktijk,Verwezen\r\n"));
        assert!(s.contains("Medi-Stad & Co <1>,12\r\n"));
        assert!(s.contains("'=SOM(A1)"), "{s}");
    }

    #[test]
    fn xlsx_is_a_zip_with_the_sheet_and_escaped_text() {
        let bytes = xlsx("Impact", &rows()).expect("xlsx");
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
        let mut sheet = String::new();
        z.by_name("xl/worksheets/sheet1.xml")
            .expect("sheet")
            .read_to_string(&mut sheet)
            .expect("read");
        assert!(sheet.contains("<c r=\"B2\"><v>12</v></c>"));
        assert!(sheet.contains("Medi-Stad &amp; Co &lt;1&gt;"));
        assert!(z.by_name("[Content_Types].xml").is_ok());
        assert!(z.by_name("xl/workbook.xml").is_ok());
    }

    #[test]
    fn a_workbook_holds_each_sheet_under_its_name() {
        let two = vec![vec![XCell::Text("Kolom".into())]];
        let bytes = xlsx_sheets(&[("Data", &rows()), ("Codeboek", &two)]).expect("xlsx");
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
        let mut read = |name: &str| {
            let mut s = String::new();
            z.by_name(name)
                .expect("part")
                .read_to_string(&mut s)
                .expect("read");
            s
        };
        let book = read("xl/workbook.xml");
        assert!(book.contains("name=\"Data\" sheetId=\"1\" r:id=\"rId1\""));
        assert!(book.contains("name=\"Codeboek\" sheetId=\"2\" r:id=\"rId2\""));
        assert!(read("xl/_rels/workbook.xml.rels").contains("worksheets/sheet2.xml"));
        assert!(read("[Content_Types].xml").contains("/xl/worksheets/sheet2.xml"));
        assert!(read("xl/worksheets/sheet2.xml").contains("Kolom"));
    }
}
