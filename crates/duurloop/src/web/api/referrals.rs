//! Referrals over the API: the same actions as the pages.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};

use crate::{
    app::{
        AppError,
        referrals::{
            self, ClearanceInput, Created, DecisionInput, IntakeInput, InviteInput, ReferralInput,
        },
    },
    state::AppState,
    store::referrals::{EventRow, IntakeRow, ReferralRow},
    web::{ctx::ApiActor, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/api/v1/referrals", list)
        .post("/api/v1/referrals", create)
        .post("/api/v1/self-registrations", self_register)
        .get("/api/v1/referrals/{id}", show)
        .post("/api/v1/referrals/{id}/invite", invite)
        .post("/api/v1/referrals/{id}/plan-intake", plan_intake)
        .post("/api/v1/referrals/{id}/intake", intake)
        .post("/api/v1/referrals/{id}/clearance", clearance)
        .post("/api/v1/referrals/{id}/decision", decision)
        .post("/api/v1/referrals/{id}/reassign", reassign)
        .post("/api/v1/referrals/{id}/erase", erase)
        .put(
            "/api/v1/referrals/{id}/research-objection",
            set_research_objection,
        )
}

/// The referrals you may see.
#[utoipa::path(get, path = "/api/v1/referrals", tag = "referrals", operation_id = "list_referrals", responses((status = 200, body = Vec<ReferralRow>), (status = 401, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<ReferralRow>>, AppError> {
    Ok(Json(referrals::list(&state, &actor).await?))
}

/// Refers a client (as a member with the referrer or coordinator role). Sending the same
/// `submission_key` twice returns the first referral with `duplicate: true`.
#[utoipa::path(post, path = "/api/v1/referrals", tag = "referrals", operation_id = "create_referral", request_body = ReferralInput,
    responses((status = 201, body = Created), (status = 200, body = Created), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(b): Json<ReferralInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let c = referrals::refer(&state, &actor, &b).await?;
    Ok((
        if c.duplicate {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(c),
    ))
}

/// A client registers themself (no login).
#[utoipa::path(post, path = "/api/v1/self-registrations", tag = "referrals", security(()), request_body = ReferralInput,
    responses((status = 201, body = Created), (status = 422, body = super::ErrorBody)))]
