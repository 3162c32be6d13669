//! The directory (SPEC C2): therapist profiles, locations and offerings, maintained by the
//! organisation's therapists and coordinators, curated by its coordinators, searched by anyone
//! by distance from a Dutch postcode.

use duurloop_domain::{
    Role,
    postcode::{Postcode, distance_km},
    referral::{FundingRoute, Indication, OfferingKind},
};
use serde::Deserialize;

use super::{
    Actor, AppError, AppResult, FieldError,
    audit::{Event, record},
};
use crate::{
    clock, geo,
    state::AppState,
    store::{
        self, Conn,
        directory::{LocationRow, OfferingFilter, OfferingRow, TherapistRow},
    },
};

/// Therapists and coordinators of an organisation maintain its directory entries.
pub fn can_maintain(actor: &Actor, org_id: &str) -> bool {
    actor.identity.is_admin
        || matches!(
            actor.identity.role_in(org_id),
            Some(Role::Coordinator | Role::Therapist)
        )
}

fn require_maintainer(actor: &Actor, org_id: &str) -> AppResult<()> {
    if can_maintain(actor, org_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// BRTN registration states; only `registered` marks a therapist as certified.
pub const BRTN_STATUSES: [&str; 4] = ["registered", "in_training", "expired", "none"];

fn text(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    v: &str,
    min: usize,
    max: usize,
    key: &'static str,
) -> String {
    let v = v.trim();
    let n = v.chars().count();
    if n < min || n > max || v.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        errors.push(FieldError { field, key });
    }
    v.to_string()
}

fn done(errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TherapistInput {
    pub name: String,
    pub profession: String,
    #[serde(default)]
    pub brtn_number: String,
    pub brtn_status: String,
    /// The account of the therapist (a member of the organisation), if they have one.
    #[serde(default)]
    pub user_id: Option<String>,
}

async fn validate_therapist(
    c: &mut Conn,
    org_id: &str,
    t: &TherapistInput,
) -> AppResult<(String, String, String, Option<String>)> {
    let mut e = Vec::new();
    let name = text(&mut e, "name", &t.name, 1, 200, "invalid-name");
    let profession = text(
        &mut e,
        "profession",
        &t.profession,
        1,
        200,
        "invalid-profession",
    );
    let number = text(
        &mut e,
        "brtn_number",
        &t.brtn_number,
        0,
        50,
        "invalid-brtn-number",
    );
    if !BRTN_STATUSES.contains(&t.brtn_status.as_str()) {
        e.push(FieldError {
            field: "brtn_status",
            key: "invalid-brtn-status",
        });
    }
    if t.brtn_status == "registered" && number.is_empty() {
        e.push(FieldError {
            field: "brtn_number",
            key: "brtn-number-required",
        });
    }
    let user_id = t.user_id.clone().filter(|u| !u.is_empty());
    if let Some(u) = &user_id
        && !store::users::memberships_of(c, u)
            .await?
            .iter()
            .any(|m| m.org_id == org_id)
    {
        e.push(FieldError {
            field: "user_id",
            key: "not-a-member",
        });
    }
    done(e)?;
    Ok((name, profession, number, user_id))
}

pub async fn create_therapist(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    t: &TherapistInput,
) -> AppResult<String> {
    require_maintainer(actor, org_id)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    store::orgs::by_id(&mut tx, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (name, profession, number, user_id) = validate_therapist(&mut tx, org_id, t).await?;
    let input = store::directory::TherapistInput {
        org_id,
        user_id: user_id.as_deref(),
        name: &name,
        profession: &profession,
        brtn_number: &number,
        brtn_status: &t.brtn_status,
    };
    let id = store::directory::insert_therapist(&mut tx, &input, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "therapist").record(&id).org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_therapist(
    state: &AppState,
    actor: &Actor,
    id: &str,
    t: &TherapistInput,
) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let existing = store::directory::therapist(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_maintainer(actor, &existing.org_id)?;
    let (name, profession, number, user_id) =
        validate_therapist(&mut tx, &existing.org_id, t).await?;
    let input = store::directory::TherapistInput {
        org_id: &existing.org_id,
        user_id: user_id.as_deref(),
        name: &name,
        profession: &profession,
        brtn_number: &number,
        brtn_status: &t.brtn_status,
    };
    store::directory::update_therapist(&mut tx, id, &input, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "therapist")
            .record(id)
            .org(&existing.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct LocationInput {
    pub name: String,
    pub address: String,
    /// A Dutch postcode, `1234 AB`.
    pub postcode: String,
    pub place: String,
}

/// A validated location with its coordinates.
struct ValidLocation {
    name: String,
    address: String,
    place: String,
    postcode: String,
    lat_e6: i64,
    lon_e6: i64,
}

fn validate_location(l: &LocationInput) -> AppResult<ValidLocation> {
    let mut e = Vec::new();
    let name = text(&mut e, "name", &l.name, 1, 200, "invalid-location-name");
    let address = text(&mut e, "address", &l.address, 1, 200, "invalid-address");
    let place = text(&mut e, "place", &l.place, 1, 100, "invalid-place");
    let postcode = Postcode::parse(&l.postcode)
        .map_err(|x| {
            e.push(FieldError {
                field: "postcode",
                key: x.key,
            })
        })
        .ok();
    let coords = postcode.as_ref().and_then(|p| geo::pc4(p.pc4()));
    if postcode.is_some() && coords.is_none() {
        e.push(FieldError {
            field: "postcode",
            key: "unknown-postcode",
        });
    }
    done(e)?;
    let (Some(postcode), Some((lat, lon, _))) = (postcode, coords) else {
        return Err(AppError::invalid("postcode", "unknown-postcode"));
    };
    Ok(ValidLocation {
        name,
        address,
        place,
        postcode: postcode.to_string(),
        lat_e6: (lat * 1e6).round() as i64,
        lon_e6: (lon * 1e6).round() as i64,
    })
}

fn location_input<'a>(
    org_id: &'a str,
    v: &'a ValidLocation,
) -> store::directory::LocationInput<'a> {
    store::directory::LocationInput {
        org_id,
        name: &v.name,
        address: &v.address,
        postcode: &v.postcode,
        place: &v.place,
        lat_e6: v.lat_e6,
        lon_e6: v.lon_e6,
    }
}

pub async fn create_location(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    l: &LocationInput,
) -> AppResult<String> {
    require_maintainer(actor, org_id)?;
    let v = validate_location(l)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    store::orgs::by_id(&mut tx, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let id = store::directory::insert_location(&mut tx, &location_input(org_id, &v), now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "location").record(&id).org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a location; its offerings move with it in the search.
pub async fn update_location(
    state: &AppState,
    actor: &Actor,
    id: &str,
    l: &LocationInput,
) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let existing = store::directory::location(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_maintainer(actor, &existing.org_id)?;
    let v = validate_location(l)?;
    store::directory::update_location(&mut tx, id, &location_input(&existing.org_id, &v)).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "location")
            .record(id)
            .org(&existing.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An offering as entered in a form or sent to the API. Numbers arrive as text so a form can
/// say which one is wrong.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OfferingInput {
    pub title: String,
    /// running_group, running_individual, walking_group, other_exercise
    pub kind: String,
    #[serde(default)]
    pub description: String,
    /// As people read it, e.g. "dinsdag 19:00 en zaterdag 9:00".
    pub schedule: String,
    /// ISO weekdays, 1 = Monday.
    #[serde(default)]
    pub weekdays: Vec<String>,
    /// `jjjj-mm-dd`.
    pub start_date: String,
    pub weeks: String,
    pub capacity: String,
    #[serde(default)]
    pub funding: Vec<String>,
    #[serde(default)]
    pub indications: Vec<String>,
    /// In euros, e.g. "0" or "12,50".
    pub price: String,
    pub therapist_id: String,
    pub location_id: String,
}

/// Parses a euro amount ("12", "12,50", "12.5") into cents.
pub fn parse_euros(s: &str) -> Option<i64> {
    let s = s.trim().replace(',', ".");
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let cents = format!("{frac:0<2}").parse::<i64>().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
        .filter(|v| *v <= 10_000_000)
}

fn joined<T>(
    e: &mut Vec<FieldError>,
    field: &'static str,
    key: &'static str,
    items: &[String],
    parse: impl Fn(&str) -> Option<T>,
    name: impl Fn(&T) -> String,
) -> String {
    let mut out = Vec::new();
    for i in items {
        match parse(i) {
            Some(v) => out.push(name(&v)),
            None => {
                e.push(FieldError { field, key });
                break;
            }
        }
    }
    out.sort();
    out.dedup();
    format!(",{},", out.join(","))
}

struct ValidOffering {
    title: String,
    description: String,
    schedule: String,
    weekdays: String,
    funding: String,
    indications: String,
    weeks: i64,
    capacity: i64,
    price_cents: i64,
}

async fn validate_offering(
    c: &mut Conn,
    org_id: &str,
    o: &OfferingInput,
) -> AppResult<ValidOffering> {
    let mut e = Vec::new();
    let title = text(&mut e, "title", &o.title, 1, 200, "invalid-title");
    let description = text(
        &mut e,
        "description",
        &o.description,
        0,
        4000,
        "invalid-description",
    );
    let schedule = text(&mut e, "schedule", &o.schedule, 1, 200, "invalid-schedule");
    if OfferingKind::parse(&o.kind).is_err() {
        e.push(FieldError {
            field: "kind",
            key: "invalid-offering-kind",
        });
    }
    let weekdays = joined(
        &mut e,
        "weekdays",
        "invalid-weekday",
        &o.weekdays,
        |s| s.trim().parse::<u8>().ok().filter(|d| (1..=7).contains(d)),
        |d| d.to_string(),
    );
    let funding = joined(
        &mut e,
        "funding",
        "invalid-funding",
        &o.funding,
        |s| FundingRoute::parse(s).ok(),
        |f| f.as_str().to_string(),
    );
    let indications = joined(
        &mut e,
        "indications",
        "invalid-indication",
        &o.indications,
        |s| Indication::parse(s).ok(),
        |i| i.as_str().to_string(),
    );
    if clock::parse_local_date(&o.start_date).is_none() {
        e.push(FieldError {
            field: "start_date",
            key: "invalid-date",
        });
    }
    let weeks = o
        .weeks
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|w| (1..=52).contains(w));
    if weeks.is_none() {
        e.push(FieldError {
            field: "weeks",
            key: "invalid-weeks",
        });
    }
    let capacity = o
        .capacity
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|w| (1..=200).contains(w));
    if capacity.is_none() {
        e.push(FieldError {
            field: "capacity",
            key: "invalid-capacity",
        });
    }
    let price_cents = parse_euros(&o.price);
    if price_cents.is_none() {
        e.push(FieldError {
            field: "price",
            key: "invalid-price",
        });
    }
    if store::directory::therapist(c, &o.therapist_id)
        .await?
        .is_none_or(|t| t.org_id != org_id)
    {
        e.push(FieldError {
            field: "therapist_id",
            key: "invalid-therapist",
        });
    }
    if store::directory::location(c, &o.location_id)
        .await?
        .is_none_or(|l| l.org_id != org_id)
    {
        e.push(FieldError {
            field: "location_id",
            key: "invalid-location",
        });
    }
    done(e)?;
    Ok(ValidOffering {
        title,
        description,
        schedule,
        weekdays,
        funding,
        indications,
        weeks: weeks.unwrap_or(12),
        capacity: capacity.unwrap_or(1),
        price_cents: price_cents.unwrap_or(0),
    })
}

fn store_input<'a>(
    org_id: &'a str,
    o: &'a OfferingInput,
    v: &'a ValidOffering,
) -> store::directory::OfferingInput<'a> {
    store::directory::OfferingInput {
        org_id,
        therapist_id: &o.therapist_id,
        location_id: &o.location_id,
        title: &v.title,
        kind: &o.kind,
        description: &v.description,
        schedule: &v.schedule,
        weekdays: &v.weekdays,
        start_date: o.start_date.trim(),
        weeks: v.weeks,
        capacity: v.capacity,
        funding: &v.funding,
        indications: &v.indications,
        price_cents: v.price_cents,
    }
}

/// New offerings are listed at once; a coordinator can take them off the list.
pub async fn create_offering(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    o: &OfferingInput,
) -> AppResult<String> {
    require_maintainer(actor, org_id)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    store::orgs::by_id(&mut tx, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let v = validate_offering(&mut tx, org_id, o).await?;
    let id =
        store::directory::insert_offering(&mut tx, &store_input(org_id, o, &v), true, now).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "offering").record(&id).org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_offering(
    state: &AppState,
    actor: &Actor,
    id: &str,
    o: &OfferingInput,
) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let existing = store::directory::offering(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_maintainer(actor, &existing.org_id)?;
    let v = validate_offering(&mut tx, &existing.org_id, o).await?;
    store::directory::update_offering(&mut tx, id, &store_input(&existing.org_id, o, &v), now)
        .await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "offering")
            .record(id)
            .org(&existing.org_id),
    )
    .await?;
    if v.capacity > existing.capacity {
        // More places: those waiting longest are offered them now.
        super::referrals::offer_free_places(&mut tx, state, id, now).await?;
    }
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(())
}

/// Curating the list (Beweegcoach): only a coordinator of the offering's organisation.
pub async fn set_listed(state: &AppState, actor: &Actor, id: &str, listed: bool) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let o = store::directory::offering(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !actor.identity.is_admin && actor.identity.role_in(&o.org_id) != Some(Role::Coordinator) {
        return Err(AppError::Forbidden);
    }
    store::directory::set_listed(&mut tx, id, listed).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new(if listed { "list" } else { "unlist" }, "offering")
            .record(id)
            .org(&o.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Everything an organisation's directory page needs.
pub struct OrgDirectory {
    pub therapists: Vec<TherapistRow>,
    pub locations: Vec<LocationRow>,
    pub offerings: Vec<OfferingRow>,
}

pub async fn org_directory(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> AppResult<OrgDirectory> {
    require_maintainer(actor, org_id)?;
    let mut c = state.db.conn().await?;
    store::orgs::by_id(&mut c, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let filter = OfferingFilter {
        listed_only: false,
        org_id: Some(org_id),
        kind: None,
        weekday: None,
        indication: None,
        funding: None,
    };
    Ok(OrgDirectory {
        therapists: store::directory::therapists_of(&mut c, org_id).await?,
        locations: store::directory::locations_of(&mut c, org_id).await?,
        offerings: store::directory::offerings(&mut c, &filter).await?,
    })
}

/// A listed offering for anyone; an unlisted one only for those who maintain it.
pub async fn offering(state: &AppState, actor: Option<&Actor>, id: &str) -> AppResult<OfferingRow> {
    let mut c = state.db.conn().await?;
    let o = store::directory::offering(&mut c, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if o.listed == 1 || actor.is_some_and(|a| can_maintain(a, &o.org_id)) {
        Ok(o)
    } else {
        Err(AppError::NotFound)
    }
}

/// What to look for. Empty strings mean "any".
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// A Dutch postcode (`1234 AB` or `1234`).
    #[serde(default)]
    pub postcode: String,
    /// Maximum distance in km (default 25).
    #[serde(default)]
    pub radius_km: String,
    /// ISO weekday, 1 = Monday.
    #[serde(default)]
    pub weekday: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub indication: String,
    #[serde(default)]
    pub funding: String,
    /// "1" for offerings with free places only.
    #[serde(default)]
    pub free: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    #[serde(flatten)]
    pub offering: OfferingRow,
    pub distance_km: Option<f64>,
    pub free_places: i64,
    pub certified: bool,
}

fn opt(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// Where a search starts (a postcode's area centre) and how far it reaches (default 25 km);
/// bad input goes into `e`.
fn origin_and_radius(
    postcode: &str,
    radius_km: &str,
    e: &mut Vec<FieldError>,
) -> (Option<(f64, f64)>, f64) {
    let origin = match opt(postcode) {
        None => None,
        Some(p) => match Postcode::parse(p) {
            Ok(pc) => match geo::pc4(pc.pc4()) {
                Some((lat, lon, _)) => Some((lat, lon)),
                None => {
                    e.push(FieldError {
                        field: "postcode",
                        key: "unknown-postcode",
                    });
                    None
                }
            },
            Err(x) => {
                e.push(FieldError {
                    field: "postcode",
                    key: x.key,
                });
                None
            }
        },
    };
    let radius = match opt(radius_km) {
        None => 25.0,
        Some(r) => r
            .parse::<f64>()
            .ok()
            .filter(|r| (1.0..=300.0).contains(r))
            .unwrap_or_else(|| {
                e.push(FieldError {
                    field: "radius_km",
                    key: "invalid-radius",
                });
                25.0
            }),
    };
    (origin, radius)
}

/// Searches listed offerings. No personal data is involved, so no login and no audit entry.
pub async fn search(state: &AppState, q: &SearchQuery) -> AppResult<Vec<SearchHit>> {
    let mut e = Vec::new();
    let (origin, radius) = origin_and_radius(&q.postcode, &q.radius_km, &mut e);
    let weekday = opt(&q.weekday);
    if weekday.is_some_and(|d| !matches!(d, "1" | "2" | "3" | "4" | "5" | "6" | "7")) {
        e.push(FieldError {
            field: "weekday",
            key: "invalid-weekday",
        });
    }
    let kind = opt(&q.kind);
    if kind.is_some_and(|k| OfferingKind::parse(k).is_err()) {
        e.push(FieldError {
            field: "kind",
            key: "invalid-offering-kind",
        });
    }
    let indication = opt(&q.indication);
    if indication.is_some_and(|i| Indication::parse(i).is_err()) {
        e.push(FieldError {
            field: "indication",
            key: "invalid-indication",
        });
    }
    let funding = opt(&q.funding);
    if funding.is_some_and(|f| FundingRoute::parse(f).is_err()) {
        e.push(FieldError {
            field: "funding",
            key: "invalid-funding",
        });
    }
    done(e)?;
    let filter = OfferingFilter {
        listed_only: true,
        org_id: None,
        kind,
        weekday,
        indication,
        funding,
    };
    let mut c = state.db.conn().await?;
    let rows = store::directory::offerings(&mut c, &filter).await?;
    let free_only = q.free.trim() == "1";
    let mut hits: Vec<SearchHit> = rows
        .into_iter()
        .map(|o| {
            let d = origin.map(|p| distance_km(p, (o.lat_e6 as f64 / 1e6, o.lon_e6 as f64 / 1e6)));
            SearchHit {
                free_places: o.free_places(),
                certified: o.certified(),
                distance_km: d.map(|d| (d * 10.0).round() / 10.0),
                offering: o,
            }
        })
        .filter(|h| h.distance_km.is_none_or(|d| d <= radius))
        .filter(|h| !free_only || h.free_places > 0)
        .collect();
    hits.sort_by(|a, b| {
        a.distance_km
            .unwrap_or(0.0)
            .total_cmp(&b.distance_km.unwrap_or(0.0))
            .then(a.offering.title.cmp(&b.offering.title))
    });
    Ok(hits)
}

/// What to look for in the therapist register. Empty strings mean "any".
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct RegisterQuery {
    /// A Dutch postcode (`1234 AB` or `1234`): nearest first, within `radius_km`.
    #[serde(default)]
    pub postcode: String,
    /// Maximum distance in km (default 25).
    #[serde(default)]
    pub radius_km: String,
    /// Part of the therapist's name.
    #[serde(default)]
    pub name: String,
}

/// A listed offering, as the register links to it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RegisterOffering {
    pub id: String,
    pub title: String,
    pub place: String,
}

/// A therapist in the public register: their registration and where they work.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RegisteredTherapist {
    pub id: String,
    pub name: String,
    pub profession: String,
    pub brtn_number: String,
    /// registered, in_training, expired or none
    pub brtn_status: String,
    /// Registered with the BRTN (the professional register of running therapists).
    pub certified: bool,
    pub organisation: String,
    pub offerings: Vec<RegisterOffering>,
    /// To their nearest place, when a postcode was given.
    pub distance_km: Option<f64>,
}

/// The public register of therapists (SPEC §2a: "a list of all trained therapists with their
/// registration, searchable near you"): everyone with a listed offering, nearest first when
/// a postcode is given, by name otherwise. Professional data only, no login, no audit entry.
pub async fn register(state: &AppState, q: &RegisterQuery) -> AppResult<Vec<RegisteredTherapist>> {
    let mut e = Vec::new();
    let (origin, radius) = origin_and_radius(&q.postcode, &q.radius_km, &mut e);
    if q.name.chars().count() > 100 {
        e.push(FieldError {
            field: "name",
            key: "text-too-long",
        });
    }
    done(e)?;
    let needle = q.name.trim().to_lowercase();
    let mut c = state.db.conn().await?;
    let rows = store::directory::register(&mut c).await?;
    let mut out: Vec<RegisteredTherapist> = Vec::new();
    for r in rows {
        let d = origin.map(|p| distance_km(p, (r.lat_e6 as f64 / 1e6, r.lon_e6 as f64 / 1e6)));
        let d = d.map(|d| (d * 10.0).round() / 10.0);
        let offering = RegisterOffering {
            id: r.offering_id,
            title: r.offering_title,
            place: r.place,
        };
        match out.last_mut().filter(|t| t.id == r.therapist_id) {
            Some(t) => {
                t.offerings.push(offering);
                t.distance_km = match (t.distance_km, d) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            None => out.push(RegisteredTherapist {
                certified: r.brtn_status == "registered",
                id: r.therapist_id,
                name: r.name,
                profession: r.profession,
                brtn_number: r.brtn_number,
                brtn_status: r.brtn_status,
                organisation: r.org_name,
                offerings: vec![offering],
                distance_km: d,
            }),
        }
    }
    out.retain(|t| {
        (needle.is_empty() || t.name.to_lowercase().contains(&needle))
            && t.distance_km.is_none_or(|d| d <= radius)
    });
    out.sort_by(|a, b| {
        a.distance_km
            .unwrap_or(0.0)
            .total_cmp(&b.distance_km.unwrap_or(0.0))
            .then(a.name.cmp(&b.name))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_amounts_become_cents() {
        assert_eq!(parse_euros("0"), Some(0));
        assert_eq!(parse_euros("12,50"), Some(1250));
        assert_eq!(parse_euros("12.5"), Some(1250));
        assert_eq!(parse_euros(" 35 "), Some(3500));
        assert_eq!(parse_euros("-1"), None);
        assert_eq!(parse_euros("1,234"), None);
        assert_eq!(parse_euros("tien"), None);
        assert_eq!(parse_euros(""), None);
    }
}
