//! The own account: second factor status, personal API tokens.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{AppError, accounts},
    state::AppState,
    store::users::ApiTokenRow,
    web::{ctx::PageCtx, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/account", show)
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
    new_token: Option<String>,
    errors: FormErrors,
    /// The choices of how long a new token works, in days.
    token_days: [i64; 3],
    default_days: i64,
    now: i64,
}

async fn page_with(
    state: &AppState,
    page: &PageCtx,
    new_token: Option<String>,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let tokens = accounts::api_tokens(state, &actor).await?;
    render(AccountPage {
        base: Base::new(page, "account-title"),
        name: actor.identity.name,
        email: actor.identity.email,
        tokens,
        new_token,
        errors,
        token_days: accounts::TOKEN_DAYS,
        default_days: accounts::DEFAULT_TOKEN_DAYS,
        now: state.now(),
    })
}

async fn show(State(state): State<AppState>, page: PageCtx) -> Result<Response, AppError> {
    page_with(&state, &page, None, FormErrors::default()).await
}

async fn create_token(
    State(state): State<AppState>,
    page: PageCtx,
    Form(f): Form<accounts::NewToken>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    match accounts::create_api_token(&state, &actor, &f).await {
        Ok(t) => page_with(&state, &page, Some(t.token), FormErrors::default()).await,
        Err(e) => {
            show_again(page.lang, e, |errors| {
                page_with(&state, &page, None, errors)
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
