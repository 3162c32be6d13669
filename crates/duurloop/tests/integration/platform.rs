//! Operations: health, metrics, friendly 404s, headers, schema parity, backup, demo, config.

use duurloop::{
    cli::demo,
    db::{Backend, Db},
};
use reqwest::StatusCode;

use duurloop::config::Secret;

use crate::helpers::{CSRF, PASSWORD, TestApp, fresh_database_url};

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = TestApp::spawn().await;
    let r = reqwest::get(app.url("/healthz")).await.expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    let _ = reqwest::get(app.url("/login")).await.expect("req");
    let m = reqwest::get(app.url("/metrics"))
        .await
        .expect("req")
        .text()
        .await
        .expect("body");
    assert!(
        m.contains("duurloop_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"}"),
        "{m}"
    );
    assert!(m.contains("duurloop_database_up 1"));
}

/// `/metrics` answers a direct request from this machine, or one with `metrics_token` once
/// that is set; anyone else gets 404. `/healthz` stays public (load balancers).
#[tokio::test]
async fn metrics_answer_only_this_machine_or_the_metrics_token_and_health_stays_public() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let get = |url: String, headers: &[(&str, &str)]| {
        let mut b = client.get(url);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        async move { b.send().await.expect("req").status() }
    };
    assert_eq!(get(app.url("/metrics"), &[]).await, StatusCode::OK);
    let proxied = [("X-Forwarded-For", "203.0.113.9")];
    assert_eq!(
        get(app.url("/metrics"), &proxied).await,
        StatusCode::NOT_FOUND,
        "through a reverse proxy on this machine"
    );
    assert_eq!(get(app.url("/healthz"), &proxied).await, StatusCode::OK);

    // A proxy listed in `trusted_proxies` is not this machine's own scraper either.
    let behind = app
        .restart_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().expect("range")])
        .await;
    assert_eq!(
        get(behind.url("/metrics"), &[]).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(behind.url("/healthz"), &[]).await, StatusCode::OK);

    // With a token, only the token opens it, from this machine too.
    let token = "metrics-0123456789abcdef0123456789";
    let scraped = app
        .restart_with(|c| c.metrics_token = Secret::new(token))
        .await;
    let bearer = format!("Bearer {token}");
    for headers in [
        &[][..],
        &[("Authorization", "Bearer metrics-0123456789abcdef01234567")][..],
        &[("Authorization", token)][..],
    ] {
        assert_eq!(
            get(scraped.url("/metrics"), headers).await,
            StatusCode::NOT_FOUND,
            "{headers:?}"
        );
    }
    let r = client
        .get(scraped.url("/metrics"))
        .header("Authorization", &bearer)
        .header("X-Forwarded-For", "203.0.113.9")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("duurloop_database_up 1")
    );
    assert_eq!(get(scraped.url("/healthz"), &proxied).await, StatusCode::OK);
}

