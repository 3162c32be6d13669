//! The own account: second factor status, personal API tokens.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Base, FormErrors, render};
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
    })
}

async fn show(State(state): State<AppState>, page: PageCtx) -> Result<Response, AppError> {
    page_with(&state, &page, None, FormErrors::default()).await
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
}

async fn create_token(
    State(state): State<AppState>,
    page: PageCtx,
    Form(f): Form<TokenForm>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    match accounts::create_api_token(&state, &actor, &f.name).await {
        Ok(t) => page_with(&state, &page, Some(t.token), FormErrors::default()).await,
        Err(e) => match FormErrors::from_app(page.lang, &e) {
            Some(errors) => page_with(&state, &page, None, errors).await,
            None => Err(e),
        },
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
