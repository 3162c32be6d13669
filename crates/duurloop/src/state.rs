//! The one state struct every handler, action and job receives.

use std::sync::Arc;

use duurloop_domain::security::{MailThrottlePolicy, SessionPolicy, ThrottlePolicy};
use tokio::sync::Notify;

use crate::{clock::Clock, config::Config, db::Db, secrets::SecretKey, web::metrics::Metrics};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// The database pool (SQLite or PostgreSQL).
    pub db: Db,
    /// The effective configuration.
    pub config: Config,
    /// Seals and opens the second-factor secrets stored in the database (`secrets`).
    pub secret_key: SecretKey,
    /// Where "now" comes from (moved forward in tests and the demo).
    pub clock: Arc<dyn Clock>,
    /// Woken when mail is queued, so the outbox worker sends at once.
    pub mail_wakeup: Notify,
    /// Request counters for `/metrics`.
    pub metrics: Metrics,
    /// Idle and absolute session timeouts.
    pub session_policy: SessionPolicy,
    /// Login throttling limits.
    pub throttle: ThrottlePolicy,
    /// Limits on requests for mailed links (password reset, portal sign-in).
    pub mail_throttle: MailThrottlePolicy,
    /// An argon2id hash of a random password, verified against when an account does not
    /// exist, so unknown accounts take as long to refuse as known ones.
    pub dummy_hash: String,
    /// Audit entries of reads, written in shared transactions (group commit).
    pub audit_writer: crate::app::audit::GroupWriter,
    /// How many password strength checks may run at once (`app::auth::password_strength`).
    pub strength_checks: Arc<tokio::sync::Semaphore>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        db: Db,
        config: Config,
        secret_key: SecretKey,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let session_policy = SessionPolicy {
            idle_ms: config.session_idle_minutes * 60_000,
            absolute_ms: config.session_absolute_hours * 3_600_000,
        };
        let dummy_hash = crate::app::auth::hash_password_blocking(&crate::store::new_token())?;
        Ok(Self(Arc::new(Inner {
            config,
            secret_key,
            clock,
            mail_wakeup: Notify::new(),
            metrics: Metrics::default(),
            session_policy,
            throttle: ThrottlePolicy::default(),
            mail_throttle: MailThrottlePolicy::default(),
            audit_writer: crate::app::audit::GroupWriter::start(db.clone()),
            db,
            dummy_hash,
            strength_checks: Arc::new(tokio::sync::Semaphore::new(
                crate::app::auth::strength_checks_at_once(),
            )),
        })))
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}