/// Over HTTPS the staff session and CSRF cookies are `__Host-` cookies (ASVS 3.4.4): Secure,
/// `Path=/`, no `Domain`, and the plain names are no longer read. Over plain HTTP the names
/// stay `dl_session` and `dl_csrf`.
#[tokio::test]
async fn over_https_the_session_and_csrf_cookies_carry_the_host_prefix() {
    let app = TestApp::spawn().await;
    let u = app.user("koekje@praktijk.example", false, &[], false).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let set_cookie = |r: &reqwest::Response, name: &str| -> Option<String> {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_string)
    };
    let value = |cookie: &str| -> String {
        let first = cookie.split(';').next().expect("pair");
        first.split_once('=').expect("name=value").1.to_string()
    };
    let login = |base: &TestApp, cookie: String, csrf: String| {
        let b = client
            .post(base.url("/login"))
            .header("Cookie", cookie)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", u.email.as_str()),
                ("password", PASSWORD),
            ]);
        async move { b.send().await.expect("login") }
    };

    // Plain HTTP: the names as they were, without Secure.
    let r = client.get(app.url("/login")).send().await.expect("req");
    let csrf = set_cookie(&r, "dl_csrf").expect("dl_csrf over http");
    assert!(!csrf.contains("Secure"), "{csrf}");
    let r = login(&app, format!("dl_csrf={CSRF}"), CSRF.into()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&r, "dl_session").expect("dl_session over http");
    assert!(set_cookie(&r, "__Host-dl_session").is_none());
    assert!(!session.contains("Secure"), "{session}");

    // HTTPS: `__Host-` names, Secure, Path=/, no Domain.
    let https = app
        .restart_with(|c| c.base_url = "https://duurloop.example".into())
        .await;
    let r = client.get(https.url("/login")).send().await.expect("req");
    assert!(set_cookie(&r, "dl_csrf").is_none());
    let csrf = set_cookie(&r, "__Host-dl_csrf").expect("__Host-dl_csrf over https");
    for part in ["; Path=/;", "HttpOnly", "SameSite=Strict", "; Secure"] {
        assert!(csrf.contains(part), "{part}: {csrf}");
    }
    assert!(!csrf.to_lowercase().contains("domain="), "{csrf}");
    let token = value(&csrf);
    // The CSRF cookie under its plain name no longer counts.
    let r = login(&https, format!("dl_csrf={token}"), token.clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = login(&https, format!("__Host-dl_csrf={token}"), token.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&r, "dl_session").is_none());
    let session = set_cookie(&r, "__Host-dl_session").expect("__Host-dl_session");
    for part in ["; Path=/;", "HttpOnly", "SameSite=Lax", "; Secure"] {
        assert!(session.contains(part), "{part}: {session}");
    }
    assert!(!session.to_lowercase().contains("domain="), "{session}");
    let session = value(&session);
    let account = |cookie: String| {
        let b = client.get(https.url("/account")).header("Cookie", cookie);
        async move { b.send().await.expect("account").status() }
    };
    assert_eq!(
        account(format!("__Host-dl_session={session}")).await,
        StatusCode::OK
    );
    assert_eq!(
        account(format!("dl_session={session}")).await,
        StatusCode::SEE_OTHER,
        "the plain name is not read over https"
    );
    let r = client
        .post(https.url("/logout"))
        .header(
            "Cookie",
            format!("__Host-dl_csrf={token}; __Host-dl_session={session}"),
        )
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cleared = set_cookie(&r, "__Host-dl_session").expect("cleared");
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("; Secure"),
        "{cleared}"
    );
    assert_eq!(
        account(format!("__Host-dl_session={session}")).await,
        StatusCode::SEE_OTHER,
        "signed out"
    );
}

