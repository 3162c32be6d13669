//! The pure core of Duurloop: types, rules and calculations with no I/O, no clock and no async.
//!
//! Everything here takes what it needs as parameters (including `now`), so it can be tested
//! densely and reused by the web handlers, the JSON API and the background jobs alike.

pub mod access;
pub mod attendance;
pub mod contact;
pub mod email;
pub mod fhir;
pub mod funding;
pub mod measure;
pub mod names;
pub mod password;
pub mod plan;
pub mod postcode;
pub mod referral;
pub mod report;
pub mod screening;
pub mod security;
pub mod totp;

pub use access::{OrgKind, Role};
pub use email::EmailAddress;
pub use names::{OrgName, PersonName};
pub use password::NewPassword;

/// Why a value could not be parsed. The `key` is a translation key (see `locales/*/main.ftl`),
/// so the web layer can tell the user in their own language what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value: {key}")]
pub struct Invalid {
    pub key: &'static str,
}

impl Invalid {
    pub const fn new(key: &'static str) -> Self {
        Self { key }
    }
}
