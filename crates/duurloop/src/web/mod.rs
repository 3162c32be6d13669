//! The HTTP edge: routes per capability, page and API handlers, extractors, CSRF, errors,
//! security headers, logs and metrics. Handlers are short: authorise, parse, call `app`,
//! render or redirect.

pub mod api;
pub mod assets;
pub mod csrf;
pub mod ctx;
pub mod error;
pub mod form;
pub mod metrics;
pub mod middleware;
pub mod pages;
pub mod refusals;
pub mod routes;

use std::{net::SocketAddr, sync::Arc};

use axum::Router;
use tokio::{net::TcpListener, sync::watch};

use crate::{clock::Clock, config::Config, state::AppState};

pub use routes::RouteInfo;

/// Builds the whole router and the list of routes it serves (the authorisation test walks
/// that list, so a route without an entry in the test's table fails it).
pub fn router(state: AppState) -> (Router, Vec<RouteInfo>) {
    let table = routes::RouteTable::new();
    let table = pages::routes(table);
    let table = api::routes(table);
    let (inner, list) = table.finish();
    let app = inner
        .merge(api::docs_router())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(middleware::refuse_nul))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::protect,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            refusals::audit_refusals,
        ))
        .layer(axum::middleware::from_fn(error::render_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
        .with_state(state);
    (app, list)
}

/// A running application: where it listens and how to stop it.
pub struct Application {
    pub addr: SocketAddr,
    pub state: AppState,
    pub routes: Vec<RouteInfo>,
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Connects to the database (migrating it and sealing plain second-factor secrets, see
    /// `secrets::connect`) and builds the app on an already-bound listener, so tests can bind
    /// port 0 and know the address before serving.
    pub async fn build(
        config: Config,
        listener: TcpListener,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let (db, secret_key) = crate::secrets::connect(&config).await?;
        let state = AppState::new(db, config, secret_key, clock)?;
        let (router, routes) = router(state.clone());
        Ok(Self {
            addr: listener.local_addr()?,
            state,
            routes,
            listener,
            router,
        })
    }

    /// Serves requests and runs the outbox worker until `shutdown` turns true; then finishes
    /// the requests in flight and the worker's current delivery.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        self.serve(shutdown, true).await
    }

    /// As [`Application::run`]; `with_worker: false` leaves mail delivery to explicit calls of
    /// [`crate::mail::deliver_due`] (tests that inspect delivery step by step).
    pub async fn serve(
        self,
        shutdown: watch::Receiver<bool>,
        with_worker: bool,
    ) -> anyhow::Result<()> {
        let worker = with_worker.then(|| {
            tokio::spawn(crate::mail::run_worker(
                self.state.clone(),
                shutdown.clone(),
            ))
        });
        let mut rx = shutdown.clone();
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            while !*rx.borrow() {
                if rx.changed().await.is_err() {
                    break;
                }
            }
        })
        .await?;
        if let Some(w) = worker {
            let _ = w.await;
        }
        self.state.db.pool.close().await;
        Ok(())
    }
}
