//! Sign in (password, then the authenticator code), enrolment of the second factor, sign out,
//! forgotten password and accepting an invitation.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use duurloop_domain::password::Strength;
use serde::Deserialize;

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{AppError, auth},
    i18n::Lang,
    state::AppState,
    web::{
        ctx::{PageCtx, clear_session_cookie, lang_cookie, session_cookie},
        routes::RouteTable,
    },
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/login", login_form)
        .post("/login", login)
        .get("/login/totp", totp_form)
        .post("/login/totp", totp)
        .post("/logout", logout)
        .get("/account/totp", enrol_form)
        .post("/account/totp", enrol)
        .get("/password/forgot", forgot_form)
        .post("/password/forgot", forgot)
        .get("/password/reset/{token}", reset_form)
        .post("/password/reset/{token}", reset)
        .post("/password/strength", strength)
        .get("/invite/{token}", invitation_form)
        .post("/invite/{token}", accept_invitation)
}

/// Only local paths are followed after login or a language switch (no open redirect): not
/// `//host` or `/\\host`, which browsers read as another site.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\"))
        .unwrap_or("/")
        .to_string()
}

fn with_session(state: &AppState, s: &auth::NewSession, to: &str) -> Response {
    (
        [(header::SET_COOKIE, session_cookie(state, &s.token))],
        Redirect::to(to),
    )
        .into_response()
}

fn after_stage(s: &auth::NewSession, next: &str) -> String {
    let enc = |n: &str| form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>();
    match s.stage {
        auth::STAGE_TOTP => format!("/login/totp?next={}", enc(next)),
        auth::STAGE_ENROL => "/account/totp".to_string(),
        _ => next.to_string(),
    }
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    base: Base,
    email: String,
    next: String,
    failed: bool,
}

