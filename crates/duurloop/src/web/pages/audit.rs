//! The coordinator's review of the audit log: filter by person, record and period.

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use serde::Deserialize;

use super::{Base, FormErrors, render};
use crate::{
    app::{
        AppError, audit,
        audit_chain::{self, ChainReport},
    },
    clock::parse_local_date,
    state::AppState,
    store::audit::{AuditFilter, AuditRow},
    web::{ctx::PageCtx, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/audit", search).get("/audit/integrity", integrity)
}

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    pub org: Option<String>,
    pub person: Option<String>,
    pub record: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Turns the query into a filter; dates are `jjjj-mm-dd`, `to` includes that whole day.
pub fn filter_from_query(q: &AuditQuery) -> Result<AuditFilter, AppError> {
    let date =
        |field: &'static str, v: &Option<String>, extra: i64| -> Result<Option<i64>, AppError> {
            match non_empty(v) {
                None => Ok(None),
                Some(s) => parse_local_date(&s)
                    .map(|d| Some(d + extra))
                    .ok_or(AppError::invalid(field, "invalid-date")),
            }
        };
    Ok(AuditFilter {
        org_id: non_empty(&q.org),
        person: non_empty(&q.person),
        record: non_empty(&q.record),
        from: date("from", &q.from, 0)?,
        to: date("to", &q.to, 86_400_000)?,
        limit: 200,
    })
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    base: Base,
    orgs: Vec<(String, String)>,
    q: AuditQuery,
    org: String,
    rows: Vec<AuditRow>,
    errors: FormErrors,
    is_admin: bool,
}

async fn search(
    State(state): State<AppState>,
    page: PageCtx,
    Query(mut q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let orgs: Vec<(String, String)> = actor
        .identity
        .coordinated_orgs()
        .iter()
        .map(|m| (m.org_id.clone(), m.org_name.clone()))
        .collect();
    if orgs.is_empty() && !actor.identity.is_admin {
        return Err(AppError::Forbidden);
    }
    // A coordinator always looks at one of their organisations; the first by default.
    if non_empty(&q.org).is_none() && !actor.identity.is_admin {
        q.org = orgs.first().map(|o| o.0.clone());
    }
    let (rows, errors) = match filter_from_query(&q) {
        Ok(f) => match audit::search(&state, &actor, f).await {
            Ok(rows) => (rows, FormErrors::default()),
            Err(e) => (Vec::new(), FormErrors::from_app(page.lang, &e).ok_or(e)?),
        },
        Err(e) => (Vec::new(), FormErrors::from_app(page.lang, &e).ok_or(e)?),
    };
    let org = q.org.clone().unwrap_or_default();
    render(AuditPage {
        base: Base::new(&page, "audit-title"),
        orgs,
        q,
        org,
        rows,
        errors,
        is_admin: actor.identity.is_admin,
    })
}

#[derive(Template)]
#[template(path = "audit_integrity.html")]
struct IntegrityPage {
    base: Base,
    report: ChainReport,
}

/// The administrator checks the whole audit log against its hash chain and anchors
/// (`app::audit_chain`). Opening the page runs the check: at national size a few seconds.
async fn integrity(State(state): State<AppState>, page: PageCtx) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let report = audit_chain::check_as(&state, &actor).await?;
    render(IntegrityPage {
        base: Base::new(&page, "audit-integrity-title"),
        report,
    })
}
