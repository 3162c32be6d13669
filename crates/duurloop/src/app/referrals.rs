//! Referrals (SPEC C3, C4): made by a referrer, by the client themself or through an employer,
//! UWV or municipality; handled by the therapist (invite, intake with health screen, decision);
//! triaged and reassigned by a coordinator or movement broker; followed on a shared timeline.
//!
//! Who sees a referral: the referrer who made it (and their practice's referrers and
//! coordinators when the practice shares referrals), the therapist of the offering, and the
//! coordinators of the offering's organisation or of the region it was sent to. The instance
//! administrator does not: running the instance is no reason to read health data.

use duurloop_domain::{
    EmailAddress, OrgKind, PersonName, Role,
    contact::{PhoneNumber, parse_age, parse_heart_rate, parse_height_cm, parse_weight_kg},
    plan::StartLevel,
    postcode::Postcode,
    referral::{
        FundingRoute, Indication, Motivation, ReferralEvent, ReferralSource, ReferralStatus,
        add_working_days, transition,
    },
    screening::{Clearance, ScreenAnswers, ScreenQuestion, may_start},
};
use serde::Deserialize;

use super::{
    Actor, AppError, AppResult, FieldError, RequestCtx,
    audit::{Event, record, record_anonymous, refused},
};
use crate::{
    mail,
    state::AppState,
    store::{
        self, Conn, new_token,
        referrals::{EventRow, IntakeRow, NewEvent, ReferralRow},
    },
};

/// How the acting person relates to a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Referrer,
    Therapist,
    Coordinator,
}

async fn shared_referrer_orgs(c: &mut Conn, actor: &Actor) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::new();
    for m in &actor.identity.memberships {
        if (m.role == Role::Referrer.as_str() || m.role == Role::Coordinator.as_str())
            && store::orgs::by_id(c, &m.org_id)
                .await?
                .is_some_and(|o| o.share_referrals == 1)
        {
            out.push(m.org_id.clone());
        }
    }
    Ok(out)
}

fn coordinated(actor: &Actor) -> Vec<String> {
    actor
        .identity
        .coordinated_orgs()
        .iter()
        .map(|m| m.org_id.clone())
        .collect()
}

pub(super) async fn relations(
    c: &mut Conn,
    actor: &Actor,
    r: &ReferralRow,
) -> Result<Vec<Relation>, sqlx::Error> {
    let me = Some(actor.identity.user_id.as_str());
    let mut out = Vec::new();
    let shared = shared_referrer_orgs(c, actor).await?;
    if r.referrer_user_id.as_deref() == me
        || r.referrer_org_id
            .as_ref()
            .is_some_and(|o| shared.contains(o))
    {
        out.push(Relation::Referrer);
    }
    if r.therapist_user_id.as_deref() == me {
        out.push(Relation::Therapist);
    }
    let coord = coordinated(actor);
    if r.offering_org_id
        .as_ref()
        .is_some_and(|o| coord.contains(o))
        || r.region_org_id.as_ref().is_some_and(|o| coord.contains(o))
    {
        out.push(Relation::Coordinator);
    }
    Ok(out)
}

pub(super) fn audit_org(r: &ReferralRow) -> Option<&str> {
    r.offering_org_id
        .as_deref()
        .or(r.region_org_id.as_deref())
        .or(r.referrer_org_id.as_deref())
}

/// The referrals the person may see (audit-logged as one search).
pub async fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<ReferralRow>> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let shared = shared_referrer_orgs(&mut tx, actor).await?;
    let coord = coordinated(actor);
    let rows = store::referrals::visible(
        &mut tx,
        &store::referrals::Visibility {
            user_id: &actor.identity.user_id,
            shared_referrer_orgs: &shared,
            coordinated_orgs: &coord,
            all: false,
        },
    )
    .await?;
    record(&mut tx, now, actor, Event::new("search", "referral")).await?;
    super::audit::record_shown(
        &mut tx,
        now,
        actor,
        "referral",
        rows.iter()
            .map(|r| (r.id.as_str(), r.offering_org_id.as_deref())),
    )
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// A referral with its timeline and intake, as one person sees it.
pub struct ReferralView {
    pub referral: ReferralRow,
    pub relations: Vec<Relation>,
    pub timeline: Vec<EventRow>,
    pub intake: Option<IntakeRow>,
    /// Set while the health screen has a flag without a recorded clearance.
    pub blocked_by_screen: bool,
    /// Whether the person may erase the participant's data now (see [`erase`]).
    pub erasable: bool,
    /// For a closed referral not yet erased, or an open one not started whose trajectory is
    /// not running: the moment after which the worker erases it (`app::retention`).
    pub erase_after: Option<i64>,
    /// Whether `erase_after` counts from the last change of a referral still open (the page
    /// says that a change moves the date).
    pub erase_after_open: bool,
}

impl ReferralView {
    pub fn handles(&self) -> bool {
        self.relations
            .iter()
            .any(|r| matches!(r, Relation::Therapist | Relation::Coordinator))
    }
    pub fn coordinates(&self) -> bool {
        self.relations.contains(&Relation::Coordinator)
    }
}

fn blocked(intake: Option<&IntakeRow>) -> bool {
    intake.is_some_and(|i| !i.flagged.is_empty() && i.clearance_by.is_none())
}