#[tokio::test]
async fn unknown_pages_get_a_friendly_dutch_404_with_a_way_back() {
    let app = TestApp::spawn().await;
    let r = reqwest::get(app.url("/bestaat/niet")).await.expect("req");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.expect("body");
    assert!(html.contains("Deze pagina bestaat niet"));
    assert!(html.contains("Terug naar de startpagina"));
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = TestApp::spawn().await;
    let r = reqwest::get(app.url("/login")).await.expect("req");
    let h = r.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("default-src 'self'")
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn hsts_is_sent_only_when_the_base_url_is_https() {
    let app = TestApp::spawn_with(|c| c.base_url = "https://duurloop.example".into()).await;
    for path in ["/login", "/healthz", "/bestaat/niet"] {
        let r = reqwest::get(app.url(path)).await.expect("req");
        assert_eq!(
            r.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
    let app = TestApp::spawn().await;
    let r = reqwest::get(app.url("/login")).await.expect("req");
    assert!(!r.headers().contains_key("strict-transport-security"));
}

async fn schema(db: &Db) -> Vec<(String, String)> {
    let sql = match db.backend {
        Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                            WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, 2"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c FROM information_schema.columns \
                              WHERE table_schema = 'public' ORDER BY 1, 2"
        }
    };
    sqlx::query_as(sql)
        .fetch_all(&db.pool)
        .await
        .expect("schema")
}

#[tokio::test]
async fn schema_is_the_same_on_sqlite_and_postgres() {
    let Ok(pg_base) = std::env::var("DUURLOOP_TEST_POSTGRES_URL") else {
        eprintln!(
            "DUURLOOP_TEST_POSTGRES_URL not set: the PostgreSQL half of this test runs in CI"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = Db::connect(&format!("sqlite://{}/s.db", dir.path().display()))
        .await
        .expect("sqlite");
    assert!(!pg_base.is_empty());
    let pg = Db::connect(&fresh_database_url(dir.path()).await)
        .await
        .expect("postgres");
    assert_eq!(pg.backend, Backend::Postgres);
    let a = schema(&sqlite).await;
    let b = schema(&pg).await;
    assert!(a.len() > 50);
    assert_eq!(a, b);
}

/// `Db::begin_read` (the participant's download): every statement in it sees the database as
/// it was at its first read, even when another connection commits in between, and it does not
/// hold SQLite's write lock (that commit does not wait for it).
#[tokio::test]
async fn a_read_transaction_sees_one_snapshot_while_others_commit() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let count = "SELECT CAST(COUNT(*) AS BIGINT) FROM organisations";
    let mut read = db.begin_read().await.expect("begin read");
    let (before,): (i64,) = sqlx::query_as(count)
        .fetch_one(&mut *read)
        .await
        .expect("count");
    let mut tx = db.begin().await.expect("begin write");
    sqlx::query(
        "INSERT INTO organisations (id, kind, name, created_at) VALUES ('snapshot-org', 'practice', 'Snapshot', 0)",
    )
    .execute(&mut *tx)
    .await
    .expect("insert");
    tx.commit().await.expect("commit while a read is open");
    let (inside,): (i64,) = sqlx::query_as(count)
        .fetch_one(&mut *read)
        .await
        .expect("count");
    read.commit().await.expect("end read");
    let (after,): (i64,) = sqlx::query_as(count)
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(inside, before, "the read transaction saw a later commit");
    assert_eq!(after, before + 1);
}

#[tokio::test]
async fn a_mistyped_database_url_is_an_error_not_a_new_database() {
    assert!(Db::connect("postgress://localhost/test").await.is_err());
    assert!(Db::connect("duurloop.db").await.is_err());
}

#[tokio::test]
async fn the_demo_is_idempotent_and_its_people_can_sign_in() {
    let app = TestApp::spawn().await;
    let now = app.state.now();
    let logins = demo::seed(&app.state.db, &app.state.secret_key, now)
        .await
        .expect("demo");
    let count = |table: &'static str| {
        let pool = app.state.db.pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"
            )))
            .fetch_one(&pool)
            .await
            .expect("count");
            n
        }
    };
    let (orgs, users, ms, referrals) = (
        count("organisations").await,
        count("users").await,
        count("memberships").await,
        count("referrals").await,
    );
    assert!(orgs >= 4 && users >= 6);
    // The halfway group has scored measurements (baseline and week 5) and one open alert.
    assert_eq!(count("measurement_scores").await, 27);
    assert_eq!(count("safety_alerts").await, 1);
    demo::seed(&app.state.db, &app.state.secret_key, now)
        .await
        .expect("demo again");
    assert_eq!(count("measurement_scores").await, 27);
    assert_eq!(
        (
            count("organisations").await,
            count("users").await,
            count("memberships").await,
            count("referrals").await,
        ),
        (orgs, users, ms, referrals)
    );
    // The closed referral shows the practice's coordinator how to erase it.
    let (closed,): (String,) =
        sqlx::query_as("SELECT id FROM referrals WHERE submission_key = 'demo-closed-referral'")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("the demo's closed referral");
    let coordinator = app.demo_user("praktijkmanager@medi-stad.example").await;
    let html = app
        .html(
            &app.session_for(&coordinator).await,
            &format!("/referrals/{closed}"),
        )
        .await;
    assert!(
        html.contains("Femke Bos") && html.contains("id=\"erase\""),
        "{html}"
    );
    let therapist = logins
        .iter()
        .find(|l| l.email == "poh@medi-stad.example")
        .expect("therapist");
    let client = app.browser();
    let r = app
        .post_form(
            &client,
            "/login",
            &[
                ("email", therapist.email),
                ("password", demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert!(crate::helpers::location(&r).starts_with("/login/totp"));
    app.clock.advance_ms(30_000);
    let code = demo::demo_code(therapist.email, app.state.now()).expect("code");
    let r = app
        .post_form(&client, "/login/totp", &[("code", &code)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.html(&client, "/").await;
    assert!(html.contains("Marieke de Boer"));
}

#[tokio::test]
async fn backup_makes_a_consistent_copy_that_opens_with_the_same_content() {
    let app = TestApp::spawn().await;
    if app.state.db.backend != Backend::Sqlite {
        return; // PostgreSQL backups are pg_dump's job; `duurloop backup` says so.
    }
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let target = app.dir.path().join("backup.db");
    duurloop::cli::backup_sqlite(&app.state.db, &target)
        .await
        .expect("backup");
    let copy = Db::connect(&format!("sqlite://{}", target.display()))
        .await
        .expect("open copy");
    let dump = |db: Db| async move {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, email, name FROM users ORDER BY id")
                .fetch_all(&db.pool)
                .await
                .expect("users");
        rows
    };
    assert_eq!(dump(app.state.db.clone()).await, dump(copy).await);
    assert!(
        duurloop::cli::backup_sqlite(&app.state.db, &target)
            .await
            .is_err(),
        "never overwrites"
    );
}

fn duurloop(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_duurloop"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("DUURLOOP_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run duurloop")
}

#[test]
fn the_command_line_migrates_creates_an_admin_backs_up_and_shows_config_redacted() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let ok = |o: &std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr))
    };
    ok(&duurloop(
        dir.path(),
        &["--database-url", &url, "migrate"],
        &[],
    ));
    let o = duurloop(
        dir.path(),
        &[
            "--database-url",
            &url,
            "user",
            "create-admin",
            "--email",
            "beheer@regio.example",
            "--name",
            "Beheer",
        ],
        &[("DUURLOOP_NEW_PASSWORD", "een sterk wachtwoord")],
    );
    ok(&o);
    let o = duurloop(
        dir.path(),
        &[
            "--database-url",
            &url,
            "user",
            "create-admin",
            "--email",
            "x@regio.example",
            "--name",
            "X",
        ],
        &[("DUURLOOP_NEW_PASSWORD", "kort")],
    );
    assert!(!o.status.success(), "a short password is refused");
    // A common one too (ASVS 2.1.7), for a new administrator and for a reset alike.
    for (command, password) in [
        ("create-admin", "Password1234!"),
        ("reset-password", "beheer@regio.example"),
    ] {
        let mut args = vec![
            "--database-url",
            &url,
            "user",
            command,
            "--email",
            "beheer@regio.example",
        ];
        if command == "create-admin" {
            args.extend(["--name", "Beheer"]);
        }
        let o = duurloop(dir.path(), &args, &[("DUURLOOP_NEW_PASSWORD", password)]);
        assert!(!o.status.success(), "{command} refuses {password}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("known from data breaches"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    ok(&duurloop(
        dir.path(),
        &["--database-url", &url, "demo"],
        &[],
    ));
    // The key for second-factor secrets was made beside the database, for its owner only.
    let key_file = dir.path().join("secret.key");
    assert_eq!(
        std::fs::read_to_string(&key_file)
            .expect("key file")
            .trim()
            .len(),
        64
    );
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&key_file).expect("meta").permissions()
        ) & 0o777,
        0o600
    );
    ok(&duurloop(
        dir.path(),
        &[
            "--database-url",
            &url,
            "user",
            "reset-second-factor",
            "--email",
            "beheer@duurloop.example",
        ],
        &[],
    ));
    let backup = dir.path().join("kopie.db");
    ok(&duurloop(
        dir.path(),
        &[
            "--database-url",
            &url,
            "backup",
            backup.to_str().expect("utf8"),
        ],
        &[],
    ));
    assert!(backup.exists());
    let o = duurloop(
        dir.path(),
        &["config"],
        &[
            ("DUURLOOP_DATABASE_URL", "postgres://u:geheim@db/duurloop"),
            ("DUURLOOP_SMTP_URL", "smtp://u:ookgeheim@mail"),
        ],
    );
    ok(&o);
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(
        shown.contains("<redacted>") && !shown.contains("geheim"),
        "{shown}"
    );
    let o = duurloop(
        dir.path(),
        &["backup", "x.dump"],
        &[("DUURLOOP_DATABASE_URL", "postgres://u@127.0.0.1:1/none")],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("pg_dump"));
    let o = duurloop(
        dir.path(),
        &["--database-url", "postgress://h/db", "migrate"],
        &[],
    );
    assert!(!o.status.success());
    assert!(!dir.path().join("postgress:").exists());
}

