//! Organisations and members over the API.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};

use crate::{
    app::{AppError, orgs},
    state::AppState,
    store::orgs::{MemberRow, OrgRow},
    web::{ctx::ApiActor, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/api/v1/organisations", list)
        .post("/api/v1/organisations", create)
        .get("/api/v1/organisations/{id}/members", members)
        .post("/api/v1/organisations/{id}/invitations", invite)
        .put("/api/v1/organisations/{id}/members/{user_id}", set_role)
        .delete("/api/v1/organisations/{id}/members/{user_id}", remove)
        .put(
            "/api/v1/organisations/{id}/share-referrals",
            share_referrals,
        )
}

/// Organisations you belong to (all of them for the administrator).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", operation_id = "list_organisations", responses((status = 200, body = Vec<OrgRow>), (status = 401, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<OrgRow>>, AppError> {
    Ok(Json(orgs::visible(&state, &actor).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewOrg {
    pub name: String,
    /// gp_practice, therapist_practice, care_group, municipality, employer, insurer, other_referrer
    pub kind: String,
}

/// Creates an organisation (administrator).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", operation_id = "create_organisation", request_body = NewOrg,
    responses((status = 201, body = OrgRow), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(b): Json<NewOrg>,
) -> Result<(StatusCode, Json<OrgRow>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(orgs::create(&state, &actor, &b.name, &b.kind).await?),
    ))
}

/// Members of an organisation (its coordinators and the administrator).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/members", tag = "organisations", params(("id" = String, Path)),
    responses((status = 200, body = Vec<MemberRow>), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<Vec<MemberRow>>, AppError> {
    Ok(Json(orgs::detail(&state, &actor, &id).await?.members))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewInvitation {
    pub email: String,
    /// coordinator, therapist, referrer, funder, participant
    pub role: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InvitationOut {
    pub id: String,
}

/// Invites a person by e-mail into the organisation with a role.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/invitations", tag = "organisations", operation_id = "invite_member", params(("id" = String, Path)), request_body = NewInvitation,
    responses((status = 201, body = InvitationOut), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<NewInvitation>,
) -> Result<(StatusCode, Json<InvitationOut>), AppError> {
    let id = orgs::invite(&state, &actor, &id, &b.email, &b.role).await?;
    Ok((StatusCode::CREATED, Json(InvitationOut { id })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RoleChange {
    pub role: String,
}

/// Changes a member's role.
#[utoipa::path(put, path = "/api/v1/organisations/{id}/members/{user_id}", tag = "organisations",
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = RoleChange,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, user_id)): Path<(String, String)>,
    Json(b): Json<RoleChange>,
) -> Result<StatusCode, AppError> {
    orgs::set_role(&state, &actor, &id, &user_id, &b.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member from the organisation.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/members/{user_id}", tag = "organisations",
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    orgs::remove_member(&state, &actor, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ShareIn {
    /// Whether the practice's referrers see each other's referrals.
    pub share: bool,
}

/// Lets the organisation's referrers see each other's referrals, or stops it (its
/// coordinators).
#[utoipa::path(put, path = "/api/v1/organisations/{id}/share-referrals", tag = "organisations",
    params(("id" = String, Path)), request_body = ShareIn,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn share_referrals(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<ShareIn>,
) -> Result<StatusCode, AppError> {
    orgs::set_share_referrals(&state, &actor, &id, b.share).await?;
    Ok(StatusCode::NO_CONTENT)
}
