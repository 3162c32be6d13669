//! The start page (per role), language switch, health and metrics.

use std::net::SocketAddr;

use askama::Template;
use axum::{
    extract::{ConnectInfo, Path, Query, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use duurloop_domain::Role;
use serde::Deserialize;

use super::{Base, render};
use crate::{
    app::AppError,
    i18n::Lang,
    state::AppState,
    store::users::MembershipRow,
    web::{
        assets,
        ctx::{PageCtx, lang_cookie},
        routes::RouteTable,
    },
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/", start)
        .get("/lang/{code}", switch_language)
        .get("/healthz", healthz)
        .get("/metrics", metrics)
        .get("/static/{*path}", assets::serve)
}

#[derive(Template)]
#[template(path = "home.html")]
struct StartPage {
    base: Base,
    signed_in: bool,
    memberships: Vec<MembershipRow>,
    roles: Vec<&'static str>,
    /// Safety alerts waiting for this person (a banner until acknowledged).
    alerts: Vec<crate::store::measure::AlertRow>,
    /// For therapists: caseload, today's sessions, referrals waiting.
    dashboard: Option<crate::app::reports::TherapistDashboard>,
    /// Organisations whose impact report the person may open.
    reports: bool,
}

async fn start(State(state): State<AppState>, page: PageCtx) -> Result<Response, AppError> {
    let (signed_in, is_admin, memberships) = match &page.identity {
        Some(i) => (true, i.is_admin, i.memberships.clone()),
        None => (false, false, Vec::new()),
    };
    let mut roles: Vec<&'static str> = Role::ALL
        .into_iter()
        .filter(|r| memberships.iter().any(|m| m.role == r.as_str()))
        .map(Role::as_str)
        .collect();
    if is_admin {
        roles.insert(0, "admin");
    }
    let title = if signed_in {
        "start-title"
    } else {
        "welcome-title"
    };
    let (alerts, dashboard) = match page.actor() {
        Ok(actor) => (
            crate::app::measure::open_alerts(&state, &actor).await?,
            if actor.identity.has_role(Role::Therapist) {
                Some(crate::app::reports::therapist_dashboard(&state, &actor).await?)
            } else {
                None
            },
        ),
        Err(_) => (Vec::new(), None),
    };
    let reports = memberships
        .iter()
        .any(|m| m.role == Role::Coordinator.as_str() || m.role == Role::Funder.as_str());
    render(StartPage {
        base: Base::new(&page, title),
        signed_in,
        memberships,
        roles,
        alerts,
        dashboard,
        reports,
    })
}

#[derive(Deserialize)]
pub(super) struct Back {
    pub(super) back: Option<String>,
}

/// Switches the language (a cookie, and the account's preference when signed in) and goes
/// back to the page the visitor was on (only local paths: no open redirect).
async fn switch_language(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<Back>,
    page: PageCtx,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&code).ok_or(AppError::NotFound)?;
    if let Ok(actor) = page.actor() {
        crate::app::accounts::set_language(&state, &actor, lang.code()).await?;
    }
    let back = super::auth::safe_next(q.back.as_deref());
    Ok((
        [(header::SET_COOKIE, lang_cookie(&state, lang))],
        Redirect::to(&back),
    )
        .into_response())
}

async fn healthz(State(state): State<AppState>) -> Response {
    if state.db.ping().await {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

/// The counters, for the scraper only (`web::metrics::may_read`): anyone else gets 404.
async fn metrics(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if !crate::web::metrics::may_read(&state.config, peer, req.headers()) {
        return Err(AppError::NotFound);
    }
    let pending = {
        let mut c = state.db.conn().await?;
        crate::store::outbox::pending_count(&mut c).await?
    };
    let body = state.metrics.render(pending, state.db.ping().await);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}
