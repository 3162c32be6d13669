//! Writing and reviewing the audit log (NEN 7513, SPEC C12).

use duurloop_domain::access::can_review_audit;

use super::{Actor, AppError, AppResult, RequestCtx};
use crate::{
    state::AppState,
    store::{
        self, Conn,
        audit::{AuditFilter, AuditRow, NewAuditEntry},
    },
};

/// What an audit entry is about.
#[derive(Clone, Copy)]
pub struct Event<'a> {
    pub action: &'static str,
    pub record_type: &'static str,
    pub record_id: Option<&'a str>,
    pub subject_user_id: Option<&'a str>,
    pub org_id: Option<&'a str>,
    pub outcome: &'static str,
}

impl<'a> Event<'a> {
    pub fn new(action: &'static str, record_type: &'static str) -> Self {
        Self {
            action,
            record_type,
            record_id: None,
            subject_user_id: None,
            org_id: None,
            outcome: "ok",
        }
    }
    pub fn record(mut self, id: &'a str) -> Self {
        self.record_id = Some(id);
        self
    }
    pub fn subject(mut self, user_id: &'a str) -> Self {
        self.subject_user_id = Some(user_id);
        self
    }
    pub fn org(mut self, org_id: &'a str) -> Self {
        self.org_id = Some(org_id);
        self
    }
    pub fn outcome(mut self, outcome: &'static str) -> Self {
        self.outcome = outcome;
        self
    }
}

/// The entry of an action by a signed-in person.
fn entry(now: i64, actor: &Actor, e: Event<'_>) -> NewAuditEntry {
    let actor_org = e
        .org_id
        .filter(|o| actor.identity.role_in(o).is_some())
        .map(str::to_string)
        .or_else(|| actor.identity.memberships.first().map(|m| m.org_id.clone()));
    NewAuditEntry {
        at: now,
        actor_user_id: Some(actor.identity.user_id.clone()),
        actor_role: Some(actor.audit_role(e.org_id)),
        actor_org_id: actor_org,
        action: e.action,
        record_type: e.record_type,
        record_id: e.record_id.map(str::to_string),
        subject_user_id: e.subject_user_id.map(str::to_string),
        org_id: e.org_id.map(str::to_string),
        ip: Some(actor.ctx.ip.clone()),
        user_agent: Some(actor.ctx.user_agent.clone()),
        reason: None,
        outcome: e.outcome,
    }
}

/// Writes an entry for an action by a signed-in person (in the caller's transaction).
pub async fn record(
    c: &mut Conn,
    now: i64,
    actor: &Actor,
    e: Event<'_>,
) -> Result<(), sqlx::Error> {
    store::audit::insert(c, &entry(now, actor, e)).await
}

/// Ends an action refused for lack of access (ASVS 7.2.2): its transaction, in which nothing
/// was changed, commits with only the entry of `e` in it, with outcome `denied`, and `answer`
/// (the 404 or 403 the caller returns) comes back, marked [`AppError::Audited`] so that the
/// web edge does not log it again; if the entry cannot be written, that failure comes back
/// instead. The entry says who tried, the action, the record and its organisation: callers
/// pass ids, never the participant's details.
pub async fn refused(
    mut tx: crate::db::Tx,
    now: i64,
    actor: &Actor,
    e: Event<'_>,
    answer: AppError,
) -> AppError {
    let logged = async {
        record(&mut tx, now, actor, e.outcome("denied")).await?;
        tx.commit().await
    };
    match logged.await {
        Ok(()) => AppError::Audited(Box::new(answer)),
        Err(e) => e.into(),
    }
}

