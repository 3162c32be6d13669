//! Second-factor (TOTP) secrets encrypted at rest: the one way they are written to and read
//! from the database.
//!
//! A secret is sealed with ChaCha20-Poly1305 under the server's `secret_key`, with a random
//! 96-bit nonce per sealing and `totp:<user id>` as associated data, so a sealed value opens
//! only for the account it was sealed for and any change to it is detected. It is stored as
//! text: [`PREFIX`] then Base64 of nonce ‖ ciphertext ‖ tag. `duurloop secret-key rotate`
//! (`app::key_rotation`) seals them again under a new key.
//!
//! The key is never in the database. It comes from `secret_key` (`DUURLOOP_SECRET_KEY`,
//! `DUURLOOP_SECRET_KEY_FILE` or the TOML file): 32 bytes as 64 hex characters or Base64.
//! Without one, a SQLite installation makes [`KEY_FILE`] beside its database file at first
//! start (mode 0600) and uses it from then on; PostgreSQL refuses to start, because every
//! server in front of one database needs the same key.
//!
//! At every start, after the migrations, [`seal_plain_rows`] seals any secret still stored in
//! plain Base32 (from before this module), in one transaction. After that only sealed values
//! are read: a plain value, or one that does not open with this key, opens to nothing, so the
//! account still gets the code step but every code is refused (never a sign-in without the
//! second factor) until an operator runs `duurloop user reset-second-factor`.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context;
use data_encoding::{BASE64, BASE64_NOPAD, HEXLOWER_PERMISSIVE};
use duurloop_domain::totp::TotpSecret;
use ring::{
    aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    hkdf, hmac,
    rand::{SecureRandom, SystemRandom},
};

use crate::{
    config::Config,
    db::{Backend, Db},
    store::users,
};

/// How a sealed secret starts: format (and key) version 1.
pub const PREFIX: &str = "v1:";

/// The key file's name, in the folder of the SQLite database file.
pub const KEY_FILE: &str = "secret.key";

const KEY_LEN: usize = 32;

/// The key that seals second-factor secrets, and the keys derived from it for research
/// exports' pseudonyms ([`SecretKey::pseudonym`]) and the audit log's anchors
/// ([`SecretKey::anchor_mac`]). Its `Debug` shows nothing of it.
pub struct SecretKey {
    aead: LessSafeKey,
    pseudonyms: hmac::Key,
    anchors: hmac::Key,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A secret sealed for one account: the only form in which `store` writes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed(String);

impl Sealed {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl SecretKey {
    /// Reads a key given as 64 hex characters or as Base64 of 32 bytes.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_LEN {
            HEXLOWER_PERMISSIVE.decode(text.as_bytes()).ok()
        } else {
            BASE64
                .decode(text.as_bytes())
                .or_else(|_| BASE64_NOPAD.decode(text.as_bytes()))
                .ok()
        };
        match bytes {
            Some(b) if b.len() == KEY_LEN => Self::from_bytes(&b),
            _ => anyhow::bail!(
                "secret_key must be 32 random bytes written as 64 hex characters or as Base64 \
                 (make one with `openssl rand -hex 32`)"
            ),
        }
    }

    fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes)
            .map_err(|_| anyhow::anyhow!("secret_key has the wrong length"))?;
        // Keys of their own for pseudonyms and for the audit log's anchors (HKDF-SHA256,
        // RFC 5869), so the encryption key is never used for anything else.
        let derive = |info: &'static [u8]| -> anyhow::Result<hmac::Key> {
            Ok(hkdf::Salt::new(hkdf::HKDF_SHA256, b"duurloop")
                .extract(bytes)
                .expand(&[info], hmac::HMAC_SHA256)
                .map_err(|_| anyhow::anyhow!("cannot derive a key from secret_key"))?
                .into())
        };
        Ok(Self {
            aead: LessSafeKey::new(key),
            pseudonyms: derive(PSEUDONYM_INFO)?,
            anchors: derive(ANCHOR_INFO)?,
        })
    }

    /// A fresh random key that is kept nowhere: for tools that never store a secret
    /// (benchmarks).
    pub fn random() -> anyhow::Result<Self> {
        Self::parse(&new_key_text()?)
    }

    /// The configured key; without one, for SQLite the key file beside the database (made at
    /// first start), for PostgreSQL an error that says how to make one.
    pub fn load(config: &Config) -> anyhow::Result<Self> {
        if !config.secret_key.is_empty() {
            return Self::parse(config.secret_key.expose());
        }
        let url = config.database_url.expose();
        match Backend::from_url(url)? {
            Backend::Sqlite => Self::beside(Path::new(crate::db::sqlite_file(url))),
            Backend::Postgres => anyhow::bail!(
                "PostgreSQL needs a secret_key that every Duurloop server shares (it encrypts \
                 the second-factor secrets): make one with \
                 `(umask 077; openssl rand -hex 32 > secret.key)`, \
                 keep it apart from the database and its backups, and give it as \
                 DUURLOOP_SECRET_KEY_FILE=/path/to/secret.key (or DUURLOOP_SECRET_KEY, or \
                 secret_key in the config file)"
            ),
        }
    }

    /// The key in [`KEY_FILE`] in the folder of the SQLite database file `db_file`, made
    /// there first if it does not exist yet.
    pub fn beside(db_file: &Path) -> anyhow::Result<Self> {
        Ok(Self::in_file(&key_file_beside(db_file))?.0)
    }

    /// The key in the file at `path`, made there first (mode 0600) if it does not exist yet;
    /// true when it was made now.
    pub fn in_file(path: &Path) -> anyhow::Result<(Self, bool)> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut made = false;
        if !path.exists() {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create folder {}", dir.display()))?;
            if create_key_file(&dir, path)? {
                made = true;
                tracing::info!(
                    path = %path.display(),
                    "made a new secret key; keep a copy of it apart from the database backups"
                );
            }
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the secret key {}", path.display()))?;
        warn_if_readable_by_others(path);
        let key = Self::parse(&text).with_context(|| format!("in {}", path.display()))?;
        Ok((key, made))
    }

    /// Seals a secret for one account.
    pub fn seal(&self, user_id: &str, secret: &TotpSecret) -> anyhow::Result<Sealed> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("no random numbers for a nonce"))?;
        let mut data = secret.to_base32().into_bytes();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(user_id)),
                &mut data,
            )
            .map_err(|_| anyhow::anyhow!("cannot seal a second-factor secret"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(Sealed(format!("{PREFIX}{}", BASE64.encode(&out))))
    }

    /// The secret a stored value holds, if it was sealed for this account with this key and
    /// is unchanged. Anything else (a plain, altered or moved value, another key) is `None`
    /// and logged: that account's codes are refused.
    pub fn open(&self, user_id: &str, stored: Option<&str>) -> Option<TotpSecret> {
        let stored = stored?;
        let opened = self.try_open(user_id, stored);
        if opened.is_none() {
            tracing::warn!(
                user_id,
                "a second-factor secret does not open with this secret_key; the account's codes \
                 are refused until it enrols again"
            );
        }
        opened
    }

    pub(crate) fn try_open(&self, user_id: &str, stored: &str) -> Option<TotpSecret> {
        let data = BASE64
            .decode(stored.strip_prefix(PREFIX)?.as_bytes())
            .ok()?;
        if data.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = data.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(aad(user_id)), &mut sealed)
            .ok()?;
        TotpSecret::from_base32(std::str::from_utf8(plain).ok()?)
    }
}

/// What the pseudonym key is derived for (HKDF `info`): a new version gives new pseudonyms.
const PSEUDONYM_INFO: &[u8] = b"duurloop research pseudonyms v1";

impl SecretKey {
    /// The pseudonym of a record in a study's research export: HMAC-SHA256 under the
    /// installation's pseudonym key over the study code and the record's id, its first 8 bytes
    /// as 16 upper-case hex characters. The same record has the same pseudonym in every export
    /// for one study, other studies see unrelated ones, and without the key nobody can go back
    /// from a pseudonym to the record (or link two studies). A new `secret_key` gives new
    /// pseudonyms.
    pub fn pseudonym(&self, study: &str, record_id: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.pseudonyms);
        // Lengths first, so no study and id can be shifted into another pair.
        ctx.update(&(study.len() as u64).to_be_bytes());
        ctx.update(study.as_bytes());
        ctx.update(&(record_id.len() as u64).to_be_bytes());
        ctx.update(record_id.as_bytes());
        let tag = ctx.sign();
        data_encoding::HEXUPPER.encode(&tag.as_ref()[..8])
    }
}

/// What the audit anchor key is derived for (HKDF `info`).
const ANCHOR_INFO: &[u8] = b"duurloop audit anchors v1";

impl SecretKey {
    /// The signature of an audit log anchor (`app::audit_chain`): HMAC-SHA256 under the
    /// installation's anchor key over the anchored entry's place, the anchor's time, the
    /// entry's chain hash and the previous anchor's signature (empty for the first), as 64
    /// hex characters. Only the holder of `secret_key` can make one, so an anchor vouches that
    /// the chain up to its entry was as it is now when the server checked it; chaining the
    /// anchors shows one taken away from the middle.
    pub fn anchor_mac(&self, seq: i64, at: i64, chain_hash: &str, prev_mac: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.anchors);
        ctx.update(&seq.to_be_bytes());
        ctx.update(&at.to_be_bytes());
        for text in [chain_hash, prev_mac] {
            ctx.update(&(text.len() as u64).to_be_bytes());
            ctx.update(text.as_bytes());
        }
        HEXLOWER_PERMISSIVE.encode(ctx.sign().as_ref())
    }
}