/// `duurloop user reset-password` and `reset-second-factor` tell the account's owner, in the
/// outbox the server's worker delivers from (ASVS 2.2.3, 2.5.5).
#[tokio::test]
async fn operator_resets_from_the_command_line_are_mailed_to_the_account() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let run = |args: &[&str], password: &str| {
        let mut all = vec!["--database-url", &url, "user"];
        all.extend(args);
        let o = duurloop(dir.path(), &all, &[("DUURLOOP_NEW_PASSWORD", password)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let email = ["--email", "beheer@regio.example"];
    run(
        &[&["create-admin", "--name", "Beheer"][..], &email].concat(),
        "een sterk wachtwoord",
    );
    run(
        &[&["reset-password"][..], &email].concat(),
        "nog een sterk wachtwoord",
    );
    run(&[&["reset-second-factor"][..], &email].concat(), "");
    let db = Db::connect(&url).await.expect("db");
    let mails: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT to_addr, subject, body_text FROM outbox WHERE kind = 'account_changed' ORDER BY created_at, subject",
    )
    .fetch_all(&db.pool)
    .await
    .expect("outbox");
    let subjects: Vec<&str> = mails.iter().map(|(_, s, _)| s.as_str()).collect();
    assert_eq!(mails.len(), 2, "{subjects:?}");
    assert!(mails.iter().all(|(to, _, _)| to == "beheer@regio.example"));
    assert!(
        subjects.contains(&"Nieuw wachtwoord voor uw Duurloop-account"),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&"Tweede stap van uw Duurloop-account verwijderd"),
        "{subjects:?}"
    );
    assert!(mails.iter().all(|(_, _, body)| body.contains("/account")));
}

