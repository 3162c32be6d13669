//! Purging what has expired (ASVS 8.1.2): old sessions, spent links and invitations and old
//! throttling records go; what can still be used stays and keeps working. And erasure after
//! the retention period (ASVS 8.3.8): twenty years after a referral was closed the worker
//! erases its participant's personal data, as a coordinator would on request.

use duurloop::{
    app::{
        purge::{self, Purged},
        retention,
    },
    cli::demo,
    clock,
    config::Secret,
    store::users,
};
use duurloop_domain::Role;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    authz::trajectory_for,
    helpers::{TestApp, TestUser, link_in},
};

/// Rows in a table (the purge tests count what is left).
async fn rows(app: &TestApp, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"
    )))
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    n
}

/// A participant (jan@example.nl) in an active trajectory, and an organisation.
async fn participant(app: &TestApp) -> String {
    let crate::authz::Practice {
        org,
        therapist,
        referrer,
        offering,
    } = crate::authz::medi_stad(app).await;
    trajectory_for(app, &offering, &referrer, &therapist).await;
    org
}

/// Signs a browser into the portal through a mailed link (the link is used up).
async fn portal_session(app: &TestApp) -> Client {
    let browser = app.browser();
    app.post_form(&browser, "/portal/login", &[("email", "jan@example.nl")])
        .await;
    let mail = app.last_mail_to("jan@example.nl").await.expect("link sent");
    let link = link_in(&mail.body_text, &app.base);
    let r = app.post_form(&browser, &link, &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the link opens the portal"
    );
    browser
}

