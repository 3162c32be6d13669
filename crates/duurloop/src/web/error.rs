//! One error type at the HTTP edge. Handlers return [`AppError`]; its `IntoResponse` only
//! records what happened, and the [`render_errors`] middleware turns it into a friendly page
//! in the visitor's language (with a way back) or the API's JSON error body
//! `{ "error": { "code", "message", "fields" } }`. Infrastructure errors are logged once with
//! the request id and reach the user only as an opaque 500.

use askama::Template;
use axum::{
    Json,
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};

use super::{ctx::request_lang, middleware::RequestId, pages::Base};
use crate::{app::AppError, i18n::Lang};

/// What the middleware needs to render an error.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub code: &'static str,
    pub fields: Vec<(&'static str, &'static str)>,
    /// The refusal is already in the audit log ([`AppError::Audited`]).
    pub audited: bool,
}

impl AppError {
    fn info(&self) -> ErrorInfo {
        let (status, code) = match self {
            AppError::Audited(refusal) => {
                return ErrorInfo {
                    audited: true,
                    ..refusal.info()
                };
            }
            AppError::NotFound => (StatusCode::NOT_FOUND, "not-found"),
            AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotAllowed(key) => (StatusCode::FORBIDDEN, *key),
            AppError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            AppError::Conflict(key) => (StatusCode::CONFLICT, *key),
            AppError::LoginFailed => (StatusCode::UNAUTHORIZED, "login-failed"),
            AppError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
            AppError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
            AppError::Busy => (StatusCode::TOO_MANY_REQUESTS, "busy"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let fields = match self {
            AppError::Invalid(f) => f.iter().map(|f| (f.field, f.key)).collect(),
            _ => Vec::new(),
        };
        ErrorInfo {
            status,
            code,
            fields,
            audited: false,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            // Logged here, once; the request id is added by the span of `observe`.
            tracing::error!(error = %e, "internal error");
        }
        let info = self.info();
        let mut resp = info.status.into_response();
        resp.extensions_mut().insert(info);
        resp
    }
}

/// Polls a future inside `catch_unwind`: `Err` when it panicked.
struct CatchUnwind<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(Err(())),
        }
    }
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    base: Base,
    status: u16,
    message: String,
    fields: Vec<String>,
    request_id: String,
}

/// Renders errors: JSON under `/api/`, a page elsewhere. Also wraps the framework's own
/// plain-text rejections (bad JSON, wrong content type) in the same shapes.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let lang = request_lang(req.headers(), is_api);
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    // A panic in a handler (a bug) would drop the connection without an answer; caught
    // here, it becomes the usual opaque 500 in the visitor's language (ASVS 7.4.3). The
    // panic's message is not logged: it may quote data.
    let resp = match CatchUnwind(Box::pin(next.run(req))).await {
        Ok(resp) => resp,
        Err(_) => AppError::Internal(anyhow::anyhow!("a handler panicked")).into_response(),
    };
    let info = match resp.extensions().get::<ErrorInfo>() {
        Some(info) => info.clone(),
        None if resp.status().is_client_error() && !is_html_or_json(&resp) => ErrorInfo {
            status: resp.status(),
            code: "bad-request",
            fields: Vec::new(),
            audited: false,
        },
        None => return resp,
    };
    let mut rendered = if is_api {
        api_error(lang, &info)
    } else {
        page_error(lang, &info, path, query, request_id)
    };
    // The layers inside may have set a cookie on the refusal (the CSRF cookie on a first
    // visit): it goes out with the page that replaces it.
    for cookie in resp.headers().get_all(header::SET_COOKIE) {
        rendered
            .headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    rendered
}

/// The error page in the visitor's language, or for an expired or missing session the way to
/// the login page and back.
fn page_error(
    lang: Lang,
    info: &ErrorInfo,
    path: String,
    query: Option<String>,
    request_id: String,
) -> Response {
    if info.status == StatusCode::UNAUTHORIZED && info.code == "unauthenticated" {
        let next = match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let target = format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
        return Redirect::to(&target).into_response();
    }
    let page = ErrorPage {
        base: Base::plain(lang, &format!("error-{}", info.code)),
        status: info.status.as_u16(),
        message: lang.t(&format!("error-{}", info.code)),
        fields: info
            .fields
            .iter()
            .map(|(f, k)| format!("{}: {}", lang.t(&format!("field-{f}")), lang.t(k)))
            .collect(),
        request_id,
    };
    match page.render() {
        Ok(html) => (info.status, Html(html)).into_response(),
        Err(_) => (info.status, lang.t(&format!("error-{}", info.code))).into_response(),
    }
}

fn is_html_or_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/json"))
}

/// The API's error body.
pub fn api_error(lang: Lang, info: &ErrorInfo) -> Response {
    let fields: serde_json::Map<String, serde_json::Value> = info
        .fields
        .iter()
        .map(|(f, k)| (f.to_string(), serde_json::Value::String(lang.t(k))))
        .collect();
    let body = serde_json::json!({
        "error": {
            "code": info.code,
            "message": lang.t(&format!("error-{}", info.code)),
            "fields": fields,
        }
    });
    (info.status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use axum::{Router, routing::get};

    /// A handler that panics answers 500 with the error page or the API's JSON error, and
    /// the server goes on serving.
    #[tokio::test]
    async fn a_panicking_handler_gets_a_500_page_not_a_dropped_connection() {
        async fn boom() -> &'static str {
            panic!("a bug")
        }
        let app = Router::new()
            .route("/stuk", get(boom))
            .route("/api/v1/stuk", get(boom))
            .route("/heel", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn(super::render_errors));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let page = reqwest::get(format!("{base}/stuk")).await.expect("answer");
        assert_eq!(page.status(), 500);
        assert!(page.text().await.expect("body").contains("<html"));
        let api = reqwest::get(format!("{base}/api/v1/stuk"))
            .await
            .expect("answer");
        assert_eq!(api.status(), 500);
        let body: serde_json::Value = api.json().await.expect("json");
        assert_eq!(body["error"]["code"], "internal");
        let ok = reqwest::get(format!("{base}/heel")).await.expect("answer");
        assert_eq!(ok.text().await.expect("body"), "ok");
    }
}