impl SecretKey {
    /// Whether `other` is the same key (compared through a value derived from each, so the
    /// key itself is never compared or copied).
    pub fn is_same_as(&self, other: &SecretKey) -> bool {
        let probe = |k: &SecretKey| k.anchor_mac(0, 0, "same key?", "");
        probe(self) == probe(other)
    }
}

/// Associated data: binds a sealed secret to its account and to this use of the key.
fn aad(user_id: &str) -> Vec<u8> {
    format!("totp:{user_id}").into_bytes()
}

/// 32 random bytes as 64 hex characters: a new key, as `openssl rand -hex 32` makes one.
pub fn new_key_text() -> anyhow::Result<String> {
    let mut bytes = [0u8; KEY_LEN];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("no random numbers for a key"))?;
    Ok(HEXLOWER_PERMISSIVE.encode(&bytes))
}

/// Where a SQLite installation without a configured key keeps it: [`KEY_FILE`] in the folder
/// of the database file.
pub fn key_file_beside(db_file: &Path) -> PathBuf {
    match db_file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.join(KEY_FILE),
        _ => PathBuf::from(KEY_FILE),
    }
}

/// Writes a new key to `path`, readable by its owner only, whole or not at all: written and
/// synced under a temporary name, then linked into place, so two processes starting at once
/// end up with the same key. False when another process was first.
fn create_key_file(dir: &Path, path: &Path) -> anyhow::Result<bool> {
    let tmp = dir.join(format!(
        ".{KEY_FILE}.{}.{}",
        std::process::id(),
        crate::store::new_id()
    ));
    let written = (|| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        let text = new_key_text().map_err(std::io::Error::other)?;
        file.write_all(format!("{text}\n").as_bytes())?;
        file.sync_all()
    })();
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .with_context(|| format!("cannot sync folder {}", dir.display()))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot write {}", path.display())),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "the secret key file can be read by others than its owner; chmod 600 it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// What [`seal_plain_rows`] found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SealReport {
    /// Plain secrets (active or pending) sealed now.
    pub sealed: u64,
    /// Stored values that neither open with this key nor are plain Base32.
    pub unreadable: u64,
}

/// Seals every secret still stored in plain Base32, in one transaction, and counts the
/// stored values this key cannot open (a changed or lost key). Logs both counts.
pub async fn seal_plain_rows(db: &Db, key: &SecretKey) -> anyhow::Result<SealReport> {
    let mut report = SealReport::default();
    let mut tx = db.begin().await?;
    for row in users::totp_secrets(&mut tx).await? {
        for (stored, pending) in [(&row.totp_secret, false), (&row.totp_pending_secret, true)] {
            let Some(stored) = stored.as_deref() else {
                continue;
            };
            if stored.starts_with(PREFIX) {
                if key.try_open(&row.id, stored).is_none() {
                    report.unreadable += 1;
                }
                continue;
            }
            let Some(secret) = TotpSecret::from_base32(stored) else {
                report.unreadable += 1;
                continue;
            };
            let sealed = key.seal(&row.id, &secret)?;
            users::replace_totp_secret(&mut tx, &row.id, pending, stored, &sealed).await?;
            report.sealed += 1;
        }
    }
    tx.commit().await?;
    if report.sealed > 0 {
        tracing::info!(
            count = report.sealed,
            "sealed second-factor secrets stored in plain text"
        );
    }
    if report.unreadable > 0 {
        tracing::warn!(
            count = report.unreadable,
            "second-factor secrets do not open with this secret_key (was the key changed or \
             lost?); those accounts cannot sign in with a code until `duurloop user \
             reset-second-factor`"
        );
    }
    Ok(report)
}

