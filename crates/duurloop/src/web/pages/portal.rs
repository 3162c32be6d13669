//! The participant portal pages (mobile first): magic-link sign-in, this week's plan, next
//! sessions, logging a run, minutes per week against the plan, and messages with the therapist.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{
        AppError,
        portal::{self, Participant, PortalView, RunInput},
    },
    state::AppState,
    web::{
        ctx::{FromWhere, PageCtx, cookie, lang_cookie},
        form::Pairs,
        routes::RouteTable,
    },
};

pub const PORTAL_COOKIE: &str = "dl_portal";

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/portal/login", login_form)
        .post("/portal/login", request_link)
        .get("/portal/magic/{token}", magic_form)
        .post("/portal/magic/{token}", open_link)
        .get("/portal", home)
        .post("/portal/runs", log_run)
        .post_upload(
            "/portal/runs/upload",
            upload_run,
            duurloop_tracks::MAX_FILE_BYTES + 64 * 1024,
        )
        .post("/portal/logout", logout)
        .post("/portal/calendar", new_calendar_feed)
        .get("/portal/export", export)
        .get("/portal/lang/{code}", switch_language)
        .get("/portal/berichten", messages_page)
        .post("/portal/berichten", send_message)
        .get("/portal/onderzoek", research_page)
        .post("/portal/onderzoek", set_research_objection)
}

/// The language switch on portal pages (the portal cookie is sent only under `/portal`):
/// as `/lang/{code}`, and the participant's mails follow the choice.
async fn switch_language(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<super::home::Back>,
    page: PageCtx,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let lang = crate::i18n::Lang::parse(&code).ok_or(AppError::NotFound)?;
    if let Some(p) = participant(&state, &headers).await? {
        portal::set_language(&state, &p, lang.code(), &page.ctx).await?;
    }
    let back = super::auth::safe_next(q.back.as_deref());
    Ok((
        [(header::SET_COOKIE, lang_cookie(&state, lang))],
        Redirect::to(&back),
    )
        .into_response())
}

