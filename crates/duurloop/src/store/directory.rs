//! Therapist profiles, locations and offerings.

use sqlx::FromRow;

use super::{Conn, new_id};

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct TherapistRow {
    pub id: String,
    pub org_id: String,
    pub user_id: Option<String>,
    pub name: String,
    pub profession: String,
    pub brtn_number: String,
    pub brtn_status: String,
}

pub struct TherapistInput<'a> {
    pub org_id: &'a str,
    pub user_id: Option<&'a str>,
    pub name: &'a str,
    pub profession: &'a str,
    pub brtn_number: &'a str,
    pub brtn_status: &'a str,
}

pub async fn insert_therapist(
    c: &mut Conn,
    t: &TherapistInput<'_>,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO therapists (id, org_id, user_id, name, profession, brtn_number, brtn_status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&id)
    .bind(t.org_id)
    .bind(t.user_id)
    .bind(t.name)
    .bind(t.profession)
    .bind(t.brtn_number)
    .bind(t.brtn_status)
    .bind(now)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn update_therapist(
    c: &mut Conn,
    id: &str,
    t: &TherapistInput<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE therapists SET user_id = $1, name = $2, profession = $3, brtn_number = $4, brtn_status = $5, \
         updated_at = $6 WHERE id = $7 AND org_id = $8",
    )
    .bind(t.user_id)
    .bind(t.name)
    .bind(t.profession)
    .bind(t.brtn_number)
    .bind(t.brtn_status)
    .bind(now)
    .bind(id)
    .bind(t.org_id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn therapist(c: &mut Conn, id: &str) -> Result<Option<TherapistRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, org_id, user_id, name, profession, brtn_number, brtn_status FROM therapists WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
}

pub async fn therapists_of(c: &mut Conn, org_id: &str) -> Result<Vec<TherapistRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, org_id, user_id, name, profession, brtn_number, brtn_status FROM therapists WHERE org_id = $1 ORDER BY name",
    )
    .bind(org_id)
    .fetch_all(c)
    .await
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct LocationRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub address: String,
    pub postcode: String,
    pub place: String,
    pub lat_e6: i64,
    pub lon_e6: i64,
}

pub struct LocationInput<'a> {
    pub org_id: &'a str,
    pub name: &'a str,
    pub address: &'a str,
    pub postcode: &'a str,
    pub place: &'a str,
    pub lat_e6: i64,
    pub lon_e6: i64,
}

pub async fn insert_location(
    c: &mut Conn,
    l: &LocationInput<'_>,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO locations (id, org_id, name, address, postcode, place, lat_e6, lon_e6, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(l.org_id)
    .bind(l.name)
    .bind(l.address)
    .bind(l.postcode)
    .bind(l.place)
    .bind(l.lat_e6)
    .bind(l.lon_e6)
    .bind(now)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn update_location(
    c: &mut Conn,
    id: &str,
    l: &LocationInput<'_>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE locations SET name = $1, address = $2, postcode = $3, place = $4, lat_e6 = $5, lon_e6 = $6 \
         WHERE id = $7 AND org_id = $8",
    )
    .bind(l.name)
    .bind(l.address)
    .bind(l.postcode)
    .bind(l.place)
    .bind(l.lat_e6)
    .bind(l.lon_e6)
    .bind(id)
    .bind(l.org_id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn locations_of(c: &mut Conn, org_id: &str) -> Result<Vec<LocationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, org_id, name, address, postcode, place, lat_e6, lon_e6 FROM locations WHERE org_id = $1 ORDER BY name",
    )
    .bind(org_id)
    .fetch_all(c)
    .await
}

pub async fn location(c: &mut Conn, id: &str) -> Result<Option<LocationRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, org_id, name, address, postcode, place, lat_e6, lon_e6 FROM locations WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
}

/// An offering with everything a search result shows.
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct OfferingRow {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub therapist_id: String,
    pub therapist_name: String,
    pub therapist_profession: String,
    pub brtn_status: String,
    pub brtn_number: String,
    pub location_id: String,
    pub location_name: String,
    pub address: String,
    pub postcode: String,
    pub place: String,
    pub lat_e6: i64,
    pub lon_e6: i64,
    pub title: String,
    pub kind: String,
    pub description: String,
    pub schedule: String,
    /// Comma-separated ISO weekdays (1 = Monday), with leading and trailing commas.
    pub weekdays: String,
    pub start_date: String,
    pub weeks: i64,
    pub capacity: i64,
    /// Comma-separated funding routes, with leading and trailing commas.
    pub funding: String,
    /// Comma-separated indications, with leading and trailing commas.
    pub indications: String,
    pub price_cents: i64,
    pub listed: i64,
    /// Places taken by accepted or started participants.
    pub taken: i64,
    /// Referrals waiting for a place.
    pub waiting: i64,
}

impl OfferingRow {
    pub fn free_places(&self) -> i64 {
        (self.capacity - self.taken).max(0)
    }
    pub fn certified(&self) -> bool {
        self.brtn_status == "registered"
    }
    pub fn list(field: &str) -> Vec<&str> {
        field.split(',').filter(|s| !s.is_empty()).collect()
    }
}

macro_rules! offering_select {
    () => {
        "SELECT o.id, o.org_id, g.name AS org_name, o.therapist_id, t.name AS therapist_name, \
         t.profession AS therapist_profession, t.brtn_status, t.brtn_number, o.location_id, \
         l.name AS location_name, l.address, l.postcode, l.place, l.lat_e6, l.lon_e6, o.title, o.kind, \
         o.description, o.schedule, o.weekdays, o.start_date, o.weeks, o.capacity, o.funding, \
         o.indications, o.price_cents, o.listed, \
         CAST((SELECT COUNT(*) FROM referrals r WHERE r.offering_id = o.id AND r.status IN ('accepted', 'started')) AS BIGINT) AS taken, \
         CAST((SELECT COUNT(*) FROM referrals r WHERE r.offering_id = o.id AND r.status = 'waitlisted') AS BIGINT) AS waiting \
         FROM offerings o JOIN organisations g ON g.id = o.org_id JOIN therapists t ON t.id = o.therapist_id \
         JOIN locations l ON l.id = o.location_id "
    };
}

