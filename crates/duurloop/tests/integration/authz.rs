//! Every route, every role: the table below says who may use each route. The test walks the
//! routes the app actually serves, so a new route without an entry here fails it.

use duurloop_domain::{OrgKind, Role};
use reqwest::{Client, Method, StatusCode};

use crate::helpers::{CSRF, TestApp, TestUser, location};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// Anyone, signed in or not.
    Anyone,
    /// Only a session that is between password and code: nobody in this matrix.
    CodeStep,
    /// Any signed-in person.
    SignedIn,
    /// The instance administrator.
    Admin,
    /// A coordinator of the organisation in the path, or the administrator.
    OrgCoordinator,
    /// A coordinator of any organisation, or the administrator.
    AnyCoordinator,
}

/// (method, route pattern, who, request path with `{org}`, body: form fields or JSON).
const TABLE: &[(&str, &str, Who, &str, &str)] = &[
    ("GET", "/", Who::Anyone, "/", ""),
    ("GET", "/lang/{code}", Who::Anyone, "/lang/en", ""),
    ("GET", "/healthz", Who::Anyone, "/healthz", ""),
    ("GET", "/metrics", Who::Anyone, "/metrics", ""),
    ("GET", "/static/{*path}", Who::Anyone, "/static/app.css", ""),
    ("GET", "/login", Who::Anyone, "/login", ""),
    (
        "POST",
        "/login",
        Who::Anyone,
        "/login",
        "email=x%40y.nl&password=geen",
    ),
    ("GET", "/login/totp", Who::CodeStep, "/login/totp", ""),
    (
        "POST",
        "/login/totp",
        Who::CodeStep,
        "/login/totp",
        "code=123456",
    ),
    ("POST", "/logout", Who::Anyone, "/logout", ""),
    ("GET", "/account/totp", Who::SignedIn, "/account/totp", ""),
    (
        "POST",
        "/account/totp",
        Who::SignedIn,
        "/account/totp",
        "code=1",
    ),
    (
        "GET",
        "/password/forgot",
        Who::Anyone,
        "/password/forgot",
        "",
    ),
    (
        "POST",
        "/password/forgot",
        Who::Anyone,
        "/password/forgot",
        "email=niemand%40y.nl",
    ),
    (
        "GET",
        "/password/reset/{token}",
        Who::Anyone,
        "/password/reset/onbekend",
        "",
    ),
    (
        "POST",
        "/password/reset/{token}",
        Who::Anyone,
        "/password/reset/onbekend",
        "password=x&confirm=x",
    ),
    (
        "GET",
        "/invite/{token}",
        Who::Anyone,
        "/invite/onbekend",
        "",
    ),
    (
        "POST",
        "/invite/{token}",
        Who::Anyone,
        "/invite/onbekend",
        "name=x",
    ),
    ("GET", "/account", Who::SignedIn, "/account", ""),
    (
        "POST",
        "/account/tokens",
        Who::SignedIn,
        "/account/tokens",
        "name=",
    ),
    (
        "POST",
        "/account/tokens/{id}/revoke",
        Who::SignedIn,
        "/account/tokens/onbekend/revoke",
        "",
    ),
    (
        "GET",
        "/admin/organisations",
        Who::Admin,
        "/admin/organisations",
        "",
    ),
    (
        "POST",
        "/admin/organisations",
        Who::Admin,
        "/admin/organisations",
        "name=&kind=",
    ),
    (
        "GET",
        "/organisations/{id}",
        Who::OrgCoordinator,
        "/organisations/{org}",
        "",
    ),
    (
        "POST",
        "/organisations/{id}/invitations",
        Who::OrgCoordinator,
        "/organisations/{org}/invitations",
        "email=&role=",
    ),
    (
        "POST",
        "/organisations/{id}/members/{user_id}/role",
        Who::OrgCoordinator,
        "/organisations/{org}/members/onbekend/role",
        "role=",
    ),
    (
        "POST",
        "/organisations/{id}/members/{user_id}/remove",
        Who::OrgCoordinator,
        "/organisations/{org}/members/onbekend/remove",
        "",
    ),
    ("GET", "/admin/outbox", Who::Admin, "/admin/outbox", ""),
    (
        "GET",
        "/admin/outbox/{id}",
        Who::Admin,
        "/admin/outbox/onbekend",
        "",
    ),
    ("GET", "/audit", Who::AnyCoordinator, "/audit", ""),
    (
        "GET",
        "/api/openapi.json",
        Who::Anyone,
        "/api/openapi.json",
        "",
    ),
    ("GET", "/api/docs", Who::Anyone, "/api/docs/", ""),
    (
        "GET",
        "/api/docs/{*rest}",
        Who::Anyone,
        "/api/docs/index.html",
        "",
    ),
    ("GET", "/api/v1/me", Who::SignedIn, "/api/v1/me", ""),
    ("GET", "/api/v1/tokens", Who::SignedIn, "/api/v1/tokens", ""),
    (
        "DELETE",
        "/api/v1/tokens/{id}",
        Who::SignedIn,
        "/api/v1/tokens/onbekend",
        "",
    ),
    ("GET", "/api/v1/outbox", Who::Admin, "/api/v1/outbox", ""),
    (
        "GET",
        "/api/v1/audit",
        Who::OrgCoordinator,
        "/api/v1/audit?org={org}",
        "",
    ),
    (
        "GET",
        "/api/v1/organisations",
        Who::SignedIn,
        "/api/v1/organisations",
        "",
    ),
    (
        "POST",
        "/api/v1/organisations",
        Who::Admin,
        "/api/v1/organisations",
        r#"{"name":"","kind":""}"#,
    ),
    (
        "GET",
        "/api/v1/organisations/{id}/members",
        Who::OrgCoordinator,
        "/api/v1/organisations/{org}/members",
        "",
    ),
    (
        "POST",
        "/api/v1/organisations/{id}/invitations",
        Who::OrgCoordinator,
        "/api/v1/organisations/{org}/invitations",
        r#"{"email":"","role":""}"#,
    ),
    (
        "PUT",
        "/api/v1/organisations/{id}/members/{user_id}",
        Who::OrgCoordinator,
        "/api/v1/organisations/{org}/members/onbekend",
        r#"{"role":""}"#,
    ),
    (
        "DELETE",
        "/api/v1/organisations/{id}/members/{user_id}",
        Who::OrgCoordinator,
        "/api/v1/organisations/{org}/members/onbekend",
        "",
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Participant,
    Funder,
    Referrer,
    Therapist,
    OtherCoordinator,
    Coordinator,
    Admin,
}

fn allowed(who: Who, actor: Actor) -> bool {
    match who {
        Who::Anyone => true,
        Who::CodeStep => false,
        Who::SignedIn => actor != Actor::Anonymous,
        Who::Admin => actor == Actor::Admin,
        Who::OrgCoordinator => matches!(actor, Actor::Coordinator | Actor::Admin),
        Who::AnyCoordinator => matches!(
            actor,
            Actor::Coordinator | Actor::OtherCoordinator | Actor::Admin
        ),
    }
}

#[tokio::test]
async fn every_route_allows_exactly_the_roles_in_the_table() {
    let app = TestApp::spawn().await;
    for r in &app.routes {
        assert!(
            TABLE
                .iter()
                .any(|(m, p, ..)| *m == r.method && *p == r.path),
            "route {} {} has no entry in the authorisation table",
            r.method,
            r.path
        );
    }
    for (m, p, ..) in TABLE {
        assert!(
            app.routes.iter().any(|r| r.method == *m && r.path == *p),
            "table entry {m} {p} is not a route"
        );
    }
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let other = app.org("Elders", OrgKind::GpPractice).await;
    let mut users: Vec<(Actor, Option<TestUser>)> = vec![(Actor::Anonymous, None)];
    for (actor, email, admin, membership) in [
        (
            Actor::Participant,
            "deelnemer@x.example",
            false,
            Some((org.as_str(), Role::Participant)),
        ),
        (
            Actor::Funder,
            "financier@x.example",
            false,
            Some((org.as_str(), Role::Funder)),
        ),
        (
            Actor::Referrer,
            "verwijzer@x.example",
            false,
            Some((org.as_str(), Role::Referrer)),
        ),
        (
            Actor::Therapist,
            "therapeut@x.example",
            false,
            Some((org.as_str(), Role::Therapist)),
        ),
        (
            Actor::OtherCoordinator,
            "coord@elders.example",
            false,
            Some((other.as_str(), Role::Coordinator)),
        ),
        (
            Actor::Coordinator,
            "coord@x.example",
            false,
            Some((org.as_str(), Role::Coordinator)),
        ),
        (Actor::Admin, "beheer@x.example", true, None),
    ] {
        let ms: Vec<(&str, Role)> = membership.into_iter().collect();
        users.push((actor, Some(app.user(email, admin, &ms, true).await)));
    }
    let mut failures = Vec::new();
    for (method, pattern, who, path, body) in TABLE {
        let path = path.replace("{org}", &org);
        let is_api = path.starts_with("/api/");
        for (actor, user) in &users {
            let status_and_location = if is_api {
                let client = Client::new();
                let mut req = client.request(
                    Method::from_bytes(method.as_bytes()).expect("method"),
                    app.url(&path),
                );
                if let Some(u) = user {
                    req = req.bearer_auth(app.api_token(u).await);
                }
                if !body.is_empty() {
                    req = req
                        .header("content-type", "application/json")
                        .body(body.to_string());
                }
                let r = req.send().await.expect("request");
                (r.status(), location(&r))
            } else {
                let client = match user {
                    Some(u) => app.session_for(u).await,
                    None => app.browser(),
                };
                let mut req = client.request(
                    Method::from_bytes(method.as_bytes()).expect("method"),
                    app.url(&path),
                );
                if *method != "GET" {
                    let form = if body.is_empty() {
                        format!("csrf_token={CSRF}")
                    } else {
                        format!("csrf_token={CSRF}&{body}")
                    };
                    req = req
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(form);
                }
                let r = req.send().await.expect("request");
                (r.status(), location(&r))
            };
            let (status, loc) = status_and_location;
            let sent_to_login = status == StatusCode::SEE_OTHER
                && loc.starts_with("/login")
                && *pattern != "/logout";
            let denied = status == StatusCode::UNAUTHORIZED && *pattern != "/login"
                || status == StatusCode::FORBIDDEN
                || sent_to_login;
            let expect_allowed = allowed(*who, *actor);
            if expect_allowed == denied || status.is_server_error() {
                failures.push(format!(
                    "{method} {pattern} as {actor:?}: got {status} {loc}, expected {}",
                    if expect_allowed { "allowed" } else { "denied" }
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorisation mismatches:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.user("beheer@x.example", true, &[], true).await;
    let client = app.session_for(&admin).await;
    let r = client
        .post(app.url("/admin/organisations"))
        .form(&[("name", "Zonder token"), ("kind", "employer")])
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = client
        .post(app.url("/admin/organisations"))
        .form(&[
            ("csrf_token", "verkeerd-verkeerd-verkeerd-verkeerd"),
            ("name", "Fout token"),
            ("kind", "employer"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM organisations")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_coordinator_reviews_the_audit_log_of_their_own_organisation_and_that_is_logged_too() {
    let app = TestApp::spawn().await;
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let other = app.org("Elders", OrgKind::GpPractice).await;
    let coord = app
        .user("coord@x.example", false, &[(&org, Role::Coordinator)], true)
        .await;
    let member = app
        .user("poh@x.example", false, &[(&org, Role::Therapist)], true)
        .await;
    let client = app.session_for(&coord).await;
    app.post_form(
        &client,
        &format!("/organisations/{org}/members/{}/role", member.id),
        &[("role", "referrer")],
    )
    .await;
    let html = app
        .get(&client, &format!("/audit?person={}", member.id))
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("update"), "{html}");
    assert!(html.contains("membership"));
    let r = app.get(&client, &format!("/audit?org={other}")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.get(&client, "/audit?from=gisteren").await;
    assert!(r.text().await.expect("body").contains("jjjj-mm-dd"));
    assert!(app.audit_count("read", "audit_log").await >= 1);
    let token = app.api_token(&coord).await;
    let rows: serde_json::Value = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/audit?org={org}&record=membership"),
        )
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert!(
        rows.as_array()
            .expect("array")
            .iter()
            .all(|r| r["record_type"] == "membership")
    );
    assert!(!rows.as_array().expect("array").is_empty());
}
