//! Feedback reports, the FHIR export and impact reports over the API.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use crate::{
    app::{
        AppError,
        feedback::{self, FeedbackInput, Generated},
        reports::{self, Impact, ReportQuery},
    },
    state::AppState,
    store::feedback::FeedbackRow,
    web::{
        api::IdOut,
        ctx::{ApiActor, request_lang},
        routes::RouteTable,
    },
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.post("/api/v1/trajectories/{id}/feedback", open)
        .get("/api/v1/feedback/{id}", show)
        .put("/api/v1/feedback/{id}", update)
        .post("/api/v1/feedback/{id}/send", send)
        .get("/api/v1/feedback/{id}/pdf", pdf)
        .get("/api/v1/trajectories/{id}/fhir", fhir)
        .get("/api/v1/reports/impact", impact)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct KindIn {
    /// end or followup
    pub kind: String,
}

/// Opens (or makes) the end or follow-up feedback report of a trajectory (its team).
#[utoipa::path(post, path = "/api/v1/trajectories/{id}/feedback", tag = "feedback", params(("id" = String, Path)), request_body = KindIn,
    responses((status = 201, body = IdOut), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<KindIn>,
) -> Result<(StatusCode, Json<IdOut>), AppError> {
    let id = feedback::open(&state, &actor, &id, &b.kind).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedbackOut {
    pub report: FeedbackRow,
    pub participant: String,
    pub generated: Generated,
}

/// A feedback report with what the app generated (the team; the referrer once sent).
#[utoipa::path(get, path = "/api/v1/feedback/{id}", tag = "feedback", operation_id = "show_feedback", params(("id" = String, Path)),
    responses((status = 200, body = FeedbackOut), (status = 404, body = super::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<FeedbackOut>, AppError> {
    let v = feedback::view(&state, &actor, &id, "nl").await?;
    Ok(Json(FeedbackOut {
        report: v.report,
        participant: v.trajectory.client_name,
        generated: v.generated,
    }))
}

/// Saves the therapist's texts of a draft.
#[utoipa::path(put, path = "/api/v1/feedback/{id}", tag = "feedback", params(("id" = String, Path)), request_body = FeedbackInput,
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<FeedbackInput>,
) -> Result<StatusCode, AppError> {
    feedback::update(&state, &actor, &id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends the report to the referrer; it cannot change afterwards.
#[utoipa::path(post, path = "/api/v1/feedback/{id}/send", tag = "feedback", operation_id = "send_feedback", params(("id" = String, Path)), request_body = FeedbackInput,
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<FeedbackInput>,
) -> Result<StatusCode, AppError> {
    feedback::send(&state, &actor, &id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The report as a PDF letter (the team; the referrer once sent).
#[utoipa::path(get, path = "/api/v1/feedback/{id}/pdf", tag = "feedback", operation_id = "feedback_pdf", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = super::ErrorBody)))]
pub async fn pdf(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let bytes = feedback::pdf(&state, &actor, &id).await?;
    Ok(crate::web::pages::feedback::pdf_response(&id, bytes))
}

/// The trajectory as a FHIR R4 Bundle (`application/fhir+json`).
#[utoipa::path(get, path = "/api/v1/trajectories/{id}/fhir", tag = "feedback", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/fhir+json", body = Object), (status = 404, body = super::ErrorBody)))]
pub async fn fhir(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let bundle = feedback::fhir_bundle(&state, &actor, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/fhir+json")],
        Json(bundle),
    )
        .into_response())
}

/// The impact report of an organisation you coordinate or fund. A funder sees the
/// trajectories that contracts of its payers fund, as aggregates with cells under 10 people
/// as `null`, and `contracts` (0: nothing funded yet, so the report is empty). `by=region`
/// groups by the place of the offering's location; the group without a value (e.g. a
/// referral not yet placed with an offering) is labelled in the `Accept-Language` language.
#[utoipa::path(get, path = "/api/v1/reports/impact", tag = "feedback", params(ReportQuery),
    responses((status = 200, body = Impact), (status = 403, body = super::ErrorBody),
        (status = 404, description = "No such organisation, or none of yours.", body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn impact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Impact>, AppError> {
    let mut impact = reports::impact(&state, &actor, &q).await?;
    let lang = request_lang(&headers, true);
    reports::name_unknown(&mut impact, &lang.t("report-unknown"));
    Ok(Json(impact))
}
