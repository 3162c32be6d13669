//! Extractors: who is asking, in which language, from where.
//!
//! - [`PageCtx`]: every page; knows the language, the CSRF token and (if signed in) the person.
//! - [`ApiActor`]: every authenticated API call; a personal API token in `Authorization: Bearer`.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};

use super::csrf::CsrfToken;
use crate::{
    app::{Actor, AppError, AuthVia, Identity, RequestCtx, auth},
    i18n::Lang,
    state::AppState,
    store::users::SessionRow,
};

pub const SESSION_COOKIE: &str = "dl_session";
pub const LANG_COOKIE: &str = "dl_lang";

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language of a request: the language cookie (set by the switch in the header), else
/// Dutch. Pages deliberately ignore `Accept-Language`: many Dutch care professionals use an
/// English-language browser, and the product is Dutch first. API clients (no cookie) may ask
/// for English with `Accept-Language`.
pub fn request_lang(headers: &HeaderMap, is_api: bool) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| {
            is_api
                .then(|| headers.get(header::ACCEPT_LANGUAGE))
                .flatten()
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

pub(crate) fn request_ctx(parts: &Parts) -> RequestCtx {
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect())
        .unwrap_or_default();
    RequestCtx { ip, user_agent }
}

/// Everything a page handler needs about the request.
pub struct PageCtx {
    pub lang: Lang,
    pub csrf: String,
    pub path: String,
    pub ctx: RequestCtx,
    /// The session behind the cookie, at any stage.
    pub session: Option<SessionRow>,
    /// The fully signed-in person (second factor passed where required).
    pub identity: Option<Identity>,
}

impl PageCtx {
    /// The signed-in person, or a redirect to the login page.
    pub fn actor(&self) -> Result<Actor, AppError> {
        match &self.identity {
            Some(identity) => Ok(Actor {
                identity: identity.clone(),
                ctx: self.ctx.clone(),
            }),
            None => Err(AppError::Unauthenticated),
        }
    }
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let lang = request_lang(&parts.headers, false);
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let session = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => auth::session(state, token).await?,
            None => None,
        };
        let identity = match &session {
            Some(s) if s.stage == auth::STAGE_FULL => {
                auth::identity(state, &s.user_id, AuthVia::Session(s.id_hash.clone())).await?
            }
            _ => None,
        };
        Ok(PageCtx {
            lang,
            csrf,
            path: parts.uri.path().to_string(),
            ctx: request_ctx(parts),
            session,
            identity,
        })
    }
}

/// Where a request comes from (IP, user agent), for the audit log of calls without an
/// account.
pub struct FromWhere(pub RequestCtx);

impl FromRequestParts<AppState> for FromWhere {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        Ok(FromWhere(request_ctx(parts)))
    }
}

/// The token in `Authorization: Bearer …`, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    bearer_in(&parts.headers)
}

pub fn bearer_in(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The person behind an API call with a personal token.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts).ok_or(AppError::Unauthenticated)?;
        let identity = auth::identity_for_api_token(state, token)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(ApiActor(Actor {
            identity,
            ctx: request_ctx(parts),
        }))
    }
}

/// Set-Cookie value for the session (HttpOnly, SameSite=Lax, Secure behind HTTPS).
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

pub fn clear_session_cookie(state: &AppState) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

pub fn lang_cookie(state: &AppState, lang: Lang) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
        lang.code()
    )
}
