//! Impact reports for coordinators and funders: a table per group, a funnel chart, and CSV
//! and XLSX downloads of the same table.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use duurloop_domain::{
    Role,
    report::{Cell, OutcomeCells},
};

use super::{Base, render};
use crate::{
    app::{
        AppError,
        reports::{self, Dimension, Impact, ReportQuery, Row},
    },
    export::{XCell, csv, xlsx},
    i18n::Lang,
    state::AppState,
    web::{ctx::PageCtx, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/reports", page)
        .get("/reports/export.csv", export_csv)
        .get("/reports/export.xlsx", export_xlsx)
}

fn show<T: std::fmt::Display>(c: &Cell<T>) -> String {
    match c {
        Cell::Shown(v) => v.to_string(),
        Cell::Suppressed => "<10".into(),
    }
}

fn show_opt(c: &Cell<Option<f64>>, pct: bool) -> String {
    match c {
        Cell::Shown(Some(v)) if pct => format!("{:.0} %", v * 100.0),
        Cell::Shown(Some(v)) => format!("{v:.1}"),
        Cell::Shown(None) => "—".into(),
        Cell::Suppressed => "<10".into(),
    }
}

fn show_f(c: &Cell<f64>) -> String {
    match c {
        Cell::Shown(v) => format!("{v:.2}"),
        Cell::Suppressed => "<10".into(),
    }
}

/// One outcome as text: n, mean change, effect size, share reliably improved. An instrument
/// without reliable-change parameters (ZG-5, own questionnaires) says nothing about it.
fn outcome_text(o: &OutcomeCells, lang: Lang) -> String {
    let d = match o.effect_size {
        Some(c) => show_f(&c),
        None => "—".into(),
    };
    let (n, change) = (show(&o.n), show_f(&o.mean_change));
    let share = match o.share_reliably_improved {
        Some(Cell::Shown(s)) => format!("{:.0} %", s * 100.0),
        Some(Cell::Suppressed) => "<10".into(),
        None => {
            return lang.t_args(
                "report-outcome-no-rc",
                &[("n", &n), ("change", &change), ("d", &d)],
            );
        }
    };
    lang.t_args(
        "report-outcome",
        &[("n", &n), ("change", &change), ("d", &d), ("share", &share)],
    )
}

/// A row of the table as the page and the exports show it.
pub struct Line {
    pub label: String,
    pub cells: Vec<String>,
}

fn instruments(i: &Impact) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for o in i
        .rows
        .iter()
        .chain(std::iter::once(&i.total))
        .flat_map(|r| &r.outcomes)
    {
        if !codes.contains(&o.instrument) {
            codes.push(o.instrument.clone());
        }
    }
    codes
}

fn line(r: &Row, codes: &[String], lang: Lang) -> Line {
    let mut cells = vec![
        show(&r.referred),
        show(&r.intake),
        show(&r.started),
        show(&r.completed),
        show(&r.follow_up),
        show(&r.dropped_out),
        show_opt(&r.median_days_to_start, false),
        show_opt(&r.attendance_rate, true),
    ];
    for code in codes {
        cells.push(
            r.outcomes
                .iter()
                .find(|o| &o.instrument == code)
                .map(|o| outcome_text(&o.stats, lang))
                .unwrap_or_else(|| "—".into()),
        );
    }
    Line {
        label: r.label.clone(),
        cells,
    }
}

