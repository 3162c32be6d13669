//! Tamper evidence for the audit log (ASVS 7.3.3, NEN 7513): the chain, its anchors and the
//! check.
//!
//! Every entry is a link of one hash chain (`store::audit::insert_many`): its `chain_hash`
//! covers the previous entry's and all its own fields, and the entries' places (`seq`) run
//! 1, 2, 3, … without gaps. Anyone who can write to the database could still rewrite the end
//! of the chain consistently, since SHA-256 has no key. So once a minute the worker checks the
//! entries written since the last *anchor* and, when they link up, signs the new end
//! ([`anchor`]): an HMAC under a key derived from `secret_key`, which is never in the database
//! (`secrets::SecretKey::anchor_mac`), chained to the previous anchor. [`check`] walks the
//! whole chain and every anchor, and names the first place where the log is not as it was
//! written: an altered entry, a missing one, an entry outside the chain, an anchor that was
//! not made with this key or that no longer matches its entry, or a head that does not match
//! the last entry.
//!
//! What it cannot show: entries written after the last anchor (at most a minute's) can be
//! rewritten consistently by someone who can write to the database, and taking away the last
//! anchors together with their entries leaves a shorter log that checks out. Each anchor is
//! therefore also written to the server's log (place and the start of its hash, nothing
//! personal), which lives outside the database: the last anchor there should be in the
//! database too. A new `secret_key` makes every earlier anchor fail the check, unless the key
//! was changed with `duurloop secret-key rotate`, which signs them again ([`resign_anchors`],
//! `app::key_rotation`).

use serde::Serialize;

use super::{Actor, AppError, AppResult, audit};
use crate::{
    db::Db,
    secrets::SecretKey,
    state::AppState,
    store::{
        self, Conn,
        audit::{Anchor, GENESIS, chain_hash, hex, unhex},
    },
};

/// How often the worker anchors the chain (when entries were added).
pub const ANCHOR_EVERY_MS: i64 = 60_000;

/// At most this many entries are checked for one anchor; a longer stretch (after a busy
/// minute, or the first anchor of a large log) is anchored in several runs.
const ANCHOR_AT_MOST: i64 = 200_000;

/// Entries read per statement while checking.
const PAGE: i64 = 5_000;

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    /// True when the whole log is as it was written, up to its last entry.
    pub intact: bool,
    /// Entries in the chain.
    pub entries: i64,
    /// Signed anchors.
    pub anchors: i64,
    /// The place of the last anchored entry (null before the first anchor).
    pub anchored_up_to: Option<i64>,
    /// When the last anchor was made (milliseconds since 1970).
    pub last_anchor_at: Option<i64>,
    /// The first problem found, if any.
    pub problem: Option<ChainProblem>,
}

/// Where the log stops being as it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChainProblem {
    /// `altered` (an entry's fields or hash changed), `missing` (the entry at this place is
    /// gone), `outside-chain` (entries without a place: added behind the application's back),
    /// `anchor-forged` (an anchor this key did not make, or one taken away before it),
    /// `anchor-mismatch` (an anchor whose entry changed or is gone) or `head-mismatch` (the
    /// chain's head does not match its last entry).
    pub kind: &'static str,
    /// The place in the chain, where there is one.
    pub seq: Option<i64>,
}

impl ChainProblem {
    fn at(kind: &'static str, seq: i64) -> Self {
        ChainProblem {
            kind,
            seq: Some(seq),
        }
    }
}

/// Walks the chain from place `from` (whose chain hash is `prev`) up to place `to`, checking
/// that places follow each other and that every entry's hash is what its fields give. The
/// first problem, or the hash at `to`.
async fn walk(
    c: &mut Conn,
    from: i64,
    mut prev: [u8; 32],
    to: i64,
) -> Result<Result<[u8; 32], ChainProblem>, sqlx::Error> {
    let mut seq = from;
    while seq < to {
        let rows = store::audit::chained_after(c, seq, PAGE.min(to - seq)).await?;
        if rows.is_empty() {
            return Ok(Err(ChainProblem::at("missing", seq + 1)));
        }
        for row in rows {
            if row.seq != seq + 1 {
                return Ok(Err(ChainProblem::at("missing", seq + 1)));
            }
            let hash = chain_hash(&prev, row.seq, &row.fields());
            if row.chain_hash.as_deref().and_then(unhex) != Some(hash) {
                return Ok(Err(ChainProblem::at("altered", row.seq)));
            }
            seq = row.seq;
            prev = hash;
        }
    }
    Ok(Ok(prev))
}

