//! The administrator's outbox: every e-mail sent or waiting.

use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
};

use super::{Base, render};
use crate::{
    app::{AppError, accounts},
    state::AppState,
    store::outbox::MailRow,
    web::{ctx::PageCtx, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/admin/outbox", list).get("/admin/outbox/{id}", show)
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    base: Base,
    mails: Vec<MailRow>,
    smtp: bool,
}

async fn list(State(state): State<AppState>, page: PageCtx) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let mails = accounts::outbox(&state, &actor).await?;
    render(OutboxPage {
        base: Base::new(&page, "outbox-title"),
        mails,
        smtp: !state.config.smtp_url.is_empty(),
    })
}

#[derive(Template)]
#[template(path = "mail_view.html")]
struct MailPage {
    base: Base,
    mail: MailRow,
}

async fn show(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let mail = accounts::outbox_message(&state, &actor, &id).await?;
    render(MailPage {
        base: Base::new(&page, "outbox-title"),
        mail,
    })
}
