//! The audit log (NEN 7513). Entries are only ever inserted, never changed, and each is a link
//! of one hash chain, so a change, a removal or an insertion behind the application's back
//! shows (`app::audit_chain` checks it).

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

/// Writes one entry (in the caller's transaction), as the next link of the chain. Always in a
/// transaction: on a connection outside one, two writers could read the same head, and the
/// second would fail on the unique `seq` instead of waiting its turn.
pub async fn insert(c: &mut Conn, e: &NewAuditEntry) -> Result<(), sqlx::Error> {
    insert_many(c, &[e]).await
}

/// The columns [`insert_many`] takes from each element of its JSON array (`->>` reads a field
/// as text or SQL NULL on both databases).
macro_rules! insert_many_sql {
    ($elements:literal) => {
        concat!(
            "INSERT INTO audit_log (id, at, actor_user_id, actor_role, actor_org_id, action, record_type, \
             record_id, subject_user_id, org_id, ip, user_agent, reason, outcome, seq, chain_hash) \
             SELECT value ->> 'id', CAST(value ->> 'at' AS BIGINT), value ->> 'actor_user_id', \
             value ->> 'actor_role', value ->> 'actor_org_id', value ->> 'action', value ->> 'record_type', \
             value ->> 'record_id', value ->> 'subject_user_id', value ->> 'org_id', value ->> 'ip', \
             value ->> 'user_agent', value ->> 'reason', value ->> 'outcome', \
             CAST(value ->> 'seq' AS BIGINT), value ->> 'chain_hash' FROM ",
            $elements
        )
    };
}

/// Inserts many entries with one statement and one parameter: the entries as a JSON array,
/// unpacked by the database (`json_each` on SQLite, `json_array_elements` on PostgreSQL). The
/// group writer's batches take one round trip, and binding stays cheap: SQLite looks up
/// parameter names by a linear scan, so a statement with hundreds of parameters costs
/// quadratic time to bind.
///
/// The entries join the chain (ASVS 7.3.3): the head is locked ([`lock_head`]) and each entry
/// gets the next `seq` and its [`chain_hash`], then the head moves to the last of them. The
/// lock lasts until the caller's transaction ends, so on PostgreSQL transactions that write
/// audit entries take turns from their first entry to their commit (on SQLite every writing
/// transaction already does, from `BEGIN IMMEDIATE`).
pub async fn insert_many(c: &mut Conn, entries: &[&NewAuditEntry]) -> Result<(), sqlx::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let Head { mut seq, hash } = lock_head(c).await?;
    let mut prev = hash;
    let rows: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            let id = new_id();
            seq += 1;
            prev = chain_hash(&prev, seq, &Fields::of_new(&id, e));
            serde_json::json!({
                "id": id,
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
                "seq": seq,
                "chain_hash": hex(&prev),
            })
        })
        .collect();
    let json = serde_json::Value::Array(rows).to_string();
    let sql = if is_postgres(c) {
        insert_many_sql!("json_array_elements(CAST($1 AS json))")
    } else {
        insert_many_sql!("json_each($1)")
    };
    sqlx::query(sql).bind(json).execute(&mut *c).await?;
    set_head(c, &Head { seq, hash: prev }).await
}

fn is_postgres(c: &Conn) -> bool {
    c.backend_name() == "PostgreSQL"
}

/// The chain hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// The fields of an entry that its chain hash covers: all of them.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    pub id: &'a str,
    pub at: i64,
    pub actor_user_id: Option<&'a str>,
    pub actor_role: Option<&'a str>,
    pub actor_org_id: Option<&'a str>,
    pub action: &'a str,
    pub record_type: &'a str,
    pub record_id: Option<&'a str>,
    pub subject_user_id: Option<&'a str>,
    pub org_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub outcome: &'a str,
}

impl<'a> Fields<'a> {
    fn of_new(id: &'a str, e: &'a NewAuditEntry) -> Self {
        Fields {
            id,
            at: e.at,
            actor_user_id: e.actor_user_id.as_deref(),
            actor_role: e.actor_role.as_deref(),
            actor_org_id: e.actor_org_id.as_deref(),
            action: e.action,
            record_type: e.record_type,
            record_id: e.record_id.as_deref(),
            subject_user_id: e.subject_user_id.as_deref(),
            org_id: e.org_id.as_deref(),
            ip: e.ip.as_deref(),
            user_agent: e.user_agent.as_deref(),
            reason: e.reason.as_deref(),
            outcome: e.outcome,
        }
    }
}

