//! Feedback reports: the therapist reviews and sends, the referrer reads and downloads.

use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{
        AppError,
        feedback::{self, FeedbackInput, FeedbackView},
    },
    state::AppState,
    web::{ctx::PageCtx, form::Pairs, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.post("/trajectories/{id}/feedback", open)
        .get("/feedback/{id}", show)
        .post("/feedback/{id}", save)
        .get("/trajectories/{id}/fhir", fhir)
        .get("/feedback/{id}/pdf", pdf)
}

/// The report as a PDF letter.
async fn pdf(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let bytes = feedback::pdf(&state, &actor, &id).await?;
    Ok(pdf_response(&id, bytes))
}

pub(crate) fn pdf_response(id: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"terugrapportage-{id}.pdf\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Downloads the trajectory as a FHIR R4 Bundle.
async fn fhir(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let bundle = feedback::fhir_bundle(&state, &actor, &id).await?;
    let body = serde_json::to_vec_pretty(&bundle).map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/fhir+json".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"duurloop-{id}.fhir.json\""),
            ),
        ],
        body,
    )
        .into_response())
}

async fn open(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let report = feedback::open(&state, &actor, &id, &f.get("kind")).await?;
    Ok(Redirect::to(&format!("/feedback/{report}")).into_response())
}

#[derive(Template)]
#[template(path = "feedback.html")]
struct FeedbackPage {
    base: Base,
    v: FeedbackView,
    input: FeedbackInput,
    habit_chart: String,
    charts: Vec<String>,
    errors: FormErrors,
}

/// Minutes run per week against the plan, as the portal shows it.
pub fn habit_chart(v: &FeedbackView, label: &str) -> String {
    let bars: Vec<(u16, u16, i64)> = v
        .generated
        .weeks
        .iter()
        .map(|w| (w.week, w.planned, w.done))
        .collect();
    crate::charts::bar_chart(&bars, label)
}

async fn page(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    input: Option<FeedbackInput>,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let v = feedback::view(state, &actor, id, page.lang.code()).await?;
    let input = input.unwrap_or_else(|| FeedbackInput {
        summary: v.report.summary.clone(),
        advice: v.report.advice.clone(),
        next_steps: v.report.next_steps.clone(),
    });
    let habit_chart = habit_chart(&v, &page.lang.t("portal-chart-label"));
    let charts = v
        .generated
        .courses
        .iter()
        .map(|c| crate::charts::course_chart(c, &c.title))
        .collect();
    render(FeedbackPage {
        base: Base::new(page, "feedback-title"),
        v,
        input,
        habit_chart,
        charts,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    p: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    page(&state, &p, &id, None, FormErrors::default()).await
}

async fn save(
    State(state): State<AppState>,
    p: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = p.actor()?;
    let input = FeedbackInput {
        summary: f.get("summary"),
        advice: f.get("advice"),
        next_steps: f.get("next_steps"),
    };
    let r = if f.get("action") == "send" {
        feedback::send(&state, &actor, &id, &input).await
    } else {
        feedback::update(&state, &actor, &id, &input).await
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/feedback/{id}")).into_response()),
        Err(e) => {
            show_again(p.lang, e, |errors| {
                page(&state, &p, &id, Some(input), errors)
            })
            .await
        }
    }
}
