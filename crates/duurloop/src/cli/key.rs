//! `duurloop secret-key rotate`: change `secret_key` without losing the second factors or the
//! audit log's anchors (`app::key_rotation`).

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::{
    app::key_rotation,
    config::Config,
    db::{Backend, sqlite_file},
    secrets::{self, SecretKey},
};

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Seal every second-factor secret and sign every audit anchor with a new key, in one
    /// transaction. Stop every server first; start them again with the new key.
    Rotate {
        /// The new key: a file with 32 random bytes as 64 hex characters or Base64. Made
        /// there (mode 0600) when it does not exist.
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

pub async fn run(config: &Config, cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {
        KeyCommand::Rotate { new_key_file } => rotate(config, &new_key_file).await,
    }
}

async fn rotate(config: &Config, new_key_file: &Path) -> anyhow::Result<()> {
    let (db, old) = secrets::connect(config).await?;
    let (new, made) = SecretKey::in_file(new_key_file)?;
    if made {
        println!("made a new key in {}", new_key_file.display());
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let done = key_rotation::rotate(&db, &old, &new, now).await?;
    println!(
        "the database is now under the new key: {} second-factor secrets sealed again, {} \
         audit anchors signed again{}",
        done.secrets,
        done.anchors,
        match done.unreadable {
            0 => String::new(),
            n => format!(
                "; {n} secrets opened with neither key and were left as they were (reset those \
                 accounts with `duurloop user reset-second-factor`)"
            ),
        }
    );
    // A SQLite installation without a configured key reads it beside its database: the new
    // key goes there, so the next start finds it. Everyone else configures it themselves.
    let url = config.database_url.expose();
    let beside = (config.secret_key.is_empty() && Backend::from_url(url)? == Backend::Sqlite)
        .then(|| secrets::key_file_beside(Path::new(sqlite_file(url))));
    match beside {
        Some(place) => match std::fs::rename(new_key_file, &place) {
            Ok(()) => println!("the new key is now {}", place.display()),
            Err(e) => println!(
                "could not move the new key to {} ({e}): move it there yourself before the \
                 server starts again",
                place.display()
            ),
        },
        None => println!(
            "give every server the new key (DUURLOOP_SECRET_KEY_FILE={} or secret_key) before \
             starting it again",
            new_key_file.display()
        ),
    }
    println!(
        "research exports made from now on have new pseudonyms; backups made before still need \
         the old key for their second factors and anchors"
    );
    Ok(())
}
