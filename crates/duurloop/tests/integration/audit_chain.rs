//! The audit log's hash chain and signed anchors (ASVS 7.3.3): an administrator checks it on a
//! page and in the API, and every way of changing the log behind the application's back is
//! found and named.

use duurloop::{
    app::audit_chain,
    store::audit::{self, chain_hash, hex, unhex},
};
use duurloop_domain::{OrgKind, Role};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, TestUser};

/// An administrator with a session and a token, and a coordinator of one organisation.
async fn setup(app: &TestApp) -> (TestUser, reqwest::Client, String, TestUser) {
    let org = app.org("Loopgroep Noord", OrgKind::TherapistPractice).await;
    let admin = app.user("beheer@keten.example", true, &[], true).await;
    let coordinator = app
        .user(
            "coord@keten.example",
            false,
            &[(&org, Role::Coordinator)],
            true,
        )
        .await;
    let client = app.sign_in(&admin).await;
    let token = app.api_token(&admin).await;
    (admin, client, token, coordinator)
}

async fn integrity(app: &TestApp, token: &str) -> Value {
    let r = app
        .api(token, Method::GET, "/api/v1/audit/integrity")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

async fn exec(app: &TestApp, sql: &'static str, seq: i64) {
    sqlx::query(sql)
        .bind(seq)
        .execute(&app.state.db.pool)
        .await
        .expect("tamper");
}

/// One number from the database.
async fn number(app: &TestApp, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&app.state.db.pool)
        .await
        .expect(sql);
    n
}

fn problem(report: &Value) -> (String, Value) {
    assert_eq!(report["intact"], false, "{report}");
    let p = &report["problem"];
    (
        p["kind"].as_str().expect("kind").to_string(),
        p["seq"].clone(),
    )
}

