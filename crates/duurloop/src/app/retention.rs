//! Erasure after the retention period (SPEC C12, ASVS 8.3.8). The WGBO (art. 7:454 BW) keeps a
//! care record 20 years after its last change; a closed referral is not changed any more, so
//! `retention_years` (20 by default, never less) after a referral was closed the worker erases
//! its participant's personal data exactly as a coordinator does on request
//! (`store::referrals::erase`, see `app::referrals::erase` for what goes and what stays), and
//! logs each erasure as `erase`/`referral` by the `system` with the reason.
//!
//! The closing moment is when the referral entered its current, closed status
//! (`store::referrals::status_since`): a completed referral whose follow-up is recorded later
//! counts from the follow-up. The referral page and `GET /api/v1/referrals/{id}` show the
//! moment after which it is erased ([`erase_after`]).
//!
//! Run by the worker at most once a day ([`when_due`]): the period is counted in years, so a
//! day's delay does not matter, and the search for due referrals reads every closed one.

use duurloop_domain::referral::ReferralStatus;

use super::audit::{Event, WORKER, record_system_with_reason};
use crate::{clock, state::AppState, store};

/// How often the worker looks for referrals past their retention period.
pub const EVERY_MS: i64 = 24 * 3_600_000;

/// Referrals erased per batch. Each is erased in its own transaction, so on SQLite no
/// transaction holds the write lock for long.
pub const BATCH: i64 = 100;

/// The moment after which the worker erases a referral that was closed at `closed_at`.
pub fn erase_after(closed_at: i64, years: i64) -> Option<i64> {
    clock::years_after(closed_at, years)
}

/// The moment after which the worker erases this referral, for one that is closed and not yet
/// erased; `None` otherwise.
pub async fn erase_after_of(
    c: &mut store::Conn,
    state: &AppState,
    r: &store::referrals::ReferralRow,
) -> Result<Option<i64>, sqlx::Error> {
    let closed = ReferralStatus::parse(&r.status).is_ok_and(|s| !s.is_open());
    if !closed || r.erased_at.is_some() {
        return Ok(None);
    }
    let since = store::referrals::status_since(c, &r.id).await?;
    Ok(since.and_then(|at| erase_after(at, state.config.retention_years)))
}

/// The reason in the audit entry of an automatic erasure.
pub fn reason(years: i64) -> String {
    format!("bewaartermijn verlopen ({years} jaar)")
}

/// Erases every closed referral whose retention period has passed as of now, in batches, and
/// logs the count (the count only). Returns how many were erased. Running it again erases
/// nothing more.
pub async fn erase_expired(state: &AppState) -> anyhow::Result<u64> {
    erase_expired_in_batches(state, BATCH).await
}

/// As [`erase_expired`], `batch` referrals at a time (tests page with small batches).
pub async fn erase_expired_in_batches(state: &AppState, batch: i64) -> anyhow::Result<u64> {
    let now = state.now();
    let years = state.config.retention_years;
    let Some(before) = clock::years_after(now, -years) else {
        anyhow::bail!("retention period of {years} years is out of range");
    };
    let closed = ReferralStatus::CLOSED.map(ReferralStatus::as_str);
    let reason = reason(years);
    let mut erased = 0;
    let mut after = String::new();
    loop {
        let ids = {
            let mut c = state.db.conn().await?;
            store::referrals::closed_before(&mut c, closed, before, &after, batch).await?
        };
        for id in &ids {
            if erase_one(state, id, before, &reason, now).await? {
                erased += 1;
            }
        }
        // Page on by id, so a referral skipped because it changed meanwhile is not met again.
        match ids.last() {
            Some(last) if ids.len() == batch.unsigned_abs() as usize => after.clone_from(last),
            _ => break,
        }
        tokio::task::yield_now().await;
    }
    tracing::info!(
        erased,
        retention_years = years,
        "closed referrals past their retention period erased"
    );
    Ok(erased)
}

/// Erases one referral in its own transaction if it is still closed, not erased and closed
/// before `before` (it may have changed since it was found).
async fn erase_one(
    state: &AppState,
    id: &str,
    before: i64,
    reason: &str,
    now: i64,
) -> anyhow::Result<bool> {
    let mut tx = state.db.begin().await?;
    let Some(r) = store::referrals::by_id(&mut tx, id).await? else {
        return Ok(false);
    };
    let closed = ReferralStatus::parse(&r.status).is_ok_and(|s| !s.is_open());
    let since = store::referrals::status_since(&mut tx, id).await?;
    if !closed || since.is_none_or(|at| at >= before) {
        return Ok(false);
    }
    if !store::referrals::erase(&mut tx, id, super::referrals::ERASED_NAME, now).await? {
        return Ok(false);
    }
    let mut ev = Event::new("erase", "referral").record(id);
    if let Some(org) = super::referrals::audit_org(&r) {
        ev = ev.org(org);
    }
    record_system_with_reason(&mut tx, now, WORKER, ev, reason).await?;
    tx.commit().await?;
    Ok(true)
}

/// Erases what is due when the last run (by this worker) is a day ago or there was none yet.
/// A failed run is logged and tried again a day later.
pub async fn when_due(state: &AppState, last: &mut Option<i64>) {
    let now = state.now();
    if last.is_some_and(|at| now - at < EVERY_MS) {
        return;
    }
    *last = Some(now);
    if let Err(e) = erase_expired(state).await {
        tracing::error!(error = %e, "erasure after the retention period failed");
    }
}
