//! Pseudonymised research exports (SPEC C12): a coordinator downloads one row per referral
//! their organisation handled (its offerings', and those sent to it as a region) that reached
//! intake in a period, for a named study and a stated purpose.
//!
//! What a row holds: a pseudonym ([`crate::secrets::SecretKey::pseudonym`], keyed on the
//! study code and the referral id: stable within a study, unlinkable across studies), the
//! practice (the offering's organisation), offering kind, referral source, funding route,
//! indication codes, status, age in ten-year bands, the referral month (`jjjj-mm`), days
//! from referral to start, sessions recorded and attended, and per measurement point the day
//! it was filled in counted from the start and each instrument's score.
//!
//! What it never holds: names, e-mail addresses, phone numbers, postcodes, free text (notes,
//! medication, limits, reasons, answers), exact dates, and internal ids. Dropout reasons are
//! free text in Duurloop, so only the status `dropped_out` is exported. Erased referrals are
//! left out, and so are those whose participant objected to research use
//! (`referrals.research_objection_at`, set in the portal or by the therapist or coordinator:
//! `portal::set_research_objection`, `referrals::set_research_objection`). That is the Dutch
//! rule for research without consent (WGBO art. 7:458): pseudonymised data, and no
//! objection. Asking consent study by study is not built.
//!
//! The reads and the audit entries are one transaction: one `export`/`research_export` entry
//! for the export and one `export`/`referral` entry per included referral, each with the study
//! code and purpose as the reason (NEN 7513).

use std::collections::BTreeMap;

use duurloop_domain::Role;
use serde::Deserialize;

use super::{
    Actor, AppError, AppResult, FieldError,
    audit::{Event, record_exported, record_with_reason},
    reports::{Period, period},
};
use crate::{
    export::{XCell, csv, xlsx_sheets},
    i18n::Lang,
    state::AppState,
    store::{self, reports::Scope},
};

/// The longest purpose, in characters.
pub const MAX_PURPOSE: usize = 500;
/// The shortest purpose: a sentence, not a word.
pub const MIN_PURPOSE: usize = 10;
/// The longest study code, in characters.
pub const MAX_STUDY: usize = 40;

/// What the coordinator asks for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ExportInput {
    /// The organisation you coordinate whose referrals are exported.
    #[serde(default)]
    pub org: String,
    /// The study code: 2–40 letters, digits, `-`, `_` or `.`, case does not matter. The same
    /// code gives the same pseudonyms in every export; another code gives other ones.
    #[serde(default)]
    pub study: String,
    /// Why the data are exported (10–500 characters); kept in the audit log with every record.
    #[serde(default)]
    pub purpose: String,
    /// First day of referral, `jjjj-mm-dd` (default: a year before `to`).
    #[serde(default)]
    pub from: String,
    /// Last day of referral, included (default: today).
    #[serde(default)]
    pub to: String,
    /// csv (default) or xlsx
    #[serde(default)]
    pub format: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "" | "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// A study code as used for pseudonyms: trimmed and in capitals.
pub fn parse_study(s: &str) -> Option<String> {
    let s = s.trim().to_uppercase();
    let ok = (2..=MAX_STUDY).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(s)
}

/// The ten-year band of an age (`<20`, `20-29`, …, `60-69`, `70+`): fine enough for
/// research, coarse enough not to single anyone out with the other columns.
pub fn age_band(age: i64) -> String {
    match age {
        a if a < 20 => "<20".into(),
        a if a >= 70 => "70+".into(),
        a => {
            let low = a / 10 * 10;
            format!("{low}-{}", low + 9)
        }
    }
}

/// The order of measurement points in the file: the usual schedule, then others by name.
fn point_rank(point: &str) -> (usize, u32, String) {
    let usual = ["baseline", "week5", "week10", "end"];
    if let Some(i) = usual.iter().position(|p| *p == point) {
        return (i, 0, String::new());
    }
    if let Some(m) = point.strip_prefix("followup").and_then(|m| m.parse().ok()) {
        return (usual.len(), m, String::new());
    }
    (usual.len() + 1, 0, point.to_string())
}

/// The order of instruments: the built-ins first, then others by code.
fn instrument_rank(code: &str) -> (usize, String) {
    let builtin = ["phq9", "gad7", "who5", "zg5"];
    match builtin.iter().position(|b| *b == code) {
        Some(i) => (i, String::new()),
        None => (builtin.len(), code.to_string()),
    }
}

