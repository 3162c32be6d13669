//! The storage seam: the only code that knows SQL. Functions speak domain words, take a
//! connection (so callers can run several in one transaction) and return plain types.
//! See `db.rs` for the column conventions that keep one code path for both databases.

pub mod audit;
pub mod directory;
pub mod feedback;
pub mod funding;
pub mod groups;
pub mod measure;
pub mod messages;
pub mod orgs;
pub mod outbox;
pub mod portal;
pub mod purge;
pub mod referrals;
pub mod reports;
pub mod security;
pub mod trajectories;
pub mod users;

use sha2::{Digest, Sha256};

pub type Conn = sqlx::AnyConnection;

/// A new time-ordered id (uuid v7) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A random secret token for links, sessions and API tokens (32 bytes, URL-safe).
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

/// Tokens are stored only as their SHA-256 hash, so a leaked database does not leak sessions.
pub fn hash_token(token: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(token.as_bytes()))
}

/// Whether a database error is a unique-constraint violation (turned into a field message).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation() || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// Serializes a column that holds JSON text as that JSON (an object in the API, as documented),
/// not as a string with JSON in it.
pub(crate) fn json_text<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(serde::ser::Error::custom)?;
    serde::Serialize::serialize(&value, s)
}
