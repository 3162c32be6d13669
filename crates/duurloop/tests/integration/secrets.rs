//! Second-factor secrets encrypted at rest (SECURITY.md 2.8.2): what the database holds after
//! enrolment, a start with another key, plain rows from before, and the console reset.

use duurloop::{
    app::{audit_chain, key_rotation},
    config::Secret,
    secrets::{self, SealReport},
};
use duurloop_domain::{OrgKind, Role, totp::TotpSecret};
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, TestUser, location, secret_shown};

/// The stored (active, pending) second-factor secrets of an account, read from the row.
async fn stored(app: &TestApp, user_id: &str) -> (Option<String>, Option<String>) {
    let mut c = app.conn().await;
    sqlx::query_as("SELECT totp_secret, totp_pending_secret FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *c)
        .await
        .expect("user row")
}

fn sealed_and_not_plain(value: &str, secret: &TotpSecret) {
    assert!(value.starts_with(secrets::PREFIX), "{value}");
    assert!(!value.contains(&secret.to_base32()), "{value}");
}

async fn set_plain(app: &TestApp, column: &str, user_id: &str, secret: &TotpSecret) {
    let mut c = app.conn().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE users SET {column} = $1 WHERE id = $2"
    )))
    .bind(secret.to_base32())
    .bind(user_id)
    .execute(&mut *c)
    .await
    .expect("plain secret");
}