/// Logs a refusal that came before any record was read (a role check, a missing CSRF token,
/// a `read` token's write; see `web::refusals`): in a transaction of its own, the attempted
/// `action` on record type `route` with the route pattern as the record, and the refusal's
/// `code` as the reason.
pub async fn refused_request(
    state: &AppState,
    actor: &Actor,
    action: &'static str,
    route: &str,
    code: &str,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let e = Event::new(action, "route").record(route).outcome("denied");
    record_with_reason(&mut tx, state.now(), actor, e, code).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes an entry with the reason the person gave (say, for erasing a participant's data),
/// in the caller's transaction.
pub async fn record_with_reason(
    c: &mut Conn,
    now: i64,
    actor: &Actor,
    e: Event<'_>,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let mut entry = entry(now, actor, e);
    entry.reason = Some(reason.to_string());
    store::audit::insert(c, &entry).await
}

/// What a list names: each client (record) a person saw in a list, as one `show` entry per
/// record next to the list's own `search` entry, so that "who saw this client" finds list
/// views too (NEN 7513 asks which client's data was shown, not just that a list was). One
/// statement for the whole list.
pub async fn record_shown<'a>(
    c: &mut Conn,
    now: i64,
    actor: &Actor,
    record_type: &'static str,
    shown: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<(), sqlx::Error> {
    let entries: Vec<NewAuditEntry> = shown
        .into_iter()
        .map(|(id, org)| {
            let mut e = Event::new("show", record_type).record(id);
            if let Some(org) = org {
                e = e.org(org);
            }
            entry(now, actor, e)
        })
        .collect();
    store::audit::insert_many(c, &entries.iter().collect::<Vec<_>>()).await
}

/// What an export included: one `export` entry per record with the reason the person gave,
/// next to the export's own entry, so that "who saw this client" finds the export too. One
/// statement for the whole export, in the caller's transaction.
pub async fn record_exported<'a>(
    c: &mut Conn,
    now: i64,
    actor: &Actor,
    record_type: &'static str,
    reason: &str,
    exported: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<(), sqlx::Error> {
    let entries: Vec<NewAuditEntry> = exported
        .into_iter()
        .map(|(id, org)| {
            let mut e = Event::new("export", record_type).record(id);
            if let Some(org) = org {
                e = e.org(org);
            }
            let mut entry = entry(now, actor, e);
            entry.reason = Some(reason.to_string());
            entry
        })
        .collect();
    store::audit::insert_many(c, &entries.iter().collect::<Vec<_>>()).await
}

/// The `actor_role` of changes the worker makes on its own (the weekly plan review,
/// questionnaire mailings and reminders, referral reminders).
pub const WORKER: &str = "system";
/// The `actor_role` of changes made with the `duurloop` command line (an operator at the
/// server, who has no account of their own).
pub const CLI: &str = "cli";

/// Writes an entry for a change made without a person signed in to the app (`by`: [`WORKER`]
/// or [`CLI`]): no user, no address.
pub async fn record_system(
    c: &mut Conn,
    now: i64,
    by: &'static str,
    e: Event<'_>,
) -> Result<(), sqlx::Error> {
    store::audit::insert(c, &system_entry(now, by, e)).await
}

/// As [`record_system`], with the reason for the change (say, the automatic erasure after the
/// retention period).
pub async fn record_system_with_reason(
    c: &mut Conn,
    now: i64,
    by: &'static str,
    e: Event<'_>,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let mut entry = system_entry(now, by, e);
    entry.reason = Some(reason.to_string());
    store::audit::insert(c, &entry).await
}

fn system_entry(now: i64, by: &'static str, e: Event<'_>) -> NewAuditEntry {
    NewAuditEntry {
        at: now,
        actor_role: Some(by.into()),
        action: e.action,
        record_type: e.record_type,
        record_id: e.record_id.map(str::to_string),
        subject_user_id: e.subject_user_id.map(str::to_string),
        org_id: e.org_id.map(str::to_string),
        outcome: e.outcome,
        ..Default::default()
    }
}

/// Writes an entry for something done without a signed-in actor (login attempts, reset links).
pub async fn record_anonymous(
    c: &mut Conn,
    now: i64,
    ctx: &RequestCtx,
    e: Event<'_>,
) -> Result<(), sqlx::Error> {
    store::audit::insert(
        c,
        &NewAuditEntry {
            at: now,
            actor_user_id: e.subject_user_id.map(str::to_string),
            action: e.action,
            record_type: e.record_type,
            record_id: e.record_id.map(str::to_string),
            subject_user_id: e.subject_user_id.map(str::to_string),
            org_id: e.org_id.map(str::to_string),
            ip: Some(ctx.ip.clone()),
            user_agent: Some(ctx.user_agent.clone()),
            outcome: e.outcome,
            ..Default::default()
        },
    )
    .await
}

/// Writes the audit entries of reads in shared transactions: one commit (one disk flush) for
/// every entry that arrived while the previous one was being written. A read's response waits
/// until its entry is committed, so nothing is shown that is not logged; it just no longer
/// takes the database's write lock for the whole request. Writes keep their entries in their
/// own transaction (`record`).
#[derive(Clone)]
pub struct GroupWriter {
    queue: tokio::sync::mpsc::Sender<Pending>,
}

type Pending = (NewAuditEntry, tokio::sync::oneshot::Sender<bool>);

/// Entries per shared transaction at most.
const GROUP: usize = 512;

impl GroupWriter {
    /// Starts the writer task on the current runtime.
    ///
    /// The writer keeps a connection of its own. Borrowing one from the pool for every batch
    /// put it in the pool's queue behind the very requests that were waiting for it to
    /// commit, so under load every batch first waited for a round of requests. When a batch
    /// fails on the kept connection (a restarted PostgreSQL closed it, say), the connection is
    /// dropped and the batch tried once more on a new one: the failed transaction was rolled
    /// back, so nothing is written twice.
    pub fn start(db: crate::db::Db) -> Self {
        let (queue, mut rx) = tokio::sync::mpsc::channel::<Pending>(4 * GROUP);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(GROUP);
            let mut own: Option<sqlx::AnyConnection> = None;
            while rx.recv_many(&mut batch, GROUP).await > 0 {
                let kept = own.is_some();
                let mut ok = Self::write(&db, &mut own, &batch).await;
                if ok.is_err() && kept {
                    own = None;
                    ok = Self::write(&db, &mut own, &batch).await;
                }
                if let Err(e) = &ok {
                    own = None;
                    tracing::error!(error = %e, entries = batch.len(), "audit entries not written");
                }
                for (_, done) in batch.drain(..) {
                    let _ = done.send(ok.is_ok());
                }
            }
        });
        GroupWriter { queue }
    }

    async fn write(
        db: &crate::db::Db,
        own: &mut Option<sqlx::AnyConnection>,
        batch: &[Pending],
    ) -> Result<(), sqlx::Error> {
        let entries: Vec<&NewAuditEntry> = batch.iter().map(|(e, _)| e).collect();
        let c = match own {
            Some(c) => c,
            None => own.insert(db.own_connection().await?),
        };
        let mut tx = db.begin_on(c).await?;
        store::audit::insert_many(&mut tx, &entries).await?;
        tx.commit().await
    }

    /// Logs the entry and waits until it is committed.
    pub async fn log(&self, entry: NewAuditEntry) -> AppResult<()> {
        self.log_all(vec![entry]).await
    }

    /// Logs the entries and waits until all are committed (queued together, they usually
    /// share one commit).
    pub async fn log_all(&self, entries: Vec<NewAuditEntry>) -> AppResult<()> {
        let mut written = Vec::with_capacity(entries.len());
        for entry in entries {
            let (done, w) = tokio::sync::oneshot::channel();
            self.queue
                .send((entry, done))
                .await
                .map_err(|_| AppError::Internal(anyhow::anyhow!("the audit writer stopped")))?;
            written.push(w);
        }
        for w in written {
            if w.await != Ok(true) {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "audit entry not written"
                )));
            }
        }
        Ok(())
    }
}

