//! `/api/v1/me`, tokens, the outbox and the audit log and its integrity.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use serde::Serialize;

use crate::{
    app::{
        AppError, accounts, audit,
        audit_chain::{self, ChainReport},
    },
    state::AppState,
    store::{audit::AuditRow, outbox::MailRow, users::ApiTokenRow},
    web::{
        ctx::ApiActor,
        pages::audit::{AuditQuery, filter_from_query},
        routes::RouteTable,
    },
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/api/v1/me", me)
        .get("/api/v1/me/sessions", sessions)
        .delete("/api/v1/me/sessions/{id}", end_session)
        .get("/api/v1/tokens", tokens)
        .delete("/api/v1/tokens/{id}", revoke_token)
        .get("/api/v1/outbox", outbox)
        .get("/api/v1/audit", audit)
        .get("/api/v1/audit/integrity", audit_integrity)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MembershipOut {
    pub org_id: String,
    pub org_name: String,
    pub org_kind: String,
    pub role: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeOut {
    pub id: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub lang: String,
    pub memberships: Vec<MembershipOut>,
}

/// The person the token belongs to, with their memberships.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", responses((status = 200, body = MeOut), (status = 401, body = super::ErrorBody)))]
pub async fn me(ApiActor(actor): ApiActor) -> Json<MeOut> {
    let i = actor.identity;
    Json(MeOut {
        id: i.user_id,
        name: i.name,
        email: i.email,
        is_admin: i.is_admin,
        lang: i.lang,
        memberships: i
            .memberships
            .into_iter()
            .map(|m| MembershipOut {
                org_id: m.org_id,
                org_name: m.org_name,
                org_kind: m.org_kind,
                role: m.role,
            })
            .collect(),
    })
}

/// Where you are signed in with a browser (the API token itself is not a session).
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "account", responses((status = 200, body = Vec<accounts::SessionInfo>), (status = 401, body = super::ErrorBody)))]
pub async fn sessions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<accounts::SessionInfo>>, AppError> {
    Ok(Json(accounts::sessions(&state, &actor, None).await?))
}

/// Signs one of your browser sessions out.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "account", params(("id" = String, Path)), responses((status = 204), (status = 401, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn end_session(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    accounts::end_session(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your personal API tokens (never the secret itself; it is shown once when created on the
/// account page).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "account", responses((status = 200, body = Vec<ApiTokenRow>), (status = 401, body = super::ErrorBody)))]
pub async fn tokens(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<ApiTokenRow>>, AppError> {
    Ok(Json(accounts::api_tokens(&state, &actor).await?))
}

/// Revokes one of your tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "account", params(("id" = String, Path)), responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    accounts::revoke_api_token(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every e-mail sent or waiting (administrator).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "admin", responses((status = 200, body = Vec<MailRow>), (status = 403, body = super::ErrorBody)))]
pub async fn outbox(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<MailRow>>, AppError> {
    Ok(Json(accounts::outbox(&state, &actor).await?))
}

/// The audit log of an organisation you coordinate (`org` required unless you are the
/// administrator), filtered by person (user id), record (id or type) and period
/// (`from`/`to` as `jjjj-mm-dd`, `to` inclusive).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(("org" = Option<String>, Query), ("person" = Option<String>, Query), ("record" = Option<String>, Query), ("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = Vec<AuditRow>), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditRow>>, AppError> {
    let filter = filter_from_query(&q)?;
    Ok(Json(audit::search(&state, &actor, filter).await?))
}

/// Checks the whole audit log against its hash chain and signed anchors (administrator): is it
/// still as it was written, and if not, where first not. Walks every entry, so at national
/// size it takes seconds. The check itself is audit-logged (`verify`).
#[utoipa::path(get, path = "/api/v1/audit/integrity", tag = "audit",
    responses((status = 200, body = ChainReport), (status = 403, body = super::ErrorBody)))]
pub async fn audit_integrity(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<ChainReport>, AppError> {
    Ok(Json(audit_chain::check_as(&state, &actor).await?))
}