/// The fixed columns, in order; then per point `{point}_day` and `{instrument}_{point}`.
pub const COLUMNS: [&str; 12] = [
    "pseudonym",
    "practice",
    "offering_kind",
    "source",
    "funding_route",
    "indications",
    "age_band",
    "referral_month",
    "status",
    "days_to_start",
    "sessions_recorded",
    "sessions_attended",
];

/// The export: its header and rows, ready to write as CSV or XLSX.
#[derive(Debug, Clone)]
pub struct ResearchExport {
    pub study: String,
    pub from: String,
    pub to: String,
    pub format: Format,
    pub header: Vec<String>,
    pub rows: Vec<Vec<XCell>>,
}

/// Checks the input: every field error at once (the period's after the others).
fn validate(input: &ExportInput, now: i64) -> AppResult<(String, String, String, Format, Period)> {
    let mut errors = Vec::new();
    let org = input.org.trim().to_string();
    if org.is_empty() {
        errors.push(FieldError {
            field: "org",
            key: "research-org-required",
        });
    }
    let study = parse_study(&input.study);
    if study.is_none() {
        errors.push(FieldError {
            field: "study",
            key: "study-invalid",
        });
    }
    let purpose = input.purpose.trim().to_string();
    let len = purpose.chars().count();
    if len < MIN_PURPOSE {
        errors.push(FieldError {
            field: "purpose",
            key: "purpose-required",
        });
    } else if len > MAX_PURPOSE {
        errors.push(FieldError {
            field: "purpose",
            key: "text-too-long",
        });
    }
    let format = Format::parse(&input.format);
    if format.is_none() {
        errors.push(FieldError {
            field: "format",
            key: "invalid-format",
        });
    }
    match period(input.from.trim(), input.to.trim(), now) {
        Ok(p) => match (study, format) {
            (Some(study), Some(format)) if errors.is_empty() => {
                Ok((org, study, purpose, format, p))
            }
            _ => Err(AppError::Invalid(errors)),
        },
        Err(AppError::Invalid(more)) => {
            errors.extend(more);
            Err(AppError::Invalid(errors))
        }
        Err(e) => Err(e),
    }
}

/// Logs a refused research export (`export`/`research_export`, outcome `denied`, ASVS 7.2.2)
/// in a transaction of its own and gives the 403 to answer. The organisation asked for is the
/// record when it exists; what was typed into the field otherwise stays out of the log.
async fn refused(state: &AppState, actor: &Actor, org: &str) -> AppError {
    let found = async {
        let mut tx = state.db.begin().await?;
        let known = store::orgs::by_id(&mut tx, org.trim()).await?.map(|o| o.id);
        Ok::<_, AppError>((tx, known))
    };
    let (tx, known) = match found.await {
        Ok(found) => found,
        Err(e) => return e,
    };
    let mut e = Event::new("export", "research_export");
    if let Some(o) = known.as_deref() {
        e = e.record(o).org(o);
    }
    super::audit::refused(tx, state.now(), actor, e, AppError::Forbidden).await
}

/// The research export of an organisation the actor coordinates (everyone else: 403, and
/// the refusal is audit-logged, [`refused`]).
pub async fn export(
    state: &AppState,
    actor: &Actor,
    input: &ExportInput,
) -> AppResult<ResearchExport> {
    if actor.identity.coordinated_orgs().is_empty() {
        return Err(refused(state, actor, &input.org).await);
    }
    let now = state.now();
    let (org, study, purpose, format, p) = validate(input, now)?;
    if actor.identity.role_in(&org) != Some(Role::Coordinator) {
        return Err(refused(state, actor, &org).await);
    }
    // Row by row, only what the coordinator may open one by one: not the referrals the
    // organisation's referrers sent to other providers (those count in its impact report).
    let scope = Scope::HandledBy(&org);
    let mut tx = state.db.begin().await?;
    let rows = store::reports::research_rows(&mut tx, p.from_ms, p.to_ms, &scope).await?;
    let scores = store::reports::research_scores(&mut tx, p.from_ms, p.to_ms, &scope).await?;
    let reason = format!("{study}: {purpose}");
    record_with_reason(
        &mut tx,
        now,
        actor,
        Event::new("export", "research_export")
            .record(&org)
            .org(&org),
        &reason,
    )
    .await?;
    record_exported(
        &mut tx,
        now,
        actor,
        "referral",
        &reason,
        rows.iter()
            .map(|r| (r.referral_id.as_str(), r.offering_org_id.as_deref())),
    )
    .await?;
    tx.commit().await?;
    let (header, table) = table(state, &study, &rows, &scores);
    Ok(ResearchExport {
        study,
        from: p.from,
        to: p.to,
        format,
        header,
        rows: table,
    })
}

