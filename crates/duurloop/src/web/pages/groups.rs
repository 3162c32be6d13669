//! The group page (schedule, sessions, participants) and the session page where attendance is
//! recorded with one tap per participant on a phone.

use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{
        AppError,
        funding::SessionFunding,
        groups::{self, AttendanceInput, GroupView, SessionView, SlotInput},
    },
    i18n::Lang,
    state::AppState,
    web::{ctx::PageCtx, form::Pairs, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/offerings/{id}/group", group)
        .post("/offerings/{id}/slots", add_slot)
        .get("/sessions/{id}", session)
        .post("/sessions/{id}/attendance/{trajectory_id}", attendance)
        .post("/sessions/{id}/cancel", cancel)
        .get("/ical/{token}", calendar)
        .post("/account/calendar", new_calendar_feed)
}

/// The secret calendar link: no session needed, the token is the credential.
async fn calendar(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let token = token.trim_end_matches(".ics");
    let body = groups::calendar(&state, token).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/calendar; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "calendar_link.html")]
pub(super) struct CalendarLinkPage {
    pub base: Base,
    pub link: String,
    /// Where "back" leads: the account page, or the portal for a participant.
    pub back: String,
}

async fn new_calendar_feed(
    State(state): State<AppState>,
    page: PageCtx,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let token = groups::new_calendar_feed(&state, &actor).await?;
    let link = format!("{}/ical/{token}.ics", state.config.base_url);
    render(CalendarLinkPage {
        base: Base::new(&page, "calendar-title"),
        link,
        back: "/account".into(),
    })
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    base: Base,
    g: GroupView,
    weekdays: Vec<(&'static str, &'static str)>,
    errors: FormErrors,
}

async fn group_page(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let g = groups::group(state, &actor, id).await?;
    render(GroupPage {
        base: Base::new(page, "group-title"),
        g,
        weekdays: super::directory::Choices::new().weekdays,
        errors,
    })
}

async fn group(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    group_page(&state, &page, &id, FormErrors::default()).await
}

async fn add_slot(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let input = SlotInput {
        weekday: f.get("weekday"),
        start_time: f.get("start_time"),
        duration_min: f.get("duration_min"),
    };
    match groups::add_slot(&state, &actor, &id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/offerings/{id}/group")).into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                group_page(&state, &page, &id, errors)
            })
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "session.html")]
struct SessionPage {
    base: Base,
    s: SessionView,
    /// (trajectory id, funding warnings in words) for the participants that have some.
    funding: Vec<(String, Vec<String>)>,
    errors: FormErrors,
}

impl SessionPage {
    fn funding_of(&self, trajectory_id: &str) -> &[String] {
        (self.funding.iter())
            .find(|(id, _)| id == trajectory_id)
            .map_or(&[], |(_, texts)| texts.as_slice())
    }
}

/// A session's funding warnings in words, per participant: first whether this session is
/// paid for, then the trajectory's warnings as on its page.
fn funding_texts(f: &SessionFunding, lang: Lang) -> Vec<(String, Vec<String>)> {
    let title = |id: &str| {
        (f.contracts.iter())
            .find(|(k, _)| k == id)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    f.participants
        .iter()
        .map(|p| {
            let mut texts: Vec<String> = (p.session_unfunded.iter())
                .map(|reason| lang.t(&format!("session-funding-unfunded-{reason}")))
                .collect();
            texts.extend(super::funding::warning_texts(&p.warnings, lang, title));
            (p.trajectory_id.clone(), texts)
        })
        .collect()
}

async fn session_page(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let s = groups::session(state, &actor, id).await?;
    render(SessionPage {
        base: Base::new(page, "session-title"),
        funding: funding_texts(&s.funding, page.lang),
        s,
        errors,
    })
}

async fn session(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    session_page(&state, &page, &id, FormErrors::default()).await
}

async fn attendance(
    State(state): State<AppState>,
    page: PageCtx,
    Path((id, trajectory)): Path<(String, String)>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let input = AttendanceInput {
        status: f.get("status"),
        note: f.get("note"),
    };
    match groups::record_attendance(&state, &actor, &id, &trajectory, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/sessions/{id}#p-{trajectory}")).into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                session_page(&state, &page, &id, errors)
            })
            .await
        }
    }
}

async fn cancel(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    match groups::cancel(&state, &actor, &id, &f.get("reason")).await {
        Ok(_) => Ok(Redirect::to(&format!("/sessions/{id}")).into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                session_page(&state, &page, &id, errors)
            })
            .await
        }
    }
}
