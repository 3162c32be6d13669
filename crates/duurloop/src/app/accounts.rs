//! A person's own account: language, API tokens; and the administrator's outbox view.

use super::{Actor, AppError, AppResult, AuthVia};
use crate::{
    state::AppState,
    store::{
        self, new_token,
        outbox::MailRow,
        users::{self, ApiTokenRow},
    },
};

pub async fn set_language(state: &AppState, actor: &Actor, lang: &str) -> AppResult<()> {
    if !matches!(lang, "nl" | "en") {
        return Err(AppError::invalid("lang", "invalid-language"));
    }
    let mut c = state.db.conn().await?;
    users::set_lang(&mut c, &actor.identity.user_id, lang).await?;
    Ok(())
}

/// A created token: shown once, stored only as a hash.
pub struct CreatedToken {
    pub id: String,
    pub token: String,
}

/// Creates a personal API token. Only from a browser session that passed the second factor:
/// a token cannot mint another token.
pub async fn create_api_token(
    state: &AppState,
    actor: &Actor,
    name: &str,
) -> AppResult<CreatedToken> {
    if actor.identity.via == AuthVia::ApiToken {
        return Err(AppError::Forbidden);
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "invalid-token-name"));
    }
    let token = format!("dl_{}", new_token());
    let mut c = state.db.conn().await?;
    let id =
        users::insert_api_token(&mut c, &actor.identity.user_id, name, &token, state.now()).await?;
    Ok(CreatedToken { id, token })
}

pub async fn api_tokens(state: &AppState, actor: &Actor) -> AppResult<Vec<ApiTokenRow>> {
    let mut c = state.db.conn().await?;
    Ok(users::api_tokens_of(&mut c, &actor.identity.user_id).await?)
}

pub async fn revoke_api_token(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let mut c = state.db.conn().await?;
    if users::revoke_api_token(&mut c, &actor.identity.user_id, id, state.now()).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The outbox: every e-mail the instance sent or will send (administrator only).
pub async fn outbox(state: &AppState, actor: &Actor) -> AppResult<Vec<MailRow>> {
    if !actor.identity.is_admin {
        return Err(AppError::Forbidden);
    }
    let mut c = state.db.conn().await?;
    Ok(store::outbox::recent(&mut c, 200).await?)
}

pub async fn outbox_message(state: &AppState, actor: &Actor, id: &str) -> AppResult<MailRow> {
    if !actor.identity.is_admin {
        return Err(AppError::Forbidden);
    }
    let mut c = state.db.conn().await?;
    store::outbox::by_id(&mut c, id)
        .await?
        .ok_or(AppError::NotFound)
}
