//! The application layer: one function per user action. Each takes the acting person, checks
//! permission (deny by default), runs one transaction, writes audit entries and queues mail.
//! Page handlers and API handlers both call these, so they cannot drift apart.

pub mod accounts;
pub mod audit;
pub mod audit_chain;
pub mod auth;
pub mod directory;
pub mod feedback;
pub mod funding;
pub mod groups;
pub mod key_rotation;
pub mod measure;
pub mod messages;
pub mod orgs;
pub mod portal;
pub mod purge;
pub mod referrals;
pub mod reports;
pub mod research;
pub mod retention;
pub mod trajectories;

use duurloop_domain::{Invalid, Role, access::Membership};

use crate::store::users::MembershipRow;

/// What went wrong, named for the outcome. The web edge turns it into a page or a JSON body;
/// the `key`s are translation keys.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("not signed in")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    /// Forbidden, with a code of its own that says why (say, `read-only-token`).
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("login failed")]
    LoginFailed,
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error("request body too large")]
    PayloadTooLarge,
    /// Too many requests of this kind at once: try again in a moment.
    #[error("busy")]
    Busy,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
    /// A refusal whose `denied` entry is already in the audit log (`audit::refused`): it is
    /// answered as the refusal it wraps, and the web edge's `audit_refusals` does not log it
    /// a second time.
    #[error("{0}")]
    Audited(Box<AppError>),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub key: &'static str,
}

impl AppError {
    pub fn field(field: &'static str, e: Invalid) -> Self {
        AppError::Invalid(vec![FieldError { field, key: e.key }])
    }
    pub fn invalid(field: &'static str, key: &'static str) -> Self {
        AppError::Invalid(vec![FieldError { field, key }])
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// How the person reached us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthVia {
    /// A browser session (the hash of its token).
    Session(String),
    /// A personal API token.
    ApiToken,
}

/// A signed-in person with their memberships.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub lang: String,
    pub memberships: Vec<MembershipRow>,
    pub via: AuthVia,
}

impl Identity {
    pub fn domain_memberships(&self) -> Vec<Membership> {
        self.memberships
            .iter()
            .filter_map(MembershipRow::to_domain)
            .collect()
    }

    pub fn role_in(&self, org_id: &str) -> Option<Role> {
        self.memberships
            .iter()
            .find(|m| m.org_id == org_id)
            .and_then(|m| Role::parse(&m.role).ok())
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.memberships.iter().any(|m| m.role == role.as_str())
    }

    pub fn coordinated_orgs(&self) -> Vec<&MembershipRow> {
        self.memberships
            .iter()
            .filter(|m| m.role == Role::Coordinator.as_str())
            .collect()
    }
}

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct RequestCtx {
    pub ip: String,
    pub user_agent: String,
}

/// The acting person plus the request context: what every action receives.
#[derive(Debug, Clone)]
pub struct Actor {
    pub identity: Identity,
    pub ctx: RequestCtx,
}

impl Actor {
    /// The role to record in the audit log for an action concerning `org_id`.
    pub fn audit_role(&self, org_id: Option<&str>) -> String {
        match org_id.and_then(|o| self.identity.role_in(o)) {
            Some(r) => r.as_str().to_string(),
            None if self.identity.is_admin => "admin".to_string(),
            None => "none".to_string(),
        }
    }
}
