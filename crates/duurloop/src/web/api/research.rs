//! The pseudonymised research export over the API.

use axum::{Json, extract::State, http::HeaderMap, response::Response};

use crate::{
    app::{
        AppError,
        research::{self, ExportInput},
    },
    state::AppState,
    web::{
        ctx::{ApiActor, request_lang},
        routes::RouteTable,
    },
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.post("/api/v1/research/export", export)
}

/// A pseudonymised research export of an organisation you coordinate: one row per referral
/// that reached intake in the period, with a pseudonym per study instead of any identifier.
/// CSV is the data with one header row; XLSX adds the codebook as a second sheet. Every
/// included record is audit-logged with the study code and purpose.
#[utoipa::path(post, path = "/api/v1/research/export", tag = "research", request_body = ExportInput,
    responses(
        (status = 200, description = "The file.", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, description = "You coordinate no organisation, or not this one.", body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Json(input): Json<ExportInput>,
) -> Result<Response, AppError> {
    let e = research::export(&state, &actor, &input).await?;
    crate::web::pages::research::file_response(&e, request_lang(&headers, true))
}
