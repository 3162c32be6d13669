//! Deleting what can no longer be used: expired sessions, spent links and invitations, old
//! throttling records, mails sent long ago (ASVS 8.1.2). Each statement finds its rows by an
//! indexed time column (migrations 1 and 13) and deletes at most [`BATCH`] rows, repeated until none are left, so on
//! SQLite no statement holds the write lock for long and other writers get their turn
//! between batches. Run on a pool connection (not in a transaction): each batch commits alone.

use super::Conn;

/// Rows deleted per statement.
pub const BATCH: i64 = 1000;

/// Runs a `DELETE … LIMIT` statement until it deletes fewer than a batch. The statement's
/// placeholders are `binds` in order, then the batch size.
async fn in_batches(c: &mut Conn, sql: &'static str, binds: &[i64]) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        let n = q.bind(BATCH).execute(&mut *c).await?.rows_affected();
        total += n;
        if n < BATCH.unsigned_abs() {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Staff sessions idle since before `idle_before` or created before `created_before`.
pub async fn sessions(
    c: &mut Conn,
    idle_before: i64,
    created_before: i64,
) -> Result<u64, sqlx::Error> {
    in_batches(
        c,
        "DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions \
         WHERE last_seen_at <= $1 OR created_at <= $2 LIMIT $3)",
        &[idle_before, created_before],
    )
    .await
}

/// Portal sessions idle since before `idle_before` or created before `created_before`.
pub async fn portal_sessions(
    c: &mut Conn,
    idle_before: i64,
    created_before: i64,
) -> Result<u64, sqlx::Error> {
    in_batches(
        c,
        "DELETE FROM portal_sessions WHERE id_hash IN (SELECT id_hash FROM portal_sessions \
         WHERE last_seen_at <= $1 OR created_at <= $2 LIMIT $3)",
        &[idle_before, created_before],
    )
    .await
}

/// Portal sign-in links used or expired before `before`.
pub async fn portal_links(c: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    in_batches(
        c,
        "DELETE FROM portal_links WHERE token_hash IN (SELECT token_hash FROM portal_links \
         WHERE expires_at < $1 OR used_at < $2 LIMIT $3)",
        &[before, before],
    )
    .await
}

/// Password-reset links used or expired before `before`.
pub async fn password_resets(c: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    in_batches(
        c,
        "DELETE FROM password_resets WHERE token_hash IN (SELECT token_hash FROM password_resets \
         WHERE expires_at < $1 OR used_at < $2 LIMIT $3)",
        &[before, before],
    )
    .await
}

/// Staff invitations accepted or expired before `before`.
pub async fn invitations(c: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    in_batches(
        c,
        "DELETE FROM invitations WHERE id IN (SELECT id FROM invitations \
         WHERE expires_at < $1 OR accepted_at < $2 LIMIT $3)",
        &[before, before],
    )
    .await
}

/// Failed logins and second-factor codes from before `before`.
pub async fn login_failures(c: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    in_batches(
        c,
        "DELETE FROM login_failures WHERE id IN (SELECT id FROM login_failures \
         WHERE at < $1 LIMIT $2)",
        &[before],
    )
    .await
}

/// Requests for mailed links from before `before`.
pub async fn mail_requests(c: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    in_batches(
        c,
        "DELETE FROM mail_requests WHERE id IN (SELECT id FROM mail_requests \
         WHERE at < $1 LIMIT $2)",
        &[before],
    )
    .await
}

/// Outbox mails sent before `before` (not the queued or failed ones). `outbox_due` (migration
/// 1) starts with `sent_at`, so the rows are found by the index.
pub async fn sent_mails(c: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    in_batches(
        c,
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
         WHERE sent_at < $1 LIMIT $2)",
        &[before],
    )
    .await
}

/// Outbox mails given up on before `before` (`failed_at`, indexed since migration 24).
pub async fn failed_mails(c: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    in_batches(
        c,
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
         WHERE failed_at < $1 LIMIT $2)",
        &[before],
    )
    .await
}
