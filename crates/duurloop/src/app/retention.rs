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
//! **Referrals that never close.** A `sent` referral nobody answers, or one left `received`,
//! `invited`, `intake_planned`, `waitlisted` or `accepted`
//! (`ReferralStatus::NOT_STARTED`), would otherwise keep its participant's data for ever.
//! Decision: such a referral is erased `retention_years` after its **last change**
//! (`store::referrals::last_change`: the latest of the referral row's `updated_at`, any event
//! on its timeline, and its intake's and its trajectory's `updated_at`), by the same
//! statements and with the same audit entry, with a reason that says it never closed
//! ([`reason_unchanged`]). Why the last change: that is the moment from which the WGBO counts
//! the record's 20 years, and for a closed referral it is its closing; an open referral has no
//! closing to count from, and waiting longer would keep data nobody uses, against the GDPR's
//! storage limitation. Any change (a status, a reminder, a reassignment, a recorded intake)
//! starts the period again, and the referral page shows the new date. **A running trajectory is never erased**: a `started` referral is
//! not in the list, and a referral whose trajectory is `active` (an `accepted` one gets its
//! trajectory at acceptance) is skipped, in the search and again in the erasing transaction;
//! such a trajectory is ended or completed first, which closes the referral, and the closed
//! rule applies. The coordinator's erasure on request still refuses every open referral
//! (`app::referrals::erase`).
//!
//! Run by the worker at most once a day ([`when_due`]): the period is counted in years, so a
//! day's delay does not matter, and the search for due referrals reads every closed one and
//! every open one not started.

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

/// Which rule of the retention period applies to a referral, by its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Closed: counted from the closing moment.
    Closed,
    /// Open and not started (`ReferralStatus::NOT_STARTED`): counted from the last change,
    /// and never while its trajectory is running.
    Unchanged,
}

fn rule(status: &str) -> Option<Rule> {
    let s = ReferralStatus::parse(status).ok()?;
    if !s.is_open() {
        Some(Rule::Closed)
    } else if ReferralStatus::NOT_STARTED.contains(&s) {
        Some(Rule::Unchanged)
    } else {
        None
    }
}

/// When the retention period of a referral in its current state started: the closing moment
/// of a closed one, the last change of one not started whose trajectory is not running;
/// `None` for a running trajectory, an erased or an unknown referral.
async fn period_start(
    c: &mut store::Conn,
    r: &store::referrals::ReferralRow,
) -> Result<Option<(Rule, i64)>, sqlx::Error> {
    if r.erased_at.is_some() {
        return Ok(None);
    }
    match rule(&r.status) {
        Some(Rule::Closed) => Ok(store::referrals::status_since(c, &r.id)
            .await?
            .map(|at| (Rule::Closed, at))),
        Some(Rule::Unchanged) => Ok(store::referrals::last_change(c, &r.id)
            .await?
            .filter(|(_, running)| !running)
            .map(|(at, _)| (Rule::Unchanged, at))),
        None => Ok(None),
    }
}

/// The moment after which the worker erases this referral: for one that is closed, or open,
/// not started and without a running trajectory, and not yet erased; `None` otherwise.
pub async fn erase_after_of(
    c: &mut store::Conn,
    state: &AppState,
    r: &store::referrals::ReferralRow,
) -> Result<Option<i64>, sqlx::Error> {
    let start = period_start(c, r).await?;
    Ok(start.and_then(|(_, at)| erase_after(at, state.config.retention_years)))
}

/// The reason in the audit entry of an automatic erasure of a closed referral.
pub fn reason(years: i64) -> String {
    format!("bewaartermijn verlopen ({years} jaar)")
}

/// The reason in the audit entry of an automatic erasure of a referral that never closed.
pub fn reason_unchanged(years: i64) -> String {
    format!("bewaartermijn verlopen ({years} jaar na de laatste wijziging, nooit afgesloten)")
}

/// Erases every referral whose retention period has passed as of now (closed ones, then
/// those never closed; see the module's comment), in batches, and logs the counts (the counts
/// only). Returns how many were erased. Running it again erases nothing more.
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
    let closed = erase_pass(state, Rule::Closed, before, batch, now).await?;
    let unchanged = erase_pass(state, Rule::Unchanged, before, batch, now).await?;
    tracing::info!(
        closed,
        unchanged,
        retention_years = years,
        "referrals past their retention period erased"
    );
    Ok(closed + unchanged)
}

/// One pass over the referrals of one rule whose period started before `before`.
async fn erase_pass(
    state: &AppState,
    rule: Rule,
    before: i64,
    batch: i64,
    now: i64,
) -> anyhow::Result<u64> {
    let years = state.config.retention_years;
    let closed = ReferralStatus::CLOSED.map(ReferralStatus::as_str);
    let not_started = ReferralStatus::NOT_STARTED.map(ReferralStatus::as_str);
    let reason = match rule {
        Rule::Closed => reason(years),
        Rule::Unchanged => reason_unchanged(years),
    };
    let mut erased = 0;
    let mut after = String::new();
    loop {
        let ids = {
            let mut c = state.db.conn().await?;
            match rule {
                Rule::Closed => {
                    store::referrals::closed_before(&mut c, closed, before, &after, batch).await?
                }
                Rule::Unchanged => {
                    store::referrals::unchanged_before(&mut c, not_started, before, &after, batch)
                        .await?
                }
            }
        };
        for id in &ids {
            if erase_one(state, id, rule, before, &reason, now).await? {
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
    Ok(erased)
}

/// Erases one referral in its own transaction if it still falls under `rule`, is not erased,
/// has no running trajectory and its period started before `before` (it may have changed
/// since it was found).
async fn erase_one(
    state: &AppState,
    id: &str,
    rule: Rule,
    before: i64,
    reason: &str,
    now: i64,
) -> anyhow::Result<bool> {
    let mut tx = state.db.begin().await?;
    let Some(r) = store::referrals::by_id(&mut tx, id).await? else {
        return Ok(false);
    };
    let due = period_start(&mut tx, &r)
        .await?
        .is_some_and(|(now_rule, at)| now_rule == rule && at < before);
    if !due {
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
