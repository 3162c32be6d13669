//! Refusals that no action logged: every 403 given to a signed-in staff member is an audit
//! entry (ASVS 7.2.2, NEN 7513).
//!
//! The actions that open a record log their own refusals, with the record and its
//! organisation (`app::audit::refused`, answered as [`AppError::Audited`]). What is left are
//! the refusals that come before any record is read: the role checks (an administrator's
//! page asked for by a therapist, a funder's overview by a coordinator), a form without its
//! CSRF token and a `read` API token used to write. For those this layer, which sits inside
//! the error renderer and outside the CSRF check, writes one entry after the answer is known:
//! record type `route`, the route *pattern* as the record (`/admin/organisations`: never the
//! concrete path, which may hold a token), the action the method attempted (`read`, `update`,
//! `delete`), outcome `denied`, and the refusal's code (`forbidden`, `csrf`,
//! `read-only-token`, …) as reason.
//!
//! Only refusals of someone we know are logged: a full staff session or a personal API token.
//! A visitor without either has nothing to attribute, and logging every anonymous 403 would
//! let anyone fill the log. 404s are not logged here: a refusal that answers 404 (so as not
//! to reveal that a record exists) is logged by its action, and any other 404 is an address
//! that does not exist. Participants (portal) are not covered: their refusals are a portal
//! form's CSRF failure, nothing more.

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderMap, Method, StatusCode},
    response::Response,
};
use std::net::SocketAddr;

use super::{
    ctx::{bearer_in, cookie, request_ctx_from, session_cookie_name},
    error::ErrorInfo,
};
use crate::{
    app::{Actor, AppResult, AuthVia, Identity, accounts::API_TOKEN_PREFIX, audit, auth},
    state::AppState,
};

/// What the layer keeps of a request that might be refused: only requests that carry a
/// session cookie or a bearer token, so that the rest (and the trivial route) pay nothing.
struct Caller {
    method: Method,
    route: String,
    peer: Option<SocketAddr>,
    headers: HeaderMap,
}

pub async fn audit_refusals(
    State(state): State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = req.headers();
    // Only personal API tokens start with `dl_`: a portal session's bearer token does not,
    // and the participant's requests pass untouched.
    let known = cookie(headers, session_cookie_name(&state.config)).is_some()
        || bearer_in(headers).is_some_and(|t| t.starts_with(API_TOKEN_PREFIX));
    let caller = known.then(|| Caller {
        method: req.method().clone(),
        route: req
            .extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "(unmatched)".into()),
        peer: req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
        headers: headers.clone(),
    });
    let resp = next.run(req).await;
    if resp.status() != StatusCode::FORBIDDEN {
        return resp;
    }
    let Some(caller) = caller else {
        return resp;
    };
    let code = match resp.extensions().get::<ErrorInfo>() {
        Some(info) if info.audited => return resp,
        Some(info) => info.code,
        None => "forbidden",
    };
    if let Err(e) = log(&state, caller, code).await {
        // The 403 itself reveals nothing, so it stands; the failure is the operator's to see.
        tracing::error!(error = %e, "a refusal could not be audit-logged");
    }
    resp
}

/// Finds who was refused and writes the entry.
async fn log(state: &AppState, caller: Caller, code: &'static str) -> AppResult<()> {
    let Some(identity) = who(state, &caller.headers).await? else {
        return Ok(());
    };
    let actor = Actor {
        identity,
        ctx: request_ctx_from(caller.peer, &caller.headers, state),
    };
    // What the method attempted, in the log's words.
    let action = match caller.method {
        Method::GET | Method::HEAD => "read",
        Method::DELETE => "delete",
        _ => "update",
    };
    audit::refused_request(state, &actor, action, &caller.route, code).await
}

/// The staff member behind a full session, else behind a personal API token.
async fn who(state: &AppState, headers: &HeaderMap) -> AppResult<Option<Identity>> {
    if let Some(token) = cookie(headers, session_cookie_name(&state.config))
        && let Some(s) = auth::session(state, token).await?
        && s.stage == auth::STAGE_FULL
    {
        return auth::identity(state, &s.user_id, AuthVia::Session(s.id_hash)).await;
    }
    match bearer_in(headers).filter(|t| t.starts_with(API_TOKEN_PREFIX)) {
        Some(token) => Ok(auth::identity_for_api_token(state, token)
            .await?
            .map(|(identity, _)| identity)),
        None => Ok(None),
    }
}