#[tokio::test]
async fn the_national_generator_makes_a_country_whose_participants_use_the_portal() {
    use duurloop::cli::national::{Shape, generate};
    let app = TestApp::spawn().await;
    let now = app.state.now();
    demo::seed(&app.state.db, &app.state.secret_key, now)
        .await
        .expect("demo");
    let shape = Shape::for_participants(300);
    let counts = generate(&app.state.db, shape, now).await.expect("country");
    assert_eq!(counts.referrals, 300);
    assert_eq!((counts.therapists, counts.referrers), (6, 15));
    assert!(
        counts.runs >= shape.runs && counts.scores >= shape.responses,
        "{counts:?}"
    );
    // A generated participant signs in to the portal and sees their plan and runs.
    let (trajectory,): (String,) = sqlx::query_as(
        "SELECT t.id FROM trajectories t JOIN referrals r ON r.id = t.referral_id \
         WHERE t.status = 'active' AND r.client_email LIKE '%@national.invalid' ORDER BY t.id LIMIT 1",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("an active participant");
    let mut c = app.conn().await;
    duurloop::store::portal::create_session(&mut c, "national-test-token", &trajectory, now)
        .await
        .expect("session");
    drop(c);
    let v = app.get_json("national-test-token", "/api/v1/portal").await;
    assert!(
        v["plan"]["weeks"].as_array().is_some_and(|w| w.len() == 12),
        "{v}"
    );
    // Generated in its steady state: the weekly review has at most a few ended weeks to catch
    // up on (those ending around now), not a year of them per participant.
    for _ in 0..2 {
        duurloop::app::trajectories::review_weeks(&app.state)
            .await
            .expect("review");
    }
    assert_eq!(
        duurloop::app::trajectories::review_weeks(&app.state)
            .await
            .expect("review"),
        0,
        "nothing left for a third review"
    );
    // The country is generated once per database.
    let again = duurloop::cli::national::refuse_twice(&app.state.db).await;
    assert!(again.is_err(), "generated once per database");
}

/// The portal's home is read with one statement that builds its lists as JSON in the
/// database (`store::trajectories::portal_home`); it must say exactly what the separate
/// queries say, on both databases, for participants of every kind.
#[tokio::test]
async fn the_portal_home_in_one_statement_equals_the_separate_queries() {
    use duurloop::{
        cli::national::{Shape, generate},
        store::{groups, hash_token, measure, portal, trajectories},
    };
    let app = TestApp::spawn().await;
    let now = app.state.now();
    demo::seed(&app.state.db, &app.state.secret_key, now)
        .await
        .expect("demo");
    generate(&app.state.db, Shape::for_participants(120), now)
        .await
        .expect("country");
    let today = duurloop::clock::local_date(now);
    let ids: Vec<(String, String)> =
        sqlx::query_as("SELECT id, offering_id FROM trajectories ORDER BY id LIMIT 60")
            .fetch_all(&app.state.db.pool)
            .await
            .expect("trajectories");
    assert!(ids.len() >= 50, "{}", ids.len());
    let mut c = app.conn().await;
    // Open measurements in both states, and a cancelled next session of the first group.
    sqlx::query(
        "UPDATE measurements SET status = 'sent' WHERE id = (SELECT MIN(id) FROM measurements)",
    )
    .execute(&mut *c)
    .await
    .expect("sent");
    sqlx::query(
        "UPDATE measurements SET status = 'partial', answers = '{\"PHQ-9\":{\"1\":2}}' \
         WHERE id = (SELECT MAX(id) FROM measurements)",
    )
    .execute(&mut *c)
    .await
    .expect("partial");
    let next = groups::upcoming_sessions(&mut c, &ids[0].1, &today)
        .await
        .expect("next");
    if let Some(first) = next.first() {
        groups::cancel(&mut c, &first.id, "regen", now)
            .await
            .expect("cancel");
    }
    fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).expect("serialisable")
    }
    let (mut with_runs, mut with_scores, mut with_open, mut with_sessions) = (0, 0, 0, 0);
    for (i, (id, offering)) in ids.iter().enumerate() {
        let token = format!("one-statement-{i}");
        portal::create_session(&mut c, &token, id, now)
            .await
            .expect("session");
        let home = trajectories::portal_home(&mut c, &hash_token(&token), &today)
            .await
            .expect("home")
            .expect("a session");
        let t = trajectories::by_id(&mut c, id)
            .await
            .expect("t")
            .expect("t");
        assert_eq!(json(&home.session.trajectory), json(&t), "{id}");
        assert_eq!(home.session.session_id_hash, hash_token(&token));
        let sessions = groups::upcoming_sessions(&mut c, offering, &today)
            .await
            .expect("sessions");
        assert_eq!(json(&home.next_sessions), json(&sessions), "{id}");
        let runs = portal::runs(&mut c, id).await.expect("runs");
        assert_eq!(json(&home.runs), json(&runs), "{id}");
        let open: Vec<_> = measure::of_trajectory(&mut c, id)
            .await
            .expect("measurements")
            .into_iter()
            .filter(|m| matches!(m.status.as_str(), "sent" | "partial"))
            .collect();
        assert_eq!(json(&home.open_measurements), json(&open), "{id}");
        let scores = measure::scores(&mut c, id).await.expect("scores");
        assert_eq!(json(&home.scores), json(&scores), "{id}");
        with_runs += usize::from(runs.len() > 1);
        with_scores += usize::from(scores.len() > 1);
        with_open += usize::from(!open.is_empty());
        with_sessions += usize::from(sessions.len() == 3);
    }
    assert!(
        with_runs > 10 && with_scores > 10 && with_open >= 1 && with_sessions > 10,
        "the comparison saw too little: {with_runs} {with_scores} {with_open} {with_sessions}"
    );
    assert!(
        trajectories::portal_home(&mut c, &hash_token("no-such-token"), &today)
            .await
            .expect("home")
            .is_none()
    );
}

