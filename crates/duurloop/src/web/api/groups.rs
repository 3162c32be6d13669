//! Groups, sessions and attendance over the API.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};

use crate::{
    app::{
        AppError,
        funding::SessionFunding,
        groups::{self, AttendanceInput, SlotInput},
    },
    state::AppState,
    store::groups::{ParticipantRow, SessionRow, SlotRow},
    web::{ctx::ApiActor, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/api/v1/offerings/{id}/group", group)
        .post("/api/v1/offerings/{id}/slots", add_slot)
        .get("/api/v1/sessions/{id}", session)
        .put(
            "/api/v1/sessions/{id}/attendance/{trajectory_id}",
            attendance,
        )
        .post("/api/v1/sessions/{id}/cancel", cancel)
        .post("/api/v1/calendar-feed", new_calendar_feed)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedOut {
    /// The secret iCal link; making a new one stops the old one.
    pub url: String,
}

/// Makes a new secret calendar (iCal) link with the sessions you run as therapist.
#[utoipa::path(post, path = "/api/v1/calendar-feed", tag = "training", responses((status = 201, body = FeedOut), (status = 401, body = super::ErrorBody)))]
pub async fn new_calendar_feed(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<(StatusCode, Json<FeedOut>), AppError> {
    let token = groups::new_calendar_feed(&state, &actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(FeedOut {
            url: format!("{}/ical/{token}.ics", state.config.base_url),
        }),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupOut {
    pub slots: Vec<SlotRow>,
    pub sessions: Vec<SessionRow>,
    pub participants: Vec<ParticipantRow>,
    /// Metres covered by all participants together (each participant's is `distance_m`).
    pub distance_m: i64,
}

/// An offering's weekly schedule, sessions and participants (its therapists and coordinators).
#[utoipa::path(get, path = "/api/v1/offerings/{id}/group", tag = "training", params(("id" = String, Path)),
    responses((status = 200, body = GroupOut), (status = 403, body = super::ErrorBody)))]
pub async fn group(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<GroupOut>, AppError> {
    let g = groups::group(&state, &actor, &id).await?;
    Ok(Json(GroupOut {
        distance_m: g.distance_m(),
        slots: g.slots,
        sessions: g.sessions,
        participants: g.participants,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SlotOut {
    /// Sessions generated over the programme.
    pub sessions: usize,
}

/// Adds a weekly slot and generates its sessions.
#[utoipa::path(post, path = "/api/v1/offerings/{id}/slots", tag = "training", params(("id" = String, Path)), request_body = SlotInput,
    responses((status = 201, body = SlotOut), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn add_slot(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<SlotInput>,
) -> Result<(StatusCode, Json<SlotOut>), AppError> {
    let sessions = groups::add_slot(&state, &actor, &id, &b).await?;
    Ok((StatusCode::CREATED, Json(SlotOut { sessions })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionOut {
    pub session: SessionRow,
    pub participants: Vec<ParticipantRow>,
    /// Per participant with funding: whether this session would be (or is) paid for when
    /// attended, and the warnings before a funding limit, on the session's date.
    pub funding: SessionFunding,
}

/// A session with each participant's attendance and funding warnings.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "training", params(("id" = String, Path)),
    responses((status = 200, body = SessionOut), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<SessionOut>, AppError> {
    let s = groups::session(&state, &actor, &id).await?;
    Ok(Json(SessionOut {
        session: s.session,
        participants: s.participants,
        funding: s.funding,
    }))
}

/// Records one participant's attendance (present, absent_notice, absent) and a note.
#[utoipa::path(put, path = "/api/v1/sessions/{id}/attendance/{trajectory_id}", tag = "training", params(("id" = String, Path), ("trajectory_id" = String, Path)), request_body = AttendanceInput,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn attendance(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, trajectory)): Path<(String, String)>,
    Json(b): Json<AttendanceInput>,
) -> Result<StatusCode, AppError> {
    groups::record_attendance(&state, &actor, &id, &trajectory, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CancelInput {
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CancelOut {
    /// Participants told by e-mail.
    pub notified: usize,
}

/// Cancels a session and tells the participants.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/cancel", tag = "training", params(("id" = String, Path)), request_body = CancelInput,
    responses((status = 200, body = CancelOut), (status = 403, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Json(b): Json<CancelInput>,
) -> Result<Json<CancelOut>, AppError> {
    let notified = groups::cancel(&state, &actor, &id, &b.reason).await?;
    Ok(Json(CancelOut { notified }))
}
