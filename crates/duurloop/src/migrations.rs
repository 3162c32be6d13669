//! Embedded migrations: one history for both databases, applied at start, never edited once
//! applied. Each file in `migrations/` is portable SQL (TEXT, BIGINT, no vendor types); the
//! test `schema_is_the_same_on_sqlite_and_postgres` checks both databases end up alike.

use anyhow::Context;
use sqlx::Row;

use crate::db::{Db, exec_raw};

/// (version, name, SQL). Append only.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/0001_foundation.sql"),
    ),
    (
        2,
        "front_door",
        include_str!("../migrations/0002_front_door.sql"),
    ),
    (
        3,
        "trajectories",
        include_str!("../migrations/0003_trajectories.sql"),
    ),
    (4, "groups", include_str!("../migrations/0004_groups.sql")),
    (
        5,
        "calendar_feeds",
        include_str!("../migrations/0005_calendar_feeds.sql"),
    ),
    (6, "portal", include_str!("../migrations/0006_portal.sql")),
    (
        7,
        "participant_calendar",
        include_str!("../migrations/0007_participant_calendar.sql"),
    ),
    (
        8,
        "measurement",
        include_str!("../migrations/0008_measurement.sql"),
    ),
    (
        9,
        "feedback",
        include_str!("../migrations/0009_feedback.sql"),
    ),
    (
        10,
        "report_indexes",
        include_str!("../migrations/0010_report_indexes.sql"),
    ),
    (
        11,
        "report_counts",
        include_str!("../migrations/0011_report_counts.sql"),
    ),
    (
        12,
        "funding",
        include_str!("../migrations/0012_funding.sql"),
    ),
    (
        13,
        "purge_and_mail_limits",
        include_str!("../migrations/0013_purge_and_mail_limits.sql"),
    ),
    (
        14,
        "api_token_expiry",
        include_str!("../migrations/0014_api_token_expiry.sql"),
    ),
    (
        15,
        "session_devices",
        include_str!("../migrations/0015_session_devices.sql"),
    ),
    (
        16,
        "invoice_payer_details",
        include_str!("../migrations/0016_invoice_payer_details.sql"),
    ),
    (
        17,
        "api_token_reminders",
        include_str!("../migrations/0017_api_token_reminders.sql"),
    ),
    (
        18,
        "audit_log_record",
        include_str!("../migrations/0018_audit_log_record.sql"),
    ),
    (
        19,
        "referral_erasure",
        include_str!("../migrations/0019_referral_erasure.sql"),
    ),
    (
        20,
        "client_language",
        include_str!("../migrations/0020_client_language.sql"),
    ),
    (
        21,
        "messages",
        include_str!("../migrations/0021_messages.sql"),
    ),
    (
        22,
        "api_token_scopes",
        include_str!("../migrations/0022_api_token_scopes.sql"),
    ),
    (
        23,
        "audit_chain",
        include_str!("../migrations/0023_audit_chain.sql"),
    ),
    (
        24,
        "outbox_failed_index",
        include_str!("../migrations/0024_outbox_failed_index.sql"),
    ),
    (
        25,
        "research_objection",
        include_str!("../migrations/0025_research_objection.sql"),
    ),
];

pub async fn run(db: &Db) -> anyhow::Result<()> {
    let mut conn = db.conn().await?;
    exec_raw(
        &mut conn,
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, \
         name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    drop(conn);
    for (version, name, sql) in MIGRATIONS {
        let mut tx = db.begin().await?;
        let done: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM schema_migrations WHERE version = $1",
        )
        .bind(*version)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if done > 0 {
            continue;
        }
        exec_raw(&mut tx, sql)
            .await
            .with_context(|| format!("migration {version} ({name}) failed"))?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(*version)
        .bind(*name)
        .bind(jiff::Timestamp::now().as_millisecond())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "migration applied");
    }
    // Migration 23 began the audit log's hash chain; entries written before it join the
    // chain here, in Rust, since SQLite has no SHA-256 of its own.
    let mut tx = db.begin().await?;
    let chained = crate::store::audit::chain_earlier_entries(&mut tx).await?;
    tx.commit().await?;
    if chained > 0 {
        tracing::info!(
            count = chained,
            "earlier audit entries put in the hash chain"
        );
    }
    Ok(())
}
