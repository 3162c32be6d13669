//! `duurloop backup PATH`: a consistent online copy of the SQLite database (`VACUUM INTO`,
//! which reads one snapshot while the server keeps writing). For PostgreSQL, `pg_dump` is the
//! right tool and we say so.

use std::path::Path;

use anyhow::Context;

use crate::{
    config::Config,
    db::{Backend, Db},
};

pub async fn run(config: &Config, path: &Path) -> anyhow::Result<()> {
    let url = config.database_url.expose();
    if Backend::from_url(url)? == Backend::Postgres {
        anyhow::bail!(
            "backup copies SQLite databases; for PostgreSQL use pg_dump, e.g. \
             `pg_dump --format=custom --file=duurloop.dump \"$DATABASE_URL\"`"
        );
    }
    // Never migrate here: a newer binary's backup must not change a database that an older
    // server is still running on.
    let db = Db::connect_without_migrating(url).await?;
    backup_sqlite(&db, path).await?;
    println!("backup written to {}", path.display());
    println!(
        "it holds the second-factor secrets encrypted: keep a copy of the secret key ({} \
         beside the database, or your secret_key) in another place than the backups",
        crate::secrets::KEY_FILE
    );
    Ok(())
}

pub async fn backup_sqlite(db: &Db, path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        anyhow::bail!("{} exists already; choose a new file", path.display());
    }
    let target = path.to_str().context("backup path must be valid UTF-8")?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&db.pool)
        .await
        .context("backup failed")?;
    // The file is synced by SQLite; its directory entry too, so a power cut right after
    // "backup written" keeps the file.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .context("sync the backup's folder")?;
    }
    Ok(())
}
