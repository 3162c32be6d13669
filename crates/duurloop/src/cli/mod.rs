//! The command line: `serve`, `migrate`, `demo`, `backup`, `user`, `config`. Each command is
//! one small module.

pub mod backup;
mod bench;
pub mod demo;
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
    /// Load demo organisations and people (idempotent) and print their logins.
    Demo,
    /// Make a consistent online copy of the SQLite database at PATH.
    Backup { path: std::path::PathBuf },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Print the current second-factor code of a demo account (demo data only).
    DemoCode { email: String },
    /// Time the impact report over generated data (BENCHMARKS.md).
    #[command(hide = true)]
    BenchImpact(bench::BenchArgs),
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
                crate::db::Db::connect(config.database_url.expose()).await?;
                println!("database is up to date");
                Ok(())
            }
            Command::Demo => {
                let db = crate::db::Db::connect(config.database_url.expose()).await?;
                let logins = demo::seed(&db, jiff::Timestamp::now().as_millisecond()).await?;
                demo::print_logins(&logins, &config.base_url);
                Ok(())
            }
            Command::Backup { path } => backup::run(&config, &path).await,
            Command::User { command } => user::run(&config, command).await,
            Command::BenchImpact(args) => bench::run(config, args).await,
            Command::DemoCode { email } => {
                match demo::demo_code(&email, jiff::Timestamp::now().as_millisecond()) {
                    Some(code) => {
                        println!("{code}");
                        Ok(())
                    }
                    None => Err(anyhow::anyhow!("not a demo account with a second factor")),
                }
            }
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
