//! Login, second factor, sessions, throttling, password reset, invitations.

use duurloop_domain::{OrgKind, Role};
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, link_in, location, secret_shown};

#[tokio::test]
async fn a_therapist_signs_in_with_password_and_code_and_reaches_the_dutch_start_page() {
    let app = TestApp::spawn().await;
    let org = app.org("Praktijk Lelystad", OrgKind::GpPractice).await;
    let u = app
        .user(
            "marieke@praktijk.example",
            false,
            &[(&org, Role::Therapist)],
            true,
        )
        .await;
    let client = app.sign_in(&u).await;
    let page = app.get(&client, "/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("body");
    assert!(html.contains("lang=\"nl\""));
    assert!(html.contains("Startpagina"), "{html}");
    assert!(html.contains("Runningtherapeut"));
    assert!(html.contains("Praktijk Lelystad"));
    assert_eq!(app.audit_count("login", "session").await, 1);
    assert_eq!(app.audit_count("second_factor", "session").await, 1);
}

#[tokio::test]
async fn without_the_code_the_session_opens_nothing() {
    let app = TestApp::spawn().await;
    let org = app.org("Praktijk", OrgKind::GpPractice).await;
    let u = app
        .user("a@praktijk.example", false, &[(&org, Role::Referrer)], true)
        .await;
    let client = app.browser();
    let r = app
        .post_form(
            &client,
            "/login",
            &[("email", &u.email), ("password", PASSWORD)],
        )
        .await;
    assert!(location(&r).starts_with("/login/totp"));
    let r = app.get(&client, "/account").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
    let r = app
        .post_form(&client, "/login/totp", &[("code", "000000")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("Deze code klopt niet")
    );
}

#[tokio::test]
async fn a_code_cannot_be_used_twice() {
    let app = TestApp::spawn().await;
    let org = app.org("Praktijk", OrgKind::GpPractice).await;
    let u = app
        .user(
            "a@praktijk.example",
            false,
            &[(&org, Role::Therapist)],
            true,
        )
        .await;
    let secret = u.secret.clone().expect("secret");
    let code = app.code(&secret);
    let first = app.browser();
    app.post_form(
        &first,
        "/login",
        &[("email", &u.email), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(
        app.post_form(&first, "/login/totp", &[("code", &code)])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let second = app.browser();
    app.post_form(
        &second,
        "/login",
        &[("email", &u.email), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(
        app.post_form(&second, "/login/totp", &[("code", &code)])
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn a_role_with_participant_access_must_enrol_a_second_factor_first() {
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
    // Nothing else opens until enrolment is done.
    let r = app.get(&client, &format!("/organisations/{org}")).await;
    assert!(location(&r).starts_with("/login"));
    let page = app.html(&client, "/account/totp").await;
    let secret = secret_shown(&page);
    let r = app
        .post_form(&client, "/account/totp", &[("code", "123")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let code = app.code(&secret);
    let r = app
        .post_form(&client, "/account/totp", &[("code", &code)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&client, &format!("/organisations/{org}"))
            .await
            .status(),
        StatusCode::OK
    );
    // Replacing the second factor later, from the signed-in session, takes the password.
    let page = app.html(&client, "/account/totp").await;
    assert!(page.contains("name=\"password\""));
    let new_secret = secret_shown(&page);
    let code = app.code(&new_secret);
    let r = app
        .post_form(&client, "/account/totp", &[("code", &code)])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "no password");
    assert_eq!(app.audit_count("confirm_password", "user").await, 1);
    let r = app
        .post_form(
            &client,
            "/account/totp",
            &[("code", &code), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count("enrol_second_factor", "user").await, 2);
    // Each new second factor is told to the account's own address.
    let (notices,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE kind = 'account_changed' AND to_addr = $1",
    )
    .bind(&u.email)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    assert_eq!(notices, 2);
}

#[tokio::test]
async fn funders_and_participants_sign_in_without_a_second_factor() {
    let app = TestApp::spawn().await;
    let org = app.org("Gemeente", OrgKind::Municipality).await;
    let u = app
        .user(
            "beleid@gemeente.example",
            false,
            &[(&org, Role::Funder)],
            false,
        )
        .await;
    let client = app.sign_in(&u).await;
    let html = app.html(&client, "/").await;
    assert!(html.contains("Financier"));
}

#[tokio::test]
async fn wrong_password_and_unknown_account_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.user("bekend@praktijk.example", false, &[], false).await;
    let client = app.browser();
    let wrong = app
        .post_form(
            &client,
            "/login",
            &[
                ("email", "bekend@praktijk.example"),
                ("password", "verkeerd wachtwoord"),
            ],
        )
        .await;
    let unknown = app
        .post_form(
            &client,
            "/login",
            &[
                ("email", "onbekend@praktijk.example"),
                ("password", "verkeerd wachtwoord"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let a = wrong.text().await.expect("body").replace("bekend@", "X@");
    let b = unknown
        .text()
        .await
        .expect("body")
        .replace("onbekend@", "X@");
    assert_eq!(a, b);
}

#[tokio::test]
async fn after_five_failures_even_the_right_password_is_refused_for_a_while() {
    let app = TestApp::spawn().await;
    let u = app
        .user("doelwit@praktijk.example", false, &[], false)
        .await;
    let client = app.browser();
    for _ in 0..5 {
        let r = app
            .post_form(
                &client,
                "/login",
                &[("email", &u.email), ("password", "fout fout fout")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app
        .post_form(
            &client,
            "/login",
            &[("email", &u.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance_ms(16 * 60_000);
    let r = app
        .post_form(
            &client,
            "/login",
            &[("email", &u.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn login_rotates_the_session_and_logout_ends_it() {
    let app = TestApp::spawn().await;
    let u = app.user("f@gemeente.example", false, &[], false).await;
    let client = app.browser();
    let r = app
        .post_form(
            &client,
            "/login",
            &[("email", &u.email), ("password", PASSWORD)],
        )
        .await;
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(app.get(&client, "/account").await.status(), StatusCode::OK);
    let r = app
        .post_form(
            &client,
            "/login",
            &[("email", &u.email), ("password", PASSWORD)],
        )
        .await;
    let second = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .to_string();
    assert_ne!(cookie, second, "a new login gets a new session token");
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM sessions")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 1, "the old session was replaced");
    assert_eq!(
        app.audit_count("logout", "user").await,
        0,
        "a replaced session is no logout"
    );
    app.post_form(&client, "/logout", &[]).await;
    assert_eq!(
        app.get(&client, "/account").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.audit_count("logout", "user").await, 1);
}

#[tokio::test]
async fn sessions_end_after_idle_and_absolute_timeouts() {
    let app = TestApp::spawn().await;
    let u = app.user("f@gemeente.example", false, &[], false).await;
    let client = app.sign_in(&u).await;
    app.clock.advance_ms(29 * 60_000);
    assert_eq!(app.get(&client, "/account").await.status(), StatusCode::OK);
    app.clock.advance_ms(31 * 60_000);
    assert_eq!(
        app.get(&client, "/account").await.status(),
        StatusCode::SEE_OTHER,
        "idle timeout"
    );
    let client = app.sign_in(&u).await;
    for _ in 0..25 {
        app.clock.advance_ms(29 * 60_000);
        let _ = app.get(&client, "/account").await;
    }
    assert_eq!(
        app.get(&client, "/account").await.status(),
        StatusCode::SEE_OTHER,
        "absolute timeout"
    );
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_e_mail_link_once() {
    let app = TestApp::spawn().await;
    let u = app
        .user("vergeten@praktijk.example", false, &[], false)
        .await;
    let client = app.browser();
    let r = app
        .post_form(
            &client,
            "/password/forgot",
            &[("email", "Vergeten@Praktijk.example")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let same = app
        .post_form(
            &client,
            "/password/forgot",
            &[("email", "niemand@praktijk.example")],
        )
        .await;
    assert_eq!(same.status(), StatusCode::OK);
    let mail = app.last_mail_to(&u.email).await.expect("reset mail");
    assert!(app.last_mail_to("niemand@praktijk.example").await.is_none());
    let link = link_in(&mail.body_text, &app.base);
    let r = app
        .post_form(&client, &link, &[("password", "kort"), ("confirm", "kort")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("body").contains("minstens 12 tekens"));
    let r = app
        .post_form(
            &client,
            &link,
            &[
                ("password", "een nieuw wachtwoord"),
                ("confirm", "een nieuw wachtwoord"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let notice = app.last_mail_to(&u.email).await.expect("notice");
    assert_eq!(notice.subject, "Uw Duurloop-wachtwoord is gewijzigd");
    assert!(notice.body_text.contains("/account"));
    let again = app
        .post_form(
            &client,
            &link,
            &[
                ("password", "nog een wachtwoord"),
                ("confirm", "nog een wachtwoord"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "the link works once");
    // A reset link works ten minutes (OWASP ASVS 2.7.2).
    app.post_form(&client, "/password/forgot", &[("email", &u.email)])
        .await;
    let late = link_in(
        &app.last_mail_to(&u.email)
            .await
            .expect("second reset mail")
            .body_text,
        &app.base,
    );
    assert_ne!(late, link);
    app.clock.advance_ms(10 * 60_000 + 1);
    let r = app
        .post_form(
            &client,
            &late,
            &[
                ("password", "nog een wachtwoord"),
                ("confirm", "nog een wachtwoord"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "too late");
    let r = app
        .post_form(
            &client,
            "/login",
            &[("email", &u.email), ("password", "een nieuw wachtwoord")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_invited_person_creates_an_account_enrols_and_lands_in_the_organisation() {
    let app = TestApp::spawn().await;
    let org = app
        .org("Runningtherapie Groningen", OrgKind::TherapistPractice)
        .await;
    let coord = app
        .user(
            "henk@groningen.example",
            false,
            &[(&org, Role::Coordinator)],
            true,
        )
        .await;
    let client = app.session_for(&coord).await;
    let r = app
        .post_form(
            &client,
            &format!("/organisations/{org}/invitations"),
            &[("email", "eva@groningen.example"), ("role", "therapist")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mail = app
        .last_mail_to("eva@groningen.example")
        .await
        .expect("invitation mail");
    assert!(mail.subject.contains("Runningtherapie Groningen"));
    let link = link_in(&mail.body_text, &app.base);
    let eva = app.browser();
    let page = app.html(&eva, &link).await;
    assert!(page.contains("runningtherapeut"));
    let r = app
        .post_form(
            &eva,
            &link,
            &[("name", ""), ("password", "kort"), ("confirm", "kort")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post_form(
            &eva,
            &link,
            &[
                ("name", "Eva Mulder"),
                ("password", "rustig duurlopen"),
                ("confirm", "rustig duurlopen"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account/totp");
    let twice = app
        .post_form(
            &app.browser(),
            &link,
            &[
                ("name", "Eva"),
                ("password", "rustig duurlopen"),
                ("confirm", "rustig duurlopen"),
            ],
        )
        .await;
    assert_eq!(
        twice.status(),
        StatusCode::NOT_FOUND,
        "an invitation works once"
    );
    let members = app.html(&client, &format!("/organisations/{org}")).await;
    assert!(members.contains("Eva Mulder"));
}

#[tokio::test]
async fn an_expired_invitation_is_refused() {
    let app = TestApp::spawn().await;
    let org = app.org("Praktijk", OrgKind::GpPractice).await;
    let admin = app.user("beheer@duurloop.example", true, &[], true).await;
    let token = app.api_token(&admin).await;
    let r = app
        .api(
            &token,
            reqwest::Method::POST,
            &format!("/api/v1/organisations/{org}/invitations"),
        )
        .json(&serde_json::json!({"email": "laat@praktijk.example", "role": "referrer"}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::CREATED);
    let link = link_in(
        &app.last_mail_to("laat@praktijk.example")
            .await
            .expect("mail")
            .body_text,
        &app.base,
    );
    app.clock.advance_ms(8 * 24 * 3_600_000);
    assert_eq!(
        app.get(&app.browser(), &link).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_interface_switches_to_english_and_back() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let html = app.html(&client, "/login").await;
    assert!(html.contains("Inloggen") && html.contains("lang=\"nl\""));
    let r = app.get(&client, "/lang/en?back=/login").await;
    assert_eq!(location(&r), "/login");
    let html = app.html(&client, "/login").await;
    assert!(html.contains("Sign in") && html.contains("lang=\"en\""));
    let r = app
        .get(&client, "/lang/en?back=https://evil.example/")
        .await;
    assert_eq!(location(&r), "/", "no open redirect");
}

#[tokio::test]
async fn a_signed_in_person_changes_their_password_and_other_sessions_end() {
    let app = TestApp::spawn().await;
    let u = app.user("f@gemeente.example", false, &[], false).await;
    let here = app.sign_in(&u).await;
    let elsewhere = app.sign_in(&u).await;
    let new = "een heel ander wachtwoord";
    let r = app
        .post_form(
            &here,
            "/account/password",
            &[
                ("current", "niet het goede"),
                ("password", new),
                ("confirm", new),
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
    let r = app
        .post_form(
            &here,
            "/account/password",
            &[
                ("current", PASSWORD),
                ("password", new),
                ("confirm", "anders"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the two must match"
    );
    let r = app
        .post_form(
            &here,
            "/account/password",
            &[("current", PASSWORD), ("password", new), ("confirm", new)],
        )
        .await;
    assert_eq!(location(&r), "/account?changed=password");
    let page = app.get(&here, "/account?changed=password").await;
    assert_eq!(page.status(), StatusCode::OK, "this session stays");
    assert!(
        page.text()
            .await
            .expect("body")
            .contains("Uw wachtwoord is gewijzigd")
    );
    assert_eq!(
        app.get(&elsewhere, "/account").await.status(),
        StatusCode::SEE_OTHER,
        "the other session ended"
    );
    assert_eq!(app.audit_count("change_password", "user").await, 1);
    let notice = app.last_mail_to(&u.email).await.expect("notice");
    assert_eq!(notice.subject, "Uw Duurloop-wachtwoord is gewijzigd");
    let fresh = app.browser();
    let r = app
        .post_form(
            &fresh,
            "/login",
            &[("email", &u.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let r = app
        .post_form(&fresh, "/login", &[("email", &u.email), ("password", new)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn people_see_where_they_are_signed_in_and_sign_other_devices_out() {
    let app = TestApp::spawn().await;
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let u = app
        .user(
            "poh@medi-stad.example",
            false,
            &[(&org, Role::Therapist)],
            true,
        )
        .await;
    let phone =
        app.browser_as("Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0");
    let r = app
        .post_form(
            &phone,
            "/login",
            &[("email", &u.email), ("password", PASSWORD)],
        )
        .await;
    assert!(location(&r).starts_with("/login/totp"));
    let secret = u.secret.as_ref().expect("secret");
    let code = app.code(secret);
    let r = app
        .post_form(&phone, "/login/totp", &[("code", &code)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let laptop = app.sign_in(&u).await;
    let third = app.sign_in(&u).await;
    let page = app.html(&laptop, "/account").await;
    assert!(
        page.contains("Firefox, Android"),
        "the phone by name: {page}"
    );
    assert!(page.contains("(dit apparaat)"));
    // Over the API: three sessions, none of them "current" (a token is no session).
    let token = app.api_token(&u).await;
    let list: serde_json::Value = app.get_json(&token, "/api/v1/me/sessions").await;
    let list = list.as_array().expect("list");
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|s| s["current"] == false));
    let phone_id = list
        .iter()
        .find(|s| s["device"] == "Firefox, Android")
        .and_then(|s| s["id"].as_str())
        .expect("phone session")
        .to_string();
    // The phone is signed out from the laptop's page.
    let r = app
        .post_form(&laptop, &format!("/account/sessions/{phone_id}/end"), &[])
        .await;
    assert_eq!(location(&r), "/account#sessions");
    assert_eq!(
        app.get(&phone, "/account").await.status(),
        StatusCode::SEE_OTHER
    );
    // Someone else's session id is not found.
    let other = app.user("ander@medi-stad.example", false, &[], false).await;
    let other_token = app.api_token(&other).await;
    let one_of_mine = app.get_json(&token, "/api/v1/me/sessions").await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = app
        .api(
            &other_token,
            reqwest::Method::DELETE,
            &format!("/api/v1/me/sessions/{one_of_mine}"),
        )
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Everywhere else: the third browser ends, the laptop stays.
    let r = app
        .post_form(&laptop, "/account/sessions/end-others", &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&third, "/account").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get(&laptop, "/account").await.status(), StatusCode::OK);
    assert_eq!(app.audit_count("end_session", "user").await, 1);
    assert_eq!(app.audit_count("end_other_sessions", "user").await, 1);
}

/// The right password and then five wrong codes: sign-in is blocked for a while and the
/// owner hears of it once, since someone else may know the password (ASVS 2.8.5).
#[tokio::test]
async fn five_wrong_codes_block_the_account_and_tell_its_owner() {
    let app = TestApp::spawn().await;
    let org = app.org("Praktijk", OrgKind::GpPractice).await;
    let u = app
        .user(
            "a@praktijk.example",
            false,
            &[(&org, Role::Therapist)],
            true,
        )
        .await;
    let client = app.browser();
    app.post_form(
        &client,
        "/login",
        &[("email", &u.email), ("password", PASSWORD)],
    )
    .await;
    for _ in 0..6 {
        let r = app
            .post_form(&client, "/login/totp", &[("code", "000000")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (notices,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE kind = 'account_changed' AND to_addr = $1",
    )
    .bind(&u.email)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    assert_eq!(notices, 1, "told once, not for every wrong code");
    let notice = app.last_mail_to(&u.email).await.expect("notice");
    assert_eq!(notice.subject, "Inlogpoging op uw Duurloop-account");
    assert!(notice.body_text.contains("5 keer een verkeerde code"));
    // Even the right code is refused now.
    let code = app.code(u.secret.as_ref().expect("secret"));
    let r = app
        .post_form(&client, "/login/totp", &[("code", &code)])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// ASVS 2.1.7: a new password that is common or known from breaches (or made of the account's
/// own address or name) is refused wherever one is set, with the field's message in the
/// page's language, and nothing changes.
#[tokio::test]
async fn common_and_breached_passwords_are_refused_wherever_a_password_is_set() {
    const COMMON_NL: &str = "komt voor in gelekte wachtwoorden";
    const COMMON_EN: &str = "known from data breaches";
    let app = TestApp::spawn().await;

    // The forgotten-password link: the form again with the message, the link still usable.
    let u = app
        .user("vergeten@praktijk.example", false, &[], false)
        .await;
    let client = app.browser();
    app.post_form(&client, "/password/forgot", &[("email", &u.email)])
        .await;
    let mail = app.last_mail_to(&u.email).await.expect("reset mail");
    let link = link_in(&mail.body_text, &app.base);
    let r = app
        .post_form(
            &client,
            &link,
            &[("password", "Password1234"), ("confirm", "Password1234")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("body");
    assert!(page.contains(COMMON_NL), "{page}");
    assert!(
        page.contains("name=\"password\""),
        "the form is shown again"
    );
    let _ = app.get(&client, "/lang/en").await;
    let own = "vergeten@praktijk.example";
    let r = app
        .post_form(&client, &link, &[("password", own), ("confirm", own)])
        .await;
    assert!(r.text().await.expect("body").contains(COMMON_EN));
    assert_eq!(app.audit_count("reset_password", "user").await, 0);
    let r = app
        .post_form(
            &client,
            &link,
            &[
                ("password", "een nieuw wachtwoord"),
                ("confirm", "een nieuw wachtwoord"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the link still works");

    // Accepting an invitation.
    let org = app.org("Praktijk Zwolle", OrgKind::TherapistPractice).await;
    let coord = app
        .user(
            "coordinator@zwolle.example",
            false,
            &[(&org, Role::Coordinator)],
            true,
        )
        .await;
    let coordinator = app.session_for(&coord).await;
    app.post_form(
        &coordinator,
        &format!("/organisations/{org}/invitations"),
        &[("email", "joost@zwolle.example"), ("role", "therapist")],
    )
    .await;
    let mail = app
        .last_mail_to("joost@zwolle.example")
        .await
        .expect("invitation mail");
    let link = link_in(&mail.body_text, &app.base);
    let joost = app.browser();
    for common in ["qwertyuiop123", "JoostBakker1980"] {
        let r = app
            .post_form(
                &joost,
                &link,
                &[
                    ("name", "Joost Bakker"),
                    ("password", common),
                    ("confirm", common),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{common}");
        let page = r.text().await.expect("body");
        assert!(page.contains(COMMON_NL), "{common}: {page}");
        assert!(page.contains("Joost Bakker"), "the name is kept");
    }
    let r = app
        .post_form(
            &joost,
            &link,
            &[
                ("name", "Joost Bakker"),
                ("password", "rustig duurlopen"),
                ("confirm", "rustig duurlopen"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the invitation still works"
    );

    // Changing one's password on the account page.
    let f = app.user("f@gemeente.example", false, &[], false).await;
    let here = app.sign_in(&f).await;
    let r = app
        .post_form(
            &here,
            "/account/password",
            &[
                ("current", PASSWORD),
                ("password", "P@ssw0rd1234!"),
                ("confirm", "P@ssw0rd1234!"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("body").contains(COMMON_NL));
    assert_eq!(app.audit_count("change_password", "user").await, 0);
    let r = app
        .post_form(
            &app.browser(),
            "/login",
            &[("email", &f.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the old password stays");
}

/// What the strength meter answers for these form fields (as htmx posts them).
async fn meter(app: &TestApp, client: &reqwest::Client, fields: &[(&str, &str)]) -> String {
    let r = app.post_form(client, "/password/strength", fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.expect("body")
}

#[tokio::test]
async fn the_strength_meter_judges_a_new_password_as_its_submit_does() {
    let app = TestApp::spawn().await;
    let client = app.browser();

    // Weak with the reason for a short or common one, fair or strong for what is accepted.
    let html = meter(&app, &client, &[("password", "password123")]).await;
    assert!(
        html.contains("data-strength=\"weak\"") && html.contains("minstens 12 tekens"),
        "{html}"
    );
    let html = meter(&app, &client, &[("password", "password1234")]).await;
    assert!(
        html.contains("data-strength=\"weak\"") && html.contains("gelekte wachtwoorden"),
        "{html}"
    );
    let html = meter(&app, &client, &[("password", "twaalf teken")]).await;
    assert!(html.contains("data-strength=\"fair\""), "{html}");
    let passphrase = "mijn fiets staat achter de bakkerij in Zwolle";
    let html = meter(&app, &client, &[("password", passphrase)]).await;
    assert!(html.contains("data-strength=\"strong\""), "{html}");
    assert!(
        meter(&app, &client, &[("password", "")])
            .await
            .trim()
            .is_empty(),
        "nothing typed, nothing said"
    );
    // A POST like any other: without the form's CSRF token it is refused.
    let r = client
        .post(app.url("/password/strength"))
        .form(&[("password", passphrase)])
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // While every check slot is taken (a flood of checks), the next one is answered 429 at
    // once instead of queueing for the CPU; when a slot is free again, it is judged.
    let slots = app.state.strength_checks.available_permits();
    let taken = app
        .state
        .strength_checks
        .clone()
        .acquire_many_owned(u32::try_from(slots).expect("few slots"))
        .await
        .expect("the slots");
    let r = app
        .post_form(&client, "/password/strength", &[("password", passphrase)])
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.expect("body").contains("te druk"));
    drop(taken);
    let html = meter(&app, &client, &[("password", passphrase)]).await;
    assert!(html.contains("data-strength=\"strong\""), "{html}");

    // The reset page carries the meter and the show-password buttons; judged with the
    // account's own words, as the submit is.
    let own = "anna.de.vries@praktijk.example";
    let u = app.user(own, false, &[], false).await;
    app.post_form(&client, "/password/forgot", &[("email", &u.email)])
        .await;
    let mail = app.last_mail_to(&u.email).await.expect("reset mail");
    let link = link_in(&mail.body_text, &app.base);
    let token = link.rsplit('/').next().expect("token").to_string();
    let page = app.html(&client, &link).await;
    for part in [
        "hx-post=\"/password/strength\"",
        "id=\"password-strength\"",
        "aria-live=\"polite\"",
        &format!("{{&quot;reset&quot;: &quot;{token}&quot;}}"),
        "data-show-password=\"password\"",
        "aria-pressed=\"false\"",
        "Wachtwoord tonen",
        "/static/password.js",
    ] {
        assert!(
            page.contains(part) || page.contains(&part.replace("&quot;", "\"")),
            "{part} in {page}"
        );
    }
    let html = meter(&app, &client, &[("password", own)]).await;
    assert!(
        !html.contains("\"weak\""),
        "not a common password as such: {html}"
    );
    let html = meter(&app, &client, &[("password", own), ("reset", &token)]).await;
    assert!(html.contains("data-strength=\"weak\""), "{html}");
    let r = app
        .post_form(&client, &link, &[("password", own), ("confirm", own)])
        .await;
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("gelekte wachtwoorden"),
        "the submit refuses what the meter called weak"
    );
    let r = app
        .post_form(
            &client,
            &link,
            &[("password", passphrase), ("confirm", passphrase)],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "and accepts what it called strong"
    );

    // Signed in, on the account page: the meter knows the account's words; in English too.
    let session = app.session_for(&u).await;
    let page = app.html(&session, "/account").await;
    assert!(page.contains("hx-post=\"/password/strength\""), "{page}");
    assert!(page.contains("data-show-password=\"current\""), "{page}");
    let _ = app.get(&session, "/lang/en").await;
    let html = meter(&app, &session, &[("password", "annadevries2026")]).await;
    assert!(
        html.contains("data-strength=\"weak\"") && html.contains("Weak:"),
        "{html}"
    );
    assert!(
        app.html(&app.browser(), "/login")
            .await
            .contains("data-show-password=\"password\""),
        "the login form can show its password too"
    );
    let r = app.get(&client, "/static/password.js").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("text/javascript"))
    );
}