pub async fn offering(c: &mut Conn, id: &str) -> Result<Option<OfferingRow>, sqlx::Error> {
    sqlx::query_as(concat!(offering_select!(), "WHERE o.id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

/// Offerings matching the filters that can be done in SQL; distance and free places are
/// applied by the caller. `listed_only` for the public and referrers; `org_id` for the
/// organisation's own management list.
pub struct OfferingFilter<'a> {
    pub listed_only: bool,
    pub org_id: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub weekday: Option<&'a str>,
    pub indication: Option<&'a str>,
    pub funding: Option<&'a str>,
}

pub async fn offerings(
    c: &mut Conn,
    f: &OfferingFilter<'_>,
) -> Result<Vec<OfferingRow>, sqlx::Error> {
    let like = |v: Option<&str>| v.map(|v| format!("%,{v},%"));
    sqlx::query_as(concat!(
        offering_select!(),
        "WHERE ($1 = 0 OR o.listed = 1) AND ($2 IS NULL OR o.org_id = $2) AND ($3 IS NULL OR o.kind = $3) \
         AND ($4 IS NULL OR o.weekdays LIKE $4) AND ($5 IS NULL OR o.indications LIKE $5) \
         AND ($6 IS NULL OR o.funding LIKE $6) ORDER BY o.title"
    ))
    .bind(i64::from(f.listed_only))
    .bind(f.org_id)
    .bind(f.kind)
    .bind(like(f.weekday))
    .bind(like(f.indication))
    .bind(like(f.funding))
    .fetch_all(c)
    .await
}

pub struct OfferingInput<'a> {
    pub org_id: &'a str,
    pub therapist_id: &'a str,
    pub location_id: &'a str,
    pub title: &'a str,
    pub kind: &'a str,
    pub description: &'a str,
    pub schedule: &'a str,
    pub weekdays: &'a str,
    pub start_date: &'a str,
    pub weeks: i64,
    pub capacity: i64,
    pub funding: &'a str,
    pub indications: &'a str,
    pub price_cents: i64,
}

pub async fn insert_offering(
    c: &mut Conn,
    o: &OfferingInput<'_>,
    listed: bool,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO offerings (id, org_id, therapist_id, location_id, title, kind, description, schedule, weekdays, \
         start_date, weeks, capacity, funding, indications, price_cents, listed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)",
    )
    .bind(&id)
    .bind(o.org_id)
    .bind(o.therapist_id)
    .bind(o.location_id)
    .bind(o.title)
    .bind(o.kind)
    .bind(o.description)
    .bind(o.schedule)
    .bind(o.weekdays)
    .bind(o.start_date)
    .bind(o.weeks)
    .bind(o.capacity)
    .bind(o.funding)
    .bind(o.indications)
    .bind(o.price_cents)
    .bind(i64::from(listed))
    .bind(now)
    .execute(c)
    .await?;
    Ok(id)
}

pub async fn update_offering(
    c: &mut Conn,
    id: &str,
    o: &OfferingInput<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE offerings SET therapist_id = $1, location_id = $2, title = $3, kind = $4, description = $5, \
         schedule = $6, weekdays = $7, start_date = $8, weeks = $9, capacity = $10, funding = $11, \
         indications = $12, price_cents = $13, updated_at = $14 WHERE id = $15 AND org_id = $16",
    )
    .bind(o.therapist_id)
    .bind(o.location_id)
    .bind(o.title)
    .bind(o.kind)
    .bind(o.description)
    .bind(o.schedule)
    .bind(o.weekdays)
    .bind(o.start_date)
    .bind(o.weeks)
    .bind(o.capacity)
    .bind(o.funding)
    .bind(o.indications)
    .bind(o.price_cents)
    .bind(now)
    .bind(id)
    .bind(o.org_id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_listed(c: &mut Conn, id: &str, listed: bool) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE offerings SET listed = $1 WHERE id = $2")
        .bind(i64::from(listed))
        .bind(id)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A therapist with one of their listed offerings and its place: the public register reads one
/// row per pair and groups them per therapist.
#[derive(Debug, Clone, FromRow)]
pub struct RegisterRow {
    pub therapist_id: String,
    pub name: String,
    pub profession: String,
    pub brtn_number: String,
    pub brtn_status: String,
    pub org_name: String,
    pub offering_id: String,
    pub offering_title: String,
    pub place: String,
    pub lat_e6: i64,
    pub lon_e6: i64,
}

/// Every therapist with at least one listed offering, each with those offerings (by name, then
/// offering title). A therapist whose organisation lists nothing of theirs stays out: the
/// organisation decides what is public.
pub async fn register(c: &mut Conn) -> Result<Vec<RegisterRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id AS therapist_id, t.name, t.profession, t.brtn_number, t.brtn_status, \
         g.name AS org_name, o.id AS offering_id, o.title AS offering_title, l.place, l.lat_e6, \
         l.lon_e6 FROM therapists t JOIN offerings o ON o.therapist_id = t.id AND o.listed = 1 \
         JOIN locations l ON l.id = o.location_id JOIN organisations g ON g.id = t.org_id \
         ORDER BY t.name, t.id, o.title",
    )
    .fetch_all(c)
    .await
}