/// Opens a referral. The therapist's first look marks it received (`sent` → `received`).
pub async fn view(state: &AppState, actor: &Actor, id: &str) -> AppResult<ReferralView> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let mut r = store::referrals::by_id(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rel = relations(&mut tx, actor, &r).await?;
    if rel.is_empty() {
        let mut e = Event::new("read", "referral").record(id);
        if let Some(o) = audit_org(&r) {
            e = e.org(o);
        }
        return Err(refused(tx, now, actor, e, AppError::NotFound).await);
    }
    if rel.contains(&Relation::Therapist) && r.status == ReferralStatus::Sent.as_str() {
        change_status(&mut tx, state, actor, &r, ReferralEvent::Open, "", now).await?;
        r = store::referrals::by_id(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    let timeline = store::referrals::timeline(&mut tx, id).await?;
    let intake = store::referrals::intake(&mut tx, id).await?;
    let erase_after = super::retention::erase_after_of(&mut tx, state, &r).await?;
    let mut e = Event::new("read", "referral").record(id);
    if let Some(o) = audit_org(&r) {
        e = e.org(o);
    }
    record(&mut tx, now, actor, e).await?;
    tx.commit().await?;
    let blocked_by_screen = blocked(intake.as_ref());
    let erasable = r.erased_at.is_none()
        && may_erase(actor, &r)
        && ReferralStatus::parse(&r.status).is_ok_and(|s| !s.is_open());
    let erase_after_open = erase_after.is_some()
        && ReferralStatus::parse(&r.status).is_ok_and(ReferralStatus::is_open);
    Ok(ReferralView {
        referral: r,
        relations: rel,
        timeline,
        intake,
        blocked_by_screen,
        erasable,
        erase_after_open,
        erase_after,
    })
}

/// Applies a status event through the domain's status machine, writes the timeline and
/// tells the referrer.
pub(super) async fn change_status(
    c: &mut Conn,
    state: &AppState,
    actor: &Actor,
    r: &ReferralRow,
    event: ReferralEvent,
    note: &str,
    now: i64,
) -> AppResult<ReferralStatus> {
    let to = apply_status(c, state, actor, r, event, note, now).await?;
    if let Some(referrer) = &r.referrer_user_id
        && referrer != &actor.identity.user_id
        && let Some(u) = store::users::by_id(c, referrer).await?
    {
        let link = format!("{}/referrals/{}", state.config.base_url, r.id);
        mail::queue(
            c,
            state,
            mail::Mail::ReferralStatus {
                link: &link,
                status: to.as_str(),
            },
            &u.email,
            &u.lang,
        )
        .await?;
    }
    Ok(to)
}

/// As [`change_status`] without the referrer's mail, for a caller that sends the referrer
/// a mail of its own about the same step (the follow-up feedback report).
pub(super) async fn apply_status(
    c: &mut Conn,
    state: &AppState,
    actor: &Actor,
    r: &ReferralRow,
    event: ReferralEvent,
    note: &str,
    now: i64,
) -> AppResult<ReferralStatus> {
    let mut from =
        ReferralStatus::parse(&r.status).map_err(|_| AppError::Conflict("invalid-transition"))?;
    // Acting on a referral nobody opened yet (say, planning the intake straight away over the
    // API) implies it was received: record that step first so the timeline stays complete.
    if from == ReferralStatus::Sent
        && transition(from, event).is_err()
        && transition(ReferralStatus::Received, event).is_ok()
    {
        from = Box::pin(change_status(
            c,
            state,
            actor,
            r,
            ReferralEvent::Open,
            "",
            now,
        ))
        .await?;
    }
    let to = transition(from, event).map_err(|_| AppError::Conflict("invalid-transition"))?;
    if !store::referrals::set_status(c, &r.id, from.as_str(), to.as_str(), now).await? {
        return Err(AppError::Conflict("changed-meanwhile"));
    }
    store::referrals::add_event(
        c,
        &NewEvent {
            referral_id: &r.id,
            actor_user_id: Some(&actor.identity.user_id),
            kind: "status",
            from_status: Some(from.as_str()),
            to_status: Some(to.as_str()),
            note,
            now,
        },
    )
    .await?;
    let mut e = Event::new("update", "referral").record(&r.id);
    if let Some(o) = audit_org(r) {
        e = e.org(o);
    }
    record(c, now, actor, e).await?;
    let held_place =
        |s: ReferralStatus| matches!(s, ReferralStatus::Accepted | ReferralStatus::Started);
    if held_place(from)
        && !held_place(to)
        && let Some(offering_id) = &r.offering_id
    {
        offer_free_places(c, state, offering_id, now).await?;
    }
    Ok(to)
}

/// Offers the offering's free places to those waiting longest on its list: a place is free
/// when the capacity is more than the referrals accepted or started plus the places already
/// offered and not yet taken. Runs whenever a place may have come free (someone accepted or
/// started completes or drops out, from a trajectory or the referral itself) and when the
/// capacity is changed. Each person offered gets a `place_offered` step on the timeline and a
/// mail in their language, and the offering's therapist a mail with the link; the therapist
/// then accepts them (or not) as usual. Nobody is offered twice while they wait, and no more
/// places are offered than there are.
pub(super) async fn offer_free_places(
    c: &mut Conn,
    state: &AppState,
    offering_id: &str,
    now: i64,
) -> AppResult<()> {
    let Some(offering) = store::directory::offering(c, offering_id).await? else {
        return Ok(());
    };
    let open = offering.free_places() - store::referrals::offered_places(c, offering_id).await?;
    if open <= 0 {
        return Ok(());
    }
    let waiting = store::referrals::waiting_not_offered(c, offering_id, open).await?;
    // The offering's therapist (the same on every row).
    let therapist = match waiting.first().and_then(|r| r.therapist_user_id.as_deref()) {
        Some(uid) => store::users::by_id(c, uid).await?,
        None => None,
    };
    for next in waiting {
        store::referrals::add_event(
            c,
            &NewEvent {
                referral_id: &next.id,
                actor_user_id: None,
                kind: "place_offered",
                from_status: None,
                to_status: None,
                note: "",
                now,
            },
        )
        .await?;
        // The participant hears that the therapist will contact them: the therapist gets the
        // response target of a new referral for it, with its reminders.
        store::referrals::restart_response_target(
            c,
            &next.id,
            add_working_days(now, state.config.referral_response_days),
        )
        .await?;
        if !next.client_email.is_empty() {
            mail::queue(
                c,
                state,
                mail::Mail::PlaceOffered {
                    title: &offering.title,
                },
                &next.client_email,
                &next.client_lang,
            )
            .await?;
        }
        if let Some(u) = &therapist {
            let link = format!("{}/referrals/{}", state.config.base_url, next.id);
            mail::queue(
                c,
                state,
                mail::Mail::PlaceFreed { link: &link },
                &u.email,
                &u.lang,
            )
            .await?;
        }
    }
    Ok(())
}

/// Checks, before any input is looked at, that the person may act on the referral as its
/// therapist or coordinator (authorise first, then validate). A refusal (404 without any
/// relation to the referral, 403 for its referrer) is audit-logged as `attempt` with outcome
/// `denied` (ASVS 7.2.2).
async fn may_handle(
    state: &AppState,
    actor: &Actor,
    id: &str,
    attempt: Event<'_>,
) -> AppResult<()> {
    let mut c = state.db.conn().await?;
    let r = store::referrals::by_id(&mut c, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rel = relations(&mut c, actor, &r).await?;
    if rel
        .iter()
        .any(|x| matches!(x, Relation::Therapist | Relation::Coordinator))
    {
        return Ok(());
    }
    drop(c);
    let answer = if rel.is_empty() {
        AppError::NotFound
    } else {
        AppError::Forbidden
    };
    let mut e = attempt.record(id);
    if let Some(o) = audit_org(&r) {
        e = e.org(o);
    }
    let tx = state.db.begin().await?;
    Err(refused(tx, state.now(), actor, e, answer).await)
}

async fn handled(c: &mut Conn, actor: &Actor, id: &str) -> AppResult<(ReferralRow, Vec<Relation>)> {
    let r = store::referrals::by_id(c, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rel = relations(c, actor, &r).await?;
    if rel.is_empty() {
        return Err(AppError::NotFound);
    }
    if !rel
        .iter()
        .any(|x| matches!(x, Relation::Therapist | Relation::Coordinator))
    {
        return Err(AppError::Forbidden);
    }
    Ok((r, rel))
}

/// What a referral form or API call carries.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReferralInput {
    /// The offering referred to; leave empty and give `region_org_id` for "any suitable
    /// offering in the region" (a movement broker triages it).
    #[serde(default)]
    pub offering_id: String,
    #[serde(default)]
    pub region_org_id: String,
    pub client_name: String,
    #[serde(default)]
    pub client_email: String,
    #[serde(default)]
    pub client_phone: String,
    #[serde(default)]
    pub client_postcode: String,
    #[serde(default)]
    pub indications: Vec<String>,
    #[serde(default)]
    pub medication: String,
    #[serde(default)]
    pub physical_limits: String,
    #[serde(default)]
    pub motivation: String,
    #[serde(default)]
    pub funding_route: String,
    /// The client agreed to share their data with the therapist ("yes").
    #[serde(default)]
    pub consent: String,
    #[serde(default)]
    pub note: String,
    /// professional, employer, uwv or municipality (derived from the organisation if empty).
    #[serde(default)]
    pub source: String,
    /// A key unique to this form or request: sending it twice makes one referral.
    #[serde(default)]
    pub submission_key: String,
    /// The language of the mails to the participant: `nl` (the default) or `en`.
    #[serde(default)]
    pub client_lang: String,
}

/// The outcome of a new referral.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: String,
    /// The offering had no free place: the referral waits for one (the therapist will say).
    pub waitlist: bool,
    /// The same submission was received before; this is that referral.
    pub duplicate: bool,
}

struct Valid {
    name: String,
    email: String,
    phone: String,
    postcode: String,
    indications: String,
    motivation: &'static str,
    funding: &'static str,
    lang: &'static str,
}

fn validate(input: &ReferralInput) -> AppResult<Valid> {
    let mut e = Vec::new();
    let mut push = |field: &'static str, key: &'static str| e.push(FieldError { field, key });
    let name = PersonName::parse(&input.client_name)
        .map_err(|x| push("client_name", x.key))
        .ok();
    let email = match input.client_email.trim() {
        "" => Some(String::new()),
        s => EmailAddress::parse(s)
            .map(|x| x.as_str().to_string())
            .map_err(|x| push("client_email", x.key))
            .ok(),
    };
    let phone = match input.client_phone.trim() {
        "" => Some(String::new()),
        s => PhoneNumber::parse(s)
            .map(|x| x.as_str().to_string())
            .map_err(|x| push("client_phone", x.key))
            .ok(),
    };
    if input.client_email.trim().is_empty() && input.client_phone.trim().is_empty() {
        push("client_email", "contact-required");
    }
    let postcode = match input.client_postcode.trim() {
        "" => Some(String::new()),
        s => Postcode::parse(s)
            .map(|p| p.to_string())
            .map_err(|x| push("client_postcode", x.key))
            .ok(),
    };
    let mut inds = Vec::new();
    for i in &input.indications {
        match Indication::parse(i) {
            Ok(x) => inds.push(x.as_str()),
            Err(x) => push("indications", x.key),
        }
    }
    if input.indications.is_empty() {
        push("indications", "indication-required");
    }
    inds.sort();
    inds.dedup();
    let motivation = Motivation::parse(&input.motivation)
        .map(Motivation::as_str)
        .map_err(|x| push("motivation", x.key))
        .ok();
    let funding = FundingRoute::parse(&input.funding_route)
        .map(FundingRoute::as_str)
        .map_err(|x| push("funding_route", x.key))
        .ok();
    if !matches!(input.consent.trim(), "yes" | "ja" | "true" | "on") {
        push("consent", "consent-required");
    }
    for (field, v, max) in [
        ("medication", &input.medication, 2000),
        ("physical_limits", &input.physical_limits, 2000),
        ("note", &input.note, 4000),
    ] {
        if v.chars().count() > max {
            push(field, "text-too-long");
        }
    }
    if input.offering_id.trim().is_empty() == input.region_org_id.trim().is_empty() {
        push("offering_id", "offering-or-region");
    }
    let lang = match input.client_lang.trim() {
        "" => crate::i18n::Lang::Nl.code(),
        s => crate::i18n::Lang::parse(s)
            .map(crate::i18n::Lang::code)
            .ok_or_else(|| push("client_lang", "invalid-language"))
            .unwrap_or_default(),
    };
    match (name, email, phone, postcode, motivation, funding) {
        (Some(name), Some(email), Some(phone), Some(postcode), Some(motivation), Some(funding))
            if e.is_empty() =>
        {
            Ok(Valid {
                name: name.as_str().to_string(),
                email,
                phone,
                postcode,
                indications: format!(",{},", inds.join(",")),
                motivation,
                funding,
                lang,
            })
        }
        _ => Err(AppError::Invalid(e)),
    }
}

/// The consent text the referrer confirms (stored with the referral, in Dutch, as shown).
pub const CONSENT_TEXT_KEY: &str = "referral-consent-text";

async fn create(
    state: &AppState,
    actor: Option<&Actor>,
    ctx: &RequestCtx,
    input: &ReferralInput,
    source: ReferralSource,
    referrer_org: Option<&str>,
) -> AppResult<Created> {
    let v = validate(input)?;
    let now = state.now();
    let key = match input.submission_key.trim() {
        "" => new_token(),
        k if k.len() <= 100 => k.to_string(),
        _ => return Err(AppError::invalid("submission_key", "text-too-long")),
    };
    let mut tx = state.db.begin().await?;
    if let Some(id) = store::referrals::by_submission_key(&mut tx, &key).await? {
        return Ok(Created {
            id,
            waitlist: false,
            duplicate: true,
        });
    }
    // Self-registration needs no account and mails a therapist: the same limits as the other
    // requests anyone can make that send mail (per address and per client), so nobody can
    // flood a practice with registrations.
    if source == ReferralSource::SelfRegistration
        && !super::auth::mail_request_allowed(&mut tx, state, &v.email, ctx, now).await?
    {
        record_anonymous(
            &mut tx,
            now,
            ctx,
            Event::new("create", "referral").outcome("throttled"),
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::invalid("email", "too-many-requests"));
    }
    let (offering, region) = match (input.offering_id.trim(), input.region_org_id.trim()) {
        (o, "") => {
            let off = store::directory::offering(&mut tx, o)
                .await?
                .filter(|x| x.listed == 1)
                .ok_or(AppError::invalid("offering_id", "invalid-offering"))?;
            (Some(off), None)
        }
        (_, region) => {
            let org = store::orgs::by_id(&mut tx, region)
                .await?
                .ok_or(AppError::invalid("region_org_id", "invalid-region"))?;
            if OrgKind::parse(&org.kind) != Ok(OrgKind::CareGroup) {
                return Err(AppError::invalid("region_org_id", "invalid-region"));
            }
            (None, Some(org.id))
        }
    };
    let waitlist = offering.as_ref().is_some_and(|o| o.free_places() == 0);
    let consent_text = crate::i18n::Lang::Nl.t(CONSENT_TEXT_KEY);
    let consent_by = match actor {
        Some(a) => a.identity.name.clone(),
        None => v.name.clone(),
    };
    let respond_by = add_working_days(now, state.config.referral_response_days);
    let id = store::referrals::insert(
        &mut tx,
        &store::referrals::NewReferral {
            status: ReferralStatus::Sent.as_str(),
            source: source.as_str(),
            offering_id: offering.as_ref().map(|o| o.id.as_str()),
            region_org_id: region.as_deref(),
            referrer_user_id: actor.map(|a| a.identity.user_id.as_str()),
            referrer_org_id: referrer_org,
            client_name: &v.name,
            client_email: &v.email,
            client_phone: &v.phone,
            client_postcode: &v.postcode,
            client_lang: v.lang,
            indications: &v.indications,
            medication: input.medication.trim(),
            physical_limits: input.physical_limits.trim(),
            motivation: v.motivation,
            funding_route: v.funding,
            consent_by: &consent_by,
            consent_text: &consent_text,
            note: input.note.trim(),
            submission_key: &key,
            respond_by,
            now,
        },
    )
    .await
    .map_err(|e| {
        if store::is_unique_violation(&e) {
            AppError::Conflict("changed-meanwhile")
        } else {
            e.into()
        }
    })?;
    store::referrals::add_event(
        &mut tx,
        &NewEvent {
            referral_id: &id,
            actor_user_id: actor.map(|a| a.identity.user_id.as_str()),
            kind: "created",
            from_status: None,
            to_status: Some("sent"),
            note: source.as_str(),
            now,
        },
    )
    .await?;
    if waitlist {
        store::referrals::add_event(
            &mut tx,
            &NewEvent {
                referral_id: &id,
                actor_user_id: None,
                kind: "waitlist_notice",
                from_status: None,
                to_status: None,
                note: "",
                now,
            },
        )
        .await?;
    }
    let org = offering
        .as_ref()
        .map(|o| o.org_id.clone())
        .or(region.clone());
    let mut e = Event::new("create", "referral").record(&id);
    if let Some(o) = org.as_deref() {
        e = e.org(o);
    }
    match actor {
        Some(a) => record(&mut tx, now, a, e).await?,
        None => record_anonymous(&mut tx, now, ctx, e).await?,
    }
    // Tell whoever must act: the therapist of the offering, or the region's coordinators.
    let link = format!("{}/referrals/{id}", state.config.base_url);
    let mut recipients = Vec::new();
    if let Some(o) = &offering
        && let Some(t) = store::directory::therapist(&mut tx, &o.therapist_id).await?
        && let Some(uid) = t.user_id
        && let Some(u) = store::users::by_id(&mut tx, &uid).await?
    {
        recipients.push((u.email, u.lang));
    }
    if recipients.is_empty()
        && let Some(o) = org.as_deref()
    {
        recipients = store::referrals::coordinator_emails(&mut tx, o).await?;
    }
    for (to, lang) in recipients {
        mail::queue(
            &mut tx,
            state,
            mail::Mail::NewReferral {
                link: &link,
                days: state.config.referral_response_days,
            },
            &to,
            &lang,
        )
        .await?;
    }
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(Created {
        id,
        waitlist,
        duplicate: false,
    })
}

/// A referral by a care professional, employer, UWV or municipality (a member with the
/// referrer or coordinator role).
pub async fn refer(state: &AppState, actor: &Actor, input: &ReferralInput) -> AppResult<Created> {
    let m = actor
        .identity
        .memberships
        .iter()
        .find(|m| m.role == Role::Referrer.as_str())
        .or_else(|| {
            actor
                .identity
                .memberships
                .iter()
                .find(|m| m.role == Role::Coordinator.as_str())
        })
        .ok_or(AppError::Forbidden)?;
    let source = match OrgKind::parse(&m.org_kind) {
        Ok(OrgKind::Employer) => ReferralSource::Employer,
        Ok(OrgKind::Municipality) => ReferralSource::Municipality,
        _ => match ReferralSource::parse(input.source.trim()) {
            Ok(ReferralSource::Uwv) => ReferralSource::Uwv,
            _ => ReferralSource::Professional,
        },
    };
    let org_id = m.org_id.clone();
    create(state, Some(actor), &actor.ctx, input, source, Some(&org_id)).await
}

/// A client registers themself (no account needed).
pub async fn self_register(
    state: &AppState,
    ctx: &RequestCtx,
    input: &ReferralInput,
) -> AppResult<Created> {
    create(
        state,
        None,
        ctx,
        input,
        ReferralSource::SelfRegistration,
        None,
    )
    .await
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct InviteInput {
    /// When and where the intake is proposed, as people read it.
    pub intake_at: String,
    /// An optional free trial session.
    #[serde(default)]
    pub trial_at: String,
    #[serde(default)]
    pub message: String,
}

/// The therapist invites the client for an intake (and optionally a free trial session): an
/// e-mail with a link to confirm.
pub async fn invite(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &InviteInput,
) -> AppResult<()> {
    may_handle(state, actor, id, Event::new("update", "referral")).await?;
    let mut e = Vec::new();
    if input.intake_at.trim().is_empty() || input.intake_at.chars().count() > 200 {
        e.push(FieldError {
            field: "intake_at",
            key: "intake-at-required",
        });
    }
    if input.trial_at.chars().count() > 200 || input.message.chars().count() > 2000 {
        e.push(FieldError {
            field: "message",
            key: "text-too-long",
        });
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let (r, _) = handled(&mut tx, actor, id).await?;
    let status = change_status(
        &mut tx,
        state,
        actor,
        &r,
        ReferralEvent::Invite,
        input.intake_at.trim(),
        now,
    )
    .await?;
    debug_assert_eq!(status, ReferralStatus::Invited);
    if !r.client_email.is_empty() {
        let token = new_token();
        store::referrals::insert_client_invitation(
            &mut tx,
            &store::referrals::NewClientInvitation {
                token: &token,
                referral_id: id,
                intake_at: input.intake_at.trim(),
                trial_at: input.trial_at.trim(),
                message: input.message.trim(),
                now,
                expires_at: now + 30 * 86_400_000,
            },
        )
        .await?;
        let link = format!("{}/uitnodiging/{token}", state.config.base_url);
        let therapist = actor.identity.name.clone();
        mail::queue(
            &mut tx,
            state,
            mail::Mail::ClientInvitation {
                link: &link,
                therapist: &therapist,
            },
            &r.client_email,
            &r.client_lang,
        )
        .await?;
    }
    if !input.trial_at.trim().is_empty() {
        store::referrals::add_event(
            &mut tx,
            &NewEvent {
                referral_id: id,
                actor_user_id: Some(&actor.identity.user_id),
                kind: "trial",
                from_status: None,
                to_status: None,
                note: input.trial_at.trim(),
                now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(())
}

/// What the client sees behind the invitation link.
pub struct ClientInvitationView {
    pub token_hash: String,
    pub offering_title: Option<String>,
    pub intake_at: String,
    pub trial_at: String,
    pub message: String,
    pub confirmed: bool,
}

pub async fn client_invitation(state: &AppState, token: &str) -> AppResult<ClientInvitationView> {
    let mut c = state.db.conn().await?;
    let inv = store::referrals::client_invitation(&mut c, token)
        .await?
        .ok_or(AppError::NotFound)?;
    if inv.expires_at <= state.now() {
        return Err(AppError::NotFound);
    }
    let r = store::referrals::by_id(&mut c, &inv.referral_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ClientInvitationView {
        token_hash: inv.token_hash,
        offering_title: r.offering_title,
        intake_at: inv.intake_at,
        trial_at: inv.trial_at,
        message: inv.message,
        confirmed: inv.confirmed_at.is_some(),
    })
}

/// The client confirms they will come; the therapist sees it on the timeline.
pub async fn confirm_client_invitation(
    state: &AppState,
    token: &str,
    ctx: &RequestCtx,
) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let inv = store::referrals::client_invitation(&mut tx, token)
        .await?
        .ok_or(AppError::NotFound)?;
    if inv.expires_at <= now {
        return Err(AppError::NotFound);
    }
    if store::referrals::confirm_client_invitation(&mut tx, &inv.token_hash, now).await? {
        store::referrals::add_event(
            &mut tx,
            &NewEvent {
                referral_id: &inv.referral_id,
                actor_user_id: None,
                kind: "client_confirmed",
                from_status: None,
                to_status: None,
                note: "",
                now,
            },
        )
        .await?;
        record_anonymous(
            &mut tx,
            now,
            ctx,
            Event::new("confirm", "client_invitation").record(&inv.referral_id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Plans the intake (date and time as text the therapist chooses).
pub async fn plan_intake(
    state: &AppState,
    actor: &Actor,
    id: &str,
    planned_for: &str,
) -> AppResult<()> {
    may_handle(state, actor, id, Event::new("update", "referral")).await?;
    let planned_for = planned_for.trim();
    if planned_for.is_empty() || planned_for.chars().count() > 200 {
        return Err(AppError::invalid("planned_for", "intake-at-required"));
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let (r, _) = handled(&mut tx, actor, id).await?;
    change_status(
        &mut tx,
        state,
        actor,
        &r,
        ReferralEvent::PlanIntake,
        planned_for,
        now,
    )
    .await?;
    store::referrals::plan_intake(&mut tx, id, planned_for, now).await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(())
}

/// Records or withdraws the participant's objection to the use of their data for research,
/// as they told the therapist or coordinator (by phone, at the intake); participants do it
/// themselves in the portal (`portal::set_research_objection`). A research export leaves a
/// referral with an objection out (`research::export`; WGBO art. 7:458). Objecting again
/// keeps the first moment. Logged as `create` (objection) or `delete` (withdrawn) of
/// `research_objection`. `objects` is `None` when the form said neither (422, after the
/// access check). Returns when the objection stands, `None` when there is none.
pub async fn set_research_objection(
    state: &AppState,
    actor: &Actor,
    id: &str,
    objects: Option<bool>,
) -> AppResult<Option<i64>> {
    let action = match objects {
        Some(false) => "delete",
        _ => "create",
    };
    may_handle(state, actor, id, Event::new(action, "research_objection")).await?;
    let objects = objects.ok_or(AppError::invalid("objects", "choose-yes-or-no"))?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let (r, _) = handled(&mut tx, actor, id).await?;
    let at = objects.then(|| r.research_objection_at.unwrap_or(now));
    store::referrals::set_research_objection(&mut tx, id, at).await?;
    let mut e = Event::new(action, "research_objection").record(id);
    if let Some(o) = audit_org(&r) {
        e = e.org(o);
    }
    record(&mut tx, now, actor, e).await?;
    tx.commit().await?;
    Ok(at)
}

/// The intake record: the health screen (every question answered) and the baseline.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct IntakeInput {
    /// Per screen question (see `ScreenQuestion`), "yes" or "no".
    #[serde(default)]
    pub screen: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub resting_hr: String,
    #[serde(default)]
    pub age: String,
    #[serde(default)]
    pub height_cm: String,
    #[serde(default)]
    pub weight_kg: String,
    #[serde(default)]
    pub current_activity: String,
    #[serde(default)]
    pub running_history: String,
    #[serde(default)]
    pub injuries: String,
    #[serde(default)]
    pub goals: String,
    #[serde(default)]
    pub preferences: String,
}

pub async fn record_intake(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &IntakeInput,
) -> AppResult<bool> {
    may_handle(state, actor, id, Event::new("update", "intake")).await?;
    let mut e = Vec::new();
    let pairs: Vec<(&str, &str)> = input
        .screen
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answers = ScreenAnswers::parse(&pairs)
        .map_err(|x| {
            e.push(FieldError {
                field: "screen",
                key: x.key,
            })
        })
        .ok();
    let num = |e: &mut Vec<FieldError>,
               field: &'static str,
               raw: &str,
               parse: fn(&str) -> Result<i64, duurloop_domain::Invalid>|
     -> Option<i64> {
        if raw.trim().is_empty() {
            return None;
        }
        parse(raw)
            .map_err(|x| e.push(FieldError { field, key: x.key }))
            .ok()
    };
    let hr = num(&mut e, "resting_hr", &input.resting_hr, |s| {
        parse_heart_rate(s).map(i64::from)
    });
    let age = num(&mut e, "age", &input.age, |s| parse_age(s).map(i64::from));
    let height = num(&mut e, "height_cm", &input.height_cm, |s| {
        parse_height_cm(s).map(i64::from)
    });
    let weight = num(&mut e, "weight_kg", &input.weight_kg, |s| {
        parse_weight_kg(s).map(i64::from)
    });
    for v in [
        &input.current_activity,
        &input.running_history,
        &input.injuries,
        &input.goals,
        &input.preferences,
    ] {
        if v.chars().count() > 2000 {
            e.push(FieldError {
                field: "goals",
                key: "text-too-long",
            });
        }
    }
    let Some(answers) = answers.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let (r, _) = handled(&mut tx, actor, id).await?;
    if r.status != ReferralStatus::IntakePlanned.as_str() {
        return Err(AppError::Conflict("intake-not-planned"));
    }
    let mut intake = store::referrals::intake(&mut tx, id)
        .await?
        .ok_or(AppError::Conflict("intake-not-planned"))?;
    intake.screen = answers
        .answers()
        .iter()
        .map(|(q, a)| format!("{}={}", q.as_str(), if *a { "yes" } else { "no" }))
        .collect::<Vec<_>>()
        .join(",");
    intake.flagged = answers
        .flagged()
        .iter()
        .map(|q| q.as_str())
        .collect::<Vec<_>>()
        .join(",");
    intake.resting_hr = hr;
    intake.age = age;
    intake.height_cm = height;
    intake.weight_kg = weight;
    intake.current_activity = input.current_activity.trim().to_string();
    intake.running_history = input.running_history.trim().to_string();
    intake.injuries = input.injuries.trim().to_string();
    intake.goals = input.goals.trim().to_string();
    intake.preferences = input.preferences.trim().to_string();
    store::referrals::record_intake(&mut tx, &intake, now).await?;
    let flagged = answers.is_flagged();
    store::referrals::add_event(
        &mut tx,
        &NewEvent {
            referral_id: id,
            actor_user_id: Some(&actor.identity.user_id),
            kind: if flagged {
                "intake_flagged"
            } else {
                "intake_recorded"
            },
            from_status: None,
            to_status: None,
            note: "",
            now,
        },
    )
    .await?;
    let mut ev = Event::new("update", "intake").record(id);
    if let Some(o) = audit_org(&r) {
        ev = ev.org(o);
    }
    record(&mut tx, now, actor, ev).await?;
    tx.commit().await?;
    Ok(flagged)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ClearanceInput {
    /// Who gave the medical clearance (GP, sports physician).
    pub by: String,
    /// `jjjj-mm-dd`.
    pub date: String,
    #[serde(default)]
    pub note: String,
}

pub async fn record_clearance(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &ClearanceInput,
) -> AppResult<()> {
    may_handle(state, actor, id, Event::new("update", "clearance")).await?;
    let c = Clearance::parse(&input.by, &input.date, &input.note).map_err(|x| {
        let field = match x.key {
            "invalid-date" => "date",
            "clearance-by-missing" => "by",
            _ => "note",
        };
        AppError::field(field, x)
    })?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let (r, _) = handled(&mut tx, actor, id).await?;
    let intake = store::referrals::intake(&mut tx, id)
        .await?
        .filter(|i| i.recorded_at.is_some())
        .ok_or(AppError::Conflict("intake-not-recorded"))?;
    let _ = intake;
    store::referrals::record_clearance(&mut tx, id, &c.by, &c.date, &c.note, now).await?;
    store::referrals::add_event(
        &mut tx,
        &NewEvent {
            referral_id: id,
            actor_user_id: Some(&actor.identity.user_id),
            kind: "clearance",
            from_status: None,
            to_status: None,
            note: &c.by,
            now,
        },
    )
    .await?;
    let mut ev = Event::new("update", "clearance").record(id);
    if let Some(o) = audit_org(&r) {
        ev = ev.org(o);
    }
    record(&mut tx, now, actor, ev).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DecisionInput {
    /// accept, waitlist or not_suitable
    pub decision: String,
    /// Required for not_suitable; shown to the referrer.
    #[serde(default)]
    pub reason: String,
    /// When accepting: where the plan starts (inactive, walker, occasional, runner);
    /// default inactive, the gentlest start.
    #[serde(default)]
    pub start_level: String,
}

/// The outcome of the intake. Accepting needs a recorded intake whose health screen is clear
/// or cleared, and a free place.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &DecisionInput,
) -> AppResult<ReferralStatus> {
    may_handle(state, actor, id, Event::new("update", "referral")).await?;
    let event = match input.decision.as_str() {
        "accept" => ReferralEvent::Accept,
        "waitlist" => ReferralEvent::Waitlist,
        "not_suitable" => ReferralEvent::Reject,
        _ => return Err(AppError::invalid("decision", "invalid-decision")),
    };
    let reason = input.reason.trim();
    if event == ReferralEvent::Reject && reason.is_empty() {
        return Err(AppError::invalid("reason", "reason-required"));
    }
    if reason.chars().count() > 2000 {
        return Err(AppError::invalid("reason", "text-too-long"));
    }
    let start_level = match input.start_level.trim() {
        "" => StartLevel::Inactive,
        s => StartLevel::parse(s).map_err(|e| AppError::field("start_level", e))?,
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let (r, _) = handled(&mut tx, actor, id).await?;
    let intake = store::referrals::intake(&mut tx, id).await?;
    let mut accepted_into = None;
    if event == ReferralEvent::Accept {
        let recorded = intake
            .as_ref()
            .filter(|i| i.recorded_at.is_some())
            .ok_or(AppError::Conflict("intake-not-recorded"))?;
        if !may_start_from(recorded) {
            return Err(AppError::Conflict("clearance-required"));
        }
        let offering_id = r
            .offering_id
            .clone()
            .ok_or(AppError::Conflict("offering-required"))?;
        let o = store::directory::offering(&mut tx, &offering_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if o.free_places() == 0 {
            return Err(AppError::Conflict("offering-full"));
        }
        accepted_into = Some(o);
    }
    let to = change_status(&mut tx, state, actor, &r, event, reason, now).await?;
    if let Some(o) = accepted_into {
        super::trajectories::start(&mut tx, actor, &r, &o, intake.as_ref(), start_level, now)
            .await?;
    }
    if intake.is_some() {
        store::referrals::record_decision(&mut tx, id, to.as_str(), reason, now).await?;
    }
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(to)
}

fn may_start_from(i: &IntakeRow) -> bool {
    let pairs: Vec<(&str, &str)> = i
        .screen
        .split(',')
        .filter_map(|p| p.split_once('='))
        .collect();
    let Ok(answers) = ScreenAnswers::parse(&pairs) else {
        return false;
    };
    let clearance = match (&i.clearance_by, &i.clearance_date) {
        (Some(by), Some(date)) => {
            Clearance::parse(by, date, i.clearance_note.as_deref().unwrap_or_default()).ok()
        }
        _ => None,
    };
    may_start(&answers, clearance.as_ref())
}

/// A coordinator or movement broker sends the referral to another offering (triage).
pub async fn reassign(
    state: &AppState,
    actor: &Actor,
    id: &str,
    offering_id: &str,
) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let r = store::referrals::by_id(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rel = relations(&mut tx, actor, &r).await?;
    if !rel.contains(&Relation::Coordinator) {
        let answer = if rel.is_empty() {
            AppError::NotFound
        } else {
            AppError::Forbidden
        };
        let mut e = Event::new("reassign", "referral").record(id);
        if let Some(o) = audit_org(&r) {
            e = e.org(o);
        }
        return Err(refused(tx, now, actor, e, answer).await);
    }
    if !ReferralStatus::parse(&r.status).is_ok_and(ReferralStatus::is_open) {
        return Err(AppError::Conflict("referral-closed"));
    }
    let o = store::directory::offering(&mut tx, offering_id.trim())
        .await?
        .filter(|o| o.listed == 1)
        .ok_or(AppError::invalid("offering_id", "invalid-offering"))?;
    let respond_by = add_working_days(now, state.config.referral_response_days);
    store::referrals::reassign(&mut tx, id, &o.id, respond_by, now).await?;
    store::referrals::add_event(
        &mut tx,
        &NewEvent {
            referral_id: id,
            actor_user_id: Some(&actor.identity.user_id),
            kind: "reassigned",
            from_status: None,
            to_status: None,
            note: &o.title,
            now,
        },
    )
    .await?;
    let mut ev = Event::new("reassign", "referral").record(id);
    if let Some(org) = audit_org(&r) {
        ev = ev.org(org);
    }
    record(&mut tx, now, actor, ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Sends response-target reminders (for a new referral, or for a waiting one offered a freed
/// place that nobody took in yet): first to the therapist (or the region's coordinators) when
/// the target passes, then to the coordinators of the offering's organisation when as many
/// working days again have passed. Idempotent: each reminder is stamped in the same
/// transaction as its e-mail. Returns how many reminders were queued.
pub async fn send_response_reminders(state: &AppState) -> anyhow::Result<usize> {
    let now = state.now();
    let days = state.config.referral_response_days;
    let mut c = state.db.conn().await?;
    let due = store::referrals::overdue(&mut c, now).await?;
    drop(c);
    let mut sent = 0;
    for r in due {
        let link = format!("{}/referrals/{}", state.config.base_url, r.id);
        let mut tx = state.db.begin().await?;
        let escalate =
            r.reminded_therapist_at.is_some() && add_working_days(r.respond_by, days) <= now;
        let org = r.offering_org_id.clone().or(r.region_org_id.clone());
        let recipients = match (r.reminded_therapist_at, escalate) {
            (None, _) => {
                let mut to = Vec::new();
                if let Some(uid) = &r.therapist_user_id
                    && let Some(u) = store::users::by_id(&mut tx, uid).await?
                {
                    to.push((u.email, u.lang));
                }
                if to.is_empty()
                    && let Some(o) = &org
                {
                    to = store::referrals::coordinator_emails(&mut tx, o).await?;
                }
                store::referrals::stamp_reminder(&mut tx, &r.id, false, now)
                    .await?
                    .then_some((to, false))
            }
            (Some(_), true) => {
                let to = match &org {
                    Some(o) => store::referrals::coordinator_emails(&mut tx, o).await?,
                    None => Vec::new(),
                };
                store::referrals::stamp_reminder(&mut tx, &r.id, true, now)
                    .await?
                    .then_some((to, true))
            }
            (Some(_), false) => None,
        };
        if let Some((to, coordinator)) = recipients {
            let mut e = Event::new(if coordinator { "escalate" } else { "remind" }, "referral")
                .record(&r.id);
            if let Some(o) = &org {
                e = e.org(o);
            }
            super::audit::record_system(&mut tx, now, super::audit::WORKER, e).await?;
            for (addr, lang) in to {
                mail::queue(
                    &mut tx,
                    state,
                    mail::Mail::ReferralReminder {
                        link: &link,
                        coordinator,
                        place_offered: r.place_offered == 1,
                    },
                    &addr,
                    &lang,
                )
                .await?;
                sent += 1;
            }
        }
        tx.commit().await?;
    }
    if sent > 0 {
        state.mail_wakeup.notify_one();
    }
    Ok(sent)
}

/// The screen questions in order, for forms.
pub fn screen_questions() -> Vec<&'static str> {
    ScreenQuestion::ALL.iter().map(|q| q.as_str()).collect()
}

/// The name an erased referral shows instead of the participant's.
pub const ERASED_NAME: &str = "Gewiste deelnemer";

/// Erases the personal data of a participant on request (SPEC C12, AVG art. 17), by a
/// coordinator of the organisation whose offering holds the referral. Only a closed referral
/// (not suitable, completed, dropped out or followed up: `ReferralStatus::is_open` is false)
/// can be erased; while it is open, including while its trajectory is active, the trajectory
/// must be closed first (422 `referral-still-open`). The reason is required and kept in the
/// audit entry (action `erase` on the referral). A second erasure is refused (409
/// `already-erased`). On the page the person must also tick a confirmation (`confirmed`; the
/// API call is its own confirmation). One transaction.
///
/// What goes:
/// - the referral's name (replaced by [`ERASED_NAME`], also where the participant gave consent
///   themself), e-mail, phone, postcode, medication, physical limits, motivation and note: they
///   identify the person or are free text about them; the free-text notes of its timeline;
/// - the client invitations (token and message);
/// - the intake's health-screen answers and flags, baseline (resting heart rate, age, height,
///   weight), free-text answers, clearance (a doctor's name and note) and decision reason;
/// - the runs' pain descriptions and notes, the attendance notes;
/// - the questionnaire answers (emptied to `{}`) with their links, and the safety alerts (each
///   is one answer to one item);
/// - the texts of the feedback reports;
/// - the messages between therapist and participant (deleted: they are free text about them);
/// - portal sessions, magic links and the calendar token (so nothing signs in as them any more);
/// - the outbox mails, queued or sent, addressed to the participant's e-mail address.
///
/// What stays, because it no longer identifies anyone once the above is gone and the funder's
/// reports, the regional impact report and the invoices are built from it: the referral's
/// status, source, offering, region, referrer, indications, funding route, dates and consent
/// text; the timeline's statuses and dates; the intake's planned date, decision and when it was
/// recorded; the trajectory (plan, level, weeks, status); the runs' numbers; attendance; the
/// measurement points with their computed scores, statuses and dates; invoices and their lines
/// (which carry a reference, not a name, and must be kept for the tax authority). The audit
/// log is not touched: NEN 7513 requires keeping it, and it holds ids, not the person's data.
pub async fn erase(
    state: &AppState,
    actor: &Actor,
    id: &str,
    reason: &str,
    confirmed: bool,
) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let r = store::referrals::by_id(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let rel = relations(&mut tx, actor, &r).await?;
    if rel.is_empty() || !may_erase(actor, &r) {
        let answer = if rel.is_empty() {
            AppError::NotFound
        } else {
            AppError::Forbidden
        };
        let mut e = Event::new("erase", "referral").record(id);
        if let Some(o) = audit_org(&r) {
            e = e.org(o);
        }
        return Err(refused(tx, now, actor, e, answer).await);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "erase-reason-required"));
    }
    if reason.chars().count() > 2000 {
        return Err(AppError::invalid("reason", "text-too-long"));
    }
    if !confirmed {
        return Err(AppError::invalid("confirm", "erase-confirm-required"));
    }
    if r.erased_at.is_some() {
        return Err(AppError::Conflict("already-erased"));
    }
    if ReferralStatus::parse(&r.status).is_ok_and(ReferralStatus::is_open) {
        return Err(AppError::invalid("status", "referral-still-open"));
    }
    if !store::referrals::erase(&mut tx, id, ERASED_NAME, now).await? {
        return Err(AppError::Conflict("already-erased"));
    }
    let mut ev = Event::new("erase", "referral").record(id);
    if let Some(org) = audit_org(&r) {
        ev = ev.org(org);
    }
    super::audit::record_with_reason(&mut tx, now, actor, ev, reason).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the person may erase this referral: a coordinator of the organisation whose offering
/// holds it (a region's coordinator who only triaged it may not).
pub fn may_erase(actor: &Actor, r: &ReferralRow) -> bool {
    r.offering_org_id
        .as_ref()
        .is_some_and(|o| coordinated(actor).contains(o))
}
