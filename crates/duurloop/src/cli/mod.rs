//! The command line: `serve`, `migrate`, `demo`, `backup`, `user`, `config`. Each command is
//! one small module.
//!
//! The demo data, the national generator and the benchmarks come with the `demo` feature (on
//! by default); a production build leaves them out with `--no-default-features`, so its
//! binary cannot load accounts with a known password (SECURITY.md 2.5.4, 14.2.2).

pub mod backup;
#[cfg(feature = "demo")]
mod bench;
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "demo")]
mod generate;
mod key;
#[cfg(feature = "demo")]
mod loadbench;
#[cfg(feature = "demo")]
pub mod national;
mod serve;
mod user;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigFlags};

#[derive(Parser)]
#[command(
    name = "duurloop",
    version,
    about = "Runningtherapie op recept — running therapy on prescription"
)]
struct Cli {
    #[command(flatten)]
    flags: ConfigFlags,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server (and the background worker).
    Serve {
        /// Load the demo organisations and people first (idempotent) and print their logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Load demo organisations and people (idempotent) and print their logins; with
    /// `--scale national`, also a country-sized data set (minutes; on an empty database).
    #[cfg(feature = "demo")]
    Demo {
        #[arg(long, value_enum, default_value_t = Scale::Small)]
        scale: Scale,
        /// Participants of the national data set (every other count scales with it).
        #[arg(long, default_value_t = 100_000)]
        participants: u64,
    },
    /// Make a consistent online copy of the SQLite database at PATH.
    Backup { path: std::path::PathBuf },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Change `secret_key`: the second-factor secrets and the audit log's anchors move to a
    /// new key in one transaction.
    SecretKey {
        #[command(subcommand)]
        command: key::KeyCommand,
    },
    /// Check the audit log: is it still as it was written (its hash chain and signed anchors)?
    /// Exits with 1 and names the first problem when not.
    AuditVerify,
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Print the current second-factor code of a demo account (demo data only).
    #[cfg(feature = "demo")]
    DemoCode { email: String },
    /// Measure the server at national scale: throughput and p99 of the participant page and
    /// API against the trivial route, cost growth, start time, memory, binary size, and an
    /// optional load test (BENCHMARKS.md).
    #[cfg(feature = "demo")]
    Bench(loadbench::LoadArgs),
    /// Time the impact report over generated data (BENCHMARKS.md).
    #[cfg(feature = "demo")]
    #[command(hide = true)]
    BenchImpact(bench::BenchArgs),
}

/// How much demo data to load.
#[cfg(feature = "demo")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// A handful of organisations and people to walk through every capability.
    Small,
    /// The small demo plus a country: 100,000 participants, 2,000 therapists, 5,000
    /// referrers, a million runs and a million questionnaire scores (`--participants`).
    National,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli.flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("duurloop: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("duurloop: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { demo } => serve::run(config, demo).await,
            Command::Migrate => {
                crate::secrets::connect(&config).await?;
                println!("database is up to date");
                Ok(())
            }
            #[cfg(feature = "demo")]
            Command::Demo {
                scale,
                participants,
            } => {
                let (db, key) = crate::secrets::connect(&config).await?;
                let now = jiff::Timestamp::now().as_millisecond();
                if scale == Scale::National {
                    national::refuse_twice(&db).await?;
                }
                let logins = demo::seed(&db, &key, now).await?;
                if scale == Scale::National {
                    let counts = national::generate(
                        &db,
                        national::Shape::for_participants(participants),
                        now,
                    )
                    .await?;
                    println!("{}", serde_json::to_string_pretty(&counts)?);
                }
                demo::print_logins(&logins, &config.base_url);
                Ok(())
            }
            Command::Backup { path } => backup::run(&config, &path).await,
            Command::User { command } => user::run(&config, command).await,
            Command::SecretKey { command } => key::run(&config, command).await,
            #[cfg(feature = "demo")]
            Command::BenchImpact(args) => bench::run(config, args).await,
            #[cfg(feature = "demo")]
            Command::Bench(args) => loadbench::run(args).await,
            #[cfg(feature = "demo")]
            Command::DemoCode { email } => {
                match demo::demo_code(&email, jiff::Timestamp::now().as_millisecond()) {
                    Some(code) => {
                        println!("{code}");
                        Ok(())
                    }
                    None => Err(anyhow::anyhow!("not a demo account with a second factor")),
                }
            }
            Command::AuditVerify => audit_verify(&config).await,
            Command::Config => {
                print!("{}", config.to_redacted_toml());
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("duurloop: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `duurloop audit-verify`: the check of `app::audit_chain`, printed as JSON, logged in the
/// audit log with role `cli`; an error (exit code 1) when the log is not intact.
async fn audit_verify(config: &Config) -> anyhow::Result<()> {
    let (db, key) = crate::secrets::connect(config).await?;
    let report = crate::app::audit_chain::check(&db, &key).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    let mut tx = db.begin().await?;
    crate::app::audit::record_system(
        &mut tx,
        jiff::Timestamp::now().as_millisecond(),
        crate::app::audit::CLI,
        crate::app::audit::Event::new("verify", "audit_log").outcome(if report.intact {
            "ok"
        } else {
            "failed"
        }),
    )
    .await?;
    tx.commit().await?;
    match report.problem {
        None => Ok(()),
        Some(p) => anyhow::bail!(
            "the audit log is not as it was written: {} at entry {}",
            p.kind,
            p.seq.map_or("—".to_string(), |s| s.to_string())
        ),
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DUURLOOP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub use backup::backup_sqlite;
