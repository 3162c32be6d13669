//! Payers, contracts, funding per trajectory, invoices and budgets over the API (SPEC C9).

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use serde::{Deserialize, Serialize};

use crate::{
    app::{
        AppError,
        funding::{
            self, Budget, ContractEndInput, ContractInput, GenerateInput, InvoiceList, InvoiceView,
            Overview, PayerDetailsInput, PayerInput, TrajectoryFunding,
        },
    },
    state::AppState,
    store::funding::{ContractRow, PayerRow},
    web::{ctx::ApiActor, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/api/v1/payers", payers)
        .post("/api/v1/payers", create_payer)
        .put("/api/v1/payers/{id}", update_payer)
        .post("/api/v1/payers/{id}/contracts", create_contract)
        .post("/api/v1/contracts/{id}/end", end_contract)
        .get("/api/v1/trajectories/{id}/funding", trajectory_funding)
        .put("/api/v1/trajectories/{id}/funding", set_trajectory_funding)
        .get("/api/v1/invoices", invoices)
        .post("/api/v1/invoices", generate)
        .get("/api/v1/invoices/export.csv", export_csv)
        .get("/api/v1/invoices/{id}", invoice)
        .delete("/api/v1/invoices/{id}", delete)
        .post("/api/v1/invoices/{id}/send", send)
        .post("/api/v1/invoices/{id}/paid", paid)
        .post("/api/v1/invoices/{id}/credit", credit)
        .get("/api/v1/invoices/{id}/pdf", pdf)
        .get("/api/v1/budgets", budgets)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct OrgParam {
    /// The organisation (billing: its coordinator; funder: its funders).
    pub org: String,
    /// `YYYY-MM-DD`, for the CSV export: invoices sent from this day.
    #[serde(default)]
    pub from: String,
    /// `YYYY-MM-DD`, for the CSV export: invoices sent until this day.
    #[serde(default)]
    pub to: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IdOut {
    pub id: String,
}

/// A billing organisation's payers and contracts with their tariffs (its coordinator).
#[utoipa::path(get, path = "/api/v1/payers", tag = "funding", params(OrgParam),
    responses((status = 200, body = Overview), (status = 403, body = super::ErrorBody)))]
pub async fn payers(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<OrgParam>,
) -> Result<Json<Overview>, AppError> {
    Ok(Json(funding::overview(&state, &actor, &q.org).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PayerIn {
    pub org: String,
    #[serde(flatten)]
    pub payer: PayerInput,
}

/// Records a payer of a billing organisation (its coordinator).
#[utoipa::path(post, path = "/api/v1/payers", tag = "funding", request_body = PayerIn,
    responses((status = 201, body = IdOut), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create_payer(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(b): Json<PayerIn>,
) -> Result<(StatusCode, Json<IdOut>), AppError> {
    let id = funding::create_payer(&state, &actor, &b.org, &b.payer).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id })))
}

/// Changes a payer's name, reference, address and e-mail (its billing organisation's
/// coordinator). Invoices already sent keep the details they were sent with.
#[utoipa::path(put, path = "/api/v1/payers/{id}", tag = "funding", params(("id" = String, Path)), request_body = PayerDetailsInput,
    responses((status = 200, body = PayerRow), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update_payer(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<PayerDetailsInput>,
) -> Result<Json<PayerRow>, AppError> {
    Ok(Json(funding::update_payer(&state, &actor, &id, &b).await?))
}

/// Ends a contract on a day (or ends it earlier): not before its start or the last day billed
/// under it. Tariffs and limits never change.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/end", tag = "funding", params(("id" = String, Path)), request_body = ContractEndInput,
    responses((status = 200, body = ContractRow), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn end_contract(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<ContractEndInput>,
) -> Result<Json<ContractRow>, AppError> {
    Ok(Json(funding::end_contract(&state, &actor, &id, &b).await?))
}

/// Adds a contract with tariffs (euros per service) and limits to a payer.
#[utoipa::path(post, path = "/api/v1/payers/{id}/contracts", tag = "funding", params(("id" = String, Path)), request_body = ContractInput,
    responses((status = 201, body = IdOut), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create_contract(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<ContractInput>,
) -> Result<(StatusCode, Json<IdOut>), AppError> {
    let id = funding::create_contract(&state, &actor, &id, &b).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id })))
}

