//! Trajectories over the API.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use duurloop_domain::plan::Plan;
use serde::Serialize;

use crate::{
    app::messages::MessageInput,
    app::{
        AppError,
        trajectories::{self, StatusInput, WeekInput},
    },
    state::AppState,
    store::{messages::MessageRow, trajectories::TrajectoryRow},
    web::{ctx::ApiActor, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/api/v1/trajectories/{id}", show)
        .put("/api/v1/trajectories/{id}/weeks/{week}", edit_week)
        .post("/api/v1/trajectories/{id}/status", change_status)
        .get("/api/v1/trajectories/{id}/messages", messages)
        .post("/api/v1/trajectories/{id}/messages", send_message)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TrajectoryOut {
    pub trajectory: TrajectoryRow,
    /// Weeks of `{number, sessions, session: {kind: intervals|continuous|walk, …}}`.
    #[schema(value_type = Object)]
    pub plan: Plan,
    pub runs: Vec<crate::store::portal::RunRow>,
    pub attendance: Vec<crate::store::groups::AttendanceLine>,
    /// The referral's status (`completed`, then `follow_up_done` once the follow-up is done).
    pub referral_status: String,
}

/// A trajectory with its plan (its therapist and the organisation's coordinators).
#[utoipa::path(get, path = "/api/v1/trajectories/{id}", tag = "training", operation_id = "show_trajectory", params(("id" = String, Path)),
    responses((status = 200, body = TrajectoryOut), (status = 404, body = super::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<TrajectoryOut>, AppError> {
    let v = trajectories::view(&state, &actor, &id).await?;
    Ok(Json(TrajectoryOut {
        trajectory: v.row,
        plan: v.plan,
        runs: v.runs,
        attendance: v.attendance,
        referral_status: v.referral_status,
    }))
}

/// Changes one week of the plan, within the method's limits (1–4 sessions, 5–90 minutes).
#[utoipa::path(put, path = "/api/v1/trajectories/{id}/weeks/{week}", tag = "training", params(("id" = String, Path), ("week" = u16, Path)), request_body = WeekInput,
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn edit_week(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, week)): Path<(String, u16)>,
    Json(b): Json<WeekInput>,
) -> Result<StatusCode, AppError> {
    trajectories::edit_week(&state, &actor, &id, week, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusOut {
    /// The referral's new status.
    pub status: String,
}

/// Starts, completes or ends a trajectory early (reason required), or (`follow_up`, after
/// completion) records that the follow-up is done; a place freed in a group is offered to the
/// next person on its waiting list.
#[utoipa::path(post, path = "/api/v1/trajectories/{id}/status", tag = "training", params(("id" = String, Path)), request_body = StatusInput,
    responses((status = 200, body = StatusOut), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn change_status(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<StatusInput>,
) -> Result<Json<StatusOut>, AppError> {
    let s = trajectories::change_status(&state, &actor, &id, &b).await?;
    Ok(Json(StatusOut {
        status: s.as_str().to_string(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MessagesOut {
    /// Oldest first.
    pub messages: Vec<MessageRow>,
}

/// The conversation with the participant, oldest first (the trajectory's therapist and the
/// organisation's coordinators; referrers and funders never). When the trajectory's therapist
/// reads it, the participant's messages are marked read. Audit-logged.
#[utoipa::path(get, path = "/api/v1/trajectories/{id}/messages", tag = "messages", operation_id = "trajectory_messages", params(("id" = String, Path)),
    responses((status = 200, body = MessagesOut), (status = 404, body = super::ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<MessagesOut>, AppError> {
    let messages = crate::app::messages::for_staff(&state, &actor, &id).await?;
    Ok(Json(MessagesOut { messages }))
}

/// Writes to the participant (1–4000 characters). The participant gets an e-mail that there
/// is a message (never its text), only for the first one they have not read yet.
#[utoipa::path(post, path = "/api/v1/trajectories/{id}/messages", tag = "messages", operation_id = "send_trajectory_message", params(("id" = String, Path)), request_body = MessageInput,
    responses((status = 201, body = super::IdOut), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn send_message(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<MessageInput>,
) -> Result<(StatusCode, Json<super::IdOut>), AppError> {
    let id = crate::app::messages::send_as_staff(&state, &actor, &id, &b).await?;
    Ok((StatusCode::CREATED, Json(super::IdOut { id })))
}