pub(super) async fn participant(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Participant>, AppError> {
    match cookie(headers, PORTAL_COOKIE) {
        Some(token) => portal::participant(state, token).await,
        None => Ok(None),
    }
}

fn to_login() -> Response {
    Redirect::to("/portal/login").into_response()
}

#[derive(Template)]
#[template(path = "portal_login.html")]
struct LoginPage {
    base: Base,
    sent: bool,
    /// Shown after a sign-in link that is used up or too old: the form to ask a new one, with
    /// a line that says why (links work ten minutes, so this is the common case, not an error).
    spent_link: bool,
    errors: FormErrors,
}

/// The sign-in form for a link that no longer works, answered as 404 (the link is gone).
fn spent_link(page: &PageCtx) -> Result<Response, AppError> {
    let mut resp = render(LoginPage {
        base: Base::new(page, "portal-login-title"),
        sent: false,
        spent_link: true,
        errors: FormErrors::default(),
    })?;
    *resp.status_mut() = StatusCode::NOT_FOUND;
    Ok(resp)
}

async fn login_form(page: PageCtx) -> Result<Response, AppError> {
    render(LoginPage {
        base: Base::new(&page, "portal-login-title"),
        sent: false,
        spent_link: false,
        errors: FormErrors::default(),
    })
}

/// The link's mail is in the language the visitor chose on this page, if they chose one
/// (else the participant's own).
async fn request_link(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
    f: Pairs,
) -> Result<Response, AppError> {
    let chosen = crate::web::ctx::chosen_lang(&headers);
    match portal::request_link(&state, &f.get("email"), chosen, &page.ctx).await {
        Ok(()) => render(LoginPage {
            base: Base::new(&page, "portal-login-title"),
            sent: true,
            spent_link: false,
            errors: FormErrors::default(),
        }),
        Err(e) => {
            let base = Base::new(&page, "portal-login-title");
            show_again(page.lang, e, |errors| async {
                render(LoginPage {
                    base,
                    sent: false,
                    spent_link: false,
                    errors,
                })
            })
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "portal_magic.html")]
struct MagicPage {
    base: Base,
    token: String,
}

/// The link from the e-mail shows a button: mail scanners that follow links must not use it up.
async fn magic_form(
    State(state): State<AppState>,
    page: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if !portal::link_valid(&state, &token).await? {
        return spent_link(&page);
    }
    render(MagicPage {
        base: Base::new(&page, "portal-login-title"),
        token,
    })
}

async fn open_link(
    State(state): State<AppState>,
    page: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let session = match portal::open_link(&state, &token, &page.ctx).await {
        Err(AppError::NotFound) => return spent_link(&page),
        other => other?,
    };
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    // No `__Host-` prefix (ASVS 3.4.4) here, unlike the staff session and CSRF cookies: the
    // prefix requires `Path=/`, and this cookie is kept to `/portal` on purpose, so staff pages
    // never receive a participant's session.
    let cookie = format!("{PORTAL_COOKIE}={session}; Path=/portal; HttpOnly; SameSite=Lax{secure}");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/portal")).into_response())
}

#[derive(Template)]
#[template(path = "portal.html")]
struct HomePage {
    base: Base,
    p: Participant,
    v: PortalView,
    chart: String,
    m: crate::app::measure::Mine,
    /// One chart per questionnaire, beside `m.courses`.
    course_charts: Vec<String>,
    errors: FormErrors,
}

fn chart(v: &PortalView, label: &str) -> String {
    let bars: Vec<(u16, u16, i64)> = v
        .bars
        .iter()
        .map(|b| (b.number, b.planned, b.done))
        .collect();
    crate::charts::bar_chart(&bars, label)
}

async fn home_page(
    state: &AppState,
    page: &PageCtx,
    p: Participant,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let v = portal::home(state, &p, &page.ctx).await?;
    let m = crate::app::measure::mine(state, &p, page.lang.code()).await?;
    render_home(page, p, v, m, errors)
}

fn render_home(
    page: &PageCtx,
    p: Participant,
    v: PortalView,
    m: crate::app::measure::Mine,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let chart = chart(&v, &page.lang.t("portal-chart-label"));
    let course_charts = m
        .courses
        .iter()
        .map(|c| crate::charts::course_chart(c, &c.title))
        .collect();
    render(HomePage {
        base: Base::new(page, "portal-title"),
        p,
        v,
        chart,
        m,
        course_charts,
        errors,
    })
}

async fn home(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(token) = cookie(&headers, PORTAL_COOKIE) else {
        return Ok(to_login());
    };
    match portal::home_by_token(&state, token, Some(page.lang.code()), &page.ctx).await? {
        Some(portal::Home {
            participant,
            view,
            mine: Some(mine),
        }) => render_home(&page, participant, view, mine, FormErrors::default()),
        _ => Ok(to_login()),
    }
}

async fn log_run(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
    f: Pairs,
) -> Result<Response, AppError> {
    let Some(p) = participant(&state, &headers).await? else {
        return Ok(to_login());
    };
    let input = RunInput {
        date: f.get("date"),
        minutes: f.get("minutes"),
        distance_km: f.get("distance_km"),
        exertion: f.get("exertion"),
        mood_before: f.get("mood_before"),
        mood_after: f.get("mood_after"),
        pain: f.get("pain"),
        pain_where: f.get("pain_where"),
        note: f.get("note"),
    };
    match portal::log_run(&state, &p, &input, &page.ctx).await {
        Ok(_) => Ok(Redirect::to("/portal#runs").into_response()),
        Err(e) => show_again(page.lang, e, |errors| home_page(&state, &page, p, errors)).await,
    }
}

async fn logout(
    State(state): State<AppState>,
    FromWhere(ctx): FromWhere,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(p) = participant(&state, &headers).await? {
        portal::logout(&state, &p, &ctx).await?;
    }
    let clear = format!("{PORTAL_COOKIE}=; Path=/portal; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok(([(header::SET_COOKIE, clear)], to_login()).into_response())
}

async fn upload_run(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
    form: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    // Who is asking comes first; only then is the body looked at.
    let Some(p) = participant(&state, &headers).await? else {
        return Ok(to_login());
    };
    let mut form = form.map_err(|_| AppError::invalid("file", "track-empty"))?;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut input = RunInput::default();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::invalid("file", "track-malformed"))?
    {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(|_| AppError::invalid("file", "track-too-large"))?;
            file = Some((file_name, bytes.to_vec()));
        } else {
            let value = field.text().await.unwrap_or_default();
            match name.as_str() {
                "exertion" => input.exertion = value,
                "mood_before" => input.mood_before = value,
                "mood_after" => input.mood_after = value,
                "pain" => input.pain = value,
                "pain_where" => input.pain_where = value,
                "note" => input.note = value,
                _ => {}
            }
        }
    }
    let r = match &file {
        Some((name, bytes)) if !bytes.is_empty() => {
            portal::upload_run(&state, &p, name, bytes, &input, &page.ctx).await
        }
        _ => Err(AppError::invalid("file", "track-empty")),
    };
    match r {
        Ok(_) => Ok(Redirect::to("/portal#runs").into_response()),
        Err(e) => show_again(page.lang, e, |errors| home_page(&state, &page, p, errors)).await,
    }
}

/// A new secret calendar link for the participant's group sessions (the old one stops).
async fn new_calendar_feed(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(p) = participant(&state, &headers).await? else {
        return Ok(to_login());
    };
    let token = portal::new_calendar_feed(&state, &p, &page.ctx).await?;
    render(super::groups::CalendarLinkPage {
        base: Base::new(&page, "calendar-title"),
        link: format!("{}/ical/{token}.ics", state.config.base_url),
        back: "/portal".into(),
    })
}

/// The participant's own data as one JSON file ([`portal::export`] says what is in it).
async fn export(
    State(state): State<AppState>,
    FromWhere(ctx): FromWhere,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(p) = participant(&state, &headers).await? else {
        return Ok(to_login());
    };
    let e = portal::export(&state, &p, &ctx).await?;
    Ok(export_download(&e))
}

/// An [`portal::Export`] as a JSON attachment (also used by the API).
pub fn export_download(e: &portal::Export) -> Response {
    let body = serde_json::to_vec_pretty(e).unwrap_or_default();
    let disposition = format!("attachment; filename=\"{}\"", portal::export_file_name(e));
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "portal_messages.html")]
struct MessagesPage {
    base: Base,
    /// Oldest first.
    messages: Vec<crate::store::messages::MessageRow>,
    /// What the participant typed, shown again when it could not be sent.
    draft: String,
    errors: FormErrors,
}

