//! CSRF protection for every state-changing form (double-submit token).
//!
//! A random token lives in an HttpOnly, SameSite=Strict cookie (`__Host-dl_csrf` over HTTPS,
//! else `dl_csrf`); every page gets it (through the
//! request extension [`CsrfToken`]) to put in its forms as `csrf_token`. Any POST, PUT, PATCH or
//! DELETE outside `/api/` must carry the same value in its form body (or an `X-CSRF-Token`
//! header, or for file uploads the `csrf_token` query parameter), or it is refused with 403
//! before a handler runs. The API does not use cookies
//! (bearer tokens only), so it needs no CSRF token.

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderValue, Method, header},
    middleware::Next,
    response::Response,
};

use super::ctx::cookie;
use crate::{app::AppError, config::Config, state::AppState};

pub const CSRF_COOKIE: &str = "dl_csrf";
/// The CSRF cookie's name over HTTPS (ASVS 3.4.4, see `ctx::SESSION_COOKIE_HTTPS`): a sibling
/// subdomain or a plain-HTTP page cannot plant a token of its own choosing.
pub const CSRF_COOKIE_HTTPS: &str = "__Host-dl_csrf";

/// The name of the CSRF cookie: `__Host-dl_csrf` when cookies are `Secure` (`base_url` is
/// `https://`), else `dl_csrf`. Only that name is read.
pub fn csrf_cookie_name(config: &Config) -> &'static str {
    if config.secure_cookies() {
        CSRF_COOKIE_HTTPS
    } else {
        CSRF_COOKIE
    }
}
const MAX_FORM_BYTES: usize = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let name = csrf_cookie_name(&state.config);
    let existing = cookie(req.headers(), name)
        .map(str::to_string)
        .filter(|t| t.len() >= 32);
    let token = existing.clone().unwrap_or_else(crate::store::new_token);
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let is_api = req.uri().path().starts_with("/api/");
    let mut req = req;
    if !safe && !is_api {
        match check(req, existing.as_deref()).await {
            Ok(r) => req = r,
            Err(resp) => return resp,
        }
    }
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    if existing.is_none() {
        let secure = if state.config.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{name}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
        )) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// Reads the form body, compares its `csrf_token` with the cookie, and hands the request on
/// with the body restored.
async fn check(req: Request, cookie_token: Option<&str>) -> Result<Request, Response> {
    use axum::response::IntoResponse;
    let forbidden = || AppError::Csrf.into_response();
    let Some(expected) = cookie_token else {
        return Err(forbidden());
    };
    if let Some(h) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return if constant_time_eq(h.as_bytes(), expected.as_bytes()) {
            Ok(req)
        } else {
            Err(forbidden())
        };
    }
    // A file upload form cannot send a header and its body is too large to buffer here: it
    // carries the token in its action URL (`?csrf_token=…`; query strings are never logged).
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if is_multipart {
        let given = req
            .uri()
            .query()
            .and_then(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "csrf_token")
                    .map(|(_, v)| v.into_owned())
            })
            .unwrap_or_default();
        return if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            Ok(req)
        } else {
            Err(forbidden())
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(forbidden());
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge.into_response())?;
    let given = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(forbidden());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
