//! Referrals: the referral form (from a search result or for "any suitable offering in the
//! region"), self-registration, the inbox, the referral page with its timeline and the
//! therapist's actions (invite, plan intake, intake with health screen, clearance, decision),
//! reassignment by a coordinator, and the client's invitation page.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Base, FormErrors, directory::Choices, render, show_again};
use crate::{
    app::{
        AppError,
        referrals::{
            self, ClearanceInput, DecisionInput, IntakeInput, InviteInput, ReferralInput,
            ReferralView,
        },
    },
    state::AppState,
    store::{self, directory::OfferingRow, orgs::OrgRow, referrals::ReferralRow},
    web::{ctx::PageCtx, form::Pairs, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/referrals", inbox)
        .get("/referrals/new", new_form)
        .post("/referrals", create)
        .get("/aanmelden", self_form)
        .post("/aanmelden", self_register)
        .get("/referrals/{id}", show)
        .post("/referrals/{id}/invite", invite)
        .post("/referrals/{id}/plan-intake", plan_intake)
        .post("/referrals/{id}/intake", intake)
        .post("/referrals/{id}/clearance", clearance)
        .post("/referrals/{id}/decision", decision)
        .post("/referrals/{id}/reassign", reassign)
        .post("/referrals/{id}/erase", erase)
        .post("/referrals/{id}/research-objection", set_research_objection)
        .get("/uitnodiging/{token}", client_invitation)
        .post("/uitnodiging/{token}", confirm_invitation)
}

#[derive(Template)]
#[template(path = "referrals.html")]
struct InboxPage {
    base: Base,
    rows: Vec<ReferralRow>,
    me: String,
}

async fn inbox(State(state): State<AppState>, page: PageCtx) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let rows = referrals::list(&state, &actor).await?;
    render(InboxPage {
        base: Base::new(&page, "referrals-title"),
        rows,
        me: actor.identity.user_id,
    })
}

#[derive(Deserialize, Default)]
struct NewQuery {
    #[serde(default)]
    offering: String,
    #[serde(default)]
    region: String,
}

#[derive(Template)]
#[template(path = "referral_form.html")]
struct FormPage {
    base: Base,
    action: &'static str,
    offering: Option<OfferingRow>,
    regions: Vec<OrgRow>,
    input: ReferralInput,
    choices: Choices,
    motivations: [&'static str; 3],
    self_registration: bool,
    errors: FormErrors,
}

async fn form_page(
    state: &AppState,
    page: &PageCtx,
    self_registration: bool,
    input: ReferralInput,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let offering = match input.offering_id.as_str() {
        "" => None,
        id => Some(crate::app::directory::offering(state, page.actor().ok().as_ref(), id).await?),
    };
    let regions = {
        let mut c = state.db.conn().await?;
        store::orgs::all(&mut c)
            .await?
            .into_iter()
            .filter(|o| o.kind == "care_group")
            .collect()
    };
    render(FormPage {
        base: Base::new(
            page,
            if self_registration {
                "self-title"
            } else {
                "refer-title"
            },
        ),
        action: if self_registration {
            "/aanmelden"
        } else {
            "/referrals"
        },
        offering,
        regions,
        input,
        choices: Choices::new(),
        motivations: ["low", "moderate", "high"],
        self_registration,
        errors,
    })
}

/// An empty form; the participant's mails are proposed in the page's language.
fn fresh_input(q: &NewQuery, page: &PageCtx) -> ReferralInput {
    ReferralInput {
        offering_id: q.offering.clone(),
        region_org_id: q.region.clone(),
        submission_key: crate::store::new_token(),
        client_lang: page.lang.code().to_string(),
        ..Default::default()
    }
}

async fn new_form(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    if !actor.identity.has_role(duurloop_domain::Role::Referrer)
        && !actor.identity.has_role(duurloop_domain::Role::Coordinator)
    {
        return Err(AppError::Forbidden);
    }
    form_page(
        &state,
        &page,
        false,
        fresh_input(&q, &page),
        FormErrors::default(),
    )
    .await
}

async fn self_form(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    form_page(
        &state,
        &page,
        true,
        fresh_input(&q, &page),
        FormErrors::default(),
    )
    .await
}

fn referral_input(f: &Pairs) -> ReferralInput {
    ReferralInput {
        offering_id: f.get("offering_id"),
        region_org_id: f.get("region_org_id"),
        client_name: f.get("client_name"),
        client_email: f.get("client_email"),
        client_phone: f.get("client_phone"),
        client_postcode: f.get("client_postcode"),
        indications: f.all("indications"),
        medication: f.get("medication"),
        physical_limits: f.get("physical_limits"),
        motivation: f.get("motivation"),
        funding_route: f.get("funding_route"),
        consent: f.get("consent"),
        note: f.get("note"),
        source: f.get("source"),
        submission_key: f.get("submission_key"),
        client_lang: f.get("client_lang"),
    }
}

async fn created(
    state: &AppState,
    page: &PageCtx,
    self_registration: bool,
    input: ReferralInput,
    r: Result<referrals::Created, AppError>,
) -> Result<Response, AppError> {
    match r {
        Ok(c) if self_registration => render(SelfDonePage {
            base: Base::new(page, "self-title"),
            waitlist: c.waitlist,
        }),
        Ok(c) => Ok(Redirect::to(&format!(
            "/referrals/{}{}",
            c.id,
            if c.waitlist { "?vol=1" } else { "" }
        ))
        .into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                form_page(state, page, self_registration, input, errors)
            })
            .await
        }
    }
}

