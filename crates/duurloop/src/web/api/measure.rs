//! Questionnaires, measurements, scores and safety alerts over the API.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use duurloop_domain::measure::Instrument;
use serde::{Deserialize, Serialize};

use super::portal::ApiParticipant;
use crate::{
    app::{
        AppError,
        measure::{self, Access, AnswersInput, Course, MeasureSettings, QuestionnaireInput, Saved},
    },
    i18n::Lang,
    state::AppState,
    store::measure::{AlertRow, MeasurementRow},
    web::{
        ctx::{ApiActor, FromWhere},
        routes::RouteTable,
    },
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/api/v1/questionnaire/{token}", link_form)
        .put("/api/v1/questionnaire/{token}", link_save)
        .get("/api/v1/portal/measurements/{id}", portal_form)
        .put("/api/v1/portal/measurements/{id}", portal_save)
        .get("/api/v1/trajectories/{id}/measurements", results)
        .get("/api/v1/alerts", alerts)
        .post("/api/v1/alerts/{id}/acknowledge", acknowledge)
        .get("/api/v1/organisations/{id}/questionnaires", catalogue)
        .post(
            "/api/v1/organisations/{id}/questionnaires",
            create_questionnaire,
        )
        .put("/api/v1/questionnaires/{code}/active", set_active)
        .get("/api/v1/instruments/{code}", instrument)
        .get("/api/v1/offerings/{id}/measurement", settings)
        .put("/api/v1/offerings/{id}/measurement", set_settings)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FormOut {
    pub measurement: MeasurementRow,
    /// The instruments to answer, as definitions (items, options, texts in Dutch and English).
    #[schema(value_type = Vec<Object>)]
    pub instruments: Vec<Instrument>,
    /// Where to get help now, when a saved answer calls for it.
    pub help: Vec<String>,
}

fn form_out(f: measure::Form, lang: &str) -> FormOut {
    let mut help: Vec<String> = f.help.iter().map(|t| t.get(lang).to_string()).collect();
    help.dedup();
    FormOut {
        measurement: f.measurement,
        instruments: f.parts.into_iter().map(|p| p.instrument).collect(),
        help,
    }
}

fn lang_of(headers: &axum::http::HeaderMap) -> &'static str {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
        .code()
}

/// A questionnaire behind a link token (no account needed), with the answers saved so far.
#[utoipa::path(get, path = "/api/v1/questionnaire/{token}", tag = "measurement", params(("token" = String, Path)), security(()),
    responses((status = 200, body = FormOut), (status = 404, body = super::ErrorBody)))]
pub async fn link_form(
    State(state): State<AppState>,
    FromWhere(ctx): FromWhere,
    headers: axum::http::HeaderMap,
    Path(token): Path<String>,
) -> Result<Json<FormOut>, AppError> {
    let f = measure::form(&state, Access::Link(&token), &ctx).await?;
    Ok(Json(form_out(f, lang_of(&headers))))
}

