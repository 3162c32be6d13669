//! Login throttling records.

use super::{Conn, new_id};

pub async fn record_failure(
    c: &mut Conn,
    account: &str,
    ip: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO login_failures (id, account, ip, at) VALUES ($1, $2, $3, $4)")
        .bind(new_id())
        .bind(account)
        .bind(ip)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
}

/// Failures since `since` for an account and for an IP address.
pub async fn failures_since(
    c: &mut Conn,
    account: &str,
    ip: &str,
    since: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let (a,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM login_failures WHERE account = $1 AND at >= $2",
    )
    .bind(account)
    .bind(since)
    .fetch_one(&mut *c)
    .await?;
    let (i,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM login_failures WHERE ip = $1 AND at >= $2",
    )
    .bind(ip)
    .bind(since)
    .fetch_one(c)
    .await?;
    Ok((a, i))
}

/// A successful login clears the account's failures.
pub async fn clear_failures(c: &mut Conn, account: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE account = $1")
        .bind(account)
        .execute(c)
        .await
        .map(|_| ())
}
