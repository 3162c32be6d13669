//! `duurloop serve`: bind, build, serve until Ctrl-C or SIGTERM, then shut down cleanly.

use std::sync::Arc;

use tokio::{net::TcpListener, sync::watch};

use crate::{clock::SystemClock, config::Config, web::Application};

pub async fn run(config: Config, demo: bool) -> anyhow::Result<()> {
    #[cfg(not(feature = "demo"))]
    if demo {
        anyhow::bail!(
            "this build has no demo data: it was built without the `demo` feature (a \
             production build)"
        );
    }
    for warning in config.transport_warnings() {
        tracing::warn!("{warning}");
    }
    let listener = TcpListener::bind(config.listen).await?;
    let base_url = config.base_url.clone();
    let app = Application::build(config, listener, Arc::new(SystemClock)).await?;
    #[cfg(feature = "demo")]
    if demo {
        let logins =
            super::demo::seed(&app.state.db, &app.state.secret_key, app.state.now()).await?;
        super::demo::print_logins(&logins, &base_url);
    }

    println!("Duurloop luistert op http://{} — open {base_url}", app.addr);
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    app.run(rx).await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