/// Scores per trajectory: point → (first scored_at, instrument → total).
type Scores<'a> = BTreeMap<&'a str, BTreeMap<&'a str, (i64, BTreeMap<&'a str, f64>)>>;

/// The header and the rows: fixed columns, then per point its day and each instrument's score.
fn table(
    state: &AppState,
    study: &str,
    rows: &[store::reports::ResearchRow],
    scores: &[store::reports::ResearchScore],
) -> (Vec<String>, Vec<Vec<XCell>>) {
    let mut by_trajectory: Scores = BTreeMap::new();
    let mut points: Vec<&str> = Vec::new();
    let mut instruments: Vec<&str> = Vec::new();
    for s in scores {
        let at = by_trajectory
            .entry(s.trajectory_id.as_str())
            .or_default()
            .entry(s.point.as_str())
            .or_insert((s.scored_at, BTreeMap::new()));
        at.0 = at.0.min(s.scored_at);
        at.1.insert(s.instrument.as_str(), s.total);
        if !points.contains(&s.point.as_str()) {
            points.push(&s.point);
        }
        if !instruments.contains(&s.instrument.as_str()) {
            instruments.push(&s.instrument);
        }
    }
    points.sort_by_key(|p| point_rank(p));
    instruments.sort_by_key(|i| instrument_rank(i));
    let mut header: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    for p in &points {
        header.push(format!("{p}_day"));
        header.extend(instruments.iter().map(|i| format!("{i}_{p}")));
    }
    let text = |s: &str| XCell::Text(s.to_string());
    let number = |n: Option<i64>| n.map_or(XCell::Empty, |n| XCell::Number(n as f64));
    let days = |ms: i64| ms.div_euclid(86_400_000);
    let mut out: Vec<(String, Vec<XCell>)> = rows
        .iter()
        .map(|r| {
            let pseudonym = state.secret_key.pseudonym(study, &r.referral_id);
            let start_ms = r
                .start_date
                .as_deref()
                .and_then(crate::clock::parse_local_date);
            let mut row = vec![
                text(&pseudonym),
                text(r.practice.as_deref().unwrap_or_default()),
                text(r.offering_kind.as_deref().unwrap_or_default()),
                text(&r.source),
                text(&r.funding_route),
                text(
                    &(r.indications.split(','))
                        .filter(|i| !i.is_empty())
                        .collect::<Vec<_>>()
                        .join(";"),
                ),
                r.age.map_or(XCell::Empty, |a| XCell::Text(age_band(a))),
                text(&crate::clock::local_month(r.referred_at)),
                text(&r.status),
                number(r.started_at.map(|s| days(s - r.referred_at))),
                number(r.sessions_recorded),
                number(r.sessions_attended),
            ];
            let measured = r
                .trajectory_id
                .as_deref()
                .and_then(|t| by_trajectory.get(t));
            for p in &points {
                let at = measured.and_then(|m| m.get(p));
                row.push(number(
                    at.zip(start_ms)
                        .map(|((scored, _), start)| days(scored - start)),
                ));
                for i in &instruments {
                    row.push(
                        at.and_then(|(_, totals)| totals.get(i))
                            .map_or(XCell::Empty, |t| XCell::Number(*t)),
                    );
                }
            }
            (pseudonym, row)
        })
        .collect();
    // In pseudonym order: the order of referrals would say more than the month does.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    (header, out.into_iter().map(|(_, row)| row).collect())
}

/// What each column means, as rows of a codebook (column, meaning), in `lang`.
pub fn codebook(lang: Lang) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = COLUMNS
        .iter()
        .map(|c| (c.to_string(), lang.t(&format!("research-col-{c}"))))
        .collect();
    rows.push(("{point}_day".into(), lang.t("research-col-point-day")));
    rows.push((
        "{instrument}_{point}".into(),
        lang.t("research-col-instrument-point"),
    ));
    rows
}