/// The audit entries about one record type, newest first.
async fn audit_of_record_type(
    c: &mut sqlx::AnyConnection,
    record_type: &str,
    limit: i64,
) -> Vec<duurloop::store::audit::AuditRow> {
    duurloop::store::audit::search(
        c,
        &duurloop::store::audit::AuditFilter {
            record: Some(record_type.into()),
            limit,
            ..Default::default()
        },
    )
    .await
    .expect("search the audit log")
}

/// The group writer keeps a connection of its own. When the database closes it (a restarted
/// PostgreSQL does), the next entry must still be written, on a new connection, and the read
/// it belongs to must not fail.
#[tokio::test]
async fn the_audit_writer_survives_losing_its_connection() {
    use duurloop::store::audit::NewAuditEntry;
    let app = TestApp::spawn().await;
    let entry = |i: i64| NewAuditEntry {
        at: 1_795_000_000_000 + i,
        action: "read",
        record_type: "writer-test",
        record_id: Some(format!("record-{i}")),
        outcome: "ok",
        ..Default::default()
    };
    let writer = &app.state.audit_writer;
    writer.log(entry(1)).await.expect("first entry");
    if app.state.db.backend == Backend::Postgres {
        let mut c = app.conn().await;
        let closed: Vec<(bool,)> = sqlx::query_as(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut *c)
        .await
        .expect("terminate");
        assert!(
            !closed.is_empty(),
            "the writer's connection was there to close"
        );
    }
    writer
        .log(entry(2))
        .await
        .expect("entry after the connection was lost");
    writer.log(entry(3)).await.expect("and the one after");
    let mut c = app.conn().await;
    let found = audit_of_record_type(&mut c, "writer-test", 10).await;
    let mut ids: Vec<_> = found.iter().filter_map(|r| r.record_id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["record-1", "record-2", "record-3"]);
}

