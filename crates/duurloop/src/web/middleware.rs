//! Request observation (request id, structured log line, metrics) and security headers.
//!
//! Logging policy: a request is logged with its method, route *pattern* (`/organisations/{id}`,
//! never the concrete path, which can hold tokens), status, duration and request id. Never
//! names, e-mail addresses, answers, tokens or query strings.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use crate::state::AppState;

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::now_v7().simple().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %id, %method, %route);
    let start = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let status = resp.status().as_u16();
    span.in_scope(|| tracing::info!(status, duration_ms = ms, "request"));
    state.metrics.record(&method, &route, status, ms);
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Security headers on every response. HSTS (one year, subdomains included) only when the base
/// URL is `https://`: an installation reached over plain HTTP has no HTTPS to insist on.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // Swagger UI needs inline styles; our own pages need nothing inline.
    let csp = if docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    } else {
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Links carry tokens (invitations, resets): never send them on as a referrer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if state.config.is_https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// The most of a JSON or form body [`refuse_nul`] reads; the same as the router's default
/// body limit (routes that take more take files, as multipart, which are not read here).
const TEXT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Refuses a request that carries a NUL character in its path, its query or a JSON or form
/// body: in the path or query with the framework's 400 (as for any query it cannot read), in a
/// body with the ordinary 422 (`invalid-characters`). No text in Duurloop has a use for one,
/// and PostgreSQL cannot store or even compare it in a text column: without this, a NUL in any
/// free-text field or search was a 500 on PostgreSQL and a silently stored control character on
/// SQLite. One check here instead of one in every text field's validation.
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    let refuse = || crate::app::AppError::invalid("request", "invalid-characters").into_response();
    let has = |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
    if has(req.uri().path().as_bytes(), b"%00")
        || req.uri().query().is_some_and(|q| has(q.as_bytes(), b"%00"))
    {
        // A plain-text client error: `render_errors` gives it the JSON error body or the page.
        return (axum::http::StatusCode::BAD_REQUEST, "NUL in the address").into_response();
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let needle: &[u8] = if content_type.starts_with("application/json") {
        b"\\u0000"
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        b"%00"
    } else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, TEXT_BODY_LIMIT).await else {
        return crate::app::AppError::PayloadTooLarge.into_response();
    };
    if has(&bytes, needle) || bytes.contains(&0) {
        return refuse();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}