async fn login_form(page: PageCtx, Query(q): Query<NextQuery>) -> Result<Response, AppError> {
    if page.identity.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    render(LoginPage {
        base: Base::new(&page, "login-title"),
        email: String::new(),
        next: safe_next(q.next.as_deref()),
        failed: false,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    page: PageCtx,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(f.next.as_deref());
    match auth::login(&state, &f.email, &f.password, &page.ctx).await {
        Ok(s) => {
            if let Some(old) = &page.session {
                auth::end_session(&state, &old.id_hash).await?;
            }
            let mut resp = with_session(&state, &s, &after_stage(&s, &next));
            // The account's language preference follows the person to any device.
            let mut c = state.db.conn().await?;
            if let Some(u) =
                crate::store::users::by_email(&mut c, &f.email.trim().to_lowercase()).await?
                && let Some(lang) = Lang::parse(&u.lang)
                && let Ok(v) = lang_cookie(&state, lang).parse()
            {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(resp)
        }
        Err(AppError::LoginFailed) => {
            let mut resp = render(LoginPage {
                base: Base::new(&page, "login-title"),
                email: f.email,
                next,
                failed: true,
            })?;
            *resp.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    base: Base,
    next: String,
    errors: FormErrors,
}

fn pending_session(
    page: &PageCtx,
    stage: &str,
) -> Result<crate::store::users::SessionRow, AppError> {
    page.session
        .clone()
        .filter(|s| s.stage == stage)
        .ok_or(AppError::Unauthenticated)
}

async fn totp_form(page: PageCtx, Query(q): Query<NextQuery>) -> Result<Response, AppError> {
    pending_session(&page, auth::STAGE_TOTP)?;
    render(TotpPage {
        base: Base::new(&page, "totp-title"),
        next: safe_next(q.next.as_deref()),
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
    next: Option<String>,
    /// Asked when a signed-in person replaces their second factor (ASVS 3.7.1).
    #[serde(default)]
    password: String,
}

async fn totp(
    State(state): State<AppState>,
    page: PageCtx,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    let session = pending_session(&page, auth::STAGE_TOTP)?;
    let next = safe_next(f.next.as_deref());
    match auth::verify_second_factor(&state, &session, &f.code, &page.ctx).await {
        Ok(s) => Ok(with_session(&state, &s, &next)),
        Err(e) => {
            let base = Base::new(&page, "totp-title");
            show_again(page.lang, e, |errors| async {
                render(TotpPage { base, next, errors })
            })
            .await
        }
    }
}

async fn logout(State(state): State<AppState>, page: PageCtx) -> Result<Response, AppError> {
    if let Some(s) = &page.session {
        auth::logout(&state, s, &page.ctx).await?;
    }
    Ok((
        [(header::SET_COOKIE, clear_session_cookie(&state))],
        Redirect::to("/login"),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    base: Base,
    secret: String,
    qr_svg: String,
    errors: FormErrors,
    required: bool,
}

/// Enrolment is open to a session that must enrol, and to a signed-in person who wants a
/// second factor (or a new device).
fn enrolling_session(page: &PageCtx) -> Result<crate::store::users::SessionRow, AppError> {
    page.session
        .clone()
        .filter(|s| s.stage == auth::STAGE_ENROL || s.stage == auth::STAGE_FULL)
        .ok_or(AppError::Unauthenticated)
}

fn qr_svg(uri: &str) -> String {
    qrcode::QrCode::new(uri.as_bytes())
        .map(|c| {
            c.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .build()
        })
        .unwrap_or_default()
}

async fn enrol_page(
    state: &AppState,
    page: &PageCtx,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let session = enrolling_session(page)?;
    let e = auth::begin_enrolment(state, &session.user_id).await?;
    render(EnrolPage {
        base: Base::new(page, "enrol-title"),
        qr_svg: qr_svg(&e.otpauth_uri),
        secret: e.secret_base32,
        errors,
        required: session.stage == auth::STAGE_ENROL,
    })
}

async fn enrol_form(State(state): State<AppState>, page: PageCtx) -> Result<Response, AppError> {
    enrol_page(&state, &page, FormErrors::default()).await
}

async fn enrol(
    State(state): State<AppState>,
    page: PageCtx,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    let session = enrolling_session(&page)?;
    // Replacing a working second factor takes the password too: otherwise anyone at an
    // unlocked, signed-in screen could move the account onto their own phone.
    if session.stage == auth::STAGE_FULL {
        let confirmed = auth::confirm_password(&state, &page.actor()?, &f.password).await;
        if let Err(e) = confirmed {
            return show_again(page.lang, e, |errors| enrol_page(&state, &page, errors)).await;
        }
    }
    match auth::confirm_enrolment(&state, &session, &f.code, &page.ctx).await {
        Ok(s) => Ok(with_session(&state, &s, "/")),
        Err(e) => show_again(page.lang, e, |errors| enrol_page(&state, &page, errors)).await,
    }
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    base: Base,
    sent: bool,
    errors: FormErrors,
}

async fn forgot_form(page: PageCtx) -> Result<Response, AppError> {
    render(ForgotPage {
        base: Base::new(&page, "forgot-title"),
        sent: false,
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
}

async fn forgot(
    State(state): State<AppState>,
    page: PageCtx,
    Form(f): Form<EmailForm>,
) -> Result<Response, AppError> {
    match auth::request_password_reset(&state, &f.email, page.lang.code(), &page.ctx).await {
        Ok(()) => render(ForgotPage {
            base: Base::new(&page, "forgot-title"),
            sent: true,
            errors: FormErrors::default(),
        }),
        Err(e) => match FormErrors::from_app(page.lang, &e) {
            Some(errors) => render(ForgotPage {
                base: Base::new(&page, "forgot-title"),
                sent: false,
                errors,
            }),
            None => Err(e),
        },
    }
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    base: Base,
    token: String,
    errors: FormErrors,
}

async fn reset_form(
    State(state): State<AppState>,
    page: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if !auth::password_reset_valid(&state, &token).await? {
        return Err(AppError::NotFound);
    }
    render(ResetPage {
        base: Base::new(&page, "reset-title"),
        token,
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    password: String,
    confirm: String,
}

async fn reset(
    State(state): State<AppState>,
    page: PageCtx,
    Path(token): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    match auth::reset_password(&state, &token, &f.password, &f.confirm, &page.ctx).await {
        Ok(()) => Ok((
            [(header::SET_COOKIE, clear_session_cookie(&state))],
            Redirect::to("/login?reset=1"),
        )
            .into_response()),
        Err(e) => match FormErrors::from_app(page.lang, &e) {
            Some(errors) => render(ResetPage {
                base: Base::new(&page, "reset-title"),
                token,
                errors,
            }),
            None => Err(e),
        },
    }
}

/// The strength meter's answer: an HTML fragment for the element under a new-password field.
#[derive(Template)]
#[template(path = "_password_strength.html")]
struct StrengthFragment {
    /// `weak`, `fair` or `strong`; empty while nothing is typed (the fragment is empty).
    level: &'static str,
    label: String,
    reason: String,
}

/// The strength meter (ASVS 2.1.8): htmx posts the new password as it is typed (with the
/// form's CSRF token) and shows this fragment. Judged by `auth::password_strength`, the same
/// function as the submit; the password is neither logged nor stored.
async fn strength(
    State(state): State<AppState>,
    page: PageCtx,
    Form(f): Form<auth::StrengthCheck>,
) -> Result<Response, AppError> {
    if f.password.is_empty() {
        return render(StrengthFragment {
            level: "",
            label: String::new(),
            reason: String::new(),
        });
    }
    let judged = auth::password_strength(&state, page.identity.as_ref(), &f).await?;
    let reason = match judged {
        Strength::Weak(key) => page.lang.t(key),
        Strength::Fair => page.lang.t("password-strength-fair-hint"),
        Strength::Strong => String::new(),
    };
    render(StrengthFragment {
        level: judged.as_str(),
        label: page
            .lang
            .t(&format!("password-strength-{}", judged.as_str())),
        reason,
    })
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    base: Base,
    token: String,
    invitation: auth::InvitationView,
    signed_in_as_invitee: bool,
    name: String,
    errors: FormErrors,
}

async fn invite_page(
    state: &AppState,
    page: &PageCtx,
    token: String,
    name: String,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let invitation = auth::invitation(state, &token).await?;
    let signed_in_as_invitee = page
        .identity
        .as_ref()
        .is_some_and(|i| i.email == invitation.email);
    render(InvitePage {
        base: Base::new(page, "invite-title"),
        token,
        invitation,
        signed_in_as_invitee,
        name,
        errors,
    })
}

async fn invitation_form(
    State(state): State<AppState>,
    page: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    invite_page(&state, &page, token, String::new(), FormErrors::default()).await
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn accept_invitation(
    State(state): State<AppState>,
    page: PageCtx,
    Path(token): Path<String>,
    Form(f): Form<AcceptForm>,
) -> Result<Response, AppError> {
    match auth::accept_invitation(
        &state,
        &token,
        page.identity.as_ref(),
        &f.name,
        &f.password,
        &f.confirm,
        &page.ctx,
    )
    .await
    {
        Ok(Some(s)) => Ok(with_session(&state, &s, &after_stage(&s, "/"))),
        Ok(None) => Ok(Redirect::to("/").into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                invite_page(&state, &page, token, f.name, errors)
            })
            .await
        }
    }
}
