//! The research export page for coordinators (`/reports/research`): the form with study code,
//! purpose, period and format, the codebook, and the download.

use askama::Template;
use axum::{
    Form,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{
        AppError,
        research::{self, ExportInput, ResearchExport},
    },
    i18n::Lang,
    state::AppState,
    web::{ctx::PageCtx, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/reports/research", page)
        .post("/reports/research", download)
}

#[derive(Template)]
#[template(path = "research.html")]
struct ResearchPage {
    base: Base,
    orgs: Vec<(String, String)>,
    input: ExportInput,
    errors: FormErrors,
    codebook: Vec<(String, String)>,
}

/// The organisations the reader coordinates; nobody else has this page.
fn coordinated(page: &PageCtx) -> Result<Vec<(String, String)>, AppError> {
    let identity = page.identity.as_ref().ok_or(AppError::Unauthenticated)?;
    let orgs: Vec<(String, String)> = identity
        .coordinated_orgs()
        .into_iter()
        .map(|m| (m.org_id.clone(), m.org_name.clone()))
        .collect();
    if orgs.is_empty() {
        return Err(AppError::Forbidden);
    }
    Ok(orgs)
}

fn form(page: &PageCtx, input: ExportInput, errors: FormErrors) -> Result<Response, AppError> {
    render(ResearchPage {
        base: Base::new(page, "research-title"),
        orgs: coordinated(page)?,
        input,
        errors,
        codebook: research::codebook(page.lang),
    })
}

async fn page(page: PageCtx) -> Result<Response, AppError> {
    page.actor()?;
    form(&page, ExportInput::default(), FormErrors::default())
}

async fn download(
    State(state): State<AppState>,
    page: PageCtx,
    Form(input): Form<ExportInput>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    match research::export(&state, &actor, &input).await {
        Ok(e) => file_response(&e, page.lang),
        Err(e) => show_again(page.lang, e, |errors| async { form(&page, input, errors) }).await,
    }
}

/// The export as a download (the page and the API answer the same file).
pub fn file_response(e: &ResearchExport, lang: Lang) -> Result<Response, AppError> {
    let (content_type, name, bytes) = research::file(e, lang)?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}
