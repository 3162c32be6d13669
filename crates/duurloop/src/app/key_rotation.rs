//! Changing `secret_key` without losing what it protects (ASVS 1.6.1, 6.4.1; SECURITY.md):
//! `duurloop secret-key rotate`.
//!
//! Two things in the database are bound to the key: the second-factor secrets, sealed with it
//! (`secrets`), and the audit log's anchors, signed with a key derived from it
//! (`audit_chain`). A server simply started with another key finds neither: every code is
//! refused and every anchor reads as forged. [`rotate`] moves both to the new key in one
//! transaction, so the database is under the old key or under the new one, never half:
//!
//! 1. The whole audit log is checked under the old key first ([`audit_chain::check`]). A log
//!    that is not intact is not signed again: the new signatures would vouch for it.
//! 2. Every second-factor secret (active and pending) that opens with the old key is sealed
//!    with the new one. One that opens with neither (already unreadable: an earlier lost key)
//!    is left as it is and counted; the operator resets those accounts as before.
//! 3. Every anchor is checked under the old key and signed under the new one, in chain order
//!    ([`audit_chain::resign_anchors`]).
//! 4. The rotation itself is an audit entry (`rotate`/`secret_key`, role `cli`).
//!
//! What the key also gives and a rotation changes: the pseudonyms of research exports
//! (`SecretKey::pseudonym`) are new from then on, so a study cannot link an export made before
//! the rotation to one made after it. Backups made before still need the old key for their
//! second-factor secrets and anchors. Servers still running with the old key must be stopped
//! first (the command says so): they would seal new secrets and sign new anchors under it.

use crate::{
    app::{
        audit::{CLI, Event, record_system_with_reason},
        audit_chain,
    },
    db::Db,
    secrets::SecretKey,
    store::users,
};

/// What a rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotated {
    /// Second-factor secrets (active or pending) sealed with the new key.
    pub secrets: u64,
    /// Stored secrets that opened with neither key, left as they were.
    pub unreadable: u64,
    /// Audit anchors signed with the new key.
    pub anchors: u64,
}

/// Moves everything bound to `old` to `new` (see the module's documentation); nothing is
/// changed when it fails.
pub async fn rotate(
    db: &Db,
    old: &SecretKey,
    new: &SecretKey,
    now: i64,
) -> anyhow::Result<Rotated> {
    if old.is_same_as(new) {
        anyhow::bail!("the new secret key is the key in use: make a new one");
    }
    let report = audit_chain::check(db, old).await?;
    if let Some(p) = report.problem {
        anyhow::bail!(
            "the audit log is not as it was written ({} at entry {:?}): not signing it with a \
             new key; see `duurloop audit-verify`",
            p.kind,
            p.seq
        );
    }
    let mut done = Rotated::default();
    let mut tx = db.begin().await?;
    for row in users::totp_secrets(&mut tx).await? {
        for (stored, pending) in [(&row.totp_secret, false), (&row.totp_pending_secret, true)] {
            let Some(stored) = stored.as_deref() else {
                continue;
            };
            // Plain rows were sealed when this command connected (`secrets::connect`), and
            // only a sealed value opens.
            match old.try_open(&row.id, stored) {
                Some(secret) => {
                    let sealed = new.seal(&row.id, &secret)?;
                    users::replace_totp_secret(&mut tx, &row.id, pending, stored, &sealed).await?;
                    done.secrets += 1;
                }
                _ => done.unreadable += 1,
            }
        }
    }
    done.anchors = audit_chain::resign_anchors(&mut tx, old, new).await?;
    let reason = format!(
        "{} tweestapsgeheimen, {} ankers opnieuw vastgelegd; {} onleesbaar",
        done.secrets, done.anchors, done.unreadable
    );
    record_system_with_reason(
        &mut tx,
        now,
        CLI,
        Event::new("rotate", "secret_key"),
        &reason,
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}