/// The file: its content type, name and bytes. XLSX has the codebook as a second sheet; the
/// CSV is the data alone (one header row), its codebook is on the page and in the docs.
pub fn file(e: &ResearchExport, lang: Lang) -> AppResult<(&'static str, String, Vec<u8>)> {
    let mut rows = vec![e.header.iter().map(|h| XCell::Text(h.clone())).collect()];
    rows.extend(e.rows.iter().cloned());
    let name = format!("duurloop-onderzoek-{}-{}-{}", e.study, e.from, e.to);
    match e.format {
        Format::Csv => Ok((
            "text/csv; charset=utf-8",
            format!("{name}.csv"),
            csv(&rows).into_bytes(),
        )),
        Format::Xlsx => {
            let mut book = vec![vec![
                XCell::Text(lang.t("research-codebook-column")),
                XCell::Text(lang.t("research-codebook-meaning")),
            ]];
            book.extend(
                codebook(lang)
                    .into_iter()
                    .map(|(c, m)| vec![XCell::Text(c), XCell::Text(m)]),
            );
            let bytes = xlsx_sheets(&[("Data", &rows), (&lang.t("research-codebook"), &book)])
                .map_err(|e| AppError::Internal(e.into()))?;
            Ok((
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                format!("{name}.xlsx"),
                bytes,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_fall_in_ten_year_bands_with_open_ends() {
        assert_eq!(age_band(17), "<20");
        assert_eq!(age_band(20), "20-29");
        assert_eq!(age_band(40), "40-49");
        assert_eq!(age_band(69), "60-69");
        assert_eq!(age_band(70), "70+");
        assert_eq!(age_band(93), "70+");
    }

    #[test]
    fn study_codes_are_short_plain_and_case_blind() {
        assert_eq!(parse_study(" loop-2026 ").as_deref(), Some("LOOP-2026"));
        assert_eq!(parse_study("Studie_1.b").as_deref(), Some("STUDIE_1.B"));
        assert_eq!(parse_study("x"), None);
        assert_eq!(parse_study(""), None);
        assert_eq!(parse_study("met spatie"), None);
        assert_eq!(parse_study("a/b"), None);
        assert_eq!(parse_study(&"A".repeat(MAX_STUDY + 1)), None);
        assert!(parse_study(&"A".repeat(MAX_STUDY)).is_some());
    }

    #[test]
    fn points_follow_the_schedule_and_instruments_the_built_ins() {
        let mut p = vec![
            "followup6",
            "end",
            "extra",
            "baseline",
            "followup3",
            "week5",
        ];
        p.sort_by_key(|p| point_rank(p));
        assert_eq!(
            p,
            [
                "baseline",
                "week5",
                "end",
                "followup3",
                "followup6",
                "extra"
            ]
        );
        let mut i = vec!["eigen", "zg5", "who5", "phq9", "gad7"];
        i.sort_by_key(|i| instrument_rank(i));
        assert_eq!(i, ["phq9", "gad7", "who5", "zg5", "eigen"]);
    }

    #[test]
    fn the_period_and_every_field_are_checked_at_once() {
        let now = crate::clock::parse_local_date("2026-11-24").expect("date");
        let Err(AppError::Invalid(fields)) = validate(&ExportInput::default(), now) else {
            panic!("empty input accepted");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field).collect();
        assert_eq!(names, ["org", "study", "purpose"]);
        let input = ExportInput {
            org: "o".into(),
            study: "S1".into(),
            purpose: "Effect op somberheid".into(),
            format: "pdf".into(),
            from: "gisteren".into(),
            ..Default::default()
        };
        let Err(AppError::Invalid(fields)) = validate(&input, now) else {
            panic!("bad format accepted");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field).collect();
        assert_eq!(names, ["format", "from"]);
        let input = ExportInput {
            format: "xlsx".into(),
            from: String::new(),
            ..input
        };
        let (_, study, _, format, p) = validate(&input, now).expect("valid");
        assert_eq!((study.as_str(), format), ("S1", Format::Xlsx));
        assert_eq!(
            (p.from.as_str(), p.to.as_str()),
            ("2025-11-24", "2026-11-24")
        );
    }
}