/// An entry's chain hash: SHA-256 over the previous entry's chain hash, the entry's place in
/// the chain and every field in a fixed order. Each text is written with its length and an
/// absent one as a marker of its own, so no value can be moved into its neighbour or turned
/// into an empty one without changing the hash.
pub fn chain_hash(prev: &[u8; 32], seq: i64, f: &Fields<'_>) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"duurloop audit v1");
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(f.at.to_be_bytes());
    for text in [
        Some(f.id),
        f.actor_user_id,
        f.actor_role,
        f.actor_org_id,
        Some(f.action),
        Some(f.record_type),
        f.record_id,
        f.subject_user_id,
        f.org_id,
        f.ip,
        f.user_agent,
        f.reason,
        Some(f.outcome),
    ] {
        match text {
            None => h.update([0u8]),
            Some(t) => {
                h.update([1u8]);
                h.update((t.len() as u64).to_be_bytes());
                h.update(t.as_bytes());
            }
        }
    }
    h.finalize().into()
}

pub fn hex(hash: &[u8; 32]) -> String {
    data_encoding::HEXLOWER.encode(hash)
}

/// A stored chain hash back to bytes; `None` when it is not 64 hex digits.
pub fn unhex(text: &str) -> Option<[u8; 32]> {
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .ok()?
        .try_into()
        .ok()
}

/// The chain's last entry: its place (0 before the first) and chain hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: [u8; 32],
}

/// Reads the head and holds it for this transaction: `FOR UPDATE` on PostgreSQL; on SQLite the
/// transaction already holds the database's write lock.
pub async fn lock_head(c: &mut Conn) -> Result<Head, sqlx::Error> {
    let sql = if is_postgres(c) {
        "SELECT seq, chain_hash FROM audit_chain WHERE id = 1 FOR UPDATE"
    } else {
        "SELECT seq, chain_hash FROM audit_chain WHERE id = 1"
    };
    head_from(sqlx::query_as(sql).fetch_one(c).await?)
}

/// Reads the head without holding it (for checking).
pub async fn head(c: &mut Conn) -> Result<Head, sqlx::Error> {
    head_from(
        sqlx::query_as("SELECT seq, chain_hash FROM audit_chain WHERE id = 1")
            .fetch_one(c)
            .await?,
    )
}

fn head_from((seq, hash): (i64, String)) -> Result<Head, sqlx::Error> {
    let hash = unhex(&hash).ok_or_else(|| {
        sqlx::Error::Decode("the audit chain's head is not a SHA-256 in hex".into())
    })?;
    Ok(Head { seq, hash })
}

async fn set_head(c: &mut Conn, head: &Head) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_chain SET seq = $1, chain_hash = $2 WHERE id = 1")
        .bind(head.seq)
        .bind(hex(&head.hash))
        .execute(c)
        .await
        .map(|_| ())
}

/// An entry as the chain check reads it back.
#[derive(Debug, Clone, FromRow)]
pub struct ChainedEntry {
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub actor_user_id: Option<String>,
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
    pub chain_hash: Option<String>,
}

impl ChainedEntry {
    pub fn fields(&self) -> Fields<'_> {
        Fields {
            id: &self.id,
            at: self.at,
            actor_user_id: self.actor_user_id.as_deref(),
            actor_role: self.actor_role.as_deref(),
            actor_org_id: self.actor_org_id.as_deref(),
            action: &self.action,
            record_type: &self.record_type,
            record_id: self.record_id.as_deref(),
            subject_user_id: self.subject_user_id.as_deref(),
            org_id: self.org_id.as_deref(),
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
            reason: self.reason.as_deref(),
            outcome: &self.outcome,
        }
    }
}

/// Up to `limit` entries after place `after`, in chain order (by the `audit_log_seq` index).
pub async fn chained_after(
    c: &mut Conn,
    after: i64,
    limit: i64,
) -> Result<Vec<ChainedEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, id, at, actor_user_id, actor_role, actor_org_id, action, record_type, \
         record_id, subject_user_id, org_id, ip, user_agent, reason, outcome, chain_hash \
         FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await
}

/// How many entries have no place in the chain.
pub async fn count_unchained(c: &mut Conn) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE seq IS NULL")
        .fetch_one(c)
        .await
}

