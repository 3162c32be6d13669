//! `duurloop user …`: create an administrator, reset a password or a lost second factor from
//! the console.

use clap::Subcommand;
use duurloop_domain::{EmailAddress, NewPassword, PersonName};

use crate::{
    app::{
        audit::{CLI, Event, record_system},
        auth::hash_password,
    },
    config::Config,
    mail::{AccountChange, notify_account_change_at},
    store::users,
};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an administrator account (or make an existing account administrator).
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The password; read from DUURLOOP_NEW_PASSWORD if not given, so it stays out of
        /// shell history.
        #[arg(long, env = "DUURLOOP_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Set a new password for an account and end its sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, env = "DUURLOOP_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Remove an account's second factor (lost phone, or a lost `secret_key`) and end its
    /// sessions; at the next login the account enrols a new one.
    ResetSecondFactor {
        #[arg(long)]
        email: String,
    },
}

pub async fn run(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let (db, _key) = crate::secrets::connect(config).await?;
    let now = jiff::Timestamp::now().as_millisecond();
    match cmd {
        UserCommand::CreateAdmin {
            email,
            name,
            password,
        } => {
            let email = EmailAddress::parse(&email)
                .map_err(|_| anyhow::anyhow!("not a valid e-mail address"))?;
            let name =
                PersonName::parse(&name).map_err(|_| anyhow::anyhow!("name must not be empty"))?;
            let pw = NewPassword::parse(&password, &password, &[email.as_str(), name.as_str()])
                .map_err(password_refused)?;
            let hash = hash_password(pw.expose()).await?;
            let mut tx = db.begin().await?;
            let (id, action) = match users::by_email(&mut tx, email.as_str()).await? {
                Some(u) => {
                    users::set_admin(&mut tx, &u.id, true).await?;
                    users::set_password(&mut tx, &u.id, &hash).await?;
                    (u.id, "update")
                }
                None => {
                    let id = users::insert(
                        &mut tx,
                        users::NewUser {
                            email: email.as_str(),
                            name: name.as_str(),
                            password_hash: Some(&hash),
                            is_admin: true,
                            now,
                        },
                    )
                    .await?;
                    (id, "create")
                }
            };
            record_system(
                &mut tx,
                now,
                CLI,
                Event::new(action, "administrator").record(&id).subject(&id),
            )
            .await?;
            tx.commit().await?;
            println!("administrator ready; a second factor is set up at first login");
        }
        UserCommand::ResetPassword { email, password } => {
            let u = users::by_email(&mut *db.conn().await?, &email.trim().to_lowercase())
                .await?
                .ok_or_else(|| anyhow::anyhow!("no account with that address"))?;
            let pw = NewPassword::parse(&password, &password, &[&u.email, &u.name])
                .map_err(password_refused)?;
            let hash = hash_password(pw.expose()).await?;
            let mut tx = db.begin().await?;
            users::set_password(&mut tx, &u.id, &hash).await?;
            users::delete_sessions_of(&mut tx, &u.id).await?;
            // The owner hears of it (ASVS 2.2.3), as after a reset by link: if the operator
            // was not asked to, the person learns that someone with the server's keys acted.
            notify_account_change_at(
                &mut tx,
                &config.base_url,
                now,
                &u,
                AccountChange::PasswordByOperator,
            )
            .await?;
            record_system(
                &mut tx,
                now,
                CLI,
                Event::new("reset_password", "user")
                    .record(&u.id)
                    .subject(&u.id),
            )
            .await?;
            tx.commit().await?;
            println!("password set; the account's sessions have ended");
        }
        UserCommand::ResetSecondFactor { email } => {
            let mut tx = db.begin().await?;
            let u = users::by_email(&mut tx, &email.trim().to_lowercase())
                .await?
                .ok_or_else(|| anyhow::anyhow!("no account with that address"))?;
            users::clear_totp(&mut tx, &u.id).await?;
            users::delete_sessions_of(&mut tx, &u.id).await?;
            notify_account_change_at(
                &mut tx,
                &config.base_url,
                now,
                &u,
                AccountChange::SecondFactorRemoved,
            )
            .await?;
            record_system(
                &mut tx,
                now,
                CLI,
                Event::new("reset_second_factor", "user")
                    .record(&u.id)
                    .subject(&u.id),
            )
            .await?;
            tx.commit().await?;
            println!(
                "second factor removed and the account's sessions ended; a new one is set up at \
                 the next login"
            );
        }
    }
    Ok(())
}

/// What the console says about a refused password (the web forms show the same in Dutch and
/// English from the locale files).
fn password_refused(e: duurloop_domain::Invalid) -> anyhow::Error {
    match e.key {
        "password-common" => anyhow::anyhow!(
            "this password is used a lot or known from data breaches (or too close to one, or \
             to the account's name or address); choose another, for example a sentence of a \
             few words"
        ),
        _ => anyhow::anyhow!("password needs 12 to 128 characters"),
    }
}
