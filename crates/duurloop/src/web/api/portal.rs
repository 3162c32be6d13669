//! The participant portal over the API, for a phone app or a participant's own tools.
//!
//! Participants have no account: the magic link from their e-mail is exchanged once for a
//! portal session token (`POST /api/v1/portal/session`), which then goes in
//! `Authorization: Bearer …` exactly like the portal's cookie. It opens that one trajectory
//! and nothing else; personal API tokens of staff are not portal sessions and are refused.

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequestParts, Query, State},
    http::{StatusCode, request::Parts},
};
use duurloop_domain::plan::{Plan, Week};
use serde::{Deserialize, Serialize};

use crate::{
    app::{
        AppError,
        portal::{self, Participant, RunInput, WeekBar},
    },
    state::AppState,
    store::{groups::SessionRow, portal::RunRow},
    web::{
        ctx::{FromWhere, request_ctx},
        routes::RouteTable,
    },
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.post("/api/v1/portal/link", request_link)
        .post("/api/v1/portal/session", open_session)
        .delete("/api/v1/portal/session", close_session)
        .get("/api/v1/portal", home)
        .post("/api/v1/portal/runs", log_run)
        .post_upload(
            "/api/v1/portal/runs/upload",
            upload_run,
            duurloop_tracks::MAX_FILE_BYTES + 64 * 1024,
        )
        .post("/api/v1/portal/calendar-feed", new_calendar_feed)
        .get("/api/v1/portal/export", export)
        .put("/api/v1/portal/language", set_language)
        .get("/api/v1/portal/research-objection", research_objection)
        .put("/api/v1/portal/research-objection", set_research_objection)
        .get("/api/v1/portal/messages", messages)
        .post("/api/v1/portal/messages", send_message)
}

/// The participant behind a portal session token in `Authorization: Bearer`.
pub struct ApiParticipant(pub Participant, pub crate::app::RequestCtx);

impl FromRequestParts<AppState> for ApiParticipant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = crate::web::ctx::bearer(parts).ok_or(AppError::Unauthenticated)?;
        let p = portal::participant(state, token)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(ApiParticipant(p, request_ctx(parts, state)))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LinkIn {
    /// The address on the participant's referral.
    pub email: String,
    /// `nl` or `en`: the language of the mail. Left out, the participant's own (chosen on
    /// the referral or in the portal).
    #[serde(default)]
    pub lang: String,
}

/// Sends a sign-in link by e-mail when the address belongs to someone in an active
/// trajectory. The answer is the same either way.
#[utoipa::path(post, path = "/api/v1/portal/link", tag = "portal", request_body = LinkIn, security(()),
    responses((status = 202), (status = 422, body = super::ErrorBody)))]
pub async fn request_link(
    State(state): State<AppState>,
    FromWhere(ctx): FromWhere,
    Json(b): Json<LinkIn>,
) -> Result<StatusCode, AppError> {
    let lang = match b.lang.trim() {
        "" => None,
        code => Some(
            crate::i18n::Lang::parse(code)
                .filter(|l| l.code() == code)
                .ok_or(AppError::invalid("lang", "invalid-language"))?,
        ),
    };
    portal::request_link(&state, &b.email, lang, &ctx).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SessionIn {
    /// The token from the magic link in the e-mail (`…/portal/magic/{token}`); it works once.
    pub token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PortalSessionOut {
    /// Send as `Authorization: Bearer …`; it expires like a portal session.
    pub session: String,
}

/// Exchanges a magic link (once) for a portal session token.
#[utoipa::path(post, path = "/api/v1/portal/session", tag = "portal", request_body = SessionIn, security(()),
    responses((status = 201, body = PortalSessionOut), (status = 404, body = super::ErrorBody)))]
pub async fn open_session(
    State(state): State<AppState>,
    FromWhere(ctx): FromWhere,
    Json(b): Json<SessionIn>,
) -> Result<(StatusCode, Json<PortalSessionOut>), AppError> {
    let session = portal::open_link(&state, b.token.trim(), &ctx).await?;
    Ok((StatusCode::CREATED, Json(PortalSessionOut { session })))
}

/// Ends the portal session.
#[utoipa::path(delete, path = "/api/v1/portal/session", tag = "portal",
    responses((status = 204), (status = 401, body = super::ErrorBody)))]
