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

/// The columns [`insert_many`] takes from each element of its JSON array (`->>` reads a field
/// as text or SQL NULL on both databases).
macro_rules! insert_many_sql {
    ($elements:literal) => {
        concat!(
            "INSERT INTO audit_log (id, at, actor_user_id, actor_role, actor_org_id, action, record_type, \
             record_id, subject_user_id, org_id, ip, user_agent, reason, outcome) \
             SELECT value ->> 'id', CAST(value ->> 'at' AS BIGINT), value ->> 'actor_user_id', \
             value ->> 'actor_role', value ->> 'actor_org_id', value ->> 'action', value ->> 'record_type', \
             value ->> 'record_id', value ->> 'subject_user_id', value ->> 'org_id', value ->> 'ip', \
             value ->> 'user_agent', value ->> 'reason', value ->> 'outcome' FROM ",
            $elements
        )
    };
}

/// Inserts many entries with one statement and one parameter: the entries as a JSON array,
/// unpacked by the database (`json_each` on SQLite, `json_array_elements` on PostgreSQL). The
/// group writer's batches take one round trip, and binding stays cheap: SQLite looks up
/// parameter names by a linear scan, so a statement with hundreds of parameters costs
/// quadratic time to bind.
pub async fn insert_many(c: &mut Conn, entries: &[&NewAuditEntry]) -> Result<(), sqlx::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "id": new_id(),
                "at": e.at,
                "actor_user_id": e.actor_user_id,
                "actor_role": e.actor_role,
                "actor_org_id": e.actor_org_id,
                "action": e.action,
                "record_type": e.record_type,
                "record_id": e.record_id,
                "subject_user_id": e.subject_user_id,
                "org_id": e.org_id,
                "ip": e.ip,
                "user_agent": e.user_agent,
                "reason": e.reason,
                "outcome": e.outcome,
            })
        })
        .collect();
    let json = serde_json::Value::Array(rows).to_string();
    let sql = if c.backend_name() == "PostgreSQL" {
        insert_many_sql!("json_array_elements(CAST($1 AS json))")
    } else {
        insert_many_sql!("json_each($1)")
    };
    sqlx::query(sql).bind(json).execute(c).await.map(|_| ())
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