/// The group writer's batches go in as one JSON parameter unpacked by the database; every
/// field must come out as it went in, NULLs and awkward text included, on both databases.
#[tokio::test]
async fn a_batch_of_audit_entries_is_stored_field_for_field() {
    use duurloop::store::audit::{NewAuditEntry, insert_many};
    let app = TestApp::spawn().await;
    let entries: Vec<NewAuditEntry> = (0..40)
        .map(|i| NewAuditEntry {
            at: 1_795_000_000_000 + i,
            actor_user_id: (i % 2 == 0).then(|| format!("user-{i}")),
            actor_role: (i % 3 == 0).then(|| "therapist".to_string()),
            actor_org_id: None,
            action: "read",
            record_type: "batch-test",
            record_id: Some(format!("record-{i}")),
            subject_user_id: None,
            org_id: Some("org-\"quoted\" 'single' \\ é ü 🏃".to_string()),
            ip: Some("2001:db8::1".to_string()),
            user_agent: Some(format!("Mozilla/5.0 {{\"json\": [{i}]}}\n")),
            reason: (i == 7).then(|| "nood, met spoed".to_string()),
            outcome: "ok",
        })
        .collect();
    let mut c = app.conn().await;
    let refs: Vec<&NewAuditEntry> = entries.iter().collect();
    insert_many(&mut c, &refs).await.expect("batch");
    insert_many(&mut c, &[])
        .await
        .expect("an empty batch is nothing");
    let found = audit_of_record_type(&mut c, "batch-test", 100).await;
    assert_eq!(found.len(), 40);
    for e in &entries {
        let row = found
            .iter()
            .find(|r| r.record_id == e.record_id)
            .expect("stored");
        assert_eq!(row.at, e.at);
        assert_eq!(row.actor_user_id, e.actor_user_id);
        assert_eq!(row.actor_role, e.actor_role);
        assert_eq!(row.actor_org_id, None);
        assert_eq!((row.action.as_str(), row.outcome.as_str()), ("read", "ok"));
        assert_eq!(row.subject_user_id, None);
        assert_eq!(row.org_id, e.org_id);
        assert_eq!(row.ip, e.ip);
        assert_eq!(row.user_agent, e.user_agent);
        assert_eq!(row.reason, e.reason);
        assert_eq!(row.id.len(), 36, "a uuid each");
    }
}