/// The anchors in chain order, read a page at a time.
#[derive(Default)]
struct AnchorPages {
    page: std::vec::IntoIter<Anchor>,
    after: i64,
}

impl AnchorPages {
    async fn next(&mut self, c: &mut Conn) -> Result<Option<Anchor>, sqlx::Error> {
        if self.page.len() == 0 {
            self.page = store::audit::anchors_after(c, self.after, 1_000)
                .await?
                .into_iter();
        }
        let next = self.page.next();
        if let Some(a) = &next {
            self.after = a.seq;
        }
        Ok(next)
    }
}

/// Whether `a` is an anchor this key made after the anchor whose signature is `prev_mac`.
fn anchor_holds(key: &SecretKey, a: &Anchor, prev_mac: &str) -> bool {
    a.mac == key.anchor_mac(a.seq, a.at, &a.chain_hash, prev_mac)
}

/// Checks the whole log: every entry, every anchor and the head, in one consistent read.
pub async fn check(db: &Db, key: &SecretKey) -> anyhow::Result<ChainReport> {
    let mut tx = db.begin_read().await?;
    let head = store::audit::head(&mut tx).await?;
    let anchors_total = store::audit::count_anchors(&mut tx).await?;
    let last = store::audit::last_anchor(&mut tx).await?;
    let mut report = ChainReport {
        intact: false,
        entries: head.seq,
        anchors: anchors_total,
        anchored_up_to: last.as_ref().map(|a| a.seq),
        last_anchor_at: last.as_ref().map(|a| a.at),
        problem: None,
    };
    let mut anchors = AnchorPages::default();
    let mut next = anchors.next(&mut tx).await?;
    let mut prev_mac = String::new();
    let mut from = 0;
    let mut prev = GENESIS;
    // Walk from anchor to anchor, so each is compared with its entry's hash on the way.
    let walked = loop {
        let until = next.as_ref().map_or(head.seq, |a| a.seq.min(head.seq));
        match walk(&mut tx, from, prev, until).await? {
            Err(problem) => break Err(problem),
            Ok(hash) => {
                from = until;
                prev = hash;
            }
        }
        let Some(anchor) = next.take() else {
            break Ok(());
        };
        if !anchor_holds(key, &anchor, &prev_mac) {
            break Err(ChainProblem::at("anchor-forged", anchor.seq));
        }
        if anchor.seq > head.seq || unhex(&anchor.chain_hash) != Some(prev) {
            break Err(ChainProblem::at("anchor-mismatch", anchor.seq));
        }
        prev_mac = anchor.mac;
        next = anchors.next(&mut tx).await?;
    };
    report.problem = match walked {
        Err(problem) => Some(problem),
        // Entries beyond the head: a head set back, or entries added with places of their own.
        Ok(()) => match store::audit::chained_after(&mut tx, head.seq, 1)
            .await?
            .first()
        {
            Some(beyond) => Some(ChainProblem::at("head-mismatch", beyond.seq)),
            None if prev != head.hash => Some(ChainProblem::at("head-mismatch", head.seq)),
            None => match store::audit::count_unchained(&mut tx).await? {
                0 => None,
                _ => Some(ChainProblem {
                    kind: "outside-chain",
                    seq: None,
                }),
            },
        },
    };
    tx.commit().await?;
    report.intact = report.problem.is_none();
    Ok(report)
}

/// Signs every anchor again under `new`, in chain order, in the caller's transaction (the key
/// rotation's part of the log), after checking each one's signature under `old`: an anchor
/// `old` did not make is refused, since signing it again would vouch for a log nobody
/// checked. Returns how many anchors were signed. The entries themselves are checked by the
/// caller ([`check`]) before.
pub async fn resign_anchors(c: &mut Conn, old: &SecretKey, new: &SecretKey) -> anyhow::Result<u64> {
    let mut anchors = AnchorPages::default();
    let (mut prev_old, mut prev_new) = (String::new(), String::new());
    let mut signed = 0;
    while let Some(a) = anchors.next(c).await? {
        if !anchor_holds(old, &a, &prev_old) {
            anyhow::bail!(
                "the audit anchor at entry {} was not made with the current secret_key; not \
                 signing it with the new one (run `duurloop audit-verify`)",
                a.seq
            );
        }
        let mac = new.anchor_mac(a.seq, a.at, &a.chain_hash, &prev_new);
        store::audit::set_anchor_mac(c, a.seq, &mac).await?;
        prev_old = a.mac;
        prev_new = mac;
        signed += 1;
    }
    Ok(signed)
}