pub async fn self_register(
    State(state): State<AppState>,
    crate::web::ctx::FromWhere(ctx): crate::web::ctx::FromWhere,
    Json(b): Json<ReferralInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let c = referrals::self_register(&state, &ctx, &b).await?;
    Ok((
        if c.duplicate {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(c),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReferralOut {
    pub referral: ReferralRow,
    pub timeline: Vec<EventRow>,
    pub intake: Option<IntakeRow>,
    /// The health screen has a flag without a recorded clearance: the client cannot start.
    pub blocked_by_screen: bool,
    /// For a referral whose data is not erased yet: the moment (milliseconds since the Unix
    /// epoch, like the other times) after which the participant's personal data is
    /// erased automatically, `retention_years` after the referral was closed, or for one still open
    /// and not started, `retention_years` after its last change (any later change moves it).
    /// The page shows its date in Europe/Amsterdam. Null while the trajectory runs (`started`,
    /// or `accepted` with its trajectory active) and once it is erased (then
    /// `referral.erased_at` says when).
    pub erase_after: Option<i64>,
}

/// One referral with its timeline and intake.
#[utoipa::path(get, path = "/api/v1/referrals/{id}", tag = "referrals", operation_id = "show_referral", params(("id" = String, Path)),
    responses((status = 200, body = ReferralOut), (status = 404, body = super::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<ReferralOut>, AppError> {
    let v = referrals::view(&state, &actor, &id).await?;
    Ok(Json(ReferralOut {
        referral: v.referral,
        timeline: v.timeline,
        intake: v.intake,
        blocked_by_screen: v.blocked_by_screen,
        erase_after: v.erase_after,
    }))
}

/// Invites the client for an intake (e-mail with a confirmation link).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/invite", tag = "referrals", operation_id = "invite_client", params(("id" = String, Path)), request_body = InviteInput,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<InviteInput>,
) -> Result<StatusCode, AppError> {
    referrals::invite(&state, &actor, &id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PlanIntake {
    pub planned_for: String,
}

/// Plans the intake.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/plan-intake", tag = "referrals", params(("id" = String, Path)), request_body = PlanIntake,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn plan_intake(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<PlanIntake>,
) -> Result<StatusCode, AppError> {
    referrals::plan_intake(&state, &actor, &id, &b.planned_for).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IntakeOut {
    /// A screen answer was "yes": a medical clearance is needed before the start.
    pub flagged: bool,
}

/// Records the intake: the health screen (every question "yes" or "no") and the baseline.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/intake", tag = "referrals", params(("id" = String, Path)), request_body = IntakeInput,
    responses((status = 200, body = IntakeOut), (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn intake(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<IntakeInput>,
) -> Result<Json<IntakeOut>, AppError> {
    let flagged = referrals::record_intake(&state, &actor, &id, &b).await?;
    Ok(Json(IntakeOut { flagged }))
}

/// Records a medical clearance (who, date, note) for a flagged health screen.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/clearance", tag = "referrals", params(("id" = String, Path)), request_body = ClearanceInput,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn clearance(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<ClearanceInput>,
) -> Result<StatusCode, AppError> {
    referrals::record_clearance(&state, &actor, &id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DecisionOut {
    pub status: String,
}

/// The decision after the intake: accept, waitlist or not_suitable (with a reason).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/decision", tag = "referrals", params(("id" = String, Path)), request_body = DecisionInput,
    responses((status = 200, body = DecisionOut), (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn decision(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<DecisionInput>,
) -> Result<Json<DecisionOut>, AppError> {
    let s = referrals::decide(&state, &actor, &id, &b).await?;
    Ok(Json(DecisionOut {
        status: s.as_str().to_string(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Reassign {
    pub offering_id: String,
}

/// Sends the referral to another offering (coordinator or movement broker).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/reassign", tag = "referrals", params(("id" = String, Path)), request_body = Reassign,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn reassign(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<Reassign>,
) -> Result<StatusCode, AppError> {
    referrals::reassign(&state, &actor, &id, &b.offering_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Erase {
    /// Why the data is erased (required; kept in the audit entry).
    #[serde(default)]
    pub reason: String,
}

/// Erases the participant's personal data of a closed referral (a coordinator of the
/// organisation whose offering holds it). Scores, attendance and dates stay for the reports;
/// the audit log stays. 422 when the reason is missing or the referral is still open, 409 when
/// it was erased already.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/erase", tag = "referrals", operation_id = "erase_referral", params(("id" = String, Path)), request_body = Erase,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn erase(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<Erase>,
) -> Result<StatusCode, AppError> {
    // The API call itself is the confirmation.
    referrals::erase(&state, &actor, &id, &b.reason, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records (`objects: true`) or withdraws the participant's objection to research use of
/// their data, as they told the therapist or coordinator; research exports leave the
/// referral out while it stands. The referral's therapist and coordinators only (the
/// referrer 403, anyone else 404).
#[utoipa::path(put, path = "/api/v1/referrals/{id}/research-objection", tag = "referrals", operation_id = "set_referral_research_objection", params(("id" = String, Path)), request_body = super::portal::ResearchObjection,
    responses((status = 200, body = super::portal::ResearchObjection), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn set_research_objection(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<super::portal::ResearchObjection>,
) -> Result<Json<super::portal::ResearchObjection>, AppError> {
    let since = referrals::set_research_objection(&state, &actor, &id, Some(b.objects)).await?;
    Ok(Json(super::portal::ResearchObjection::from_since(since)))
}