#[tokio::test]
async fn switching_language_never_redirects_to_another_site() {
    let app = TestApp::spawn().await;
    for (back, to) in [
        ("/zoeken", "/zoeken"),
        ("//evil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("https://evil.example", "/"),
    ] {
        let r = app
            .get(&app.browser(), &format!("/lang/en?back={back}"))
            .await;
        assert_eq!(crate::helpers::location(&r), to, "{back}");
    }
}

/// A failed login sent (from 127.0.0.1) with `X-Forwarded-For: 203.0.113.7`, and the IP its
/// audit entry and its throttle record were written with.
async fn ips_logged_for_a_failed_login_forwarded_for_203_0_113_7(app: &TestApp) -> [String; 2] {
    let r = app
        .browser()
        .post(app.url("/login"))
        .header("x-forwarded-for", "203.0.113.7")
        .form(&[
            ("csrf_token", CSRF),
            ("email", "iemand@praktijk.example"),
            ("password", "verkeerd wachtwoord"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let mut c = app.conn().await;
    let entry = audit_of_record_type(&mut c, "session", 10)
        .await
        .into_iter()
        .find(|e| e.action == "login" && e.outcome == "failed")
        .expect("the failed login is in the audit log");
    let (throttled,): (String,) = sqlx::query_as("SELECT ip FROM login_failures")
        .fetch_one(&mut *c)
        .await
        .expect("one login failure");
    [entry.ip.expect("an ip"), throttled]
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_ip_is_logged_and_throttled() {
    let app = TestApp::spawn_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("range")];
    })
    .await;
    assert_eq!(
        ips_logged_for_a_failed_login_forwarded_for_203_0_113_7(&app).await,
        ["203.0.113.7", "203.0.113.7"]
    );
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_header_does_not_change_the_logged_ip() {
    let app = TestApp::spawn().await;
    assert_eq!(
        ips_logged_for_a_failed_login_forwarded_for_203_0_113_7(&app).await,
        ["127.0.0.1", "127.0.0.1"]
    );
}

/// On PostgreSQL, `sslmode=require` in the database URL gives an encrypted connection (sqlx
/// is built with rustls). On SQLite there is no network, so nothing to check.
#[tokio::test]
async fn a_postgres_url_with_sslmode_require_connects_over_tls() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database_url(dir.path()).await;
    if !url.starts_with("postgres") {
        return;
    }
    let mut url = url::Url::parse(&url).expect("url");
    url.query_pairs_mut().append_pair("sslmode", "require");
    let db = Db::connect(url.as_str()).await.expect("connect over TLS");
    let (ssl,): (bool,) =
        sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&db.pool)
            .await
            .expect("pg_stat_ssl");
    assert!(ssl, "the connection is encrypted");
}

/// A NUL character anywhere a text can come in (a JSON body, a form, a query) is refused on
/// both databases (422 in a body, 400 in the address); PostgreSQL cannot store one, so before this a run note
/// or a search with one was a 500 there.
#[tokio::test]
async fn a_nul_character_in_any_text_is_refused_with_a_client_error() {
    let app = TestApp::spawn().await;
    let crate::authz::Practice {
        therapist,
        referrer,
        offering,
        ..
    } = crate::authz::medi_stad(&app).await;
    crate::authz::trajectory_for(&app, &offering, &referrer, &therapist).await;
    let session = app.portal_api_session("jan@example.nl").await;
    let today = duurloop::clock::local_date(app.state.now());
    sqlx::query("UPDATE trajectories SET start_date = $1")
        .bind(&today)
        .execute(&app.state.db.pool)
        .await
        .expect("started today");
    let run = |note: &str| {
        app.api(&session, reqwest::Method::POST, "/api/v1/portal/runs")
            .json(&serde_json::json!({"date": today, "minutes": "30", "note": note}))
            .send()
    };
    let r = run("rustig\u{0}gelopen").await.expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: serde_json::Value = r.json().await.expect("a JSON error body");
    assert!(
        v["error"]["fields"]["request"]
            .as_str()
            .is_some_and(|m| m.contains("nulteken")),
        "{v}"
    );
    let r = run("rustig gelopen").await.expect("req");
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "the same run without it is logged: {}",
        r.text().await.unwrap_or_default()
    );
    // In an address: the framework's 400 for a query it cannot take, with the error body.
    let r = reqwest::get(app.url("/api/v1/therapists?name=a%00b"))
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = r.json().await.expect("a JSON error body");
    assert_eq!(v["error"]["code"], "bad-request", "{v}");
    assert_eq!(
        reqwest::get(app.url("/api/v1/therapists?name=ab"))
            .await
            .expect("req")
            .status(),
        StatusCode::OK
    );
    let browser = app.browser();
    let r = app
        .post_form(&browser, "/portal/login", &[("email", "jan\0@example.nl")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("page").contains("nulteken"));
}

/// The demo's accounts have a published password: it loads into a database of its own, again
/// and again, and never into one where real people have accounts (OWASP ASVS 2.5.4).
#[tokio::test]
async fn the_demo_refuses_a_database_with_real_accounts() {
    use duurloop::cli::demo::seed;
    let app = TestApp::spawn().await;
    let (db, key, now) = (&app.state.db, &app.state.secret_key, app.state.now());
    seed(db, key, now).await.expect("an empty database");
    seed(db, key, now).await.expect("its own demo again");
    app.user("jose@huisartsen-oost.nl", false, &[], false).await;
    let e = seed(db, key, now).await.expect_err("a real account");
    assert!(e.to_string().contains("real e-mail addresses"), "{e}");
}