#[tokio::test]
async fn after_enrolment_the_database_holds_the_second_factor_only_encrypted_and_its_codes_sign_in()
{
    let app = TestApp::spawn().await;
    let org = app.org("Praktijk", OrgKind::GpPractice).await;
    let u = app
        .user(
            "nieuw@praktijk.example",
            false,
            &[(&org, Role::Coordinator)],
            false,
        )
        .await;
    let client = app.browser();
    let r = app
        .post_form(
            &client,
            "/login",
            &[("email", &u.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&r), "/account/totp");
    let page = app.html(&client, "/account/totp").await;
    let secret = secret_shown(&page);
    let (active, pending) = stored(&app, &u.id).await;
    assert_eq!(active, None);
    sealed_and_not_plain(&pending.expect("pending secret"), &secret);

    let code = app.code(&secret);
    let r = app
        .post_form(&client, "/account/totp", &[("code", &code)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (active, pending) = stored(&app, &u.id).await;
    sealed_and_not_plain(&active.expect("active secret"), &secret);
    assert_eq!(pending, None);

    let again = TestUser {
        id: u.id.clone(),
        email: u.email.clone(),
        secret: Some(secret),
    };
    let client = app.sign_in(&again).await;
    assert_eq!(
        app.get(&client, &format!("/organisations/{org}"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_server_started_with_another_secret_key_refuses_every_code_without_failing() {
    let app = TestApp::spawn().await;
    let (_, u) = practice_therapist(&app).await;
    let other = app
        .restart_with(|c| c.secret_key = Secret::new(secrets::new_key_text().expect("key")))
        .await;
    let client = other.browser();
    let r = other
        .post_form(
            &client,
            "/login",
            &[("email", &u.email), ("password", PASSWORD)],
        )
        .await;
    assert!(location(&r).starts_with("/login/totp"), "{}", location(&r));
    let code = other.code(u.secret.as_ref().expect("secret"));
    let r = other
        .post_form(&client, "/login/totp", &[("code", &code)])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("Deze code klopt niet")
    );
    assert_eq!(
        other.get(&other.browser(), "/healthz").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        secrets::seal_plain_rows(&other.state.db, &other.state.secret_key)
            .await
            .expect("check"),
        SealReport {
            sealed: 0,
            unreadable: 1
        }
    );
    // Nothing was changed: with the right key the code works.
    let client = app.sign_in(&u).await;
    assert_eq!(app.get(&client, "/account").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn second_factor_secrets_still_in_plain_base32_are_encrypted_at_the_next_start() {
    let app = TestApp::spawn().await;
    let (org, u) = practice_therapist(&app).await;
    let enrolling = app
        .user(
            "c@praktijk.example",
            false,
            &[(&org, Role::Coordinator)],
            false,
        )
        .await;
    let secret = u.secret.clone().expect("secret");
    let pending = TotpSecret::from_bytes(b"a pending secret, 20".to_vec());
    // As versions before encryption stored them.
    set_plain(&app, "totp_secret", &u.id, &secret).await;
    set_plain(&app, "totp_pending_secret", &enrolling.id, &pending).await;

    let restarted = app.restart_with(|_| {}).await;
    let (active, _) = stored(&restarted, &u.id).await;
    sealed_and_not_plain(&active.expect("active"), &secret);
    let (_, still_pending) = stored(&restarted, &enrolling.id).await;
    sealed_and_not_plain(&still_pending.expect("pending"), &pending);
    assert_eq!(
        secrets::seal_plain_rows(&restarted.state.db, &restarted.state.secret_key)
            .await
            .expect("again"),
        SealReport::default(),
        "nothing plain is left and everything opens"
    );

    let client = restarted.sign_in(&u).await;
    assert_eq!(
        restarted.get(&client, "/account").await.status(),
        StatusCode::OK
    );
    // The enrolment under way goes on with the same secret.
    let client = restarted.browser();
    let r = restarted
        .post_form(
            &client,
            "/login",
            &[("email", &enrolling.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&r), "/account/totp");
    let page = restarted
        .get(&client, "/account/totp")
        .await
        .text()
        .await
        .expect("body");
    assert!(page.contains(&pending.to_base32()));
}

/// A practice and its therapist, with a second factor.
async fn practice_therapist(app: &TestApp) -> (String, TestUser) {
    let org = app.org("Praktijk", OrgKind::TherapistPractice).await;
    let u = app
        .user(
            "t@praktijk.example",
            false,
            &[(&org, Role::Therapist)],
            true,
        )
        .await;
    (org, u)
}

/// `duurloop` with `args` on the app's database and key, and nothing else from this process's
/// `DUURLOOP_` settings.
fn console(app: &TestApp, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_duurloop"));
    for (name, _) in std::env::vars() {
        if name.starts_with("DUURLOOP_") {
            cmd.env_remove(name);
        }
    }
    cmd.args(args)
        .env(
            "DUURLOOP_DATABASE_URL",
            app.state.config.database_url.expose(),
        )
        .env("DUURLOOP_LOG", "warn");
    if !app.state.config.secret_key.is_empty() {
        cmd.env("DUURLOOP_SECRET_KEY", app.state.config.secret_key.expose());
    }
    cmd
}

/// `duurloop secret-key rotate` moves the second factors and the audit log's anchors to a new
/// key in one transaction: a server started with the new key takes the same codes and finds
/// the log intact, the old key no longer fits. The key in use, or a log that is not intact,
/// is refused and nothing changes.
#[tokio::test]
async fn the_secret_key_is_rotated_from_the_console_and_codes_and_anchors_move_with_it() {
    let app = TestApp::spawn().await;
    let (_, u) = practice_therapist(&app).await;
    app.sign_in(&u).await;
    let anchored = audit_chain::anchor(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("anchor");
    assert!(anchored.is_some(), "the sign-in is in the log");
    let (sealed_before, _) = stored(&app, &u.id).await;

    let dir = tempfile::tempdir().expect("temp dir");
    let new_key_file = dir.path().join("nieuw.key");
    let text = secrets::new_key_text().expect("key");
    std::fs::write(&new_key_file, format!("{text}\n")).expect("write key");
    let path = new_key_file.to_str().expect("path");
    let out = console(&app, &["secret-key", "rotate", "--new-key-file", path])
        .output()
        .await
        .expect("run duurloop");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("1 second-factor secrets sealed again, 1 audit anchors signed again"),
        "{said}"
    );
    let (sealed_after, _) = stored(&app, &u.id).await;
    assert_ne!(sealed_after, sealed_before);
    sealed_and_not_plain(
        sealed_after.as_deref().expect("still a second factor"),
        u.secret.as_ref().expect("secret"),
    );
    if app.state.config.secret_key.is_empty() {
        // SQLite with its key beside the database: the new key took the old one's place.
        let beside = secrets::key_file_beside(std::path::Path::new(duurloop::db::sqlite_file(
            app.state.config.database_url.expose(),
        )));
        assert_eq!(
            std::fs::read_to_string(&beside).expect("key file").trim(),
            text
        );
        assert!(!new_key_file.exists());
    }
    let (rotations,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log \
         WHERE action = 'rotate' AND record_type = 'secret_key' AND actor_role = 'cli'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    assert_eq!(rotations, 1, "the rotation is in the log");

    let rotated = app
        .restart_with(|c| c.secret_key = Secret::new(text.clone()))
        .await;
    let client = rotated.sign_in(&u).await;
    assert_eq!(
        rotated.get(&client, "/account").await.status(),
        StatusCode::OK,
        "the same code signs in under the new key"
    );
    let report = audit_chain::check(&rotated.state.db, &rotated.state.secret_key)
        .await
        .expect("check");
    assert!(report.intact, "{report:?}");
    assert_eq!(report.anchors, 1);
    let under_old = audit_chain::check(&app.state.db, &app.state.secret_key)
        .await
        .expect("check");
    assert_eq!(under_old.problem.map(|p| p.kind), Some("anchor-forged"));

    let same = secrets::SecretKey::parse(&text).expect("key");
    let now = rotated.state.now();
    let e = key_rotation::rotate(&rotated.state.db, &rotated.state.secret_key, &same, now)
        .await
        .expect_err("the key in use");
    assert!(e.to_string().contains("the key in use"), "{e}");
    let mut c = rotated.conn().await;
    sqlx::query("UPDATE audit_log SET action = 'geknoeid' WHERE seq = 1")
        .execute(&mut *c)
        .await
        .expect("tamper");
    drop(c);
    let other = secrets::SecretKey::random().expect("key");
    let e = key_rotation::rotate(&rotated.state.db, &rotated.state.secret_key, &other, now)
        .await
        .expect_err("a log that is not intact");
    assert!(e.to_string().contains("altered at entry Some(1)"), "{e}");
    assert_eq!(
        stored(&rotated, &u.id).await.0,
        sealed_after,
        "nothing changed"
    );
}

#[tokio::test]
async fn an_operator_removes_a_lost_second_factor_from_the_console_and_it_is_set_up_again() {
    let app = TestApp::spawn().await;
    let (_, u) = practice_therapist(&app).await;
    let signed_in = app.session_for(&u).await;
    let reset = |email: &str| console(&app, &["user", "reset-second-factor", "--email", email]);
    let out = reset(&u.email).output().await.expect("run duurloop");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stored(&app, &u.id).await, (None, None));
    assert_eq!(
        app.audit_count_of("reset_second_factor", "user", &u.id)
            .await,
        1
    );
    assert_eq!(
        app.get(&signed_in, "/account").await.status(),
        StatusCode::SEE_OTHER,
        "the account's sessions ended"
    );
    let client = app.browser();
    let r = app
        .post_form(
            &client,
            "/login",
            &[("email", &u.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&r), "/account/totp", "a new one is set up first");

    let out = reset("niemand@praktijk.example")
        .output()
        .await
        .expect("run duurloop");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account"));
}
