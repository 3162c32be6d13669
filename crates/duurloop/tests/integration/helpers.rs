//! `TestApp`: the real application on port 0 with a fresh database per test — SQLite by
//! default, PostgreSQL when `DUURLOOP_TEST_POSTGRES_URL` is set — plus helpers per action.

use std::sync::Arc;

use duurloop::{
    clock::{Clock, OffsetClock},
    config::{Config, Secret},
    db::Db,
    state::AppState,
    store::{self, users},
    web::{Application, RouteInfo},
};
use duurloop_domain::{OrgKind, Role, access::TokenScope, totp::TotpSecret};
use reqwest::{Client, StatusCode, redirect::Policy};
use tokio::sync::watch;

pub const PASSWORD: &str = "een lang wachtwoord";
pub const CSRF: &str = "test-csrf-token-0123456789abcdefghijklmnop";

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub clock: OffsetClock,
    pub routes: Vec<RouteInfo>,
    pub dir: tempfile::TempDir,
    shutdown: watch::Sender<bool>,
}

/// A fresh, empty database URL: a SQLite file in `dir`, or a new PostgreSQL database.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match std::env::var("DUURLOOP_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("dl_test_{}", uuid::Uuid::now_v7().simple());
            let db = Db::connect_without_migrating(&base)
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&db.pool)
                .await
                .expect("create test database");
            db.pool.close().await;
            let mut url = url::Url::parse(&base).expect("valid PostgreSQL URL");
            url.set_path(&name);
            url.to_string()
        }
        _ => format!("sqlite://{}/duurloop.db", dir.display()),
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// As `spawn`, with the background outbox worker running (as in production).
    pub async fn spawn_with_worker() -> Self {
        Self::start(|_| {}, true).await
    }

    /// As `spawn`, with a change to the configuration (e.g. an SMTP server). Mail is
    /// delivered only when a test calls `deliver_mail`, so delivery can be checked step by step.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start(adjust, false).await
    }

    async fn start(adjust: impl FnOnce(&mut Config), with_worker: bool) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database_url(dir.path()).await;
        // SQLite makes its key file beside the database, as in production; PostgreSQL needs
        // a configured key.
        let secret_key = if database_url.starts_with("postgres") {
            Secret::new(duurloop::secrets::new_key_text().expect("key"))
        } else {
            Secret::default()
        };
        let config = Config {
            database_url: Secret::new(database_url),
            secret_key,
            worker_interval_seconds: 1,
            ..Config::default()
        };
        Self::launch(config, OffsetClock::default(), dir, adjust, with_worker).await
    }

    /// Another app on this app's database, configuration and clock, as after a restart (both
    /// keep running), with a change to the configuration (e.g. another `secret_key`).
    pub async fn restart_with(&self, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = self.state.config.clone();
        Self::launch(config, self.clock.clone(), dir, adjust, false).await
    }

    async fn launch(
        mut config: Config,
        clock: OffsetClock,
        dir: tempfile::TempDir,
        adjust: impl FnOnce(&mut Config),
        with_worker: bool,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        config.listen = addr;
        config.base_url = format!("http://{addr}");
        config.outbox_dir = dir.path().join("outbox");
        adjust(&mut config);
        let app = Application::build(config, listener, Arc::new(clock.clone()))
            .await
            .expect("build app");
        let state = app.state.clone();
        let routes = app.routes.clone();
        let (tx, rx) = watch::channel(false);
        tokio::spawn(app.serve(rx, with_worker));
        TestApp {
            base: format!("http://{addr}"),
            state,
            clock,
            routes,
            dir,
            shutdown: tx,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn conn(&self) -> sqlx::pool::PoolConnection<sqlx::Any> {
        self.state.db.conn().await.expect("connection")
    }

    /// A browser-like client: keeps cookies, does not follow redirects, already holds a CSRF
    /// cookie (as if it had loaded a page before).
    pub fn browser(&self) -> Client {
        self.browser_as("")
    }

    /// A browser client that sends this User-Agent (none when empty).
    pub fn browser_as(&self, user_agent: &str) -> Client {
        let jar = reqwest::cookie::Jar::default();
        let url: reqwest::Url = self.base.parse().expect("url");
        jar.add_cookie_str(&format!("dl_csrf={CSRF}; Path=/"), &url);
        let mut b = Client::builder()
            .cookie_provider(Arc::new(jar))
            .redirect(Policy::none());
        if !user_agent.is_empty() {
            b = b.user_agent(user_agent.to_string());
        }
        b.build().expect("client")
    }

    pub async fn org(&self, name: &str, kind: OrgKind) -> String {
        let mut c = self.conn().await;
        store::orgs::insert(&mut c, name, kind, self.clock.now_ms())
            .await
            .expect("org")
    }

    /// An account with a password, optionally a second factor, and memberships.
    pub async fn user(
        &self,
        email: &str,
        admin: bool,
        memberships: &[(&str, Role)],
        totp: bool,
    ) -> TestUser {
        let hash = duurloop::app::auth::hash_password(PASSWORD)
            .await
            .expect("hash");
        let mut c = self.conn().await;
        let now = self.clock.now_ms();
        let id = users::insert(
            &mut c,
            users::NewUser {
                email,
                name: &format!("Naam {email}"),
                password_hash: Some(&hash),
                is_admin: admin,
                now,
            },
        )
        .await
        .expect("user");
        let secret = totp.then(|| TotpSecret::from_bytes(format!("secret-{email}").into_bytes()));
        if let Some(s) = &secret {
            let sealed = self.state.secret_key.seal(&id, s).expect("seal");
            users::activate_totp(&mut c, &id, &sealed, 0)
                .await
                .expect("totp");
        }
        for (org, role) in memberships {
            users::upsert_membership(&mut c, &id, org, *role, now)
                .await
                .expect("membership");
        }
        TestUser {
            id,
            email: email.to_string(),
            secret,
        }
    }

    /// The current code for a secret. The clock moves on 30 s first, because a code can only
    /// be used once.
    pub fn code(&self, secret: &TotpSecret) -> String {
        self.clock.advance_ms(30_000);
        secret.code_at(self.clock.now_ms() / 1000)
    }

    /// A browser client signed in through the real login (password, then code).
    pub async fn sign_in(&self, u: &TestUser) -> Client {
        let client = self.browser();
        let r = self
            .post_form(
                &client,
                "/login",
                &[("email", &u.email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login should redirect");
        if let Some(secret) = &u.secret {
            assert!(
                location(&r).starts_with("/login/totp"),
                "expected the code step, got {}",
                location(&r)
            );
            let code = self.code(secret);
            let r = self
                .post_form(&client, "/login/totp", &[("code", &code)])
                .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
        }
        client
    }

    /// A browser client with a fully signed-in session made directly in the store (fast;
    /// the login itself is tested separately).
    pub async fn session_for(&self, u: &TestUser) -> Client {
        let token = store::new_token();
        let mut c = self.conn().await;
        users::create_session(&mut c, &token, &u.id, "full", self.clock.now_ms(), "")
            .await
            .expect("session");
        let jar = reqwest::cookie::Jar::default();
        let url: reqwest::Url = self.base.parse().expect("url");
        jar.add_cookie_str(&format!("dl_csrf={CSRF}; Path=/"), &url);
        jar.add_cookie_str(&format!("dl_session={token}; Path=/"), &url);
        Client::builder()
            .cookie_provider(Arc::new(jar))
            .redirect(Policy::none())
            .build()
            .expect("client")
    }

    /// A demo account (after `demo::seed`) as a test user.
    pub async fn demo_user(&self, email: &str) -> TestUser {
        let mut c = self.conn().await;
        let u = users::by_email(&mut c, email)
            .await
            .expect("user")
            .expect("demo account");
        TestUser {
            id: u.id,
            email: email.to_string(),
            secret: None,
        }
    }

    /// GET an API path with a bearer token and read the JSON body.
    pub async fn get_json(&self, token: &str, path: &str) -> serde_json::Value {
        self.api(token, reqwest::Method::GET, path)
            .send()
            .await
            .expect("req")
            .json()
            .await
            .expect("json")
    }

    /// A `read-write` API token for the person (tests that only read use it too).
    pub async fn api_token(&self, u: &TestUser) -> String {
        self.api_token_with(u, TokenScope::ReadWrite).await
    }

    pub async fn api_token_with(&self, u: &TestUser, scope: TokenScope) -> String {
        let token = format!("dl_{}", store::new_token());
        let mut c = self.conn().await;
        let now = self.clock.now_ms();
        users::insert_api_token(
            &mut c,
            &u.id,
            "test",
            &token,
            scope,
            now,
            now + 90 * 86_400_000,
        )
        .await
        .expect("token");
        token
    }

    pub async fn post_form(
        &self,
        client: &Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut body: Vec<(&str, &str)> = vec![("csrf_token", CSRF)];
        body.extend_from_slice(fields);
        client
            .post(self.url(path))
            .form(&body)
            .send()
            .await
            .expect("request")
    }

    /// A browser signed in to the portal as the participant with this address, through the
    /// magic link.
    pub async fn portal_browser(&self, email: &str) -> Client {
        let browser = self.browser();
        self.post_form(&browser, "/portal/login", &[("email", email)])
            .await;
        let mail = self.last_mail_to(email).await.expect("link sent");
        let link = link_in(&mail.body_text, &self.base);
        let r = self.post_form(&browser, &link, &[]).await;
        assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "signed in");
        browser
    }

    /// The body of a page (GET), whatever its status.
    /// A portal session token for the participant with this address, as an app gets one:
    /// a sign-in link by mail (`POST /api/v1/portal/link`), then `POST /api/v1/portal/session`
    /// with its token (which uses the link up).
    pub async fn portal_api_session(&self, email: &str) -> String {
        let client = Client::new();
        client
            .post(self.url("/api/v1/portal/link"))
            .json(&serde_json::json!({ "email": email }))
            .send()
            .await
            .expect("request a link");
        let mail = self.last_mail_to(email).await.expect("link mailed");
        let link = link_in(&mail.body_text, &self.base);
        let token = link.rsplit('/').next().expect("token");
        let v: serde_json::Value = client
            .post(self.url("/api/v1/portal/session"))
            .json(&serde_json::json!({ "token": token }))
            .send()
            .await
            .expect("open a session")
            .json()
            .await
            .expect("json");
        v["session"].as_str().expect("session").to_string()
    }

    pub async fn html(&self, client: &Client, path: &str) -> String {
        self.get(client, path).await.text().await.expect("body")
    }

    pub async fn get(&self, client: &Client, path: &str) -> reqwest::Response {
        client.get(self.url(path)).send().await.expect("request")
    }

    pub fn api(&self, token: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        Client::new()
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    /// Runs the outbox worker once, now.
    pub async fn deliver_mail(&self) -> usize {
        duurloop::mail::deliver_due(&self.state)
            .await
            .expect("deliver")
    }

    /// The latest message in the outbox to an address.
    pub async fn last_mail_to(&self, to: &str) -> Option<store::outbox::MailRow> {
        let mut c = self.conn().await;
        store::outbox::recent(&mut c, 100)
            .await
            .expect("outbox")
            .into_iter()
            .find(|m| m.to_addr == to)
    }

    /// Audit entries with the given action and record type.
    pub async fn audit_count(&self, action: &str, record_type: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = $1 AND record_type = $2",
        )
        .bind(action)
        .bind(record_type)
        .fetch_one(&self.state.db.pool)
        .await
        .expect("count");
        n
    }
}

impl TestApp {
    /// Audit entries with the given action, record type and outcome (`ok`, `denied`, …).
    pub async fn audit_count_outcome(&self, action: &str, record_type: &str, outcome: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = $1 AND record_type = $2 \
             AND outcome = $3",
        )
        .bind(action)
        .bind(record_type)
        .bind(outcome)
        .fetch_one(&self.state.db.pool)
        .await
        .expect("count");
        n
    }

    /// Audit entries with the given action and record type about one record.
    pub async fn audit_count_of(&self, action: &str, record_type: &str, record_id: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = $1 AND record_type = $2 \
             AND record_id = $3",
        )
        .bind(action)
        .bind(record_type)
        .bind(record_id)
        .fetch_one(&self.state.db.pool)
        .await
        .expect("count");
        n
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

pub struct TestUser {
    pub id: String,
    pub email: String,
    pub secret: Option<TotpSecret>,
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The second-factor secret the enrolment page (`/account/totp`) shows for manual entry.
pub fn secret_shown(page: &str) -> TotpSecret {
    let b32 = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("secret shown");
    TotpSecret::from_base32(b32).expect("base32")
}

/// The link in a message body (invitation, reset).
pub fn link_in(body: &str, base: &str) -> String {
    body.split_whitespace()
        .find(|w| w.starts_with(base))
        .map(|w| w.trim_start_matches(base).to_string())
        .expect("a link in the message")
}