/// Checks the log for an administrator (the log spans every organisation), and logs that it
/// was checked. The check runs in its own read; the entry follows it.
pub async fn check_as(state: &AppState, actor: &Actor) -> AppResult<ChainReport> {
    if !actor.identity.is_admin {
        return Err(AppError::Forbidden);
    }
    let report = check(&state.db, &state.secret_key).await?;
    if let Some(p) = &report.problem {
        tracing::error!(kind = p.kind, seq = ?p.seq, "the audit log is not as it was written");
    }
    audit::log_reads(
        state,
        state.now(),
        actor,
        [
            audit::Event::new("verify", "audit_log").outcome(if report.intact {
                "ok"
            } else {
                "failed"
            }),
        ],
    )
    .await?;
    Ok(report)
}

/// Checks the entries written since the last anchor and, when they link up, anchors the new
/// end. The check reads without holding anything, so writers go on meanwhile; the anchor is
/// written in a short transaction of its own, and not at all when another process anchored
/// in between. Returns the anchored place, or `None` when there was nothing new.
pub async fn anchor(db: &Db, key: &SecretKey, now: i64) -> anyhow::Result<Option<i64>> {
    let mut tx = db.begin_read().await?;
    let last = store::audit::last_anchor(&mut tx).await?;
    let head = store::audit::head(&mut tx).await?;
    let (from, prev, prev_mac) = match &last {
        Some(a) => {
            if !last_holds(&mut tx, key, a).await? {
                anyhow::bail!(
                    "the last audit anchor (entry {}) was not made with this secret_key; not \
                     anchoring (run `duurloop audit verify`)",
                    a.seq
                );
            }
            let hash = unhex(&a.chain_hash)
                .ok_or_else(|| anyhow::anyhow!("the last audit anchor has no valid hash"))?;
            (a.seq, hash, a.mac.clone())
        }
        None => (0, GENESIS, String::new()),
    };
    let to = head.seq.min(from + ANCHOR_AT_MOST);
    if to <= from {
        tx.commit().await?;
        return Ok(None);
    }
    let hash = match walk(&mut tx, from, prev, to).await? {
        Ok(hash) => hash,
        Err(p) => {
            anyhow::bail!(
                "the audit log is not as it was written ({} at entry {:?}); not anchoring",
                p.kind,
                p.seq
            )
        }
    };
    tx.commit().await?;
    let anchor = Anchor {
        seq: to,
        at: now,
        chain_hash: hex(&hash),
        mac: key.anchor_mac(to, now, &hex(&hash), &prev_mac),
    };
    let mut tx = db.begin().await?;
    let current = store::audit::last_anchor(&mut tx).await?.map(|a| a.seq);
    if current != last.as_ref().map(|a| a.seq) {
        return Ok(None);
    }
    store::audit::insert_anchor(&mut tx, &anchor).await?;
    tx.commit().await?;
    tracing::info!(
        seq = anchor.seq,
        chain_hash = &anchor.chain_hash[..16],
        "audit log anchored"
    );
    Ok(Some(to))
}

/// Whether the last anchor was made with this key after its predecessor (the first after
/// none).
async fn last_holds(c: &mut Conn, key: &SecretKey, last: &Anchor) -> Result<bool, sqlx::Error> {
    let before = store::audit::anchor_before(c, last.seq).await?;
    let prev_mac = before.map(|a| a.mac).unwrap_or_default();
    Ok(anchor_holds(key, last, &prev_mac))
}

/// Runs [`anchor`] when [`ANCHOR_EVERY_MS`] have passed since the last run (the worker's
/// loop); failures are logged, never personal data.
pub async fn when_due(state: &AppState, last_run: &mut Option<i64>) {
    let now = state.now();
    if last_run.is_some_and(|t| now - t < ANCHOR_EVERY_MS) {
        return;
    }
    *last_run = Some(now);
    if let Err(e) = anchor(&state.db, &state.secret_key, now).await {
        tracing::error!(error = %e, "audit log not anchored");
    }
}