async fn show_messages(
    state: &AppState,
    page: &PageCtx,
    p: Participant,
    draft: String,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let messages = crate::app::messages::for_participant(state, &p, &page.ctx).await?;
    render(MessagesPage {
        base: Base::new(page, "messages-title"),
        messages,
        draft,
        errors,
    })
}

#[derive(Template)]
#[template(path = "portal_research.html")]
struct ResearchPage {
    base: Base,
    /// Since when the participant objects to research use (none: no objection).
    objection: Option<i64>,
}

/// Whether the participant's data may be used for research, and the way to object or to
/// withdraw the objection.
async fn research_page(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(p) = participant(&state, &headers).await? else {
        return Ok(to_login());
    };
    let objection = portal::research_objection(&state, &p, &page.ctx).await?;
    render(ResearchPage {
        base: Base::new(&page, "research-objection-title"),
        objection,
    })
}

/// The participant objects (`objects=yes`) or withdraws the objection (`objects=no`).
async fn set_research_objection(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
    f: Pairs,
) -> Result<Response, AppError> {
    let Some(p) = participant(&state, &headers).await? else {
        return Ok(to_login());
    };
    let objects = parse_objects(&f.get("objects"))?;
    portal::set_research_objection(&state, &p, objects, &page.ctx).await?;
    Ok(Redirect::to("/portal/onderzoek").into_response())
}

/// `yes` or `no`, from the objection forms (portal and referral page).
pub fn parse_objects(value: &str) -> Result<bool, AppError> {
    match value {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(AppError::invalid("objects", "choose-yes-or-no")),
    }
}

/// The conversation with the therapist (opening it marks their messages read).
async fn messages_page(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(p) = participant(&state, &headers).await? else {
        return Ok(to_login());
    };
    show_messages(&state, &page, p, String::new(), FormErrors::default()).await
}

/// The participant writes to their therapist.
async fn send_message(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
    f: Pairs,
) -> Result<Response, AppError> {
    let Some(p) = participant(&state, &headers).await? else {
        return Ok(to_login());
    };
    let input = crate::app::messages::MessageInput {
        body: f.get("body"),
    };
    match crate::app::messages::send_as_participant(&state, &p, &input, &page.ctx).await {
        Ok(_) => Ok(Redirect::to("/portal/berichten#message-form").into_response()),
        Err(e) => {
            let draft = input.body;
            show_again(page.lang, e, |errors| {
                show_messages(&state, &page, p, draft, errors)
            })
            .await
        }
    }
}
