//! Connecting to the database and applying migrations.
//!
//! One code path serves SQLite and PostgreSQL through sqlx's `Any` driver (the reasons are in
//! `docs/ARCHITECTURE.md`). Its consequences, kept everywhere in `store`:
//! ids are TEXT (uuid v7), times are BIGINT Unix milliseconds (UTC), flags are BIGINT 0/1,
//! money is BIGINT cents, aggregates are CAST to BIGINT, placeholders are `$1, $2, …`
//! (both databases accept them).

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    Any, AnyConnection, AnyPool, Connection, Executor, Transaction,
    any::{AnyConnectOptions, AnyPoolOptions},
};

/// Which database a URL names. Anything else is refused, so a mistyped URL is an error and
/// never a new empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!(
                "database_url must start with sqlite:// or postgres:// (got a URL with another scheme)"
            )
        }
    }
}

/// The connection pool and which backend it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

pub type Tx = Transaction<'static, Any>;

/// SQLite settings applied to every new connection (DESIGN.md storage rules), with a 16 MB
/// page cache per connection (the default 2 MB is small for a national database).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384;";

impl Db {
    /// Connects, sets per-connection pragmas, and applies pending migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let db = Self::connect_without_migrating(url).await?;
        crate::migrations::run(&db).await?;
        Ok(db)
    }

    pub async fn connect_without_migrating(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url_creating_dir(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url).context("database_url is not valid")?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(15))
            // A SQLite connection is a file handle in this process and does not go stale the
            // way a network connection does: testing it on every acquire was one extra round
            // trip to its worker thread per acquire (a ping), about a tenth of a participant
            // page's time under load. PostgreSQL connections are still tested.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(sqlx::raw_sql(SQLITE_PRAGMAS)).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .context("cannot connect to the database")?;
        Ok(Self { pool, backend })
    }

    /// Starts a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`):
    /// a deferred transaction that reads and then writes fails with SQLITE_BUSY_SNAPSHOT when
    /// another connection committed in between, and `busy_timeout` cannot help it.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Starts a transaction that only reads, so that several statements see one snapshot (the
    /// participant's download reads eleven lists; a write landing between two of them must not
    /// make the file disagree with itself). On SQLite a deferred `BEGIN`: in WAL mode its first
    /// read fixes the snapshot and it never takes the write lock, so it does not queue writers.
    /// On PostgreSQL `REPEATABLE READ, READ ONLY`, which gives the same one snapshot.
    pub async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN DEFERRED").await,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await
            }
        }
    }

    /// A connection of its own, outside the pool (the pool opens another in its place), for a
    /// long-lived task that must not queue behind requests for a pooled one.
    pub async fn own_connection(&self) -> Result<AnyConnection, sqlx::Error> {
        Ok(self.pool.acquire().await?.detach())
    }

    /// Starts a transaction on a connection of its own ([`Db::own_connection`]), the way
    /// [`Db::begin`] does on a pooled one.
    pub async fn begin_on<'c>(
        &self,
        c: &'c mut AnyConnection,
    ) -> Result<Transaction<'c, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => c.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => c.begin().await,
        }
    }

    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<Any>, sqlx::Error> {
        self.pool.acquire().await
    }

    /// Checks the database answers (for `/healthz`).
    pub async fn ping(&self) -> bool {
        match self.pool.acquire().await {
            Ok(mut c) => c.ping().await.is_ok(),
            Err(_) => false,
        }
    }
}

/// The file a SQLite URL names, without its `?options` (`duurloop-data/duurloop.db`).
pub fn sqlite_file(url: &str) -> &str {
    url.trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default()
}

/// For SQLite, make sure the file's folder exists and ask sqlx to create the file
/// (`mode=rwc`) if the URL does not say otherwise.
fn sqlite_url_creating_dir(url: &str) -> anyhow::Result<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = sqlite_file(url);
    if path.is_empty() || path == ":memory:" {
        anyhow::bail!(
            "a SQLite database_url must name a file, e.g. sqlite://duurloop-data/duurloop.db"
        );
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    Ok(if rest.contains("mode=") {
        format!("sqlite://{rest}")
    } else if rest.contains('?') {
        format!("sqlite://{rest}&mode=rwc")
    } else {
        format!("sqlite://{rest}?mode=rwc")
    })
}

/// Runs a script of statements (migrations); only static, embedded SQL.
pub async fn exec_raw(conn: &mut AnyConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    conn.execute(sqlx::raw_sql(sql)).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_schemes_are_accepted() {
        assert_eq!(
            Backend::from_url("sqlite://x.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(Backend::from_url("postgress://h/db").is_err());
        assert!(Backend::from_url("duurloop.db").is_err());
        assert!(Backend::from_url("mysql://h/db").is_err());
    }

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = std::env::temp_dir().join(format!("dl-{}", std::process::id()));
        let url = format!("sqlite://{}/a.db", dir.display());
        let out = sqlite_url_creating_dir(&url).expect("ok");
        assert!(out.ends_with("a.db?mode=rwc"), "{out}");
        assert!(sqlite_url_creating_dir("sqlite::memory:").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
