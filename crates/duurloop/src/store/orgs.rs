//! Organisations and their members.

use duurloop_domain::OrgKind;
use sqlx::FromRow;

use super::{Conn, new_id};

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub created_at: i64,
    /// Whether the organisation's referrers see each other's referrals (set by a coordinator).
    pub share_referrals: i64,
}

pub async fn insert(
    c: &mut Conn,
    name: &str,
    kind: OrgKind,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query("INSERT INTO organisations (id, name, kind, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(name)
        .bind(kind.as_str())
        .bind(now)
        .execute(c)
        .await?;
    Ok(id)
}

pub async fn by_id(c: &mut Conn, id: &str) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, kind, created_at, share_referrals FROM organisations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await
}

pub async fn by_name(c: &mut Conn, name: &str) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, kind, created_at, share_referrals FROM organisations WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(c)
    .await
}

pub async fn all(c: &mut Conn) -> Result<Vec<OrgRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, kind, created_at, share_referrals FROM organisations ORDER BY name",
    )
    .fetch_all(c)
    .await
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct MemberRow {
    pub user_id: String,
    pub name: String,
    pub email: String,
    /// The member's language (`nl` or `en`), for mails to them.
    pub lang: String,
    pub role: String,
    pub second_factor: i64,
    pub since: i64,
}

pub async fn members(c: &mut Conn, org_id: &str) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id AS user_id, u.name, u.email, u.lang, m.role, \
         CAST(CASE WHEN u.totp_secret IS NULL THEN 0 ELSE 1 END AS BIGINT) AS second_factor, \
         m.created_at AS since \
         FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY u.name",
    )
    .bind(org_id)
    .fetch_all(c)
    .await
}

pub async fn set_share_referrals(c: &mut Conn, id: &str, share: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE organisations SET share_referrals = $1 WHERE id = $2")
        .bind(i64::from(share))
        .bind(id)
        .execute(c)
        .await
        .map(|_| ())
}