/// A trajectory's funding sources, their use, and warnings before a limit (its team).
#[utoipa::path(get, path = "/api/v1/trajectories/{id}/funding", tag = "funding", params(("id" = String, Path)),
    responses((status = 200, body = TrajectoryFunding), (status = 404, body = super::ErrorBody)))]
pub async fn trajectory_funding(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<TrajectoryFunding>, AppError> {
    Ok(Json(funding::of_trajectory(&state, &actor, &id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SourcesIn {
    /// Contract ids, first source first.
    pub contracts: Vec<String>,
}

/// Sets a trajectory's funding sources in order (its team).
#[utoipa::path(put, path = "/api/v1/trajectories/{id}/funding", tag = "funding", params(("id" = String, Path)), request_body = SourcesIn,
    responses((status = 200, body = TrajectoryFunding), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn set_trajectory_funding(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<SourcesIn>,
) -> Result<Json<TrajectoryFunding>, AppError> {
    Ok(Json(
        funding::set_for_trajectory(&state, &actor, &id, &b.contracts).await?,
    ))
}

/// Invoices of a billing organisation (its coordinator) or sent to a funder organisation.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "funding", params(OrgParam),
    responses((status = 200, body = InvoiceList), (status = 403, body = super::ErrorBody)))]
pub async fn invoices(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<OrgParam>,
) -> Result<Json<InvoiceList>, AppError> {
    Ok(Json(funding::invoices(&state, &actor, &q.org).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct GenerateIn {
    pub org: String,
    #[serde(flatten)]
    pub input: GenerateInput,
}

/// Makes a draft invoice to a payer for a period from the recorded, unbilled events.
#[utoipa::path(post, path = "/api/v1/invoices", tag = "funding", request_body = GenerateIn,
    responses((status = 201, body = IdOut), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn generate(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(b): Json<GenerateIn>,
) -> Result<(StatusCode, Json<IdOut>), AppError> {
    let id = funding::generate(&state, &actor, &b.org, &b.input).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id })))
}

/// An invoice with its lines.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "funding", params(("id" = String, Path)),
    responses((status = 200, body = InvoiceView), (status = 404, body = super::ErrorBody)))]
pub async fn invoice(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<InvoiceView>, AppError> {
    Ok(Json(funding::view(&state, &actor, &id).await?))
}

/// Deletes a draft invoice (its events can be billed again).
#[utoipa::path(delete, path = "/api/v1/invoices/{id}", tag = "funding", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    funding::delete_draft(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NumberOut {
    pub number: String,
}

/// Sends a draft: it gets the next number and can no longer change.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/send", tag = "funding", params(("id" = String, Path)),
    responses((status = 200, body = NumberOut), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<NumberOut>, AppError> {
    let number = funding::send(&state, &actor, &id).await?;
    Ok(Json(NumberOut { number }))
}

/// Marks a sent invoice paid.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/paid", tag = "funding", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn paid(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    funding::mark_paid(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Credits a sent or paid invoice in full with a credit note (returned).
#[utoipa::path(post, path = "/api/v1/invoices/{id}/credit", tag = "funding", params(("id" = String, Path)),
    responses((status = 201, body = IdOut), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn credit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<IdOut>), AppError> {
    let id = funding::credit(&state, &actor, &id).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id })))
}

/// The invoice as a PDF.
#[utoipa::path(get, path = "/api/v1/invoices/{id}/pdf", tag = "funding", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = super::ErrorBody)))]
pub async fn pdf(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let bytes = funding::pdf(&state, &actor, &id).await?;
    Ok(crate::web::pages::funding::pdf_response(&id, bytes))
}

/// The lines of sent invoices and credit notes as CSV (amounts in cents).
#[utoipa::path(get, path = "/api/v1/invoices/export.csv", tag = "funding", params(OrgParam),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = super::ErrorBody)))]
pub async fn export_csv(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<OrgParam>,
) -> Result<Response, AppError> {
    let body = funding::csv(&state, &actor, &q.org, &q.from, &q.to).await?;
    Ok(crate::web::pages::funding::csv_response(body))
}

/// Budgets of contracts and their use (the billing coordinator, or the payer's funders).
#[utoipa::path(get, path = "/api/v1/budgets", tag = "funding", params(OrgParam),
    responses((status = 200, body = Vec<Budget>), (status = 403, body = super::ErrorBody)))]
pub async fn budgets(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<OrgParam>,
) -> Result<Json<Vec<Budget>>, AppError> {
    Ok(Json(funding::budgets(&state, &actor, &q.org).await?))
}