/// One of each: a staff session, a portal session from a used link, a password-reset link,
/// an invitation that expires in an hour, a failed login. Returns the two browsers.
async fn one_of_each(app: &TestApp, staff: &TestUser, org: &str) -> (Client, Client) {
    let session = app.session_for(staff).await;
    let portal = portal_session(app).await;
    app.post_form(
        &app.browser(),
        "/password/forgot",
        &[("email", &staff.email)],
    )
    .await;
    let now = app.state.now();
    users::insert_invitation(
        &mut *app.conn().await,
        users::NewInvitation {
            token: &duurloop::store::new_token(),
            email: "nieuw@medi-stad.example",
            org_id: org,
            role: Role::Referrer,
            invited_by: &staff.id,
            now,
            expires_at: now + 3_600_000,
        },
    )
    .await
    .expect("invitation");
    let r = app
        .post_form(
            &app.browser(),
            "/login",
            &[("email", &staff.email), ("password", "niet het wachtwoord")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a failed login");
    (session, portal)
}

#[tokio::test]
async fn expired_sessions_spent_links_and_old_login_failures_are_purged_and_fresh_ones_stay() {
    let app = TestApp::spawn().await;
    let org = participant(&app).await;
    let staff = app
        .user("secretariaat@medi-stad.example", false, &[], false)
        .await;
    let (old_session, old_portal) = one_of_each(&app, &staff, &org).await;
    app.clock.advance_ms(26 * 3_600_000);
    let (fresh_session, fresh_portal) = one_of_each(&app, &staff, &org).await;

    let purged = purge::expired(&app.state).await.expect("purge");

    assert_eq!(
        purged,
        Purged {
            sessions: 1,
            portal_sessions: 1,
            portal_links: 1,
            password_resets: 1,
            invitations: 1,
            login_failures: 1,
            mail_requests: 2,
            sent_mails: 0,
            failed_mails: 0,
        },
        "yesterday's session, portal session, used link, reset link, invitation, failed \
         login and both link requests"
    );
    for table in [
        "sessions",
        "portal_sessions",
        "portal_links",
        "password_resets",
        "invitations",
        "login_failures",
    ] {
        assert_eq!(rows(&app, table).await, 1, "today's row in {table} stays");
    }
    assert_eq!(rows(&app, "mail_requests").await, 2);
    assert_eq!(
        app.get(&fresh_session, "/account").await.status(),
        StatusCode::OK,
        "a fresh session still works"
    );
    assert_eq!(
        app.get(&fresh_portal, "/portal").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&old_session, "/account").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get(&old_portal, "/portal").await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(
        app.audit_count("login", "session").await >= 2,
        "audit entries are never purged"
    );
}

#[tokio::test]
async fn the_worker_purges_at_most_once_an_hour() {
    let app = TestApp::spawn().await;
    let staff = app
        .user("secretariaat@medi-stad.example", false, &[], false)
        .await;
    let mut last = None;
    purge::when_due(&app.state, &mut last).await;
    assert!(last.is_some(), "the first run purges at once");

    app.session_for(&staff).await;
    app.clock.advance_ms(59 * 60_000);
    purge::when_due(&app.state, &mut last).await;
    assert_eq!(rows(&app, "sessions").await, 1, "not again within the hour");

    app.clock.advance_ms(60_000);
    purge::when_due(&app.state, &mut last).await;
    assert_eq!(
        rows(&app, "sessions").await,
        0,
        "an hour later the idle session goes"
    );
}

/// An actor for calling the domain directly as this user.
async fn actor(app: &TestApp, u: &TestUser) -> duurloop::app::Actor {
    let identity =
        duurloop::app::auth::identity(&app.state, &u.id, duurloop::app::AuthVia::ApiToken)
            .await
            .expect("identity")
            .expect("exists");
    duurloop::app::Actor {
        identity,
        ctx: Default::default(),
    }
}

/// A new referral to `offering` that the therapist turns down at once (closed now).
async fn turned_down(
    app: &TestApp,
    offering: &str,
    referrer: &TestUser,
    therapist: &TestUser,
) -> String {
    let id = crate::authz::referral_to(app, offering, referrer).await;
    let decision = duurloop::app::referrals::DecisionInput {
        decision: "not_suitable".into(),
        reason: "Past beter bij de fysiotherapeut".into(),
        start_level: String::new(),
    };
    duurloop::app::referrals::decide(&app.state, &actor(app, therapist).await, &id, &decision)
        .await
        .expect("not suitable");
    id
}

/// The referral as the API shows it to this user (a fresh token: old ones expire).
async fn api_referral(app: &TestApp, u: &TestUser, id: &str) -> Value {
    let token = app.api_token(u).await;
    app.get_json(&token, &format!("/api/v1/referrals/{id}"))
        .await
}

/// Name, e-mail, phone and whether erased, straight from the table.
async fn contact(app: &TestApp, id: &str) -> (String, String, String, bool) {
    let (name, email, phone, erased): (String, String, String, Option<i64>) = sqlx::query_as(
        "SELECT client_name, client_email, client_phone, erased_at FROM referrals WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("referral");
    (name, email, phone, erased.is_some())
}

async fn impact(app: &TestApp, u: &TestUser, query: &str) -> Value {
    let token = app.api_token(u).await;
    let v = app
        .get_json(&token, &format!("/api/v1/reports/impact?{query}"))
        .await;
    json!({ "rows": v["rows"], "total": v["total"], "suppressed": v["suppressed"] })
}

const YEAR_MS: i64 = 365 * 86_400_000;

#[tokio::test]
async fn closed_referrals_are_erased_twenty_years_after_closing_and_the_numbers_stay() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let coord = app.demo_user("praktijkmanager@medi-stad.example").await;
    let poh = app.demo_user("poh@medi-stad.example").await;
    let gp = app.demo_user("huisarts@medi-stad.example").await;
    let funder = app.demo_user("zorginkoop@zuiderzee.example").await;
    let (trajectory, old, offering): (String, String, String) = sqlx::query_as(
        "SELECT t.id, r.id, r.offering_id FROM trajectories t \
         JOIN referrals r ON r.id = t.referral_id WHERE r.client_name = 'Anouk Smit'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("Anouk");

    // Anouk completes her trajectory today.
    let r = app
        .api(
            &app.api_token(&poh).await,
            Method::POST,
            &format!("/api/v1/trajectories/{trajectory}/status"),
        )
        .json(&json!({ "action": "complete" }))
        .send()
        .await
        .expect("req");
    assert!(r.status().is_success(), "{}", r.status());
    let also_old = [
        turned_down(&app, &offering, &gp, &poh).await,
        turned_down(&app, &offering, &gp, &poh).await,
    ];

    // Page and API say when her data goes: twenty years after the completion, in Amsterdam.
    let v = api_referral(&app, &coord, &old).await;
    let closed_at = v["timeline"]
        .as_array()
        .and_then(|t| t.iter().rev().find(|e| e["to_status"] == "completed"))
        .and_then(|e| e["at"].as_i64())
        .expect("completed in the timeline");
    let erase_after = v["erase_after"]
        .as_i64()
        .expect("erase_after for a closed referral");
    assert_eq!(Some(erase_after), clock::years_after(closed_at, 20));
    let date = clock::format_local_date(erase_after);
    let html = app
        .html(&app.session_for(&coord).await, &format!("/referrals/{old}"))
        .await;
    assert!(
        html.contains("id=\"erase-after\"") && html.contains(&format!("na {date} worden")),
        "{html}"
    );
    // A referral whose trajectory runs has no date: it is never erased while it runs.
    let (running,): (String,) = sqlx::query_as(
        "SELECT r.id FROM referrals r JOIN trajectories t ON t.referral_id = r.id \
         WHERE t.status = 'active' AND r.status = 'started' ORDER BY r.id LIMIT 1",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("a running trajectory in the demo");
    assert!(
        api_referral(&app, &coord, &running).await["erase_after"].is_null(),
        "no date while the trajectory runs"
    );
    assert!(
        !app.html(
            &app.session_for(&coord).await,
            &format!("/referrals/{running}")
        )
        .await
        .contains("erase-after")
    );
    // Closed, or open and not started without a running trajectory, when the demo ran:
    // counted, so the number erased below is known.
    let (closed_now,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM referrals \
         WHERE status IN ('not_suitable', 'completed', 'dropped_out', 'follow_up_done')",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("closed");
    let (not_started_now,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM referrals r WHERE r.status IN \
         ('sent', 'received', 'invited', 'intake_planned', 'accepted', 'waitlisted') \
         AND NOT EXISTS (SELECT 1 FROM trajectories t WHERE t.referral_id = r.id \
         AND t.status = 'active')",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("not started");

    // Ten years on, another referral is turned down; another ten years and a day later,
    // Anouk's period (and that of everything closed today) has passed, the new one's not.
    app.clock.advance_ms(10 * YEAR_MS);
    let recent = turned_down(&app, &offering, &gp, &poh).await;
    let open = crate::authz::referral_to(&app, &offering, &gp).await;
    app.clock.advance_ms(10 * YEAR_MS + 8 * 86_400_000);
    let org = crate::reports::user_org(&app, "praktijkmanager@medi-stad.example").await;
    let insurer = crate::reports::user_org(&app, "zorginkoop@zuiderzee.example").await;
    let coord_report = impact(&app, &coord, &format!("org={org}&by=offering")).await;
    let funder_report = impact(&app, &funder, &format!("org={insurer}")).await;
    let scores = "SELECT CAST(COUNT(*) AS BIGINT) FROM measurement_scores WHERE trajectory_id = $1";
    let count_scores = || async {
        let (n,): (i64,) = sqlx::query_as(scores)
            .bind(&trajectory)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("scores");
        n
    };
    let scores_before = count_scores().await;
    let count_messages = || async {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM messages WHERE trajectory_id = $1",
        )
        .bind(&trajectory)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("messages");
        n
    };
    assert!(count_messages().await > 0, "the demo has her messages");

    // In batches of two, so that paging through them is tested too.
    let erased = retention::erase_expired_in_batches(&app.state, 2)
        .await
        .expect("retention");

    assert!(closed_now > 2, "more than one batch: {closed_now}");
    assert_eq!(
        erased,
        (closed_now + not_started_now).unsigned_abs(),
        "everything closed twenty years ago, and the demo's open referrals not started"
    );
    assert_eq!(
        contact(&app, &old).await,
        (
            "Gewiste deelnemer".into(),
            String::new(),
            String::new(),
            true
        )
    );
    for id in &also_old {
        assert!(contact(&app, id).await.3, "turned down twenty years ago");
    }
    assert!(
        !contact(&app, &recent).await.3,
        "closed ten years ago: kept"
    );
    assert_eq!(contact(&app, &recent).await.0, "Jan Jansen");
    assert_eq!(
        contact(&app, &open).await,
        (
            "Jan Jansen".into(),
            "jan@example.nl".into(),
            String::new(),
            false
        ),
        "open and changed ten years ago: kept"
    );
    assert!(
        !contact(&app, &running).await.3,
        "a running trajectory stays"
    );
    let (reason, role, user): (Option<String>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT reason, actor_role, actor_user_id FROM audit_log \
         WHERE action = 'erase' AND record_type = 'referral' AND record_id = $1",
    )
    .bind(&old)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("one erase entry");
    assert_eq!(reason.as_deref(), Some("bewaartermijn verlopen (20 jaar)"));
    assert_eq!((role.as_deref(), user), (Some("system"), None));
    assert_eq!(count_scores().await, scores_before, "the scores stay");
    assert_eq!(count_messages().await, 0, "her messages go");
    assert_eq!(
        impact(&app, &coord, &format!("org={org}&by=offering")).await,
        coord_report
    );
    assert_eq!(
        impact(&app, &funder, &format!("org={insurer}")).await,
        funder_report
    );

    // The page says it was erased and no longer when it will be; the API agrees.
    let html = app
        .html(&app.session_for(&coord).await, &format!("/referrals/{old}"))
        .await;
    assert!(
        html.contains("Gegevens gewist op") && !html.contains("Anouk"),
        "{html}"
    );
    assert!(!html.contains("erase-after"));
    let v = api_referral(&app, &coord, &old).await;
    assert!(
        v["erase_after"].is_null() && v["referral"]["erased_at"].is_i64(),
        "{v}"
    );
    let v = api_referral(&app, &gp, &recent).await;
    let later = v["erase_after"]
        .as_i64()
        .expect("the recent one still has a date");
    assert!(later > app.state.now());

    // Twice is harmless: nothing more is erased or logged.
    assert_eq!(
        retention::erase_expired(&app.state).await.expect("again"),
        0
    );
    assert_eq!(app.audit_count_of("erase", "referral", &old).await, 1);
    assert_eq!(
        impact(&app, &coord, &format!("org={org}&by=offering")).await,
        coord_report
    );

    // The OpenAPI document describes the field.
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    let field = &doc["components"]["schemas"]["ReferralOut"]["properties"]["erase_after"];
    assert!(
        field["description"]
            .as_str()
            .is_some_and(|d| d.contains("erased automatically")),
        "{field}"
    );

    // In English too.
    let browser = app.session_for(&gp).await;
    app.get(&browser, "/lang/en").await;
    let html = app.html(&browser, &format!("/referrals/{recent}")).await;
    let date = clock::format_local_date(later);
    assert!(
        html.contains(&format!("after {date} this participant")),
        "{html}"
    );
}

#[tokio::test]
async fn the_worker_erases_at_most_once_a_day() {
    let app = TestApp::spawn().await;
    let crate::authz::Practice {
        therapist,
        referrer,
        offering,
        ..
    } = crate::authz::medi_stad(&app).await;
    let id = turned_down(&app, &offering, &referrer, &therapist).await;
    let closed_at = app.state.now();
    let due = clock::years_after(closed_at, 20).expect("in range");
    app.clock.advance_ms(due - closed_at - 12 * 3_600_000);

    let mut last = None;
    retention::when_due(&app.state, &mut last).await;
    assert!(last.is_some(), "the first run looks at once");
    assert!(
        !contact(&app, &id).await.3,
        "half a day before the end of the period: kept"
    );

    app.clock.advance_ms(13 * 3_600_000);
    retention::when_due(&app.state, &mut last).await;
    assert!(
        !contact(&app, &id).await.3,
        "due now, but not looked at again within the day"
    );

    app.clock.advance_ms(11 * 3_600_000);
    retention::when_due(&app.state, &mut last).await;
    assert!(
        contact(&app, &id).await.3,
        "a day after the last run it is erased"
    );
    assert_eq!(app.audit_count_of("erase", "referral", &id).await, 1);
}

/// The `.eml` files the worker wrote (no SMTP in tests).
fn eml_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.dir.path().join("outbox"))
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0)
}

#[tokio::test]
async fn sent_mails_leave_the_outbox_after_ninety_days_and_their_files_stay() {
    let app = TestApp::spawn().await;
    let staff = app
        .user("secretariaat@medi-stad.example", false, &[], false)
        .await;
    let forgot = || async {
        app.post_form(
            &app.browser(),
            "/password/forgot",
            &[("email", &staff.email)],
        )
        .await;
    };
    forgot().await;
    assert_eq!(app.deliver_mail().await, 1, "the first mail is sent");
    app.clock.advance_ms(89 * 86_400_000);
    forgot().await;
    assert_eq!(app.deliver_mail().await, 1);
    app.clock.advance_ms(2 * 86_400_000);
    forgot().await;
    assert_eq!(
        rows(&app, "outbox").await,
        3,
        "the third one is still queued"
    );

    let purged = purge::expired(&app.state).await.expect("purge");

    assert_eq!(purged.sent_mails, 1, "only the mail sent 91 days ago");
    assert_eq!(
        rows(&app, "outbox").await,
        2,
        "sent 2 days ago, and the queued one"
    );
    assert_eq!(
        app.deliver_mail().await,
        1,
        "the queued one is still delivered"
    );
    assert_eq!(
        eml_files(&app),
        3,
        "the .eml files are the operator's and stay"
    );
    assert_eq!(
        purge::expired(&app.state).await.expect("again").sent_mails,
        0
    );
}

/// A mail the outbox gave up on (its SMTP server never answered) stays for the administrator
/// to look into, and leaves the outbox ninety days after it failed, like a sent one.
#[tokio::test]
async fn mails_given_up_on_leave_the_outbox_ninety_days_after_they_failed() {
    // A port nobody listens on: every attempt is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let app =
        TestApp::spawn_with(|c| c.smtp_url = Secret::new(format!("smtp://127.0.0.1:{port}"))).await;
    let staff = app
        .user("secretariaat@medi-stad.example", false, &[], false)
        .await;
    app.post_form(
        &app.browser(),
        "/password/forgot",
        &[("email", &staff.email)],
    )
    .await;
    let failed_at = || async {
        let (at,): (Option<i64>,) = sqlx::query_as("SELECT failed_at FROM outbox")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("the mail");
        at
    };
    // Every attempt fails; the waits between them grow, all within an hour.
    for _ in 0..10 {
        assert_eq!(app.deliver_mail().await, 0);
        app.clock.advance_ms(3_600_000);
    }
    let gave_up = failed_at().await.expect("given up after the last attempt");

    let now = app.state.now();
    app.clock
        .advance_ms(gave_up + purge::SENT_MAIL_KEEP_MS - 60_000 - now);
    let purged = purge::expired(&app.state).await.expect("purge");
    assert_eq!(purged.failed_mails, 0, "kept for ninety days");
    assert_eq!(rows(&app, "outbox").await, 1);
    app.clock.advance_ms(120_000);
    let purged = purge::expired(&app.state).await.expect("purge");
    assert_eq!((purged.failed_mails, purged.sent_mails), (1, 0));
    assert_eq!(rows(&app, "outbox").await, 0);
}

#[tokio::test]
async fn referrals_that_never_close_are_erased_twenty_years_after_their_last_change() {
    let app = TestApp::spawn().await;
    let crate::authz::Practice {
        therapist,
        referrer,
        offering,
        ..
    } = crate::authz::medi_stad(&app).await;
    // Sent and never answered; another one sent two years later; one whose trajectory runs.
    let old = crate::authz::referral_to(&app, &offering, &referrer).await;
    let running = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let (running,): (String,) =
        sqlx::query_as("SELECT referral_id FROM trajectories WHERE id = $1")
            .bind(&running)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("its referral");
    app.clock.advance_ms(2 * YEAR_MS);
    let younger = crate::authz::referral_to(&app, &offering, &referrer).await;

    // The page and the API say when: twenty years after the last change, if nothing changes.
    let v = api_referral(&app, &referrer, &old).await;
    let erase_after = v["erase_after"]
        .as_i64()
        .expect("a date for an open referral");
    let sent_at = v["timeline"]
        .as_array()
        .and_then(|t| t.iter().filter_map(|e| e["at"].as_i64()).max())
        .expect("sent in the timeline")
        .max(v["referral"]["updated_at"].as_i64().expect("updated_at"));
    assert_eq!(Some(erase_after), clock::years_after(sent_at, 20));
    let html = app
        .html(
            &app.session_for(&referrer).await,
            &format!("/referrals/{old}"),
        )
        .await;
    let date = clock::format_local_date(erase_after);
    assert!(
        html.contains("id=\"erase-after\"")
            && html.contains("nog niet afgesloten")
            && html.contains(&format!("na {date} de persoonsgegevens")),
        "{html}"
    );
    assert!(
        api_referral(&app, &referrer, &running).await["erase_after"].is_null(),
        "no date while the trajectory runs"
    );
    let events = |id: String| {
        let app = &app;
        async move {
            let (n, status): (i64, String) = sqlx::query_as(
                "SELECT CAST((SELECT COUNT(*) FROM referral_events e WHERE e.referral_id = r.id) \
                 AS BIGINT), r.status FROM referrals r WHERE r.id = $1",
            )
            .bind(&id)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("referral");
            (n, status)
        }
    };
    let numbers_before = events(old.clone()).await;

    // Twenty-one years after the first was sent, nineteen after the second.
    app.clock.advance_ms(19 * YEAR_MS + 8 * 86_400_000);
    let erased = retention::erase_expired(&app.state)
        .await
        .expect("retention");

    assert_eq!(erased, 1, "only the one last changed 21 years ago");
    assert_eq!(
        contact(&app, &old).await,
        (
            "Gewiste deelnemer".into(),
            String::new(),
            String::new(),
            true
        )
    );
    assert_eq!(
        events(old.clone()).await,
        numbers_before,
        "its status and timeline stay for the numbers"
    );
    assert!(
        !contact(&app, &younger).await.3,
        "changed 19 years ago: kept"
    );
    assert!(
        !contact(&app, &running).await.3,
        "a running trajectory is never erased"
    );
    let (reason, role): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT reason, actor_role FROM audit_log \
         WHERE action = 'erase' AND record_type = 'referral' AND record_id = $1",
    )
    .bind(&old)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("one erase entry");
    assert_eq!(reason, Some(retention::reason_unchanged(20)));
    assert_eq!(role.as_deref(), Some("system"));
    assert!(reason.is_some_and(|r| r.contains("nooit afgesloten")));
    assert!(
        api_referral(&app, &referrer, &old).await["erase_after"].is_null(),
        "no date once erased"
    );

    // Running again erases nothing more; the younger one goes two years later.
    assert_eq!(
        retention::erase_expired(&app.state).await.expect("again"),
        0
    );
    app.clock.advance_ms(2 * YEAR_MS);
    assert_eq!(
        retention::erase_expired(&app.state).await.expect("later"),
        1
    );
    assert!(contact(&app, &younger).await.3);
    assert!(!contact(&app, &running).await.3);
}
