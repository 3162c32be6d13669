//! A trajectory's page: start date, easy heart-rate zone and the week-by-week plan, which the
//! therapist can edit, and the messages with the participant.

use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use duurloop_domain::plan::Session;

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{
        AppError,
        messages::{self, MessageInput},
        trajectories::{self, StatusInput, TrajectoryView, WeekInput},
    },
    state::AppState,
    web::{ctx::PageCtx, form::Pairs, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/trajectories/{id}", show)
        .post("/trajectories/{id}/weeks/{week}", edit_week)
        .post("/trajectories/{id}/status", change_status)
        .post("/trajectories/{id}/messages", send_message)
}

/// A plan week as the page shows it.
pub struct WeekLine {
    pub number: u16,
    pub sessions: u16,
    pub kind: &'static str,
    pub minutes: u16,
    pub run_min: u16,
    pub walk_min: u16,
    pub repeats: u16,
    pub total: u16,
}

#[derive(Template)]
#[template(path = "trajectory.html")]
struct TrajectoryPage {
    base: Base,
    v: TrajectoryView,
    m: crate::app::measure::Results,
    /// One SVG chart per instrument, beside `m.courses`.
    charts: Vec<String>,
    feedback: Vec<crate::store::feedback::FeedbackRow>,
    weeks: Vec<WeekLine>,
    funding: super::funding::FundingCard,
    /// The conversation with the participant, oldest first.
    messages: Vec<crate::store::messages::MessageRow>,
    /// The message the therapist typed, shown again when it could not be sent.
    draft: String,
    errors: FormErrors,
}

fn lines(v: &TrajectoryView) -> Vec<WeekLine> {
    v.plan
        .weeks
        .iter()
        .map(|w| {
            let (kind, minutes, run_min, walk_min, repeats) = match w.session {
                Session::Intervals(i) => ("intervals", 0, i.run_min, i.walk_min, i.repeats),
                Session::Continuous { minutes } => ("continuous", minutes, 0, 0, 0),
                Session::Walk { minutes } => ("walk", minutes, 0, 0, 0),
            };
            WeekLine {
                number: w.number,
                sessions: w.sessions,
                kind,
                minutes,
                run_min,
                walk_min,
                repeats,
                total: w.session.total_minutes(),
            }
        })
        .collect()
}

pub(crate) async fn page(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    errors: FormErrors,
) -> Result<Response, AppError> {
    page_with_draft(state, page, id, errors, String::new()).await
}

/// The page with `draft` in the message form (a message that could not be sent is not lost).
async fn page_with_draft(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    errors: FormErrors,
    draft: String,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let v = trajectories::view(state, &actor, id).await?;
    let weeks = lines(&v);
    let m = crate::app::measure::results(state, &actor, id, page.lang.code()).await?;
    let charts = m
        .courses
        .iter()
        .map(|c| crate::charts::course_chart(c, &c.title))
        .collect();
    let feedback = crate::app::feedback::of_trajectory(state, &v.row.id).await?;
    let funding = crate::app::funding::of_trajectory(state, &actor, id).await?;
    let messages = crate::app::messages::for_staff(state, &actor, id).await?;
    render(TrajectoryPage {
        funding: super::funding::funding_card(&funding, page.lang),
        base: Base::new(page, "trajectory-title"),
        v,
        m,
        charts,
        feedback,
        weeks,
        messages,
        draft,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    p: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    page(&state, &p, &id, FormErrors::default()).await
}

async fn edit_week(
    State(state): State<AppState>,
    p: PageCtx,
    Path((id, week)): Path<(String, u16)>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = p.actor()?;
    let input = WeekInput {
        kind: f.get("kind"),
        sessions: f.get("sessions"),
        minutes: f.get("minutes"),
        run_min: f.get("run_min"),
        walk_min: f.get("walk_min"),
        repeats: f.get("repeats"),
    };
    match trajectories::edit_week(&state, &actor, &id, week, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/trajectories/{id}#week-{week}")).into_response()),
        Err(e) => show_again(p.lang, e, |errors| page(&state, &p, &id, errors)).await,
    }
}

async fn change_status(
    State(state): State<AppState>,
    p: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = p.actor()?;
    let input = StatusInput {
        action: f.get("action"),
        reason: f.get("reason"),
    };
    match trajectories::change_status(&state, &actor, &id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/trajectories/{id}")).into_response()),
        Err(e) => show_again(p.lang, e, |errors| page(&state, &p, &id, errors)).await,
    }
}

/// The therapist writes to the participant (who hears by e-mail that there is a message).
async fn send_message(
    State(state): State<AppState>,
    p: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = p.actor()?;
    let input = MessageInput {
        body: f.get("body"),
    };
    match messages::send_as_staff(&state, &actor, &id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/trajectories/{id}#messages")).into_response()),
        Err(e) => {
            let draft = input.body;
            show_again(p.lang, e, |errors| {
                page_with_draft(&state, &p, &id, errors, draft)
            })
            .await
        }
    }
}
