//! Throttling records: failed logins and requests for mailed links.

use super::{Conn, hash_token, new_id};

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

/// Remembers a request for a mailed link (password reset, portal sign-in) that was let
/// through. The address is stored hashed.
pub async fn record_mail_request(
    c: &mut Conn,
    address: &str,
    ip: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO mail_requests (id, address_hash, ip, at) VALUES ($1, $2, $3, $4)")
        .bind(new_id())
        .bind(hash_token(address))
        .bind(ip)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
}

/// Mail requests let through for an address since `address_since`, and from an IP address
/// since `ip_since`.
pub async fn mail_requests_since(
    c: &mut Conn,
    address: &str,
    ip: &str,
    address_since: i64,
    ip_since: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let (a,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM mail_requests WHERE address_hash = $1 AND at >= $2",
    )
    .bind(hash_token(address))
    .bind(address_since)
    .fetch_one(&mut *c)
    .await?;
    let (i,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM mail_requests WHERE ip = $1 AND at >= $2",
    )
    .bind(ip)
    .bind(ip_since)
    .fetch_one(c)
    .await?;
    Ok((a, i))
}
