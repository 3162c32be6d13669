//! The directory over the API: public search and offering details; maintenance of therapist
//! profiles, locations and offerings by the organisation's therapists and coordinators.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};

use crate::{
    app::{
        AppError,
        directory::{self, LocationInput, OfferingInput, SearchHit, SearchQuery, TherapistInput},
    },
    state::AppState,
    store::directory::{LocationRow, OfferingRow, TherapistRow},
    web::{api::IdOut, ctx::ApiActor, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/api/v1/offerings", search)
        .get("/api/v1/therapists", register)
        .get("/api/v1/offerings/{id}", offering)
        .put("/api/v1/offerings/{id}", update_offering)
        .put("/api/v1/offerings/{id}/listing", set_listing)
        .get("/api/v1/organisations/{id}/directory", org_directory)
        .post("/api/v1/organisations/{id}/offerings", create_offering)
        .post("/api/v1/organisations/{id}/therapists", create_therapist)
        .put("/api/v1/therapists/{id}", update_therapist)
        .post("/api/v1/organisations/{id}/locations", create_location)
        .put("/api/v1/locations/{id}", update_location)
}

/// The public register of therapists with a listed offering: registration, organisation,
/// offerings and places; nearest first from a Dutch postcode, or filtered by name. No login.
#[utoipa::path(get, path = "/api/v1/therapists", tag = "directory", security(()), params(directory::RegisterQuery),
    responses((status = 200, body = Vec<directory::RegisteredTherapist>), (status = 422, body = super::ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    Query(q): Query<directory::RegisterQuery>,
) -> Result<Json<Vec<directory::RegisteredTherapist>>, AppError> {
    Ok(Json(directory::register(&state, &q).await?))
}

/// Searches listed offerings by distance from a Dutch postcode and filters. No login needed.
#[utoipa::path(get, path = "/api/v1/offerings", tag = "directory", security(()), params(SearchQuery),
    responses((status = 200, body = Vec<SearchHit>), (status = 422, body = super::ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<SearchHit>>, AppError> {
    Ok(Json(directory::search(&state, &q).await?))
}

/// One listed offering (its information sheet). No login needed.
#[utoipa::path(get, path = "/api/v1/offerings/{id}", tag = "directory", security(()), params(("id" = String, Path)),
    responses((status = 200, body = OfferingRow), (status = 404, body = super::ErrorBody)))]
pub async fn offering(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OfferingRow>, AppError> {
    Ok(Json(directory::offering(&state, None, &id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgDirectoryOut {
    pub therapists: Vec<TherapistRow>,
    pub locations: Vec<LocationRow>,
    pub offerings: Vec<OfferingRow>,
}

/// The organisation's therapists, locations and offerings (listed or not).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/directory", tag = "directory", params(("id" = String, Path)),
    responses((status = 200, body = OrgDirectoryOut), (status = 403, body = super::ErrorBody)))]
pub async fn org_directory(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<OrgDirectoryOut>, AppError> {
    let d = directory::org_directory(&state, &actor, &id).await?;
    Ok(Json(OrgDirectoryOut {
        therapists: d.therapists,
        locations: d.locations,
        offerings: d.offerings,
    }))
}

/// Adds an offering (listed at once).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/offerings", tag = "directory", params(("id" = String, Path)), request_body = OfferingInput,
    responses((status = 201, body = IdOut), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create_offering(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<OfferingInput>,
) -> Result<(StatusCode, Json<IdOut>), AppError> {
    let id = directory::create_offering(&state, &actor, &id, &b).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id })))
}

/// Changes an offering.
#[utoipa::path(put, path = "/api/v1/offerings/{id}", tag = "directory", params(("id" = String, Path)), request_body = OfferingInput,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update_offering(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<OfferingInput>,
) -> Result<StatusCode, AppError> {
    directory::update_offering(&state, &actor, &id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Listing {
    pub listed: bool,
}

/// Lists or unlists an offering (coordinators curate the list).
#[utoipa::path(put, path = "/api/v1/offerings/{id}/listing", tag = "directory", params(("id" = String, Path)), request_body = Listing,
    responses((status = 204), (status = 403, body = super::ErrorBody)))]
pub async fn set_listing(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<Listing>,
) -> Result<StatusCode, AppError> {
    directory::set_listed(&state, &actor, &id, b.listed).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a therapist profile.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/therapists", tag = "directory", params(("id" = String, Path)), request_body = TherapistInput,
    responses((status = 201, body = IdOut), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create_therapist(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<TherapistInput>,
) -> Result<(StatusCode, Json<IdOut>), AppError> {
    let id = directory::create_therapist(&state, &actor, &id, &b).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id })))
}

/// Changes a therapist profile.
#[utoipa::path(put, path = "/api/v1/therapists/{id}", tag = "directory", params(("id" = String, Path)), request_body = TherapistInput,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update_therapist(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<TherapistInput>,
) -> Result<StatusCode, AppError> {
    directory::update_therapist(&state, &actor, &id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a location (its postcode gives the coordinates for distance search).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/locations", tag = "directory", params(("id" = String, Path)), request_body = LocationInput,
    responses((status = 201, body = IdOut), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create_location(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<LocationInput>,
) -> Result<(StatusCode, Json<IdOut>), AppError> {
    let id = directory::create_location(&state, &actor, &id, &b).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id })))
}

/// Changes a location.
#[utoipa::path(put, path = "/api/v1/locations/{id}", tag = "directory", params(("id" = String, Path)), request_body = LocationInput,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update_location(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<LocationInput>,
) -> Result<StatusCode, AppError> {
    directory::update_location(&state, &actor, &id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}
