//! The directory: public search, the offering's information sheet, and the organisation's own
//! directory page where therapists and coordinators maintain profiles, locations and offerings.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use duurloop_domain::{
    Role,
    referral::{FundingRoute, Indication, OfferingKind},
};

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{
        AppError,
        directory::{
            self, BRTN_STATUSES, LocationInput, OfferingInput, SearchHit, SearchQuery,
            TherapistInput,
        },
    },
    state::AppState,
    store::directory::OfferingRow,
    web::{ctx::PageCtx, form::Pairs, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/zoeken", search)
        .get("/therapeuten", register)
        .get("/aanbod/{id}", sheet)
        .get("/organisations/{id}/directory", org_directory)
        .post("/organisations/{id}/therapists", create_therapist)
        .post("/therapists/{id}", update_therapist)
        .post("/organisations/{id}/locations", create_location)
        .post("/locations/{id}", update_location)
        .post("/organisations/{id}/offerings", create_offering)
        .get("/offerings/{id}/edit", edit_offering)
        .post("/offerings/{id}", update_offering)
        .post("/offerings/{id}/listing", set_listing)
}

/// The choice lists forms need.
pub struct Choices {
    pub kinds: Vec<&'static str>,
    pub indications: Vec<&'static str>,
    pub funding: Vec<&'static str>,
    pub weekdays: Vec<(&'static str, &'static str)>,
}

impl Choices {
    pub fn new() -> Self {
        Self {
            kinds: OfferingKind::ALL.iter().map(|k| k.as_str()).collect(),
            indications: Indication::ALL.iter().map(|i| i.as_str()).collect(),
            funding: FundingRoute::ALL.iter().map(|f| f.as_str()).collect(),
            weekdays: vec![
                ("1", "weekday-1"),
                ("2", "weekday-2"),
                ("3", "weekday-3"),
                ("4", "weekday-4"),
                ("5", "weekday-5"),
                ("6", "weekday-6"),
                ("7", "weekday-7"),
            ],
        }
    }
}

impl Default for Choices {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    base: Base,
    q: SearchQuery,
    hits: Vec<SearchHit>,
    searched: bool,
    choices: Choices,
    can_refer: bool,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "therapists.html")]
struct RegisterPage {
    base: Base,
    q: directory::RegisterQuery,
    therapists: Vec<directory::RegisteredTherapist>,
    errors: FormErrors,
}

/// The public register of therapists, nearest first from a postcode.
async fn register(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<directory::RegisterQuery>,
) -> Result<Response, AppError> {
    let (therapists, errors) = match directory::register(&state, &q).await {
        Ok(t) => (t, FormErrors::default()),
        Err(e) => (Vec::new(), FormErrors::from_app(page.lang, &e).ok_or(e)?),
    };
    render(RegisterPage {
        base: Base::new(&page, "register-title"),
        q,
        therapists,
        errors,
    })
}

async fn search(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let searched = !q.postcode.is_empty() || !q.kind.is_empty() || !q.indication.is_empty();
    let (hits, errors) = match directory::search(&state, &q).await {
        Ok(h) => (h, FormErrors::default()),
        Err(e) => (Vec::new(), FormErrors::from_app(page.lang, &e).ok_or(e)?),
    };
    let can_refer = page
        .identity
        .as_ref()
        .is_some_and(|i| i.has_role(Role::Referrer) || i.has_role(Role::Coordinator));
    render(SearchPage {
        base: Base::new(&page, "search-title"),
        q,
        hits,
        searched,
        choices: Choices::new(),
        can_refer,
        errors,
    })
}

#[derive(Template)]
#[template(path = "sheet.html")]
struct SheetPage {
    base: Base,
    o: OfferingRow,
}

async fn sheet(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor().ok();
    let o = directory::offering(&state, actor.as_ref(), &id).await?;
    render(SheetPage {
        base: Base::new(&page, "sheet-title"),
        o,
    })
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    base: Base,
    org_id: String,
    d: directory::OrgDirectory,
    members: Vec<(String, String)>,
    choices: Choices,
    statuses: [&'static str; 4],
    coordinator: bool,
    errors: FormErrors,
    form: &'static str,
}

async fn directory_page(
    state: &AppState,
    page: &PageCtx,
    org_id: &str,
    errors: FormErrors,
    form: &'static str,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let d = directory::org_directory(state, &actor, org_id).await?;
    let members = {
        let mut c = state.db.conn().await?;
        crate::store::orgs::members(&mut c, org_id)
            .await?
            .into_iter()
            .map(|m| (m.user_id, m.name))
            .collect()
    };
    let coordinator =
        actor.identity.is_admin || actor.identity.role_in(org_id) == Some(Role::Coordinator);
    render(DirectoryPage {
        base: Base::new(page, "directory-title"),
        org_id: org_id.to_string(),
        d,
        members,
        choices: Choices::new(),
        statuses: BRTN_STATUSES,
        coordinator,
        errors,
        form,
    })
}

async fn org_directory(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    directory_page(&state, &page, &id, FormErrors::default(), "").await
}

async fn outcome(
    state: &AppState,
    page: &PageCtx,
    org_id: &str,
    form: &'static str,
    r: Result<(), AppError>,
) -> Result<Response, AppError> {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/organisations/{org_id}/directory")).into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                directory_page(state, page, org_id, errors, form)
            })
            .await
        }
    }
}

