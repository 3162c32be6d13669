//! Purging what has expired (ASVS 8.1.2): old sessions, spent links and invitations and old
//! throttling records go; what can still be used stays and keeps working.

use duurloop::{
    app::purge::{self, Purged},
    store::users,
};
use duurloop_domain::Role;
use reqwest::{Client, StatusCode};

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