/// Puts the entries written before the chain existed (migration 23) in it, oldest first, and
/// returns how many. Only while the chain is still empty: once it has begun, an entry without
/// a place is one that was added behind the application's back, and the check reports it
/// instead of this adopting it. In the caller's transaction, which holds the head.
pub async fn chain_earlier_entries(c: &mut Conn) -> Result<u64, sqlx::Error> {
    let mut head = lock_head(c).await?;
    if head.seq != 0 {
        return Ok(0);
    }
    let mut chained = 0;
    loop {
        let rows: Vec<ChainedEntry> = sqlx::query_as(
            "SELECT CAST(0 AS BIGINT) AS seq, id, at, actor_user_id, actor_role, actor_org_id, action, \
             record_type, record_id, subject_user_id, org_id, ip, user_agent, reason, outcome, \
             chain_hash FROM audit_log WHERE seq IS NULL ORDER BY at, id LIMIT 5000",
        )
        .fetch_all(&mut *c)
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            head.seq += 1;
            head.hash = chain_hash(&head.hash, head.seq, &row.fields());
            sqlx::query("UPDATE audit_log SET seq = $1, chain_hash = $2 WHERE id = $3")
                .bind(head.seq)
                .bind(hex(&head.hash))
                .bind(&row.id)
                .execute(&mut *c)
                .await?;
            chained += 1;
        }
    }
    set_head(c, &head).await?;
    Ok(chained)
}

/// A signed checkpoint of the chain (`app::audit_chain`).
#[derive(Debug, Clone, FromRow)]
pub struct Anchor {
    pub seq: i64,
    pub at: i64,
    pub chain_hash: String,
    pub mac: String,
}

/// Up to `limit` anchors after place `after`, in chain order.
pub async fn anchors_after(
    c: &mut Conn,
    after: i64,
    limit: i64,
) -> Result<Vec<Anchor>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, at, chain_hash, mac FROM audit_anchors WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await
}

pub async fn last_anchor(c: &mut Conn) -> Result<Option<Anchor>, sqlx::Error> {
    sqlx::query_as("SELECT seq, at, chain_hash, mac FROM audit_anchors ORDER BY seq DESC LIMIT 1")
        .fetch_optional(c)
        .await
}

/// The anchor just before place `seq`.
pub async fn anchor_before(c: &mut Conn, seq: i64) -> Result<Option<Anchor>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, at, chain_hash, mac FROM audit_anchors WHERE seq < $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(seq)
    .fetch_optional(c)
    .await
}

pub async fn count_anchors(c: &mut Conn) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_anchors")
        .fetch_one(c)
        .await
}

/// Replaces an anchor's signature (a key rotation signs every anchor again).
pub async fn set_anchor_mac(c: &mut Conn, seq: i64, mac: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_anchors SET mac = $1 WHERE seq = $2")
        .bind(mac)
        .bind(seq)
        .execute(c)
        .await
        .map(|_| ())
}

pub async fn insert_anchor(c: &mut Conn, a: &Anchor) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO audit_anchors (seq, at, chain_hash, mac) VALUES ($1, $2, $3, $4)")
        .bind(a.seq)
        .bind(a.at)
        .bind(&a.chain_hash)
        .bind(&a.mac)
        .execute(c)
        .await
        .map(|_| ())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields<'static> {
        Fields {
            id: "0193",
            at: 1_700_000_000_000,
            actor_user_id: Some("u1"),
            actor_role: Some("therapist"),
            actor_org_id: None,
            action: "read",
            record_type: "trajectory",
            record_id: Some("t1"),
            subject_user_id: None,
            org_id: Some("o1"),
            ip: Some("127.0.0.1"),
            user_agent: Some(""),
            reason: None,
            outcome: "ok",
        }
    }

    #[test]
    fn every_field_place_and_predecessor_changes_the_chain_hash() {
        let base = chain_hash(&GENESIS, 1, &fields());
        assert_eq!(base, chain_hash(&GENESIS, 1, &fields()));
        let changed = [
            Fields {
                ip: Some("127.0.0.2"),
                ..fields()
            },
            // A value moved into its neighbour, an empty text for an absent one and back.
            Fields {
                actor_user_id: Some("u"),
                actor_role: Some("1therapist"),
                ..fields()
            },
            Fields {
                reason: Some(""),
                ..fields()
            },
            Fields {
                user_agent: None,
                ..fields()
            },
            Fields {
                at: 1_700_000_000_001,
                ..fields()
            },
            Fields {
                outcome: "denied",
                ..fields()
            },
        ];
        for f in &changed {
            assert_ne!(chain_hash(&GENESIS, 1, f), base, "{f:?}");
        }
        assert_ne!(chain_hash(&GENESIS, 2, &fields()), base);
        assert_ne!(chain_hash(&base, 1, &fields()), base);
        assert_eq!(unhex(&hex(&base)), Some(base));
        assert_eq!(unhex("not hex"), None);
    }
}