/// Connects to the database (migrating it) with the key for its second-factor secrets, and
/// seals any still stored in plain text: the start of the server and of each command that
/// touches accounts. The key is loaded first, so PostgreSQL without one is refused before
/// anything is changed.
pub async fn connect(config: &Config) -> anyhow::Result<(Db, SecretKey)> {
    let key = SecretKey::load(config)?;
    let db = Db::connect(config.database_url.expose()).await?;
    seal_plain_rows(&db, &key).await?;
    Ok((db, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::random().expect("key")
    }

    fn secret() -> TotpSecret {
        TotpSecret::from_bytes(b"twenty bytes secret!".to_vec())
    }

    #[test]
    fn pseudonyms_are_stable_per_study_differ_between_studies_and_keys() {
        let key = SecretKey::parse(&"ab".repeat(32)).expect("key");
        let p = key.pseudonym("LOOP-2026", "referral-1");
        assert_eq!(p.len(), 16);
        assert!(p.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(p, key.pseudonym("LOOP-2026", "referral-1"), "stable");
        assert_ne!(p, key.pseudonym("LOOP-2027", "referral-1"), "per study");
        assert_ne!(p, key.pseudonym("LOOP-2026", "referral-2"), "per record");
        assert_ne!(
            key.pseudonym("AB", "C"),
            key.pseudonym("A", "BC"),
            "no shifting between study and id"
        );
        let other = SecretKey::parse(&"cd".repeat(32)).expect("other key");
        assert_ne!(p, other.pseudonym("LOOP-2026", "referral-1"), "per key");
    }

    #[test]
    fn a_secret_sealed_for_one_account_opens_for_that_account_only() {
        let key = key();
        let sealed = key.seal("user-a", &secret()).expect("seal");
        assert!(sealed.as_str().starts_with(PREFIX));
        assert!(!sealed.as_str().contains(&secret().to_base32()));
        assert_eq!(key.open("user-a", Some(sealed.as_str())), Some(secret()));
        assert_eq!(key.open("user-b", Some(sealed.as_str())), None);
        assert_eq!(
            SecretKey::random()
                .expect("other key")
                .open("user-a", Some(sealed.as_str())),
            None,
            "another key"
        );
        assert_ne!(
            key.seal("user-a", &secret()).expect("again"),
            sealed,
            "a new nonce each time"
        );
    }

    #[test]
    fn a_tampered_plain_or_malformed_value_is_refused() {
        let key = key();
        let sealed = key.seal("user-a", &secret()).expect("seal");
        let mut bytes = BASE64
            .decode(&sealed.as_str().as_bytes()[PREFIX.len()..])
            .expect("base64");
        for i in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[i] ^= 1;
            let tampered = format!("{PREFIX}{}", BASE64.encode(&bytes));
            assert_eq!(key.open("user-a", Some(&tampered)), None, "byte {i}");
            bytes[i] ^= 1;
        }
        for bad in [
            secret().to_base32().as_str(),
            "v1:",
            "v1:AAAA",
            "v1:not base64!",
            "v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(key.open("user-a", Some(bad)), None, "{bad}");
        }
        assert_eq!(key.open("user-a", None), None);
    }

    #[test]
    fn keys_are_read_as_hex_or_base64_of_32_bytes_and_nothing_else() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        let b64 = BASE64.encode(&HEXLOWER_PERMISSIVE.decode(hex.as_bytes()).expect("hex"));
        let sealed = SecretKey::parse(hex)
            .expect("hex")
            .seal("u", &secret())
            .expect("seal");
        for same in [
            b64.as_str(),
            b64.trim_end_matches('='),
            &format!(" {b64}\n"),
        ] {
            let key = SecretKey::parse(same).expect(same);
            assert_eq!(
                key.open("u", Some(sealed.as_str())),
                Some(secret()),
                "{same}"
            );
        }
        for bad in [
            "",
            "geheim",
            &hex[..62],
            &format!("{hex}00"),
            &BASE64.encode(&[7u8; 16]),
        ] {
            assert!(SecretKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(!format!("{:?}", SecretKey::parse(hex).expect("hex")).contains("00112233"));
    }

    #[test]
    fn without_a_configured_key_sqlite_makes_a_private_key_file_once_and_postgres_refuses() {
        let dir = tempfile::tempdir().expect("dir");
        let config = Config {
            database_url: crate::config::Secret::new(format!(
                "sqlite://{}/data/duurloop.db?mode=rwc",
                dir.path().display()
            )),
            ..Config::default()
        };
        let first = SecretKey::load(&config).expect("made");
        let path = dir.path().join("data").join(KEY_FILE);
        let text = std::fs::read_to_string(&path).expect("key file");
        assert_eq!(text.trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = first.seal("u", &secret()).expect("seal");
        let again = SecretKey::load(&config).expect("read back");
        assert_eq!(again.open("u", Some(sealed.as_str())), Some(secret()));
        assert_eq!(std::fs::read_to_string(&path).expect("same file"), text);
        assert_eq!(
            std::fs::read_dir(dir.path().join("data"))
                .expect("dir")
                .count(),
            1,
            "no temporary file left"
        );

        let configured = Config {
            secret_key: crate::config::Secret::new(new_key_text().expect("key")),
            ..config.clone()
        };
        assert_eq!(
            SecretKey::load(&configured)
                .expect("configured")
                .open("u", Some(sealed.as_str())),
            None,
            "a configured key wins over the file"
        );

        let postgres = Config {
            database_url: crate::config::Secret::new("postgres://u@db/duurloop"),
            ..Config::default()
        };
        let err = SecretKey::load(&postgres).expect_err("refused").to_string();
        assert!(
            err.contains("openssl rand -hex 32") && err.contains("DUURLOOP_SECRET_KEY_FILE"),
            "{err}"
        );
    }
}