#[tokio::test]
async fn an_administrator_checks_the_audit_log_on_the_page_and_in_the_api_and_nobody_else_may() {
    let app = TestApp::spawn().await;
    let (_admin, client, token, coordinator) = setup(&app).await;

    // Entries from requests running side by side, through both ways of writing one: in the
    // request's transaction (the audit page) and through the group writer (the check's own
    // entry), all join one chain without a fork or a gap.
    let mut running = Vec::new();
    for i in 0..24 {
        let (client, base, token) = (client.clone(), app.base.clone(), token.clone());
        running.push(tokio::spawn(async move {
            let r = if i % 2 == 0 {
                client.get(format!("{base}/audit")).send().await
            } else {
                reqwest::Client::new()
                    .get(format!("{base}/api/v1/audit/integrity"))
                    .bearer_auth(&token)
                    .send()
                    .await
            };
            r.expect("request").status()
        }));
    }
    for r in running {
        assert_eq!(r.await.expect("task"), StatusCode::OK);
    }
    let anchored = audit_chain::anchor(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("anchor")
        .expect("new entries to anchor");

    let report = integrity(&app, &token).await;
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["problem"], Value::Null);
    assert_eq!(report["anchors"], 1);
    assert_eq!(report["anchored_up_to"], anchored);
    let rows = number(&app, "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log").await;
    // The report counts the chain as it was before the check's own entry.
    assert_eq!(report["entries"].as_i64(), Some(rows - 1));
    assert!(anchored >= 24 && anchored < rows, "{anchored} of {rows}");

    // The page says the same, in Dutch, and is linked from the audit log for administrators.
    assert!(
        app.html(&client, "/audit")
            .await
            .contains("href=\"/audit/integrity\"")
    );
    let page = app.html(&client, "/audit/integrity").await;
    assert!(page.contains("id=\"chain-intact\""), "{page}");
    assert!(page.contains("In orde"), "{page}");
    assert!(!page.contains("id=\"chain-broken\""));
    assert!(app.audit_count("verify", "audit_log").await >= 14);

    // A coordinator reviews their organisation's entries but not the whole log's chain.
    let coordinator_client = app.sign_in(&coordinator).await;
    assert!(
        !app.html(&coordinator_client, "/audit")
            .await
            .contains("/audit/integrity")
    );
    let r = app.get(&coordinator_client, "/audit/integrity").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let coordinator_token = app.api_token(&coordinator).await;
    let r = app
        .api(&coordinator_token, Method::GET, "/api/v1/audit/integrity")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = reqwest::Client::new()
        .get(app.url("/api/v1/audit/integrity"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_changed_a_removed_or_an_added_entry_is_found_and_named() {
    let app = TestApp::spawn().await;
    let (_admin, client, token, _) = setup(&app).await;
    for _ in 0..4 {
        app.html(&client, "/audit").await;
    }
    assert_eq!(integrity(&app, &token).await["intact"], true);

    // One field of entry 3 changed (where someone came from), then put back.
    let (ip,): (Option<String>,) = sqlx::query_as("SELECT ip FROM audit_log WHERE seq = 3")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("entry 3");
    exec(
        &app,
        "UPDATE audit_log SET ip = '203.0.113.9' WHERE seq = $1",
        3,
    )
    .await;
    let report = integrity(&app, &token).await;
    assert_eq!(problem(&report), ("altered".to_string(), Value::from(3)));
    let page = app.html(&client, "/audit/integrity").await;
    assert!(page.contains("id=\"chain-broken\""), "{page}");
    assert!(
        page.contains("<span id=\"chain-problem-seq\">3</span>"),
        "{page}"
    );
    assert!(page.contains("Een regel is gewijzigd."), "{page}");
    sqlx::query("UPDATE audit_log SET ip = $1 WHERE seq = 3")
        .bind(ip)
        .execute(&app.state.db.pool)
        .await
        .expect("put back");
    assert_eq!(integrity(&app, &token).await["intact"], true);

    // An entry removed from the middle.
    exec(&app, "DELETE FROM audit_log WHERE seq = $1", 2).await;
    assert_eq!(
        problem(&integrity(&app, &token).await),
        ("missing".to_string(), Value::from(2))
    );

    // On a second app: an entry added with SQL, outside the chain.
    let app = TestApp::spawn().await;
    let (_admin, _client, token, _) = setup(&app).await;
    assert_eq!(integrity(&app, &token).await["intact"], true);
    sqlx::query(
        "INSERT INTO audit_log (id, at, action, record_type, outcome) \
         VALUES ('forged', 0, 'read', 'trajectory', 'ok')",
    )
    .execute(&app.state.db.pool)
    .await
    .expect("forge");
    assert_eq!(
        problem(&integrity(&app, &token).await),
        ("outside-chain".to_string(), Value::Null)
    );
    // A restart does not adopt it: the chain had begun.
    let restarted = app.restart_with(|_| {}).await;
    assert_eq!(
        problem(&integrity(&restarted, &token).await).0,
        "outside-chain"
    );

    // The last two entries cut off, the head left as it was.
    sqlx::query("DELETE FROM audit_log WHERE id = 'forged'")
        .execute(&app.state.db.pool)
        .await
        .expect("unforge");
    assert_eq!(integrity(&app, &token).await["intact"], true);
    let last = number(&app, "SELECT MAX(seq) FROM audit_log").await;
    exec(&app, "DELETE FROM audit_log WHERE seq >= $1", last - 1).await;
    assert_eq!(
        problem(&integrity(&app, &token).await),
        ("missing".to_string(), Value::from(last - 1))
    );
    // And the head set back to match: then only an anchor or the server's log can tell
    // (see the next test).
}

/// Rewrites entry `from` (its reason) and every entry after it with valid chain hashes, and
/// the head: what someone who can write to the database but has no key can do.
async fn rewrite_chain_from(app: &TestApp, from: i64) {
    let mut c = app.conn().await;
    let mut prev = match from {
        1 => audit::GENESIS,
        _ => {
            let (h,): (String,) = sqlx::query_as("SELECT chain_hash FROM audit_log WHERE seq = $1")
                .bind(from - 1)
                .fetch_one(&mut *c)
                .await
                .expect("previous");
            unhex(&h).expect("hex")
        }
    };
    let mut rows = audit::chained_after(&mut c, from - 1, 100_000)
        .await
        .expect("rows");
    rows[0].reason = Some("niets aan de hand".into());
    for row in &rows {
        prev = chain_hash(&prev, row.seq, &row.fields());
        sqlx::query("UPDATE audit_log SET reason = $1, chain_hash = $2 WHERE seq = $3")
            .bind(&row.reason)
            .bind(hex(&prev))
            .bind(row.seq)
            .execute(&mut *c)
            .await
            .expect("rewrite");
    }
    sqlx::query("UPDATE audit_chain SET chain_hash = $1")
        .bind(hex(&prev))
        .execute(&mut *c)
        .await
        .expect("head");
}

#[tokio::test]
async fn a_consistent_rewrite_is_caught_by_the_signed_anchor_and_a_forged_anchor_too() {
    let app = TestApp::spawn().await;
    let (_admin, client, token, _) = setup(&app).await;
    for _ in 0..3 {
        app.html(&client, "/audit").await;
    }
    let key = &app.state.secret_key;
    let db = &app.state.db;
    let first = audit_chain::anchor(db, key, app.state.now())
        .await
        .expect("anchor")
        .expect("anchored");
    // Nothing new, nothing to anchor.
    assert_eq!(
        audit_chain::anchor(db, key, app.state.now())
            .await
            .expect("anchor"),
        None
    );
    app.html(&client, "/audit").await;
    app.html(&client, "/audit").await;

    // Entries after the last anchor can be rewritten consistently: the check cannot tell (the
    // window the anchors keep short) ...
    rewrite_chain_from(&app, first + 1).await;
    assert_eq!(integrity(&app, &token).await["intact"], true);
    // ... but an anchored entry cannot: the rewritten chain no longer ends in the anchor's
    // hash, and nobody without the key can sign a new anchor.
    rewrite_chain_from(&app, 2).await;
    assert_eq!(
        problem(&integrity(&app, &token).await),
        ("anchor-mismatch".to_string(), Value::from(first))
    );
    sqlx::query("UPDATE audit_anchors SET chain_hash = (SELECT chain_hash FROM audit_log WHERE seq = audit_anchors.seq)")
        .execute(&db.pool)
        .await
        .expect("move the anchor along");
    assert_eq!(
        problem(&integrity(&app, &token).await),
        ("anchor-forged".to_string(), Value::from(first))
    );
    // The worker will not sign a log whose last anchor is not its own.
    assert!(audit_chain::anchor(db, key, app.state.now()).await.is_err());

    // A server with another secret_key finds every earlier anchor foreign.
    let app = TestApp::spawn().await;
    let (_admin, client, token, _) = setup(&app).await;
    app.html(&client, "/audit").await;
    audit_chain::anchor(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("anchor")
        .expect("anchored");
    let other = app
        .restart_with(|c| {
            c.secret_key =
                duurloop::config::Secret::new(duurloop::secrets::new_key_text().expect("key"))
        })
        .await;
    assert_eq!(problem(&integrity(&other, &token).await).0, "anchor-forged");
}

#[tokio::test]
async fn entries_written_before_the_chain_join_it_at_the_next_start_and_the_worker_anchors() {
    let app = TestApp::spawn().await;
    let (_admin, client, token, _) = setup(&app).await;
    for _ in 0..3 {
        app.html(&client, "/audit").await;
    }
    // As the log was before migration 23: no places, no hashes, an empty head.
    let pool = &app.state.db.pool;
    sqlx::query("UPDATE audit_log SET seq = NULL, chain_hash = NULL")
        .execute(pool)
        .await
        .expect("unchain");
    sqlx::query(
        "UPDATE audit_chain SET seq = 0, chain_hash = '0000000000000000000000000000000000000000000000000000000000000000'",
    )
    .execute(pool)
    .await
    .expect("empty head");
    let rows = number(&app, "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log").await;

    let restarted = app.restart_with(|_| {}).await;
    let report = integrity(&restarted, &token).await;
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["entries"].as_i64(), Some(rows));
    // Oldest first: the first place went to the earliest entry.
    let first = number(&app, "SELECT at FROM audit_log WHERE seq = 1").await;
    let earliest = number(&app, "SELECT MIN(at) FROM audit_log").await;
    assert_eq!(first, earliest);

    // The worker signs the end of the chain on its own.
    let with_worker = TestApp::spawn_with_worker().await;
    let (_admin, client, token, _) = setup(&with_worker).await;
    with_worker.html(&client, "/audit").await;
    // The worker anchors at most once a minute; its first run, at the start, had nothing.
    with_worker
        .clock
        .advance_ms(audit_chain::ANCHOR_EVERY_MS + 1_000);
    let mut anchored = Value::Null;
    for _ in 0..100 {
        anchored = integrity(&with_worker, &token).await["anchored_up_to"].clone();
        if !anchored.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(anchored.as_i64().is_some_and(|s| s >= 1), "{anchored}");
}