fn therapist_input(f: &Pairs) -> TherapistInput {
    TherapistInput {
        name: f.get("name"),
        profession: f.get("profession"),
        brtn_number: f.get("brtn_number"),
        brtn_status: f.get("brtn_status"),
        user_id: Some(f.get("user_id")),
    }
}

async fn create_therapist(
    State(state): State<AppState>,
    page: PageCtx,
    Path(org): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let r = directory::create_therapist(&state, &actor, &org, &therapist_input(&f))
        .await
        .map(|_| ());
    outcome(&state, &page, &org, "therapist", r).await
}

async fn update_therapist(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org = {
        let mut c = state.db.conn().await?;
        crate::store::directory::therapist(&mut c, &id)
            .await?
            .ok_or(AppError::NotFound)?
            .org_id
    };
    let r = directory::update_therapist(&state, &actor, &id, &therapist_input(&f)).await;
    outcome(&state, &page, &org, "therapist", r).await
}

async fn create_location(
    State(state): State<AppState>,
    page: PageCtx,
    Path(org): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let input = LocationInput {
        name: f.get("name"),
        address: f.get("address"),
        postcode: f.get("postcode"),
        place: f.get("place"),
    };
    let r = directory::create_location(&state, &actor, &org, &input)
        .await
        .map(|_| ());
    outcome(&state, &page, &org, "location", r).await
}

fn offering_input(f: &Pairs) -> OfferingInput {
    OfferingInput {
        title: f.get("title"),
        kind: f.get("kind"),
        description: f.get("description"),
        schedule: f.get("schedule"),
        weekdays: f.all("weekdays"),
        start_date: f.get("start_date"),
        weeks: f.get("weeks"),
        capacity: f.get("capacity"),
        funding: f.all("funding"),
        indications: f.all("indications"),
        price: f.get("price"),
        therapist_id: f.get("therapist_id"),
        location_id: f.get("location_id"),
    }
}

async fn create_offering(
    State(state): State<AppState>,
    page: PageCtx,
    Path(org): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let r = directory::create_offering(&state, &actor, &org, &offering_input(&f))
        .await
        .map(|_| ());
    outcome(&state, &page, &org, "offering", r).await
}

#[derive(Template)]
#[template(path = "offering_edit.html")]
struct EditPage {
    base: Base,
    o: OfferingRow,
    d: directory::OrgDirectory,
    choices: Choices,
    errors: FormErrors,
}

async fn edit_page(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let o = directory::offering(state, Some(&actor), id).await?;
    let d = directory::org_directory(state, &actor, &o.org_id).await?;
    render(EditPage {
        base: Base::new(page, "offering-edit-title"),
        o,
        d,
        choices: Choices::new(),
        errors,
    })
}

async fn edit_offering(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    edit_page(&state, &page, &id, FormErrors::default()).await
}

async fn update_offering(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    match directory::update_offering(&state, &actor, &id, &offering_input(&f)).await {
        Ok(()) => {
            let o = directory::offering(&state, Some(&actor), &id).await?;
            Ok(Redirect::to(&format!("/organisations/{}/directory", o.org_id)).into_response())
        }
        Err(e) => match FormErrors::from_app(page.lang, &e) {
            Some(errors) => edit_page(&state, &page, &id, errors).await,
            None => Err(e),
        },
    }
}

async fn set_listing(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    directory::set_listed(&state, &actor, &id, f.get("listed") == "1").await?;
    let o = directory::offering(&state, Some(&actor), &id).await?;
    Ok(Redirect::to(&format!("/organisations/{}/directory", o.org_id)).into_response())
}

async fn update_location(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org = {
        let mut c = state.db.conn().await?;
        crate::store::directory::location(&mut c, &id)
            .await?
            .ok_or(AppError::NotFound)?
            .org_id
    };
    let input = LocationInput {
        name: f.get("name"),
        address: f.get("address"),
        postcode: f.get("postcode"),
        place: f.get("place"),
    };
    let r = directory::update_location(&state, &actor, &id, &input).await;
    outcome(&state, &page, &org, "location", r).await
}
