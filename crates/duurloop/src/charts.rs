//! Charts as SVG, drawn on the server with attributes only (the content security policy
//! allows no inline styles), used by the pages and the PDF letters alike.

use crate::app::measure::Course;

/// Minutes per week against the plan as an SVG bar chart (attributes only, so the strict
/// content security policy needs no inline styles). Bars: `(week, planned, done)`.
pub fn bar_chart(bars: &[(u16, u16, i64)], label: &str) -> String {
    let max = bars
        .iter()
        .map(|b| i64::from(b.1).max(b.2))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let w = 24.0;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {} 120\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
        bars.len() as f64 * w + 4.0,
        label
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    );
    for (i, (number, planned, done)) in bars.iter().enumerate() {
        let x = i as f64 * w + 4.0;
        let ph = f64::from(*planned) / max * 100.0;
        let dh = *done as f64 / max * 100.0;
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"9\" height=\"{ph:.1}\" fill=\"#b7c9bd\"/>",
            104.0 - ph
        ));
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"9\" height=\"{dh:.1}\" fill=\"#0b5d3b\"/>",
            x + 10.0,
            104.0 - dh
        ));
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"117\" font-size=\"9\" fill=\"#1a1a1a\">{number}</text>",
            x + 4.0,
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A score course as an SVG line chart (attributes only: the content security policy allows
/// no inline styles). The y axis runs over the instrument's whole range.
pub fn course_chart(c: &Course, label: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    };
    let (w, h, pad) = (300.0, 120.0, 18.0);
    let n = c.scores.len().max(1);
    let span = (c.max - c.min).max(1.0);
    let x = |i: usize| {
        if n == 1 {
            w / 2.0
        } else {
            pad + (w - 2.0 * pad) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v - c.min) / span;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
        esc(label)
    );
    svg.push_str(&format!(
        "<line x1=\"{pad}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#b7c9bd\"/>",
        h - pad,
        w - pad,
        h - pad
    ));
    let points: Vec<String> = c
        .scores
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{:.1},{:.1}", x(i), y(s.total)))
        .collect();
    if points.len() > 1 {
        svg.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#0b5d3b\" stroke-width=\"2\"/>",
            points.join(" ")
        ));
    }
    for (i, s) in c.scores.iter().enumerate() {
        svg.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#0b5d3b\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#1a1a1a\">{}</text><text x=\"{:.1}\" y=\"{h}\" font-size=\"9\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            x(i),
            y(s.total),
            x(i),
            y(s.total) - 7.0,
            s.total,
            x(i),
            esc(&s.point)
        ));
    }
    svg.push_str("</svg>");
    svg
}