fn headers(codes: &[String], lang: Lang) -> Vec<String> {
    let mut h: Vec<String> = [
        "report-referred",
        "report-intake",
        "report-started",
        "report-completed",
        "report-follow-up",
        "report-dropped-out",
        "report-days-to-start",
        "report-attendance",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    h.extend(codes.iter().map(|c| c.to_uppercase()));
    h
}

/// The funnel of the total as an SVG bar chart.
fn funnel_chart(total: &Row, lang: Lang) -> String {
    let stages = [
        ("report-referred", &total.referred),
        ("report-intake", &total.intake),
        ("report-started", &total.started),
        ("report-completed", &total.completed),
        ("report-follow-up", &total.follow_up),
    ];
    let max = stages
        .iter()
        .filter_map(|(_, c)| match c {
            Cell::Shown(v) => Some(*v),
            Cell::Suppressed => None,
        })
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let esc = |s: String| s.replace('&', "&amp;").replace('<', "&lt;");
    let mut svg = format!(
        "<svg viewBox=\"0 0 320 150\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
        esc(lang.t("report-funnel"))
    );
    for (i, (key, c)) in stages.iter().enumerate() {
        let y = 5.0 + i as f64 * 28.0;
        let (w, text) = match c {
            Cell::Shown(v) => (*v as f64 / max * 180.0, v.to_string()),
            Cell::Suppressed => (0.0, "<10".to_string()),
        };
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\" font-size=\"11\" fill=\"#1a1a1a\">{}</text><rect x=\"100\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"20\" fill=\"#0b5d3b\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#1a1a1a\">{}</text>",
            y + 14.0,
            esc(lang.t(key)),
            104.0 + w,
            y + 14.0,
            esc(text)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The organisations whose report the reader may open: those they coordinate or fund.
fn report_orgs(page: &PageCtx) -> Vec<(String, String)> {
    page.identity
        .as_ref()
        .map(|i| {
            i.memberships
                .iter()
                .filter(|m| m.role == Role::Coordinator.as_str() || m.role == Role::Funder.as_str())
                .map(|m| (m.org_id.clone(), m.org_name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportPage {
    base: Base,
    orgs: Vec<(String, String)>,
    dimensions: Vec<&'static str>,
    q: ReportQuery,
    impact: Impact,
    headers: Vec<String>,
    lines: Vec<Line>,
    total: Line,
    funnel: String,
    query_string: String,
    /// Whether the reader coordinates an organisation (and so may make a research export).
    research: bool,
}

fn with_default_org(page: &PageCtx, mut q: ReportQuery) -> Result<ReportQuery, AppError> {
    if q.org.is_empty() {
        q.org = report_orgs(page)
            .first()
            .map(|o| o.0.clone())
            .ok_or(AppError::Forbidden)?;
    }
    Ok(q)
}

/// The report with its group without a value named in the reader's language.
async fn report(
    state: &AppState,
    actor: &crate::app::Actor,
    q: &ReportQuery,
    lang: Lang,
) -> Result<Impact, AppError> {
    let mut impact = reports::impact(state, actor, q).await?;
    reports::name_unknown(&mut impact, &lang.t("report-unknown"));
    Ok(impact)
}

async fn page(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let q = with_default_org(&page, q)?;
    let impact = report(&state, &actor, &q, page.lang).await?;
    let codes = instruments(&impact);
    let lang = page.lang;
    let query_string = form_urlencoded::Serializer::new(String::new())
        .append_pair("org", &q.org)
        .append_pair("by", &impact.by)
        .append_pair("from", &impact.from)
        .append_pair("to", &impact.to)
        .finish();
    render(ReportPage {
        base: Base::new(&page, "report-title"),
        orgs: report_orgs(&page),
        dimensions: Dimension::ALL.iter().map(|d| d.as_str()).collect(),
        headers: headers(&codes, lang),
        lines: impact.rows.iter().map(|r| line(r, &codes, lang)).collect(),
        total: line(&impact.total, &codes, lang),
        funnel: funnel_chart(&impact.total, lang),
        research: actor.identity.has_role(Role::Coordinator),
        q,
        impact,
        query_string,
    })
}

fn table(impact: &Impact, lang: Lang) -> Vec<Vec<XCell>> {
    let codes = instruments(impact);
    let mut head = vec![XCell::Text(lang.t(&format!("report-by-{}", impact.by)))];
    head.extend(headers(&codes, lang).into_iter().map(XCell::Text));
    let mut rows = vec![head];
    for r in impact.rows.iter().chain(std::iter::once(&impact.total)) {
        let l = line(r, &codes, lang);
        let label = if l.label.is_empty() {
            lang.t("report-total")
        } else {
            l.label
        };
        let mut row = vec![XCell::Text(label)];
        row.extend(l.cells.into_iter().map(|c| match c.parse::<f64>() {
            Ok(n) => XCell::Number(n),
            Err(_) => XCell::Text(c),
        }));
        rows.push(row);
    }
    rows
}

async fn export_csv(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let q = with_default_org(&page, q)?;
    let impact = report(&state, &actor, &q, page.lang).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"duurloop-impact.csv\"",
            ),
        ],
        csv(&table(&impact, page.lang)),
    )
        .into_response())
}

async fn export_xlsx(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let q = with_default_org(&page, q)?;
    let impact = report(&state, &actor, &q, page.lang).await?;
    let bytes =
        xlsx("Impact", &table(&impact, page.lang)).map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"duurloop-impact.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}