async fn create(
    State(state): State<AppState>,
    page: PageCtx,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let input = referral_input(&f);
    let r = referrals::refer(&state, &actor, &input).await;
    created(&state, &page, false, input, r).await
}

#[derive(Template)]
#[template(path = "self_done.html")]
struct SelfDonePage {
    base: Base,
    waitlist: bool,
}

async fn self_register(
    State(state): State<AppState>,
    page: PageCtx,
    f: Pairs,
) -> Result<Response, AppError> {
    let input = referral_input(&f);
    let r = referrals::self_register(&state, &page.ctx, &input).await;
    created(&state, &page, true, input, r).await
}

#[derive(Template)]
#[template(path = "referral.html")]
struct ReferralPage {
    base: Base,
    v: ReferralView,
    full_notice: bool,
    questions: Vec<&'static str>,
    offerings: Vec<OfferingRow>,
    levels: Vec<&'static str>,
    trajectory: Option<String>,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    #[serde(default)]
    vol: String,
}

async fn referral_page(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    full_notice: bool,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let v = referrals::view(state, &actor, id).await?;
    let offerings = if v.coordinates() {
        let q = crate::app::directory::SearchQuery::default();
        crate::app::directory::search(state, &q)
            .await?
            .into_iter()
            .map(|h| h.offering)
            .collect()
    } else {
        Vec::new()
    };
    let trajectory = crate::app::trajectories::for_referral(state, id).await?;
    render(ReferralPage {
        base: Base::new(page, "referral-title"),
        v,
        full_notice,
        questions: referrals::screen_questions(),
        offerings,
        levels: duurloop_domain::plan::StartLevel::ALL
            .iter()
            .map(|l| l.as_str())
            .collect(),
        trajectory,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    referral_page(&state, &page, &id, q.vol == "1", FormErrors::default()).await
}

async fn after_action(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    r: Result<(), AppError>,
) -> Result<Response, AppError> {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/referrals/{id}")).into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                referral_page(state, page, id, false, errors)
            })
            .await
        }
    }
}

async fn invite(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let input = InviteInput {
        intake_at: f.get("intake_at"),
        trial_at: f.get("trial_at"),
        message: f.get("message"),
    };
    let r = referrals::invite(&state, &actor, &id, &input).await;
    after_action(&state, &page, &id, r).await
}

async fn plan_intake(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let r = referrals::plan_intake(&state, &actor, &id, &f.get("planned_for")).await;
    after_action(&state, &page, &id, r).await
}

async fn intake(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let input = IntakeInput {
        screen: f.prefixed("screen_").into_iter().collect(),
        resting_hr: f.get("resting_hr"),
        age: f.get("age"),
        height_cm: f.get("height_cm"),
        weight_kg: f.get("weight_kg"),
        current_activity: f.get("current_activity"),
        running_history: f.get("running_history"),
        injuries: f.get("injuries"),
        goals: f.get("goals"),
        preferences: f.get("preferences"),
    };
    let r = referrals::record_intake(&state, &actor, &id, &input)
        .await
        .map(|_| ());
    after_action(&state, &page, &id, r).await
}

async fn clearance(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let input = ClearanceInput {
        by: f.get("by"),
        date: f.get("date"),
        note: f.get("note"),
    };
    let r = referrals::record_clearance(&state, &actor, &id, &input).await;
    after_action(&state, &page, &id, r).await
}

async fn decision(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let input = DecisionInput {
        decision: f.get("decision"),
        reason: f.get("reason"),
        start_level: f.get("start_level"),
    };
    let r = referrals::decide(&state, &actor, &id, &input)
        .await
        .map(|_| ());
    after_action(&state, &page, &id, r).await
}

async fn reassign(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let r = referrals::reassign(&state, &actor, &id, &f.get("offering_id")).await;
    after_action(&state, &page, &id, r).await
}

async fn erase(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let confirmed = f.get("confirm") == "yes";
    let r = referrals::erase(&state, &actor, &id, &f.get("reason"), confirmed).await;
    after_action(&state, &page, &id, r).await
}

/// The participant's objection to research use, as they told the therapist or coordinator
/// (`objects=yes`), or its withdrawal (`objects=no`).
async fn set_research_objection(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let objects = super::portal::parse_objects(&f.get("objects")).ok();
    let r = referrals::set_research_objection(&state, &actor, &id, objects)
        .await
        .map(|_| ());
    after_action(&state, &page, &id, r).await
}

#[derive(Template)]
#[template(path = "client_invitation.html")]
struct ClientInvitationPage {
    base: Base,
    token: String,
    inv: referrals::ClientInvitationView,
}

async fn client_invitation(
    State(state): State<AppState>,
    page: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let inv = referrals::client_invitation(&state, &token).await?;
    render(ClientInvitationPage {
        base: Base::new(&page, "client-invitation-title"),
        token,
        inv,
    })
}

async fn confirm_invitation(
    State(state): State<AppState>,
    page: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    referrals::confirm_client_invitation(&state, &token, &page.ctx).await?;
    Ok(Redirect::to(&format!("/uitnodiging/{token}")).into_response())
}