/// Saves answers (`submit: false`) or hands them in (`submit: true`, every item answered).
/// An answer outside the options is refused (422); a used, expired or unknown token is 404.
#[utoipa::path(put, path = "/api/v1/questionnaire/{token}", tag = "measurement", params(("token" = String, Path)), security(()), request_body = AnswersInput,
    responses((status = 200, body = Saved), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn link_save(
    State(state): State<AppState>,
    FromWhere(ctx): FromWhere,
    headers: axum::http::HeaderMap,
    Path(token): Path<String>,
    Json(b): Json<AnswersInput>,
) -> Result<Json<Saved>, AppError> {
    Ok(Json(
        measure::save(&state, Access::Link(&token), &b, lang_of(&headers), &ctx).await?,
    ))
}

/// An open questionnaire of the signed-in participant.
#[utoipa::path(get, path = "/api/v1/portal/measurements/{id}", tag = "portal", params(("id" = String, Path)),
    responses((status = 200, body = FormOut), (status = 401, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn portal_form(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<FormOut>, AppError> {
    let f = measure::form(&state, Access::Portal(&p, &id), &ctx).await?;
    Ok(Json(form_out(f, lang_of(&headers))))
}

/// Saves or hands in the participant's answers.
#[utoipa::path(put, path = "/api/v1/portal/measurements/{id}", tag = "portal", params(("id" = String, Path)), request_body = AnswersInput,
    responses((status = 200, body = Saved), (status = 401, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn portal_save(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<AnswersInput>,
) -> Result<Json<Saved>, AppError> {
    Ok(Json(
        measure::save(&state, Access::Portal(&p, &id), &b, lang_of(&headers), &ctx).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ResultsOut {
    pub measurements: Vec<MeasurementRow>,
    /// Per instrument: the scores over time, bands and the reliable change from the first to
    /// the latest score.
    pub courses: Vec<Course>,
    pub alerts: Vec<AlertRow>,
}

/// A trajectory's measurements, scores and alerts (its therapist and coordinators).
#[utoipa::path(get, path = "/api/v1/trajectories/{id}/measurements", tag = "measurement", params(("id" = String, Path)),
    responses((status = 200, body = ResultsOut), (status = 404, body = super::ErrorBody)))]
pub async fn results(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ResultsOut>, AppError> {
    let r = measure::results(&state, &actor, &id, lang_of(&headers)).await?;
    Ok(Json(ResultsOut {
        measurements: r.measurements,
        courses: r.courses,
        alerts: r.alerts,
    }))
}

/// Safety alerts waiting for you.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "measurement",
    responses((status = 200, body = Vec<AlertRow>), (status = 401, body = super::ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<AlertRow>>, AppError> {
    Ok(Json(measure::open_alerts(&state, &actor).await?))
}

/// Marks a safety alert as seen and acted on.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "measurement", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    measure::acknowledge(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CatalogueOut {
    #[schema(value_type = Vec<Object>)]
    pub builtin: Vec<Instrument>,
    #[schema(value_type = Vec<Object>)]
    pub own: Vec<Instrument>,
    /// Codes of own questionnaires that are retired.
    pub retired: Vec<String>,
}

/// The built-in and the organisation's own questionnaires (its therapists and coordinators).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/questionnaires", tag = "measurement", params(("id" = String, Path)),
    responses((status = 200, body = CatalogueOut), (status = 403, body = super::ErrorBody)))]
pub async fn catalogue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(org): Path<String>,
) -> Result<Json<CatalogueOut>, AppError> {
    let c = measure::catalogue(&state, &actor, &org).await?;
    Ok(Json(CatalogueOut {
        builtin: c.builtin,
        retired: c
            .own
            .iter()
            .filter(|(_, active)| !active)
            .map(|(i, _)| i.code.clone())
            .collect(),
        own: c.own.into_iter().map(|(i, _)| i).collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeOut {
    pub code: String,
}

/// Makes an own short questionnaire (coordinators): items one per line (`(-)` reverses),
/// answer options one per line as `value text`.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/questionnaires", tag = "measurement", params(("id" = String, Path)), request_body = QuestionnaireInput,
    responses((status = 201, body = CodeOut), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create_questionnaire(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(org): Path<String>,
    Json(b): Json<QuestionnaireInput>,
) -> Result<(StatusCode, Json<CodeOut>), AppError> {
    let code = measure::create_questionnaire(&state, &actor, &org, &b).await?;
    Ok((StatusCode::CREATED, Json(CodeOut { code })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InstrumentOut {
    #[schema(value_type = Object)]
    pub definition: Instrument,
    /// The same as a FHIR R4 `Questionnaire` resource (Dutch texts).
    #[schema(value_type = Object)]
    pub fhir: serde_json::Value,
}

/// A built-in instrument's definition and its FHIR R4 Questionnaire.
#[utoipa::path(get, path = "/api/v1/instruments/{code}", tag = "measurement", params(("code" = String, Path)),
    responses((status = 200, body = InstrumentOut), (status = 404, body = super::ErrorBody)))]
pub async fn instrument(
    ApiActor(_actor): ApiActor,
    Path(code): Path<String>,
) -> Result<Json<InstrumentOut>, AppError> {
    let i = duurloop_domain::measure::builtin_by_code(&code).ok_or(AppError::NotFound)?;
    Ok(Json(InstrumentOut {
        fhir: i.to_fhir("nl"),
        definition: i,
    }))
}

/// An offering's measurement points and instruments.
#[utoipa::path(get, path = "/api/v1/offerings/{id}/measurement", tag = "measurement", params(("id" = String, Path)),
    responses((status = 200, body = MeasureSettings), (status = 403, body = super::ErrorBody)))]
pub async fn settings(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<MeasureSettings>, AppError> {
    Ok(Json(
        measure::offering_settings(&state, &actor, &id).await?.1,
    ))
}

/// Sets an offering's measurement points and instruments (for trajectories starting later).
#[utoipa::path(put, path = "/api/v1/offerings/{id}/measurement", tag = "measurement", params(("id" = String, Path)), request_body = MeasureSettings,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn set_settings(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<MeasureSettings>,
) -> Result<StatusCode, AppError> {
    measure::set_offering_settings(&state, &actor, &id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ActiveIn {
    /// Whether new measurement settings may choose the questionnaire.
    pub active: bool,
}

/// Switches an organisation's own questionnaire on or off (its coordinators).
#[utoipa::path(put, path = "/api/v1/questionnaires/{code}/active", tag = "measurement", params(("code" = String, Path)), request_body = ActiveIn,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn set_active(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
    Json(b): Json<ActiveIn>,
) -> Result<StatusCode, AppError> {
    measure::set_questionnaire_active(&state, &actor, &code, b.active).await?;
    Ok(StatusCode::NO_CONTENT)
}
