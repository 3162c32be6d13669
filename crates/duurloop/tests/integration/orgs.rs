//! Organisations and members: the administrator creates, the coordinator manages their own.

use duurloop_domain::{OrgKind, Role};
use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_administrator_creates_organisations_of_every_kind() {
    let app = TestApp::spawn().await;
    let admin = app.user("beheer@duurloop.example", true, &[], true).await;
    let client = app.session_for(&admin).await;
    for kind in OrgKind::ALL {
        let name = format!("Organisatie {}", kind.as_str());
        let r = app
            .post_form(
                &client,
                "/admin/organisations",
                &[("name", &name), ("kind", kind.as_str())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{kind:?}");
    }
    let html = app.html(&client, "/admin/organisations").await;
    for label in [
        "huisartsenpraktijk",
        "praktijk voor runningtherapie",
        "zorggroep / regio",
        "gemeente",
        "werkgever",
        "zorgverzekeraar",
        "andere verwijzer",
    ] {
        assert!(html.contains(label), "{label}");
    }
    assert_eq!(app.audit_count("create", "organisation").await, 7);
}

#[tokio::test]
async fn bad_organisation_input_is_explained_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let admin = app.user("beheer@duurloop.example", true, &[], true).await;
    let client = app.session_for(&admin).await;
    let r = app
        .post_form(
            &client,
            "/admin/organisations",
            &[("name", "  "), ("kind", "ziekenhuis")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("body");
    assert!(html.contains("Vul de naam van de organisatie in"));
    assert!(html.contains("Kies een soort organisatie"));
    app.post_form(
        &client,
        "/admin/organisations",
        &[("name", "Medi-Stad"), ("kind", "gp_practice")],
    )
    .await;
    let dup = app
        .post_form(
            &client,
            "/admin/organisations",
            &[("name", "Medi-Stad"), ("kind", "gp_practice")],
        )
        .await;
    assert!(
        dup.text()
            .await
            .expect("body")
            .contains("bestaat al een organisatie")
    );
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM organisations")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_coordinator_manages_roles_in_their_own_organisation_only() {
    let app = TestApp::spawn().await;
    let mine = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let other = app.org("Elders", OrgKind::GpPractice).await;
    let coord = app
        .user(
            "coord@medi-stad.example",
            false,
            &[(&mine, Role::Coordinator)],
            true,
        )
        .await;
    let member = app
        .user(
            "poh@medi-stad.example",
            false,
            &[(&mine, Role::Referrer)],
            true,
        )
        .await;
    let stranger = app
        .user("x@elders.example", false, &[(&other, Role::Referrer)], true)
        .await;
    let client = app.session_for(&coord).await;
    let r = app
        .post_form(
            &client,
            &format!("/organisations/{mine}/members/{}/role", member.id),
            &[("role", "therapist")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.html(&client, &format!("/organisations/{mine}")).await;
    assert!(html.contains("value=\"therapist\" selected"));
    let r = app
        .post_form(
            &client,
            &format!("/organisations/{other}/members/{}/role", stranger.id),
            &[("role", "coordinator")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&client, &format!("/organisations/{other}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = app
        .post_form(
            &client,
            &format!("/organisations/{mine}/members/{}/remove", member.id),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        !app.html(&client, &format!("/organisations/{mine}"))
            .await
            .contains(&member.email)
    );
    assert_eq!(app.audit_count("update", "membership").await, 1);
    assert_eq!(app.audit_count("delete", "membership").await, 1);
}

#[tokio::test]
async fn the_last_coordinator_cannot_remove_or_demote_themselves() {
    let app = TestApp::spawn().await;
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let coord = app
        .user(
            "coord@medi-stad.example",
            false,
            &[(&org, Role::Coordinator)],
            true,
        )
        .await;
    let client = app.session_for(&coord).await;
    let r = app
        .post_form(
            &client,
            &format!("/organisations/{org}/members/{}/role", coord.id),
            &[("role", "referrer")],
        )
        .await;
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("minstens één coördinator")
    );
    let r = app
        .post_form(
            &client,
            &format!("/organisations/{org}/members/{}/remove", coord.id),
            &[],
        )
        .await;
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("minstens één coördinator")
    );
}

#[tokio::test]
async fn invitations_validate_the_address_and_the_role() {
    let app = TestApp::spawn().await;
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let coord = app
        .user(
            "coord@medi-stad.example",
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
            &[("email", "geen-adres"), ("role", "koning")],
        )
        .await;
    let html = r.text().await.expect("body");
    assert!(html.contains("Vul een geldig e-mailadres in"));
    assert!(html.contains("Kies een rol uit de lijst"));
    let r = app
        .post_form(
            &client,
            &format!("/organisations/{org}/invitations"),
            &[("email", &coord.email), ("role", "referrer")],
        )
        .await;
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("al lid van deze organisatie")
    );
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM outbox")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 0);
}

#[tokio::test]
async fn an_existing_account_accepts_an_invitation_into_a_second_organisation() {
    let app = TestApp::spawn().await;
    let a = app.org("Praktijk A", OrgKind::GpPractice).await;
    let b = app.org("Praktijk B", OrgKind::TherapistPractice).await;
    let admin = app.user("beheer@duurloop.example", true, &[], true).await;
    let person = app
        .user("eva@a.example", false, &[(&a, Role::Therapist)], true)
        .await;
    let admin_client = app.session_for(&admin).await;
    app.post_form(
        &admin_client,
        &format!("/organisations/{b}/invitations"),
        &[("email", &person.email), ("role", "coordinator")],
    )
    .await;
    let link = crate::helpers::link_in(
        &app.last_mail_to(&person.email)
            .await
            .expect("mail")
            .body_text,
        &app.base,
    );
    // Not signed in: asked to sign in first.
    let anon = app.browser();
    let html = app.html(&anon, &link).await;
    assert!(html.contains("Log eerst in"));
    let client = app.session_for(&person).await;
    let r = app.post_form(&client, &link, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.html(&client, "/").await;
    assert!(html.contains("Praktijk A") && html.contains("Praktijk B"));
}
