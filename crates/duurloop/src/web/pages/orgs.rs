//! Organisations (administrator) and their members (coordinator).

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use duurloop_domain::{OrgKind, Role};
use serde::Deserialize;

use super::{Base, FormErrors, render};
use crate::{
    app::{AppError, orgs},
    state::AppState,
    store::orgs::OrgRow,
    web::{ctx::PageCtx, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/admin/organisations", list)
        .post("/admin/organisations", create)
        .get("/organisations/{id}", detail)
        .post("/organisations/{id}/invitations", invite)
        .post("/organisations/{id}/members/{user_id}/role", set_role)
        .post("/organisations/{id}/members/{user_id}/remove", remove)
        .post("/organisations/{id}/share-referrals", share_referrals)
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgsPage {
    base: Base,
    orgs: Vec<OrgRow>,
    kinds: Vec<&'static str>,
    name: String,
    kind: String,
    errors: FormErrors,
}

async fn orgs_page(
    state: &AppState,
    page: &PageCtx,
    name: String,
    kind: String,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    if !actor.identity.is_admin {
        return Err(AppError::Forbidden);
    }
    let orgs = orgs::visible(state, &actor).await?;
    render(OrgsPage {
        base: Base::new(page, "orgs-title"),
        orgs,
        kinds: OrgKind::ALL.iter().map(|k| k.as_str()).collect(),
        name,
        kind,
        errors,
    })
}

async fn list(State(state): State<AppState>, page: PageCtx) -> Result<Response, AppError> {
    orgs_page(
        &state,
        &page,
        String::new(),
        String::new(),
        FormErrors::default(),
    )
    .await
}

#[derive(Deserialize)]
struct OrgForm {
    name: String,
    kind: String,
}

async fn create(
    State(state): State<AppState>,
    page: PageCtx,
    Form(f): Form<OrgForm>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    match orgs::create(&state, &actor, &f.name, &f.kind).await {
        Ok(org) => Ok(Redirect::to(&format!("/organisations/{}", org.id)).into_response()),
        Err(e) => match FormErrors::from_app(page.lang, &e) {
            Some(errors) => orgs_page(&state, &page, f.name, f.kind, errors).await,
            None => Err(e),
        },
    }
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    base: Base,
    detail: orgs::OrgDetail,
    roles: Vec<&'static str>,
    email: String,
    role: String,
    invited: bool,
    errors: FormErrors,
}

struct InviteState {
    email: String,
    role: String,
    invited: bool,
    errors: FormErrors,
}

async fn org_page(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    s: InviteState,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let detail = orgs::detail(state, &actor, id).await?;
    render(OrgPage {
        base: Base::new(page, "org-title"),
        detail,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        email: s.email,
        role: s.role,
        invited: s.invited,
        errors: s.errors,
    })
}

async fn detail(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let s = InviteState {
        email: String::new(),
        role: String::new(),
        invited: false,
        errors: FormErrors::default(),
    };
    org_page(&state, &page, &id, s).await
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    role: String,
}

async fn invite(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<InviteForm>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    match orgs::invite(&state, &actor, &id, &f.email, &f.role).await {
        Ok(_) => {
            let s = InviteState {
                email: String::new(),
                role: String::new(),
                invited: true,
                errors: FormErrors::default(),
            };
            org_page(&state, &page, &id, s).await
        }
        Err(e) => match FormErrors::from_app(page.lang, &e) {
            Some(errors) => {
                let s = InviteState {
                    email: f.email,
                    role: f.role,
                    invited: false,
                    errors,
                };
                org_page(&state, &page, &id, s).await
            }
            None => Err(e),
        },
    }
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

async fn member_result(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    r: Result<(), AppError>,
) -> Result<Response, AppError> {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/organisations/{id}")).into_response()),
        Err(e) => match FormErrors::from_app(page.lang, &e) {
            Some(errors) => {
                let s = InviteState {
                    email: String::new(),
                    role: String::new(),
                    invited: false,
                    errors,
                };
                org_page(state, page, id, s).await
            }
            None => Err(e),
        },
    }
}

async fn set_role(
    State(state): State<AppState>,
    page: PageCtx,
    Path((id, user_id)): Path<(String, String)>,
    Form(f): Form<RoleForm>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let r = orgs::set_role(&state, &actor, &id, &user_id, &f.role).await;
    member_result(&state, &page, &id, r).await
}

async fn remove(
    State(state): State<AppState>,
    page: PageCtx,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let r = orgs::remove_member(&state, &actor, &id, &user_id).await;
    member_result(&state, &page, &id, r).await
}

async fn share_referrals(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: crate::web::form::Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    orgs::set_share_referrals(&state, &actor, &id, f.get("share") == "1").await?;
    Ok(Redirect::to(&format!("/organisations/{id}")).into_response())
}
