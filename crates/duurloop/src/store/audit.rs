//! The audit log (NEN 7513). Entries are only ever inserted, never changed.

use sqlx::FromRow;

use super::{Conn, new_id};

#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    pub at: i64,
    pub actor_user_id: Option<String>,
    pub actor_role: Option<String>,
    pub actor_org_id: Option<String>,
    pub action: &'static str,
    pub record_type: &'static str,
    pub record_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub org_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub reason: Option<String>,
    pub outcome: &'static str,
}

pub async fn insert(c: &mut Conn, e: &NewAuditEntry) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_user_id, actor_role, actor_org_id, action, record_type, \
         record_id, subject_user_id, org_id, ip, user_agent, reason, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(new_id())
    .bind(e.at)
    .bind(&e.actor_user_id)
    .bind(&e.actor_role)
    .bind(&e.actor_org_id)
    .bind(e.action)
    .bind(e.record_type)
    .bind(&e.record_id)
    .bind(&e.subject_user_id)
    .bind(&e.org_id)
    .bind(&e.ip)
    .bind(&e.user_agent)
    .bind(&e.reason)
    .bind(e.outcome)
    .execute(c)
    .await
    .map(|_| ())
}

/// Rows per statement of [`insert_many`] (14 parameters each: 448, well under both
/// databases' limits).
const ROWS_PER_INSERT: usize = 32;

/// The statement inserting `n` entries (1..=[`ROWS_PER_INSERT`]), made once from constants only.
fn insert_many_sql(n: usize) -> &'static str {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        (1..=ROWS_PER_INSERT)
            .map(|rows| {
                let mut sql = String::from(
                    "INSERT INTO audit_log (id, at, actor_user_id, actor_role, actor_org_id, action, \
                     record_type, record_id, subject_user_id, org_id, ip, user_agent, reason, outcome) VALUES ",
                );
                for r in 0..rows {
                    sql.push_str(if r == 0 { "(" } else { ", (" });
                    for p in 1..=14 {
                        if p > 1 {
                            sql.push_str(", ");
                        }
                        sql.push_str(&format!("${}", r * 14 + p));
                    }
                    sql.push(')');
                }
                sql
            })
            .collect()
    });
    &all[n.clamp(1, ROWS_PER_INSERT) - 1]
}

/// Inserts many entries with one statement per [`ROWS_PER_INSERT`] (the group writer's
/// batches: one round trip instead of one per entry).
pub async fn insert_many(c: &mut Conn, entries: &[&NewAuditEntry]) -> Result<(), sqlx::Error> {
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(insert_many_sql(chunk.len())));
        for e in chunk {
            q = q
                .bind(new_id())
                .bind(e.at)
                .bind(&e.actor_user_id)
                .bind(&e.actor_role)
                .bind(&e.actor_org_id)
                .bind(e.action)
                .bind(e.record_type)
                .bind(&e.record_id)
                .bind(&e.subject_user_id)
                .bind(&e.org_id)
                .bind(&e.ip)
                .bind(&e.user_agent)
                .bind(&e.reason)
                .bind(e.outcome);
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub actor_user_id: Option<String>,
    pub actor_name: Option<String>,
    pub actor_role: Option<String>,
    pub actor_org_id: Option<String>,
    pub action: String,
    pub record_type: String,
    pub record_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub org_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub reason: Option<String>,
    pub outcome: String,
}

/// What to look for in the audit log. `org_id` None means every organisation (admin only).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub org_id: Option<String>,
    /// A user id: entries where this person acted or whose data was touched.
    pub person: Option<String>,
    /// A record id (or record type).
    pub record: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: i64,
}

pub async fn search(c: &mut Conn, f: &AuditFilter) -> Result<Vec<AuditRow>, sqlx::Error> {
    // Each filter is "parameter IS NULL OR condition", so one statement serves every
    // combination without building SQL from strings.
    sqlx::query_as(
        "SELECT a.id, a.at, a.actor_user_id, u.name AS actor_name, a.actor_role, a.actor_org_id, \
         a.action, a.record_type, a.record_id, a.subject_user_id, a.org_id, a.ip, a.user_agent, \
         a.reason, a.outcome FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id \
         WHERE ($1 IS NULL OR a.org_id = $1 OR a.actor_org_id = $1) \
         AND ($2 IS NULL OR a.actor_user_id = $2 OR a.subject_user_id = $2) \
         AND ($3 IS NULL OR a.record_id = $3 OR a.record_type = $3) \
         AND ($4 IS NULL OR a.at >= $4) AND ($5 IS NULL OR a.at < $5) \
         ORDER BY a.at DESC, a.id DESC LIMIT $6",
    )
    .bind(&f.org_id)
    .bind(&f.person)
    .bind(&f.record)
    .bind(f.from)
    .bind(f.to)
    .bind(f.limit)
    .fetch_all(c)
    .await
}