pub async fn close_session(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
) -> Result<StatusCode, AppError> {
    portal::logout(&state, &p, &ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PortalOut {
    pub offering_title: String,
    pub start_date: String,
    /// The programme week today falls in (1-based).
    pub week: u16,
    /// What this week asks for: `{number, sessions, session: {kind, …}}`.
    #[schema(value_type = Object)]
    pub this_week: Option<Week>,
    #[schema(value_type = Object)]
    pub plan: Plan,
    /// The easy heart-rate zone, when known.
    pub hr_low: Option<i64>,
    pub hr_high: Option<i64>,
    /// The group's next three sessions; a cancelled one has `cancelled_at` and
    /// `cancel_reason`.
    pub next_sessions: Vec<SessionRow>,
    pub runs: Vec<RunRow>,
    /// Minutes run per week against the plan.
    pub weeks: Vec<WeekBar>,
    /// Messages from the therapist not opened yet (`GET /api/v1/portal/messages`).
    pub unread_messages: i64,
}

/// This week's plan, the next sessions, the runs and minutes per week against the plan.
#[utoipa::path(get, path = "/api/v1/portal", tag = "portal",
    responses((status = 200, body = PortalOut), (status = 401, body = super::ErrorBody)))]
pub async fn home(
    State(state): State<AppState>,
    FromWhere(ctx): FromWhere,
    headers: axum::http::HeaderMap,
) -> Result<Json<PortalOut>, AppError> {
    // The session, trajectory and lists in one statement (not the `ApiParticipant` look-up
    // followed by the lists): this is the participant's most frequent request.
    let token = crate::web::ctx::bearer_in(&headers).ok_or(AppError::Unauthenticated)?;
    let home = portal::home_by_token(&state, token, None, &ctx)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let (v, t) = (home.view, home.participant.trajectory);
    Ok(Json(PortalOut {
        offering_title: t.offering_title,
        start_date: t.start_date,
        week: v.week,
        this_week: v.this_week,
        plan: v.plan,
        hr_low: t.hr_low,
        hr_high: t.hr_high,
        next_sessions: v.next_sessions,
        runs: v.runs,
        weeks: v.bars,
        unread_messages: v.unread_messages,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RunOut {
    pub id: String,
}

/// Logs a run by hand: date, minutes, optional distance, exertion (Borg CR10), mood before
/// and after (1–5), pain and where, a note.
#[utoipa::path(post, path = "/api/v1/portal/runs", tag = "portal", request_body = RunInput,
    responses((status = 201, body = RunOut), (status = 401, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn log_run(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
    Json(b): Json<RunInput>,
) -> Result<(StatusCode, Json<RunOut>), AppError> {
    let id = portal::log_run(&state, &p, &b, &ctx).await?;
    Ok((StatusCode::CREATED, Json(RunOut { id })))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name; its extension helps when the content does not tell the format.
    #[serde(default)]
    pub name: String,
    /// Borg CR10, 0–10.
    #[serde(default)]
    pub exertion: String,
    /// "yes" when something hurt.
    #[serde(default)]
    pub pain: String,
    #[serde(default)]
    pub pain_where: String,
    #[serde(default)]
    pub note: String,
}

/// Uploads a GPX, TCX or FIT file as the raw request body. Only the summary is kept (no
/// track); a broken, oversized or hostile file is refused and nothing is stored.
#[utoipa::path(post, path = "/api/v1/portal/runs/upload", tag = "portal", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = RunOut), (status = 401, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn upload_run(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
    Query(q): Query<UploadParams>,
    body: Bytes,
) -> Result<(StatusCode, Json<RunOut>), AppError> {
    if body.is_empty() {
        return Err(AppError::invalid("file", "track-empty"));
    }
    let input = RunInput {
        exertion: q.exertion,
        pain: q.pain,
        pain_where: q.pain_where,
        note: q.note,
        ..Default::default()
    };
    let id = portal::upload_run(&state, &p, &q.name, &body, &input, &ctx).await?;
    Ok((StatusCode::CREATED, Json(RunOut { id })))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct LanguageIn {
    /// `nl` or `en`
    pub lang: String,
}

/// Chooses the language of the participant's mails (sign-in links, questionnaires, cancelled
/// sessions); answers the language stored.
#[utoipa::path(put, path = "/api/v1/portal/language", tag = "portal", operation_id = "set_portal_language", request_body = LanguageIn,
    responses((status = 200, body = LanguageIn), (status = 401, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn set_language(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
    Json(b): Json<LanguageIn>,
) -> Result<Json<LanguageIn>, AppError> {
    let lang = portal::set_language(&state, &p, &b.lang, &ctx).await?;
    Ok(Json(LanguageIn {
        lang: lang.to_string(),
    }))
}

/// Whether the participant objects to the use of their data for research.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct ResearchObjection {
    /// True: the data are left out of every research export.
    pub objects: bool,
    /// Since when (milliseconds since 1970), if `objects`; ignored when sent.
    #[serde(default)]
    pub since: Option<i64>,
}

impl ResearchObjection {
    pub fn from_since(since: Option<i64>) -> Self {
        Self {
            objects: since.is_some(),
            since,
        }
    }
}

/// Whether the participant objects to research use of their data (WGBO art. 7:458).
#[utoipa::path(get, path = "/api/v1/portal/research-objection", tag = "portal", operation_id = "portal_research_objection",
    responses((status = 200, body = ResearchObjection), (status = 401, body = super::ErrorBody)))]
pub async fn research_objection(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
) -> Result<Json<ResearchObjection>, AppError> {
    let since = portal::research_objection(&state, &p, &ctx).await?;
    Ok(Json(ResearchObjection::from_since(since)))
}

/// Objects to research use of the participant's data (`objects: true`; research exports
/// leave it out from then on) or withdraws the objection. Objecting again keeps the first
/// moment.
#[utoipa::path(put, path = "/api/v1/portal/research-objection", tag = "portal", operation_id = "set_portal_research_objection", request_body = ResearchObjection,
    responses((status = 200, body = ResearchObjection), (status = 401, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn set_research_objection(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
    Json(b): Json<ResearchObjection>,
) -> Result<Json<ResearchObjection>, AppError> {
    let since = portal::set_research_objection(&state, &p, b.objects, &ctx).await?;
    Ok(Json(ResearchObjection::from_since(since)))
}

/// Makes a new secret calendar (iCal) link with the group's sessions; the old one stops.
#[utoipa::path(post, path = "/api/v1/portal/calendar-feed", tag = "portal", operation_id = "new_portal_calendar_feed",
    responses((status = 201, body = super::groups::FeedOut), (status = 401, body = super::ErrorBody)))]
pub async fn new_calendar_feed(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
) -> Result<(StatusCode, Json<super::groups::FeedOut>), AppError> {
    let token = portal::new_calendar_feed(&state, &p, &ctx).await?;
    Ok((
        StatusCode::CREATED,
        Json(super::groups::FeedOut {
            url: format!("{}/ical/{token}.ics", state.config.base_url),
        }),
    ))
}

/// Everything Duurloop holds about the participant's trajectory, as one JSON file: the
/// referral, intake, trajectory and plan, group sessions with attendance, runs, measurements
/// with answers and scores, safety alerts, feedback reports, and the audit entries about
/// their record (who saw or changed what, when, in which role). The download is audit-logged.
#[utoipa::path(get, path = "/api/v1/portal/export", tag = "portal", operation_id = "portal_export",
    responses((status = 200, body = portal::Export, content_type = "application/json",
        headers(("content-disposition" = String, description = "attachment; filename=\"duurloop-mijn-gegevens-jjjj-mm-dd.json\""))),
        (status = 401, body = super::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
) -> Result<axum::response::Response, AppError> {
    let e = portal::export(&state, &p, &ctx).await?;
    Ok(crate::web::pages::portal::export_download(&e))
}

/// The conversation with the therapist, oldest first; reading it marks the therapist's
/// messages read. Audit-logged.
#[utoipa::path(get, path = "/api/v1/portal/messages", tag = "portal", operation_id = "portal_messages",
    responses((status = 200, body = super::trajectories::MessagesOut), (status = 401, body = super::ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
) -> Result<Json<super::trajectories::MessagesOut>, AppError> {
    let messages = crate::app::messages::for_participant(&state, &p, &ctx).await?;
    Ok(Json(super::trajectories::MessagesOut { messages }))
}

/// Writes to the therapist (1–4000 characters). The therapist gets an e-mail that there is a
/// message (never its text), only for the first one they have not read yet.
#[utoipa::path(post, path = "/api/v1/portal/messages", tag = "portal", operation_id = "send_portal_message", request_body = crate::app::messages::MessageInput,
    responses((status = 201, body = super::IdOut), (status = 401, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn send_message(
    State(state): State<AppState>,
    ApiParticipant(p, ctx): ApiParticipant,
    Json(b): Json<crate::app::messages::MessageInput>,
) -> Result<(StatusCode, Json<super::IdOut>), AppError> {
    let id = crate::app::messages::send_as_participant(&state, &p, &b, &ctx).await?;
    Ok((StatusCode::CREATED, Json(super::IdOut { id })))
}
