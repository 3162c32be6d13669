//! The JSON API with personal tokens, its errors and its OpenAPI document.

use duurloop_domain::{OrgKind, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn the_api_does_what_the_pages_do_for_organisations_and_members() {
    let app = TestApp::spawn().await;
    let admin = app.user("beheer@duurloop.example", true, &[], true).await;
    let token = app.api_token(&admin).await;
    let r = app
        .api(&token, Method::POST, "/api/v1/organisations")
        .json(&json!({"name": "Gemeente Noordwijk", "kind": "municipality"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    let org: Value = r.json().await.expect("json");
    let org_id = org["id"].as_str().expect("id").to_string();
    let r = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/organisations/{org_id}/invitations"),
        )
        .json(&json!({"email": "femke@noordwijk.example", "role": "funder"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    let member = app
        .user(
            "joost@noordwijk.example",
            false,
            &[(&org_id, Role::Funder)],
            false,
        )
        .await;
    let r = app
        .api(
            &token,
            Method::PUT,
            &format!("/api/v1/organisations/{org_id}/members/{}", member.id),
        )
        .json(&json!({"role": "coordinator"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let members: Value = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/organisations/{org_id}/members"),
        )
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(members[0]["role"], "coordinator");
    let r = app
        .api(
            &token,
            Method::DELETE,
            &format!("/api/v1/organisations/{org_id}/members/{}", member.id),
        )
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let outbox: Value = app
        .api(&token, Method::GET, "/api/v1/outbox")
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(outbox[0]["to_addr"], "femke@noordwijk.example");
}

#[tokio::test]
async fn api_errors_have_the_json_error_body_in_the_callers_language() {
    let app = TestApp::spawn().await;
    let admin = app.user("beheer@duurloop.example", true, &[], true).await;
    let token = app.api_token(&admin).await;
    let r = app
        .api(&token, Method::POST, "/api/v1/organisations")
        .json(&json!({"name": "", "kind": "ziekenhuis"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid");
    assert!(
        body["error"]["fields"]["name"]
            .as_str()
            .expect("name message")
            .contains("naam")
    );
    assert!(body["error"]["fields"]["kind"].is_string());
    let r = app
        .api(&token, Method::POST, "/api/v1/organisations")
        .header("accept-language", "en")
        .json(&json!({"name": ""}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body["error"]["code"], "bad-request",
        "a body missing fields is a bad request"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("We cannot process")
    );
    let r = app
        .api(&token, Method::POST, "/api/v1/organisations")
        .header("content-type", "application/json")
        .body("{niet json")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"]["code"],
        "bad-request"
    );
    let r = reqwest::get(app.url("/api/v1/me")).await.expect("req");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"]["code"],
        "unauthenticated"
    );
    let r = app
        .api("dl_vals", Method::GET, "/api/v1/me")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .api(&token, Method::GET, "/api/v1/bestaat-niet")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"]["code"],
        "not-found"
    );
}

#[tokio::test]
async fn tokens_are_made_on_the_account_page_shown_once_and_can_be_revoked() {
    let app = TestApp::spawn().await;
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let u = app
        .user(
            "huisarts@medi-stad.example",
            false,
            &[(&org, Role::Referrer)],
            true,
        )
        .await;
    let client = app.sign_in(&u).await;
    // A token outlives the session: making one asks for the password again.
    let r = app
        .post_form(
            &client,
            "/account/tokens",
            &[
                ("name", "HIS-koppeling"),
                ("days", "30"),
                ("password", "geraden"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("wachtwoord klopt niet")
    );
    assert_eq!(app.audit_count("confirm_password", "user").await, 1);
    let r = app
        .post_form(
            &client,
            "/account/tokens",
            &[
                ("name", "HIS-koppeling"),
                ("days", "1000"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a year at most"
    );
    assert_eq!(app.audit_count("create", "api_token").await, 0);
    let html = app
        .post_form(
            &client,
            "/account/tokens",
            &[
                ("name", "HIS-koppeling"),
                ("days", "30"),
                ("scope", "read-write"),
                ("password", PASSWORD),
            ],
        )
        .await
        .text()
        .await
        .expect("body");
    let token = html
        .split("id=\"new-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("token shown")
        .to_string();
    assert!(token.starts_with("dl_"));
    assert_eq!(app.audit_count("create", "api_token").await, 1);
    let notice = app
        .last_mail_to("huisarts@medi-stad.example")
        .await
        .expect("the owner is told");
    assert!(notice.subject.contains("API-sleutel") && notice.body_text.contains("HIS-koppeling"));
    assert!(
        notice
            .body_text
            .contains("de rechten \"Lezen en wijzigen\""),
        "the mail says what the token may do: {}",
        notice.body_text
    );
    assert!(!notice.body_text.contains(&token), "never the token itself");
    let me: Value = app
        .api(&token, Method::GET, "/api/v1/me")
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], "huisarts@medi-stad.example");
    assert_eq!(me["memberships"][0]["role"], "referrer");
    let list: Value = app
        .api(&token, Method::GET, "/api/v1/tokens")
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(list[0]["name"], "HIS-koppeling");
    assert!(list[0].get("token_hash").is_none());
    let again = app.html(&client, "/account").await;
    assert!(!again.contains(&token), "a token is shown only once");
    assert!(again.contains("Geldig tot"));
    // After its 30 days the token no longer works, and the page says so.
    app.clock.advance_ms(30 * 86_400_000 + 1);
    assert_eq!(
        app.api(&token, Method::GET, "/api/v1/me")
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let client = app.sign_in(&u).await;
    let expired = app.html(&client, "/account").await;
    assert!(expired.contains("Verlopen"), "{expired}");
    app.clock.advance_ms(-(30 * 86_400_000 + 1));
    let id = list[0]["id"].as_str().expect("id");
    assert_eq!(
        app.api(&token, Method::DELETE, &format!("/api/v1/tokens/{id}"))
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.audit_count("revoke", "api_token").await, 1);
    assert_eq!(
        app.api(&token, Method::GET, "/api/v1/me")
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The token made on the account page: the form shows it once.
fn shown_token(html: &str) -> String {
    html.split("id=\"new-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("token shown")
        .to_string()
}

/// A token's scope is chosen on the account page, read-only unless chosen otherwise: a
/// `read` token reads through the API and is refused (403 `read-only-token`) on any other
/// method, a `read-write` token (and a token from before scopes) writes as before.
#[tokio::test]
async fn a_read_token_only_reads_and_a_read_write_token_also_writes() {
    let app = TestApp::spawn().await;
    let admin = app.user("beheer@duurloop.example", true, &[], true).await;
    let client = app.sign_in(&admin).await;
    let page = app.html(&client, "/account").await;
    assert!(page.contains("name=\"scope\""), "{page}");
    assert!(
        page.contains("<option value=\"read\" selected>Alleen lezen</option>"),
        "read-only is the default: {page}"
    );
    assert!(page.contains("<option value=\"read-write\">Lezen en wijzigen</option>"));
    let r = app
        .post_form(
            &client,
            "/account/tokens",
            &[
                ("name", "dashboard"),
                ("scope", "alles"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Without a choice (an older form) the token reads only.
    let read = shown_token(
        &app.post_form(
            &client,
            "/account/tokens",
            &[("name", "dashboard"), ("password", PASSWORD)],
        )
        .await
        .text()
        .await
        .expect("body"),
    );
    let write = shown_token(
        &app.post_form(
            &client,
            "/account/tokens",
            &[
                ("name", "koppeling"),
                ("scope", "read-write"),
                ("password", PASSWORD),
            ],
        )
        .await
        .text()
        .await
        .expect("body"),
    );
    let page = app.html(&client, "/account").await;
    assert!(
        page.contains("<td class=\"token-scope\">Alleen lezen</td>"),
        "{page}"
    );
    assert!(page.contains("<td class=\"token-scope\">Lezen en wijzigen</td>"));
    let scopes: Vec<(String,)> = sqlx::query_as(
        "SELECT reason FROM audit_log WHERE action = 'create' AND record_type = 'api_token' \
         ORDER BY at, reason",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .expect("audit");
    let mut scopes: Vec<String> = scopes.into_iter().map(|r| r.0).collect();
    scopes.sort();
    assert_eq!(
        scopes,
        ["scope: read", "scope: read-write"],
        "the scope is logged"
    );

    let list: Value = app.get_json(&read, "/api/v1/tokens").await;
    let named = |name: &str| {
        list.as_array()
            .expect("list")
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .expect("listed")
    };
    assert_eq!(named("dashboard")["scope"], "read");
    assert_eq!(named("koppeling")["scope"], "read-write");
    let new_org = json!({"name": "Gemeente Noordwijk", "kind": "municipality"});
    let r = app
        .api(&read, Method::POST, "/api/v1/organisations")
        .json(&new_org)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "read-only-token");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("mag alleen lezen"),
        "{body}"
    );
    let r = app
        .api(&read, Method::POST, "/api/v1/organisations")
        .header("accept-language", "en")
        .json(&new_org)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("may only read"),
        "{body}"
    );
    let id = named("koppeling")["id"].as_str().expect("id").to_string();
    assert_eq!(
        app.api(&read, Method::DELETE, &format!("/api/v1/tokens/{id}"))
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::FORBIDDEN,
        "a read token does not even revoke"
    );
    assert_eq!(app.audit_count("create", "organisation").await, 0);
    let r = app
        .api(&write, Method::POST, "/api/v1/organisations")
        .json(&new_org)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    // A token made before scopes existed had all its owner's rights: it keeps them.
    let old = format!("dl_{}", duurloop::store::new_token());
    let now = app.state.now();
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) \
         VALUES ('oud', $1, 'oud', $2, $3, $4)",
    )
    .bind(&admin.id)
    .bind(duurloop::store::hash_token(&old))
    .bind(now)
    .bind(now + 86_400_000)
    .execute(&app.state.db.pool)
    .await
    .expect("old token");
    let r = app
        .api(&old, Method::POST, "/api/v1/organisations")
        .json(&json!({"name": "Gemeente Zuid", "kind": "municipality"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    // The document says so where it can happen: on writes with a personal token only.
    let doc: Value = app.get_json(&read, "/api/openapi.json").await;
    let says = |path: &str, method: &str| {
        doc["paths"][path][method]["responses"]["403"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("read-only-token"))
    };
    assert!(says("/api/v1/organisations", "post"));
    assert!(says("/api/v1/tokens/{id}", "delete"));
    assert!(!says("/api/v1/organisations", "get"));
    assert!(!says("/api/v1/portal/runs", "post"));
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let app = TestApp::spawn().await;
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");
    for route in app.routes.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let entry = paths
            .get(route.path)
            .unwrap_or_else(|| panic!("{} missing from OpenAPI", route.path));
        assert!(
            entry.get(route.method.to_lowercase()).is_some(),
            "{} {} missing from OpenAPI",
            route.method,
            route.path
        );
    }
    let docs = reqwest::get(app.url("/api/docs/")).await.expect("req");
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.expect("body").contains("swagger"));
}

/// A week before a token expires, its owner gets one e-mail; revoked tokens none.
#[tokio::test]
async fn the_owner_hears_a_week_before_a_token_expires() {
    let app = TestApp::spawn().await;
    let u = app.user("f@gemeente.example", false, &[], false).await;
    let token = app.api_token(&u).await;
    let revoked = app.api_token(&u).await;
    sqlx::query("UPDATE api_tokens SET revoked_at = created_at WHERE token_hash = $1")
        .bind(duurloop::store::hash_token(&revoked))
        .execute(&app.state.db.pool)
        .await
        .expect("revoke");
    let remind = || duurloop::app::accounts::remind_expiring_tokens(&app.state);
    assert_eq!(remind().await.expect("round"), 0, "90 days left");
    app.clock.advance_ms(84 * 86_400_000);
    assert_eq!(remind().await.expect("round"), 1);
    assert_eq!(remind().await.expect("round"), 0, "once");
    let mail = app.last_mail_to(&u.email).await.expect("reminder");
    assert_eq!(mail.kind, "token_expires");
    assert!(mail.subject.contains("verloopt binnenkort") && mail.body_text.contains("\"test\""));
    assert!(!mail.body_text.contains(&token));
}
