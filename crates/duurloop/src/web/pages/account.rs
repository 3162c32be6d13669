//! The own account: password, second factor, calendar link, personal API tokens.

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use duurloop_domain::access::TokenScope;

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{AppError, accounts, auth},
    state::AppState,
    store::users::ApiTokenRow,
    web::{ctx::PageCtx, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/account", show)
        .post("/account/password", change_password)
        .post("/account/sessions/{id}/end", end_session)
        .post("/account/sessions/end-others", end_other_sessions)
        .post("/account/tokens", create_token)
        .post("/account/tokens/{id}/revoke", revoke_token)
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    base: Base,
    name: String,
    email: String,
    tokens: Vec<ApiTokenRow>,
    sessions: Vec<accounts::SessionInfo>,
    new_token: Option<String>,
    /// The token form's messages.
    errors: FormErrors,
    password_errors: FormErrors,
    password_changed: bool,
    /// The choices of how long a new token works, in days.
    token_days: [i64; 3],
    default_days: i64,
    /// The scopes a new token can have (`read`, `read-write`), and the one chosen first.
    token_scopes: [&'static str; 2],
    default_scope: &'static str,
    now: i64,
}

/// What the last form on the page did.
#[derive(Default)]
struct Outcome {
    new_token: Option<String>,
    token_errors: FormErrors,
    password_errors: FormErrors,
    password_changed: bool,
}

async fn page_with(state: &AppState, page: &PageCtx, o: Outcome) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let tokens = accounts::api_tokens(state, &actor).await?;
    let current = page.session.as_ref().map(|s| s.id_hash.as_str());
    let sessions = accounts::sessions(state, &actor, current).await?;
    render(AccountPage {
        base: Base::new(page, "account-title"),
        name: actor.identity.name,
        email: actor.identity.email,
        tokens,
        sessions,
        new_token: o.new_token,
        errors: o.token_errors,
        password_errors: o.password_errors,
        password_changed: o.password_changed,
        token_days: accounts::TOKEN_DAYS,
        default_days: accounts::DEFAULT_TOKEN_DAYS,
        token_scopes: TokenScope::ALL.map(TokenScope::as_str),
        default_scope: accounts::DEFAULT_TOKEN_SCOPE.as_str(),
        now: state.now(),
    })
}

#[derive(serde::Deserialize)]
struct ShowQuery {
    #[serde(default)]
    changed: String,
}

async fn show(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let o = Outcome {
        password_changed: q.changed == "password",
        ..Outcome::default()
    };
    page_with(&state, &page, o).await
}

async fn change_password(
    State(state): State<AppState>,
    page: PageCtx,
    Form(f): Form<auth::PasswordChange>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let session = page.session.as_ref().ok_or(AppError::Unauthenticated)?;
    match auth::change_password(&state, &actor, &session.id_hash, &f).await {
        Ok(()) => Ok(Redirect::to("/account?changed=password").into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                let o = Outcome {
                    password_errors: errors,
                    ..Outcome::default()
                };
                page_with(&state, &page, o)
            })
            .await
        }
    }
}

async fn create_token(
    State(state): State<AppState>,
    page: PageCtx,
    Form(f): Form<accounts::NewToken>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    match accounts::create_api_token(&state, &actor, &f).await {
        Ok(t) => {
            let o = Outcome {
                new_token: Some(t.token),
                ..Outcome::default()
            };
            page_with(&state, &page, o).await
        }
        Err(e) => {
            show_again(page.lang, e, |errors| {
                let o = Outcome {
                    token_errors: errors,
                    ..Outcome::default()
                };
                page_with(&state, &page, o)
            })
            .await
        }
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    accounts::revoke_api_token(&state, &actor, &id).await?;
    Ok(Redirect::to("/account").into_response())
}

/// Ends one of the person's sessions; ending this one signs out here too.
async fn end_session(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    accounts::end_session(&state, &actor, &id).await?;
    let here = page.session.as_ref().is_some_and(|s| s.id_hash == id);
    Ok(Redirect::to(if here { "/login" } else { "/account#sessions" }).into_response())
}

async fn end_other_sessions(
    State(state): State<AppState>,
    page: PageCtx,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let session = page.session.as_ref().ok_or(AppError::Unauthenticated)?;
    accounts::end_other_sessions(&state, &actor, &session.id_hash).await?;
    Ok(Redirect::to("/account#sessions").into_response())
}
