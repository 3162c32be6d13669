//! Charts as SVG, drawn on the server with attributes only (the content security policy
//! allows no inline styles), used by the pages and the PDF letters alike.

use std::fmt::Write;

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
    let mut svg = String::with_capacity(200 + bars.len() * 210);
    let _ = write!(
        svg,
        "<svg viewBox=\"0 0 {} 120\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
        Tenths(bars.len() as f64 * w + 4.0),
        label
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    );
    for (i, (number, planned, done)) in bars.iter().enumerate() {
        let x = i as f64 * w + 4.0;
        let ph = f64::from(*planned) / max * 100.0;
        let dh = *done as f64 / max * 100.0;
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"9\" height=\"{}\" fill=\"#b7c9bd\"/>\
             <rect x=\"{}\" y=\"{}\" width=\"9\" height=\"{}\" fill=\"#0b5d3b\"/>\
             <text x=\"{}\" y=\"117\" font-size=\"9\" fill=\"#1a1a1a\">{number}</text>",
            Tenths(x),
            Tenths(104.0 - ph),
            Tenths(ph),
            Tenths(x + 10.0),
            Tenths(104.0 - dh),
            Tenths(dh),
            Tenths(x + 4.0),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A coordinate with one decimal (`12.3`, `-0.5`, `4.0`), written with integer arithmetic:
/// `{:.1}` on a float takes the exact decimal expansion, which was a visible share of a
/// participant page's time (a chart has hundreds of coordinates).
struct Tenths(f64);

impl std::fmt::Display for Tenths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = (self.0 * 10.0).round();
        if !t.is_finite() || t.abs() > 1e15 {
            return write!(f, "{:.1}", self.0);
        }
        let t = t as i64;
        let sign = if t < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{}", (t / 10).abs(), (t % 10).abs())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenths_are_written_like_one_decimal_formatting() {
        for (v, want) in [
            (0.0, "0.0"),
            (4.0, "4.0"),
            (12.34, "12.3"),
            (99.96, "100.0"),
            (-0.45, "-0.5"),
            (-0.04, "0.0"),
            (-1.23, "-1.2"),
            (104.0 - 100.0 / 3.0, "70.7"),
        ] {
            assert_eq!(Tenths(v).to_string(), want, "{v}");
        }
        assert_eq!(Tenths(f64::NAN).to_string(), "NaN");
    }

    #[test]
    fn bar_chart_draws_a_planned_and_a_done_bar_per_week() {
        let svg = bar_chart(&[(1, 90, 45), (2, 90, 0)], "Minuten <per> week");
        assert!(svg.starts_with("<svg viewBox=\"0 0 52.0 120\""), "{svg}");
        assert!(
            svg.contains("aria-label=\"Minuten &lt;per> week\""),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect").count(), 4);
        assert!(svg.contains("<rect x=\"4.0\" y=\"4.0\" width=\"9\" height=\"100.0\""));
        assert!(svg.contains("<rect x=\"14.0\" y=\"54.0\" width=\"9\" height=\"50.0\""));
        assert!(svg.contains(">2</text>"));
        assert!(svg.ends_with("</svg>"));
    }
}