/// The entry of a read without a signed-in actor (the participant portal), through the
/// group writer.
pub async fn log_anonymous_read(
    state: &AppState,
    now: i64,
    ctx: &RequestCtx,
    e: Event<'_>,
) -> AppResult<()> {
    state
        .audit_writer
        .log(NewAuditEntry {
            at: now,
            actor_user_id: e.subject_user_id.map(str::to_string),
            action: e.action,
            record_type: e.record_type,
            record_id: e.record_id.map(str::to_string),
            subject_user_id: e.subject_user_id.map(str::to_string),
            org_id: e.org_id.map(str::to_string),
            ip: Some(ctx.ip.clone()),
            user_agent: Some(ctx.user_agent.clone()),
            outcome: e.outcome,
            ..Default::default()
        })
        .await
}

/// The entries of reads by a signed-in person outside a transaction (the start page's
/// safety alerts), through the group writer: committed before the caller answers.
pub async fn log_reads(
    state: &AppState,
    now: i64,
    actor: &Actor,
    events: impl IntoIterator<Item = Event<'_>>,
) -> AppResult<()> {
    let entries = events.into_iter().map(|e| entry(now, actor, e)).collect();
    state.audit_writer.log_all(entries).await
}

/// Reviews the audit log of an organisation (coordinator) or of everything (admin, `org_id`
/// None). Reading the audit log is itself logged.
pub async fn search(
    state: &AppState,
    actor: &Actor,
    mut filter: AuditFilter,
) -> AppResult<Vec<AuditRow>> {
    let memberships = actor.identity.domain_memberships();
    match filter.org_id.as_deref() {
        Some(org) if can_review_audit(actor.identity.is_admin, &memberships, org) => {}
        None if actor.identity.is_admin => {}
        _ => return Err(AppError::Forbidden),
    }
    if let (Some(f), Some(t)) = (filter.from, filter.to)
        && f >= t
    {
        return Err(AppError::invalid("to", "invalid-period"));
    }
    filter.limit = filter.limit.clamp(1, 500);
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let rows = store::audit::search(&mut tx, &filter).await?;
    let mut e = Event::new("read", "audit_log");
    if let Some(org) = filter.org_id.as_deref() {
        e = e.org(org);
    }
    record(&mut tx, now, actor, e).await?;
    tx.commit().await?;
    Ok(rows)
}
