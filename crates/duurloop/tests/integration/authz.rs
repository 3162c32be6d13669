//! Every route, every role: the table below says who may use each route. The test walks the
//! routes the app actually serves, so a new route without an entry here fails it.

use duurloop_domain::{OrgKind, Role};
use reqwest::{Client, Method, StatusCode};

use crate::helpers::{CSRF, TestApp, TestUser, location};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// Anyone, signed in or not.
    Anyone,
    /// Not by role but by where the request comes from: a direct request from this machine
    /// (as every request in this matrix is) or one with `metrics_token`; anyone else gets 404
    /// (`integration::platform::metrics_answer_only_this_machine_or_the_metrics_token_and_health_stays_public`).
    Scraper,
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
    /// A therapist or coordinator of the organisation in the path, or the administrator.
    OrgMaintainer,
    /// Anyone with the referrer or coordinator role somewhere.
    AnyReferrer,
    /// The referral's referrer, therapist and the offering organisation's coordinator; to
    /// anyone else the referral does not exist (404).
    ReferralParties,
    /// The referral's therapist and coordinator (the referrer is refused, others get 404).
    ReferralHandlers,
    /// The coordinator of the referral's offering organisation.
    ReferralCoordinator,
    /// A trajectory's therapist and the offering organisation's coordinators (others: 404).
    TrajectoryTeam,
    /// The offering organisation's therapists and coordinators (not the administrator).
    GroupTeam,
    /// A coordinator of the organisation in the path (not the administrator).
    OwnCoordinator,
    /// Anyone who coordinates or funds an organisation: the impact report opens on their
    /// first one (a funder's shows only what its contracts fund, here nothing).
    ReportReader,
    /// A coordinator of any organisation (not the administrator, not a funder).
    Coordinator,
    /// A coordinator of the organisation in the path, or one of its funders.
    CoordinatorOrFunder,
    /// The coordinators of the invoice's billing organisation (others: 404; the payer's
    /// funders see sent invoices, but this payer has no funder organisation).
    InvoiceManager,
    /// Only a participant signed in to the portal by magic link: nobody in this matrix
    /// (everyone is sent to the portal's sign-in page).
    PortalParticipant,
}

const OFFERING_JSON: &str = r#"{"title":"","kind":"","schedule":"","start_date":"","weeks":"","capacity":"","price":"","therapist_id":"","location_id":""}"#;

/// (method, route pattern, who, request path with `{org}`, body: form fields or JSON).
const TABLE: &[(&str, &str, Who, &str, &str)] = &[
    ("GET", "/", Who::Anyone, "/", ""),
    ("GET", "/lang/{code}", Who::Anyone, "/lang/en", ""),
    ("GET", "/therapeuten", Who::Anyone, "/therapeuten", ""),
    (
        "GET",
        "/api/v1/therapists",
        Who::Anyone,
        "/api/v1/therapists",
        "",
    ),
    ("GET", "/healthz", Who::Anyone, "/healthz", ""),
    ("GET", "/metrics", Who::Scraper, "/metrics", ""),
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
        "POST",
        "/password/strength",
        Who::Anyone,
        "/password/strength",
        "password=wachtwoord123",
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
        "/account/password",
        Who::SignedIn,
        "/account/password",
        "current=",
    ),
    (
        "POST",
        "/account/sessions/{id}/end",
        Who::SignedIn,
        "/account/sessions/onbekend/end",
        "",
    ),
    (
        "POST",
        "/account/sessions/end-others",
        Who::SignedIn,
        "/account/sessions/end-others",
        "",
    ),
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
        "/audit/integrity",
        Who::Admin,
        "/audit/integrity",
        "",
    ),
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
    (
        "GET",
        "/api/v1/me/sessions",
        Who::SignedIn,
        "/api/v1/me/sessions",
        "",
    ),
    (
        "DELETE",
        "/api/v1/me/sessions/{id}",
        Who::SignedIn,
        "/api/v1/me/sessions/onbekend",
        "",
    ),
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
        "/api/v1/audit/integrity",
        Who::Admin,
        "/api/v1/audit/integrity",
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
    ("GET", "/zoeken", Who::Anyone, "/zoeken?postcode=8232", ""),
    ("GET", "/aanbod/{id}", Who::Anyone, "/aanbod/{offering}", ""),
    (
        "GET",
        "/organisations/{id}/directory",
        Who::OrgMaintainer,
        "/organisations/{org}/directory",
        "",
    ),
    (
        "POST",
        "/organisations/{id}/therapists",
        Who::OrgMaintainer,
        "/organisations/{org}/therapists",
        "name=&profession=&brtn_status=",
    ),
    (
        "POST",
        "/therapists/{id}",
        Who::OrgMaintainer,
        "/therapists/{therapist}",
        "name=&profession=&brtn_status=",
    ),
    (
        "POST",
        "/organisations/{id}/locations",
        Who::OrgMaintainer,
        "/organisations/{org}/locations",
        "name=&address=&postcode=&place=",
    ),
    (
        "POST",
        "/organisations/{id}/offerings",
        Who::OrgMaintainer,
        "/organisations/{org}/offerings",
        "title=",
    ),
    (
        "GET",
        "/offerings/{id}/edit",
        Who::OrgMaintainer,
        "/offerings/{offering}/edit",
        "",
    ),
    (
        "POST",
        "/offerings/{id}",
        Who::OrgMaintainer,
        "/offerings/{offering}",
        "title=",
    ),
    (
        "POST",
        "/offerings/{id}/listing",
        Who::OrgCoordinator,
        "/offerings/{offering}/listing",
        "listed=1",
    ),
    (
        "POST",
        "/organisations/{id}/share-referrals",
        Who::OrgCoordinator,
        "/organisations/{org}/share-referrals",
        "share=0",
    ),
    (
        "PUT",
        "/api/v1/organisations/{id}/share-referrals",
        Who::OrgCoordinator,
        "/api/v1/organisations/{org}/share-referrals",
        r#"{"share":false}"#,
    ),
    ("GET", "/referrals", Who::SignedIn, "/referrals", ""),
    (
        "GET",
        "/referrals/new",
        Who::AnyReferrer,
        "/referrals/new?offering={offering}",
        "",
    ),
    (
        "POST",
        "/referrals",
        Who::AnyReferrer,
        "/referrals",
        "client_name=",
    ),
    (
        "GET",
        "/aanmelden",
        Who::Anyone,
        "/aanmelden?offering={offering}",
        "",
    ),
    (
        "POST",
        "/aanmelden",
        Who::Anyone,
        "/aanmelden",
        "client_name=",
    ),
    (
        "GET",
        "/referrals/{id}",
        Who::ReferralParties,
        "/referrals/{referral}",
        "",
    ),
    (
        "POST",
        "/referrals/{id}/invite",
        Who::ReferralHandlers,
        "/referrals/{referral}/invite",
        "intake_at=",
    ),
    (
        "POST",
        "/referrals/{id}/plan-intake",
        Who::ReferralHandlers,
        "/referrals/{referral}/plan-intake",
        "planned_for=",
    ),
    (
        "POST",
        "/referrals/{id}/intake",
        Who::ReferralHandlers,
        "/referrals/{referral}/intake",
        "age=1",
    ),
    (
        "POST",
        "/referrals/{id}/clearance",
        Who::ReferralHandlers,
        "/referrals/{referral}/clearance",
        "by=",
    ),
    (
        "POST",
        "/referrals/{id}/decision",
        Who::ReferralHandlers,
        "/referrals/{referral}/decision",
        "decision=",
    ),
    (
        "POST",
        "/referrals/{id}/reassign",
        Who::ReferralCoordinator,
        "/referrals/{referral}/reassign",
        "offering_id=",
    ),
    (
        "POST",
        "/referrals/{id}/erase",
        Who::ReferralCoordinator,
        "/referrals/{referral}/erase",
        "reason=",
    ),
    (
        "POST",
        "/referrals/{id}/research-objection",
        Who::ReferralHandlers,
        "/referrals/{referral}/research-objection",
        "objects=yes",
    ),
    (
        "GET",
        "/uitnodiging/{token}",
        Who::Anyone,
        "/uitnodiging/onbekend",
        "",
    ),
    (
        "POST",
        "/uitnodiging/{token}",
        Who::Anyone,
        "/uitnodiging/onbekend",
        "",
    ),
    (
        "GET",
        "/api/v1/offerings",
        Who::Anyone,
        "/api/v1/offerings?postcode=8232",
        "",
    ),
    (
        "GET",
        "/api/v1/offerings/{id}",
        Who::Anyone,
        "/api/v1/offerings/{offering}",
        "",
    ),
    (
        "PUT",
        "/api/v1/offerings/{id}",
        Who::OrgMaintainer,
        "/api/v1/offerings/{offering}",
        OFFERING_JSON,
    ),
    (
        "PUT",
        "/api/v1/offerings/{id}/listing",
        Who::OrgCoordinator,
        "/api/v1/offerings/{offering}/listing",
        r#"{"listed":true}"#,
    ),
    (
        "GET",
        "/api/v1/organisations/{id}/directory",
        Who::OrgMaintainer,
        "/api/v1/organisations/{org}/directory",
        "",
    ),
    (
        "POST",
        "/api/v1/organisations/{id}/offerings",
        Who::OrgMaintainer,
        "/api/v1/organisations/{org}/offerings",
        OFFERING_JSON,
    ),
    (
        "POST",
        "/api/v1/organisations/{id}/therapists",
        Who::OrgMaintainer,
        "/api/v1/organisations/{org}/therapists",
        r#"{"name":"","profession":"","brtn_status":""}"#,
    ),
    (
        "PUT",
        "/api/v1/therapists/{id}",
        Who::OrgMaintainer,
        "/api/v1/therapists/{therapist}",
        r#"{"name":"","profession":"","brtn_status":""}"#,
    ),
    (
        "POST",
        "/api/v1/organisations/{id}/locations",
        Who::OrgMaintainer,
        "/api/v1/organisations/{org}/locations",
        r#"{"name":"","address":"","postcode":"","place":""}"#,
    ),
    (
        "GET",
        "/api/v1/referrals",
        Who::SignedIn,
        "/api/v1/referrals",
        "",
    ),
    (
        "POST",
        "/api/v1/referrals",
        Who::AnyReferrer,
        "/api/v1/referrals",
        r#"{"client_name":""}"#,
    ),
    (
        "POST",
        "/api/v1/self-registrations",
        Who::Anyone,
        "/api/v1/self-registrations",
        r#"{"client_name":""}"#,
    ),
    (
        "GET",
        "/api/v1/referrals/{id}",
        Who::ReferralParties,
        "/api/v1/referrals/{referral}",
        "",
    ),
    (
        "POST",
        "/api/v1/referrals/{id}/invite",
        Who::ReferralHandlers,
        "/api/v1/referrals/{referral}/invite",
        r#"{"intake_at":""}"#,
    ),
    (
        "POST",
        "/api/v1/referrals/{id}/plan-intake",
        Who::ReferralHandlers,
        "/api/v1/referrals/{referral}/plan-intake",
        r#"{"planned_for":""}"#,
    ),
    (
        "POST",
        "/api/v1/referrals/{id}/intake",
        Who::ReferralHandlers,
        "/api/v1/referrals/{referral}/intake",
        r#"{"age":"1"}"#,
    ),
    (
        "POST",
        "/api/v1/referrals/{id}/clearance",
        Who::ReferralHandlers,
        "/api/v1/referrals/{referral}/clearance",
        r#"{"by":"","date":""}"#,
    ),
    (
        "POST",
        "/api/v1/referrals/{id}/decision",
        Who::ReferralHandlers,
        "/api/v1/referrals/{referral}/decision",
        r#"{"decision":""}"#,
    ),
    (
        "POST",
        "/api/v1/referrals/{id}/reassign",
        Who::ReferralCoordinator,
        "/api/v1/referrals/{referral}/reassign",
        r#"{"offering_id":""}"#,
    ),
    (
        "POST",
        "/api/v1/referrals/{id}/erase",
        Who::ReferralCoordinator,
        "/api/v1/referrals/{referral}/erase",
        r#"{"reason":""}"#,
    ),
    (
        "PUT",
        "/api/v1/referrals/{id}/research-objection",
        Who::ReferralHandlers,
        "/api/v1/referrals/{referral}/research-objection",
        r#"{"objects":true}"#,
    ),
    (
        "POST",
        "/locations/{id}",
        Who::OrgMaintainer,
        "/locations/{location}",
        "name=",
    ),
    (
        "PUT",
        "/api/v1/locations/{id}",
        Who::OrgMaintainer,
        "/api/v1/locations/{location}",
        r#"{"name":"","address":"","postcode":"","place":""}"#,
    ),
    (
        "GET",
        "/trajectories/{id}",
        Who::TrajectoryTeam,
        "/trajectories/{trajectory}",
        "",
    ),
    (
        "POST",
        "/trajectories/{id}/weeks/{week}",
        Who::TrajectoryTeam,
        "/trajectories/{trajectory}/weeks/1",
        "kind=walk&sessions=9",
    ),
    (
        "GET",
        "/api/v1/trajectories/{id}",
        Who::TrajectoryTeam,
        "/api/v1/trajectories/{trajectory}",
        "",
    ),
    (
        "PUT",
        "/api/v1/trajectories/{id}/weeks/{week}",
        Who::TrajectoryTeam,
        "/api/v1/trajectories/{trajectory}/weeks/1",
        r#"{"kind":"walk","sessions":"9"}"#,
    ),
    (
        "GET",
        "/offerings/{id}/group",
        Who::GroupTeam,
        "/offerings/{offering}/group",
        "",
    ),
    (
        "POST",
        "/offerings/{id}/slots",
        Who::GroupTeam,
        "/offerings/{offering}/slots",
        "weekday=9",
    ),
    (
        "GET",
        "/sessions/{id}",
        Who::GroupTeam,
        "/sessions/{session}",
        "",
    ),
    (
        "POST",
        "/sessions/{id}/attendance/{trajectory_id}",
        Who::GroupTeam,
        "/sessions/{session}/attendance/{trajectory}",
        "status=x",
    ),
    (
        "POST",
        "/sessions/{id}/cancel",
        Who::GroupTeam,
        "/sessions/{session}/cancel",
        "reason=",
    ),
    (
        "GET",
        "/api/v1/offerings/{id}/group",
        Who::GroupTeam,
        "/api/v1/offerings/{offering}/group",
        "",
    ),
    (
        "POST",
        "/api/v1/offerings/{id}/slots",
        Who::GroupTeam,
        "/api/v1/offerings/{offering}/slots",
        r#"{"weekday":"9","start_time":""}"#,
    ),
    (
        "GET",
        "/api/v1/sessions/{id}",
        Who::GroupTeam,
        "/api/v1/sessions/{session}",
        "",
    ),
    (
        "PUT",
        "/api/v1/sessions/{id}/attendance/{trajectory_id}",
        Who::GroupTeam,
        "/api/v1/sessions/{session}/attendance/{trajectory}",
        r#"{"status":"x"}"#,
    ),
    (
        "POST",
        "/api/v1/sessions/{id}/cancel",
        Who::GroupTeam,
        "/api/v1/sessions/{session}/cancel",
        r#"{"reason":""}"#,
    ),
    (
        "GET",
        "/ical/{token}",
        Who::Anyone,
        "/ical/onbekend.ics",
        "",
    ),
    (
        "POST",
        "/account/calendar",
        Who::SignedIn,
        "/account/calendar",
        "",
    ),
    (
        "POST",
        "/api/v1/calendar-feed",
        Who::SignedIn,
        "/api/v1/calendar-feed",
        "",
    ),
    (
        "POST",
        "/trajectories/{id}/status",
        Who::TrajectoryTeam,
        "/trajectories/{trajectory}/status",
        "action=x",
    ),
    (
        "POST",
        "/api/v1/trajectories/{id}/status",
        Who::TrajectoryTeam,
        "/api/v1/trajectories/{trajectory}/status",
        r#"{"action":"x"}"#,
    ),
    (
        "POST",
        "/trajectories/{id}/messages",
        Who::TrajectoryTeam,
        "/trajectories/{trajectory}/messages",
        "body=Hallo",
    ),
    (
        "GET",
        "/api/v1/trajectories/{id}/messages",
        Who::TrajectoryTeam,
        "/api/v1/trajectories/{trajectory}/messages",
        "",
    ),
    (
        "POST",
        "/api/v1/trajectories/{id}/messages",
        Who::TrajectoryTeam,
        "/api/v1/trajectories/{trajectory}/messages",
        r#"{"body":"Hallo"}"#,
    ),
    (
        "GET",
        "/portal/berichten",
        Who::PortalParticipant,
        "/portal/berichten",
        "",
    ),
    (
        "POST",
        "/portal/berichten",
        Who::PortalParticipant,
        "/portal/berichten",
        "body=Hallo",
    ),
    (
        "GET",
        "/api/v1/portal/messages",
        Who::PortalParticipant,
        "/api/v1/portal/messages",
        "",
    ),
    (
        "POST",
        "/api/v1/portal/messages",
        Who::PortalParticipant,
        "/api/v1/portal/messages",
        r#"{"body":"Hallo"}"#,
    ),
    ("GET", "/portal/login", Who::Anyone, "/portal/login", ""),
    (
        "POST",
        "/portal/login",
        Who::Anyone,
        "/portal/login",
        "email=niemand%40x.nl",
    ),
    (
        "GET",
        "/portal/magic/{token}",
        Who::Anyone,
        "/portal/magic/onbekend",
        "",
    ),
    (
        "POST",
        "/portal/magic/{token}",
        Who::Anyone,
        "/portal/magic/onbekend",
        "",
    ),
    ("GET", "/portal", Who::PortalParticipant, "/portal", ""),
    (
        "POST",
        "/portal/runs",
        Who::PortalParticipant,
        "/portal/runs",
        "minutes=1",
    ),
    ("POST", "/portal/logout", Who::Anyone, "/portal/logout", ""),
    (
        "GET",
        "/vragenlijst/{token}",
        Who::Anyone,
        "/vragenlijst/onbekend",
        "",
    ),
    (
        "POST",
        "/vragenlijst/{token}",
        Who::Anyone,
        "/vragenlijst/onbekend",
        "phq9.phq9_1=1&action=save",
    ),
    (
        "GET",
        "/portal/vragenlijsten/{id}",
        Who::PortalParticipant,
        "/portal/vragenlijsten/{measurement}",
        "",
    ),
    (
        "POST",
        "/portal/vragenlijsten/{id}",
        Who::PortalParticipant,
        "/portal/vragenlijsten/{measurement}",
        "phq9.phq9_1=1&action=save",
    ),
    (
        "POST",
        "/alerts/{id}/acknowledge",
        Who::TrajectoryTeam,
        "/alerts/{alert}/acknowledge",
        "",
    ),
    (
        "GET",
        "/organisations/{id}/questionnaires",
        Who::GroupTeam,
        "/organisations/{org}/questionnaires",
        "",
    ),
    (
        "POST",
        "/organisations/{id}/questionnaires",
        Who::OwnCoordinator,
        "/organisations/{org}/questionnaires",
        "title=Slaap&items=Ik+slaap+goed&scale=0+Nee%0A1+Ja",
    ),
    (
        "POST",
        "/questionnaires/{code}/active",
        Who::OwnCoordinator,
        "/questionnaires/eigen_authz/active",
        "active=1",
    ),
    (
        "PUT",
        "/api/v1/questionnaires/{code}/active",
        Who::OwnCoordinator,
        "/api/v1/questionnaires/eigen_authz/active",
        r#"{"active":true}"#,
    ),
    (
        "GET",
        "/offerings/{id}/measurement",
        Who::GroupTeam,
        "/offerings/{offering}/measurement",
        "",
    ),
    (
        "POST",
        "/offerings/{id}/measurement",
        Who::GroupTeam,
        "/offerings/{offering}/measurement",
        "points=baseline%2Cweek5%2Cweek10%2Cend%2Cfollowup3%2Cfollowup6&instruments=phq9%2Cgad7%2Cwho5",
    ),
    (
        "GET",
        "/api/v1/questionnaire/{token}",
        Who::Anyone,
        "/api/v1/questionnaire/onbekend",
        "",
    ),
    (
        "PUT",
        "/api/v1/questionnaire/{token}",
        Who::Anyone,
        "/api/v1/questionnaire/onbekend",
        r#"{"answers":{}}"#,
    ),
    (
        "GET",
        "/api/v1/portal/measurements/{id}",
        Who::PortalParticipant,
        "/api/v1/portal/measurements/{measurement}",
        "",
    ),
    (
        "PUT",
        "/api/v1/portal/measurements/{id}",
        Who::PortalParticipant,
        "/api/v1/portal/measurements/{measurement}",
        r#"{"answers":{}}"#,
    ),
    (
        "GET",
        "/api/v1/trajectories/{id}/measurements",
        Who::TrajectoryTeam,
        "/api/v1/trajectories/{trajectory}/measurements",
        "",
    ),
    ("GET", "/api/v1/alerts", Who::SignedIn, "/api/v1/alerts", ""),
    (
        "POST",
        "/api/v1/alerts/{id}/acknowledge",
        Who::TrajectoryTeam,
        "/api/v1/alerts/{alert}/acknowledge",
        "",
    ),
    (
        "GET",
        "/api/v1/organisations/{id}/questionnaires",
        Who::GroupTeam,
        "/api/v1/organisations/{org}/questionnaires",
        "",
    ),
    (
        "POST",
        "/api/v1/organisations/{id}/questionnaires",
        Who::OwnCoordinator,
        "/api/v1/organisations/{org}/questionnaires",
        r#"{"title":"Slaap","items":"Ik slaap goed","scale":"0 Nee\n1 Ja"}"#,
    ),
    (
        "GET",
        "/api/v1/instruments/{code}",
        Who::SignedIn,
        "/api/v1/instruments/phq9",
        "",
    ),
    (
        "GET",
        "/api/v1/offerings/{id}/measurement",
        Who::GroupTeam,
        "/api/v1/offerings/{offering}/measurement",
        "",
    ),
    (
        "PUT",
        "/api/v1/offerings/{id}/measurement",
        Who::GroupTeam,
        "/api/v1/offerings/{offering}/measurement",
        r#"{"points":"baseline,week5,week10,end,followup3,followup6","instruments":"phq9,gad7,who5"}"#,
    ),
    (
        "POST",
        "/portal/calendar",
        Who::PortalParticipant,
        "/portal/calendar",
        "",
    ),
    (
        "POST",
        "/api/v1/portal/link",
        Who::Anyone,
        "/api/v1/portal/link",
        r#"{"email":"niemand@example.nl"}"#,
    ),
    (
        "POST",
        "/api/v1/portal/session",
        Who::Anyone,
        "/api/v1/portal/session",
        r#"{"token":"onbekend"}"#,
    ),
    (
        "DELETE",
        "/api/v1/portal/session",
        Who::PortalParticipant,
        "/api/v1/portal/session",
        "",
    ),
    (
        "GET",
        "/api/v1/portal",
        Who::PortalParticipant,
        "/api/v1/portal",
        "",
    ),
    (
        "POST",
        "/api/v1/portal/runs",
        Who::PortalParticipant,
        "/api/v1/portal/runs",
        r#"{"date":"2026-11-20","minutes":"20"}"#,
    ),
    (
        "POST",
        "/api/v1/portal/runs/upload",
        Who::PortalParticipant,
        "/api/v1/portal/runs/upload?name=a.gpx",
        "",
    ),
    (
        "POST",
        "/api/v1/portal/calendar-feed",
        Who::PortalParticipant,
        "/api/v1/portal/calendar-feed",
        "",
    ),
    (
        "GET",
        "/portal/export",
        Who::PortalParticipant,
        "/portal/export",
        "",
    ),
    (
        "GET",
        "/api/v1/portal/export",
        Who::PortalParticipant,
        "/api/v1/portal/export",
        "",
    ),
    (
        "GET",
        "/portal/lang/{code}",
        Who::Anyone,
        "/portal/lang/en",
        "",
    ),
    (
        "PUT",
        "/api/v1/portal/language",
        Who::PortalParticipant,
        "/api/v1/portal/language",
        r#"{"lang":"en"}"#,
    ),
    (
        "GET",
        "/api/v1/portal/research-objection",
        Who::PortalParticipant,
        "/api/v1/portal/research-objection",
        "",
    ),
    (
        "PUT",
        "/api/v1/portal/research-objection",
        Who::PortalParticipant,
        "/api/v1/portal/research-objection",
        r#"{"objects":true}"#,
    ),
    (
        "GET",
        "/portal/onderzoek",
        Who::PortalParticipant,
        "/portal/onderzoek",
        "",
    ),
    (
        "POST",
        "/portal/onderzoek",
        Who::PortalParticipant,
        "/portal/onderzoek",
        "objects=yes",
    ),
    (
        "POST",
        "/portal/runs/upload",
        Who::PortalParticipant,
        "/portal/runs/upload",
        "file=",
    ),
    (
        "POST",
        "/trajectories/{id}/feedback",
        Who::TrajectoryTeam,
        "/trajectories/{trajectory}/feedback",
        "kind=end",
    ),
    (
        "GET",
        "/feedback/{id}",
        Who::TrajectoryTeam,
        "/feedback/{feedback}",
        "",
    ),
    (
        "POST",
        "/feedback/{id}",
        Who::TrajectoryTeam,
        "/feedback/{feedback}",
        "summary=Goed&action=save",
    ),
    (
        "GET",
        "/feedback/{id}/pdf",
        Who::TrajectoryTeam,
        "/feedback/{feedback}/pdf",
        "",
    ),
    (
        "GET",
        "/api/v1/feedback/{id}/pdf",
        Who::TrajectoryTeam,
        "/api/v1/feedback/{feedback}/pdf",
        "",
    ),
    (
        "GET",
        "/trajectories/{id}/fhir",
        Who::TrajectoryTeam,
        "/trajectories/{trajectory}/fhir",
        "",
    ),
    ("GET", "/reports", Who::ReportReader, "/reports", ""),
    (
        "GET",
        "/reports/export.csv",
        Who::ReportReader,
        "/reports/export.csv",
        "",
    ),
    (
        "GET",
        "/reports/export.xlsx",
        Who::ReportReader,
        "/reports/export.xlsx",
        "",
    ),
    (
        "POST",
        "/api/v1/trajectories/{id}/feedback",
        Who::TrajectoryTeam,
        "/api/v1/trajectories/{trajectory}/feedback",
        r#"{"kind":"end"}"#,
    ),
    (
        "GET",
        "/api/v1/feedback/{id}",
        Who::TrajectoryTeam,
        "/api/v1/feedback/{feedback}",
        "",
    ),
    (
        "PUT",
        "/api/v1/feedback/{id}",
        Who::TrajectoryTeam,
        "/api/v1/feedback/{feedback}",
        r#"{"summary":"Goed","advice":""}"#,
    ),
    (
        "GET",
        "/api/v1/trajectories/{id}/fhir",
        Who::TrajectoryTeam,
        "/api/v1/trajectories/{trajectory}/fhir",
        "",
    ),
    (
        "GET",
        "/api/v1/reports/impact",
        Who::CoordinatorOrFunder,
        "/api/v1/reports/impact?org={org}",
        "",
    ),
    (
        "GET",
        "/reports/research",
        Who::Coordinator,
        "/reports/research",
        "",
    ),
    (
        "POST",
        "/reports/research",
        Who::OwnCoordinator,
        "/reports/research",
        "org={org}&study=AUTHZ&purpose=Evaluatie+van+het+effect",
    ),
    (
        "POST",
        "/api/v1/research/export",
        Who::OwnCoordinator,
        "/api/v1/research/export",
        r#"{"org":"{org}","study":"AUTHZ","purpose":"Evaluatie van het effect"}"#,
    ),
    (
        "GET",
        "/funding",
        Who::OwnCoordinator,
        "/funding?org={org}",
        "",
    ),
    (
        "POST",
        "/funding/payers",
        Who::OwnCoordinator,
        "/funding/payers",
        "org={org}&kind=insurer&name=Zuiderzee",
    ),
    (
        "POST",
        "/funding/payers/{id}/contracts",
        Who::OwnCoordinator,
        "/funding/payers/{payer}/contracts",
        "org={org}&name=Module&valid_from=2026-01-01&tariff_intake=12",
    ),
    (
        "POST",
        "/funding/payers/{id}",
        Who::OwnCoordinator,
        "/funding/payers/{payer}",
        "org={org}&name=Zuiderzee&reference=UZOVI+3399",
    ),
    (
        "POST",
        "/funding/contracts/{id}/end",
        Who::OwnCoordinator,
        "/funding/contracts/{contract}/end",
        "org={org}&valid_to=2099-12-31",
    ),
    (
        "GET",
        "/funding/budgets",
        Who::CoordinatorOrFunder,
        "/funding/budgets?org={org}",
        "",
    ),
    (
        "POST",
        "/trajectories/{id}/funding",
        Who::TrajectoryTeam,
        "/trajectories/{trajectory}/funding",
        "contract={contract}",
    ),
    (
        "GET",
        "/invoices",
        Who::CoordinatorOrFunder,
        "/invoices?org={org}",
        "",
    ),
    (
        "POST",
        "/invoices",
        Who::OwnCoordinator,
        "/invoices",
        "org={org}&payer_id={payer}&from=2026-01-01&to=2027-12-31",
    ),
    (
        "GET",
        "/invoices/export.csv",
        Who::CoordinatorOrFunder,
        "/invoices/export.csv?org={org}",
        "",
    ),
    (
        "GET",
        "/invoices/{id}",
        Who::InvoiceManager,
        "/invoices/{invoice}",
        "",
    ),
    (
        "GET",
        "/invoices/{id}/pdf",
        Who::InvoiceManager,
        "/invoices/{invoice}/pdf",
        "",
    ),
    (
        "GET",
        "/api/v1/payers",
        Who::OwnCoordinator,
        "/api/v1/payers?org={org}",
        "",
    ),
    (
        "POST",
        "/api/v1/payers",
        Who::OwnCoordinator,
        "/api/v1/payers",
        r#"{"org":"{org}","kind":"insurer","name":"Zuiderzee"}"#,
    ),
    (
        "POST",
        "/api/v1/payers/{id}/contracts",
        Who::OwnCoordinator,
        "/api/v1/payers/{payer}/contracts",
        r#"{"name":"Module","valid_from":"2026-01-01","tariffs":{"intake":"12"}}"#,
    ),
    (
        "PUT",
        "/api/v1/payers/{id}",
        Who::OwnCoordinator,
        "/api/v1/payers/{payer}",
        r#"{"name":"Zuiderzee","reference":"UZOVI 3399"}"#,
    ),
    (
        "POST",
        "/api/v1/contracts/{id}/end",
        Who::OwnCoordinator,
        "/api/v1/contracts/{contract}/end",
        r#"{"valid_to":"2099-12-31"}"#,
    ),
    (
        "GET",
        "/api/v1/trajectories/{id}/funding",
        Who::TrajectoryTeam,
        "/api/v1/trajectories/{trajectory}/funding",
        "",
    ),
    (
        "PUT",
        "/api/v1/trajectories/{id}/funding",
        Who::TrajectoryTeam,
        "/api/v1/trajectories/{trajectory}/funding",
        r#"{"contracts":["{contract}"]}"#,
    ),
    (
        "GET",
        "/api/v1/invoices",
        Who::CoordinatorOrFunder,
        "/api/v1/invoices?org={org}",
        "",
    ),
    (
        "POST",
        "/api/v1/invoices",
        Who::OwnCoordinator,
        "/api/v1/invoices",
        r#"{"org":"{org}","payer_id":"{payer}","from":"2026-01-01","to":"2027-12-31"}"#,
    ),
    (
        "GET",
        "/api/v1/invoices/export.csv",
        Who::CoordinatorOrFunder,
        "/api/v1/invoices/export.csv?org={org}",
        "",
    ),
    (
        "GET",
        "/api/v1/invoices/{id}",
        Who::InvoiceManager,
        "/api/v1/invoices/{invoice}",
        "",
    ),
    (
        "GET",
        "/api/v1/invoices/{id}/pdf",
        Who::InvoiceManager,
        "/api/v1/invoices/{invoice}/pdf",
        "",
    ),
    (
        "GET",
        "/api/v1/budgets",
        Who::CoordinatorOrFunder,
        "/api/v1/budgets?org={org}",
        "",
    ),
    // An invoice's changes in the order they can happen: sent, paid, credited; a sent
    // invoice is no longer deleted (409, still allowed for its coordinator).
    (
        "POST",
        "/invoices/{id}/send",
        Who::InvoiceManager,
        "/invoices/{invoice}/send",
        "",
    ),
    (
        "POST",
        "/api/v1/invoices/{id}/send",
        Who::InvoiceManager,
        "/api/v1/invoices/{invoice}/send",
        "",
    ),
    (
        "POST",
        "/invoices/{id}/paid",
        Who::InvoiceManager,
        "/invoices/{invoice}/paid",
        "",
    ),
    (
        "POST",
        "/api/v1/invoices/{id}/paid",
        Who::InvoiceManager,
        "/api/v1/invoices/{invoice}/paid",
        "",
    ),
    (
        "POST",
        "/invoices/{id}/credit",
        Who::InvoiceManager,
        "/invoices/{invoice}/credit",
        "",
    ),
    (
        "POST",
        "/api/v1/invoices/{id}/credit",
        Who::InvoiceManager,
        "/api/v1/invoices/{invoice}/credit",
        "",
    ),
    (
        "POST",
        "/invoices/{id}/delete",
        Who::InvoiceManager,
        "/invoices/{invoice}/delete",
        "",
    ),
    (
        "DELETE",
        "/api/v1/invoices/{id}",
        Who::InvoiceManager,
        "/api/v1/invoices/{invoice}",
        "",
    ),
    // Sending comes last: once sent, the referrer may read the report.
    (
        "POST",
        "/api/v1/feedback/{id}/send",
        Who::TrajectoryTeam,
        "/api/v1/feedback/{feedback}/send",
        r#"{"summary":"Goed","advice":""}"#,
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
        Who::Anyone | Who::Scraper => true,
        Who::CodeStep => false,
        Who::SignedIn => actor != Actor::Anonymous,
        Who::Admin => actor == Actor::Admin,
        Who::OrgCoordinator => matches!(actor, Actor::Coordinator | Actor::Admin),
        Who::AnyCoordinator => matches!(
            actor,
            Actor::Coordinator | Actor::OtherCoordinator | Actor::Admin
        ),
        Who::OrgMaintainer => matches!(actor, Actor::Coordinator | Actor::Therapist | Actor::Admin),
        Who::AnyReferrer => matches!(
            actor,
            Actor::Referrer | Actor::Coordinator | Actor::OtherCoordinator
        ),
        Who::ReferralParties => matches!(
            actor,
            Actor::Referrer | Actor::Therapist | Actor::Coordinator
        ),
        Who::ReferralHandlers => matches!(actor, Actor::Therapist | Actor::Coordinator),
        Who::ReferralCoordinator => actor == Actor::Coordinator,
        Who::TrajectoryTeam => matches!(actor, Actor::Therapist | Actor::Coordinator),
        Who::GroupTeam => matches!(actor, Actor::Therapist | Actor::Coordinator),
        Who::OwnCoordinator => actor == Actor::Coordinator,
        Who::ReportReader => matches!(
            actor,
            Actor::Coordinator | Actor::OtherCoordinator | Actor::Funder
        ),
        Who::Coordinator => matches!(actor, Actor::Coordinator | Actor::OtherCoordinator),
        Who::CoordinatorOrFunder => matches!(actor, Actor::Coordinator | Actor::Funder),
        Who::InvoiceManager => actor == Actor::Coordinator,
        Who::PortalParticipant => false,
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
    let (therapist, offering) =
        offering_in(&app, &org, &users[4].1.as_ref().expect("therapist").id).await;
    let location_id = {
        let mut c = app.conn().await;
        duurloop::store::directory::locations_of(&mut c, &org)
            .await
            .expect("locations")[0]
            .id
            .clone()
    };
    let trajectory = trajectory_for(
        &app,
        &offering,
        users[3].1.as_ref().expect("referrer"),
        users[4].1.as_ref().expect("therapist"),
    )
    .await;
    let session = first_session(&app, &offering, users[4].1.as_ref().expect("therapist")).await;
    let referral = referral_to(&app, &offering, users[3].1.as_ref().expect("referrer")).await;
    let (measurement, alert) = {
        let mut c = app.conn().await;
        let m = duurloop::store::measure::of_trajectory(&mut c, &trajectory)
            .await
            .expect("measurements")[0]
            .id
            .clone();
        duurloop::store::measure::insert_alert(&mut c, &m, &trajectory, "phq9", "phq9_9", 1, 0)
            .await
            .expect("alert");
        let a = duurloop::store::measure::alerts_of(&mut c, &trajectory)
            .await
            .expect("alerts")[0]
            .id
            .clone();
        duurloop::store::measure::insert_questionnaire(
            &mut c,
            "eigen_authz",
            &org,
            &serde_json::to_string(
                &duurloop_domain::measure::custom(
                    "eigen_authz",
                    "Slaap",
                    &[("Ik slaap goed".to_string(), false)],
                    &[(0, "Nee".to_string()), (1, "Ja".to_string())],
                    false,
                    None,
                )
                .expect("definition"),
            )
            .expect("json"),
            &users[6].1.as_ref().expect("coordinator").id,
            0,
        )
        .await
        .expect("questionnaire");
        (m, a)
    };
    let feedback = {
        let mut c = app.conn().await;
        duurloop::store::feedback::get_or_create(
            &mut c,
            &trajectory,
            "end",
            &users[4].1.as_ref().expect("therapist").id,
            0,
        )
        .await
        .expect("feedback")
        .id
    };
    // A payer with a contract and a draft invoice of the organisation (written directly:
    // the draft needs no events to exist).
    let (payer, contract, invoice) = {
        use duurloop::store::funding as f;
        let mut c = app.conn().await;
        let payer = f::insert_payer(
            &mut c,
            &f::NewPayer {
                org_id: &org,
                kind: "insurer",
                name: "Zuiderzee",
                funder_org_id: None,
                reference: "",
                address: "",
                email: "",
            },
            0,
        )
        .await
        .expect("payer");
        let contract = f::insert_contract(
            &mut c,
            &f::NewContract {
                payer_id: &payer,
                name: "Module",
                valid_from: "2026-01-01",
                valid_to: None,
                max_sessions: None,
                max_weeks: None,
                budget_cents: Some(10_000),
                tariffs: &[("group_session", 1_500)],
            },
            0,
        )
        .await
        .expect("contract");
        let invoice = f::insert_invoice(
            &mut c,
            &f::NewInvoice {
                org_id: &org,
                payer_id: &payer,
                kind: "invoice",
                credits_id: None,
                number: None,
                period_from: "2026-01-01",
                period_to: "2026-01-31",
                status: "draft",
                created_by: &users[6].1.as_ref().expect("coordinator").id,
                sent_at: None,
            },
            &[f::NewLine {
                event_key: "authz:1",
                trajectory_id: &trajectory,
                contract_id: &contract,
                service_date: "2026-01-13",
                service: "group_session",
                reference: "DL-AUTHZ",
                cents: 1_500,
            }],
            true,
            0,
        )
        .await
        .expect("invoice")
        .expect("claimed");
        (payer, contract, invoice)
    };
    let mut failures = Vec::new();
    for (method, pattern, who, path, body) in TABLE {
        let fill = |s: &str| {
            s.replace("{org}", &org)
                .replace("{offering}", &offering)
                .replace("{therapist}", &therapist)
                .replace("{location}", &location_id)
                .replace("{trajectory}", &trajectory)
                .replace("{session}", &session)
                .replace("{referral}", &referral)
                .replace("{measurement}", &measurement)
                .replace("{alert}", &alert)
                .replace("{feedback}", &feedback)
                .replace("{payer}", &payer)
                .replace("{contract}", &contract)
                .replace("{invoice}", &invoice)
        };
        let path = fill(path);
        let body = fill(body);
        let body = body.as_str();
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
            // For referrals a stranger gets 404: the referral does not exist for them.
            let hidden = status == StatusCode::NOT_FOUND
                && matches!(
                    who,
                    Who::ReferralParties
                        | Who::ReferralHandlers
                        | Who::ReferralCoordinator
                        | Who::TrajectoryTeam
                        | Who::InvoiceManager
                );
            let to_portal_login = status == StatusCode::SEE_OTHER
                && loc == "/portal/login"
                && *who == Who::PortalParticipant;
            let denied = to_portal_login
                || status == StatusCode::UNAUTHORIZED && *pattern != "/login"
                || status == StatusCode::FORBIDDEN
                || sent_to_login
                || hidden;
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

/// Refusals that come before any record is read are audit-logged as denied too (ASVS 7.2.2):
/// a role check on a page and in the API, a form without its CSRF token and a `read` token's
/// write, each with the route pattern and the refusal's code. Nobody's anonymous refusal is
/// logged. (A refusal that an action logs itself is not logged twice: the group test above
/// counts its entries exactly.) The refused form now gets the error page, not an empty 403.
#[tokio::test]
async fn refusals_before_any_record_is_read_are_audit_logged_as_denied() {
    let app = TestApp::spawn().await;
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let therapist = app
        .user("poh@x.example", false, &[(&org, Role::Therapist)], true)
        .await;
    let admin = app.user("beheer@x.example", true, &[], true).await;

    let browser = app.session_for(&therapist).await;
    let r = app.get(&browser, "/audit/integrity").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "an administrator's page");
    let full = app.api_token(&therapist).await;
    let r = app
        .api(&full, Method::GET, "/api/v1/audit/integrity")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "and its API");
    let read = app
        .api_token_with(&therapist, duurloop_domain::access::TokenScope::Read)
        .await;
    let r = app
        .api(&read, Method::DELETE, "/api/v1/tokens/elders")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a read token's write");

    let admin_browser = app.session_for(&admin).await;
    let r = admin_browser
        .post(app.url("/admin/organisations"))
        .form(&[("name", "Zonder token"), ("kind", "employer")])
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.expect("body");
    assert!(
        page.contains("Dit formulier is verlopen"),
        "the refused form explains itself: {page}"
    );
    // Without a session or a token there is nobody to attribute: no entry.
    let r = Client::new()
        .post(app.url("/admin/organisations"))
        .form(&[("name", "Anoniem"), ("kind", "employer")])
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let mut seen: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT actor_user_id, action, record_type, record_id, reason FROM audit_log \
         WHERE outcome = 'denied'",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .expect("audit");
    seen.sort();
    let entry = |who: &TestUser, action: &str, route: &str, code: &str| {
        (
            who.id.clone(),
            action.to_string(),
            "route".to_string(),
            route.to_string(),
            code.to_string(),
        )
    };
    let mut expected = vec![
        entry(&therapist, "read", "/audit/integrity", "forbidden"),
        entry(&therapist, "read", "/api/v1/audit/integrity", "forbidden"),
        entry(
            &therapist,
            "delete",
            "/api/v1/tokens/{id}",
            "read-only-token",
        ),
        entry(&admin, "update", "/admin/organisations", "csrf"),
    ];
    expected.sort();
    assert_eq!(seen, expected);

    let r = app.get(&admin_browser, "/audit").await;
    let page = r.text().await.expect("body");
    assert!(
        page.contains("adres (pagina of API)")
            && page.contains("<code>/audit/integrity</code>")
            && page.contains("<span class=\"help audit-reason\">read-only-token</span>"),
        "the administrator finds the refusals on the audit page, with their reasons"
    );
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
        .html(&client, &format!("/audit?person={}", member.id))
        .await;
    assert!(html.contains("gewijzigd"), "the action, in Dutch: {html}");
    assert!(html.contains("lidmaatschap"));
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

/// Medi-Stad, a GP practice with a therapist (`poh@`), a referrer (`huisarts@`), both with a
/// second factor, and the therapist's listed offering: where most trajectory tests start.
pub struct Practice {
    pub org: String,
    pub therapist: TestUser,
    pub referrer: TestUser,
    pub offering: String,
}

pub async fn medi_stad(app: &TestApp) -> Practice {
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let therapist = app
        .user(
            "poh@medi-stad.example",
            false,
            &[(&org, Role::Therapist)],
            true,
        )
        .await;
    let referrer = app
        .user(
            "huisarts@medi-stad.example",
            false,
            &[(&org, Role::Referrer)],
            true,
        )
        .await;
    let (_, offering) = offering_in(app, &org, &therapist.id).await;
    Practice {
        org,
        therapist,
        referrer,
        offering,
    }
}

/// A therapist profile linked to `therapist_user`, a location and a listed offering in `org`.
pub async fn offering_in(app: &TestApp, org: &str, therapist_user: &str) -> (String, String) {
    use duurloop::store::directory as dir;
    let now = app.state.now();
    let mut c = app.conn().await;
    let t = dir::insert_therapist(
        &mut c,
        &dir::TherapistInput {
            org_id: org,
            user_id: Some(therapist_user),
            name: "Marieke",
            profession: "POH-GGZ",
            brtn_number: "BRTN-1",
            brtn_status: "registered",
        },
        now,
    )
    .await
    .expect("therapist");
    let l = dir::insert_location(
        &mut c,
        &dir::LocationInput {
            org_id: org,
            name: "Praktijk",
            address: "Agorabaan 12",
            postcode: "8232 AB",
            place: "Lelystad",
            lat_e6: 52_507_600,
            lon_e6: 5_469_400,
        },
        now,
    )
    .await
    .expect("location");
    let o = dir::insert_offering(
        &mut c,
        &dir::OfferingInput {
            org_id: org,
            therapist_id: &t,
            location_id: &l,
            title: "Dinsdaggroep",
            kind: "running_group",
            description: "",
            schedule: "dinsdag 19:00",
            weekdays: ",2,",
            start_date: "2027-01-12",
            weeks: 12,
            capacity: 8,
            funding: ",insurer,",
            indications: ",stress,",
            price_cents: 0,
        },
        true,
        now,
    )
    .await
    .expect("offering");
    (t, o)
}

/// Jan Jansen's referral as a form or API call carries it (stress, motivated, insurer route,
/// consent given), without a destination: set `offering_id` or `region_org_id`.
pub fn jan() -> duurloop::app::referrals::ReferralInput {
    duurloop::app::referrals::ReferralInput {
        client_name: "Jan Jansen".into(),
        client_email: "jan@example.nl".into(),
        indications: vec!["stress".into()],
        motivation: "high".into(),
        funding_route: "insurer".into(),
        consent: "yes".into(),
        ..Default::default()
    }
}

/// A referral by `referrer`, made through the real action; its id.
pub async fn refer_as(
    app: &TestApp,
    referrer: &TestUser,
    input: &duurloop::app::referrals::ReferralInput,
) -> String {
    let identity =
        duurloop::app::auth::identity(&app.state, &referrer.id, duurloop::app::AuthVia::ApiToken)
            .await
            .expect("identity")
            .expect("exists");
    let actor = duurloop::app::Actor {
        identity,
        ctx: Default::default(),
    };
    duurloop::app::referrals::refer(&app.state, &actor, input)
        .await
        .expect("referral")
        .id
}

/// A referral by `referrer` to `offering`, made through the real action.
pub async fn referral_to(app: &TestApp, offering: &str, referrer: &TestUser) -> String {
    let input = duurloop::app::referrals::ReferralInput {
        offering_id: offering.to_string(),
        ..jan()
    };
    refer_as(app, referrer, &input).await
}

/// An accepted referral's trajectory: referred, intake with a clear screen (resting heart
/// rate 60, age 40), accepted by the therapist — all through the real actions.
pub async fn trajectory_for(
    app: &TestApp,
    offering: &str,
    referrer: &TestUser,
    therapist: &TestUser,
) -> String {
    use duurloop::app::{Actor, AuthVia, auth, referrals};
    let id = referral_to(app, offering, referrer).await;
    let identity = auth::identity(&app.state, &therapist.id, AuthVia::ApiToken)
        .await
        .expect("identity")
        .expect("exists");
    let actor = Actor {
        identity,
        ctx: Default::default(),
    };
    referrals::plan_intake(&app.state, &actor, &id, "maandag 10:00")
        .await
        .expect("plan");
    let screen = duurloop::app::referrals::screen_questions()
        .into_iter()
        .map(|q| (q.to_string(), "no".to_string()))
        .collect();
    let intake = referrals::IntakeInput {
        screen,
        resting_hr: "60".into(),
        age: "40".into(),
        ..Default::default()
    };
    referrals::record_intake(&app.state, &actor, &id, &intake)
        .await
        .expect("intake");
    let decision = referrals::DecisionInput {
        decision: "accept".into(),
        reason: String::new(),
        start_level: "walker".into(),
    };
    referrals::decide(&app.state, &actor, &id, &decision)
        .await
        .expect("accept");
    duurloop::app::trajectories::for_referral(&app.state, &id)
        .await
        .expect("lookup")
        .expect("a trajectory was started")
}

/// Adds a Tuesday 19:00 slot to the offering (through the real action) and returns the first
/// generated session.
pub async fn first_session(app: &TestApp, offering: &str, therapist: &TestUser) -> String {
    use duurloop::app::{Actor, AuthVia, auth, groups};
    let identity = auth::identity(&app.state, &therapist.id, AuthVia::ApiToken)
        .await
        .expect("identity")
        .expect("exists");
    let actor = Actor {
        identity,
        ctx: Default::default(),
    };
    let input = groups::SlotInput {
        weekday: "2".into(),
        start_time: "19:00".into(),
        duration_min: String::new(),
    };
    groups::add_slot(&app.state, &actor, offering, &input)
        .await
        .expect("slot");
    let mut c = app.conn().await;
    duurloop::store::groups::sessions(&mut c, offering)
        .await
        .expect("sessions")[0]
        .id
        .clone()
}

/// Refused looks at and changes of a participant's data are audit-logged with outcome
/// `denied` (ASVS 7.2.2): a therapist of another organisation gets the same 404 as for a
/// trajectory that does not exist, on the page and over the API, for the trajectory, its plan
/// and status, messages, questionnaire results and FHIR export; a decision on its referral by
/// the stranger (404) or the referrer (403) is refused too; a coordinator elsewhere gets 403
/// on the research export. Each refusal names who, the action, the record and its
/// organisation, and nothing about the participant; the organisation's coordinator finds
/// them in its audit log.
#[tokio::test]
async fn refused_looks_at_and_changes_of_a_trajectory_are_audit_logged_as_denied() {
    let app = TestApp::spawn().await;
    let Practice {
        org,
        therapist,
        referrer,
        offering,
    } = medi_stad(&app).await;
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let (zuid, stranger) = stranger_therapist(&app).await;
    let browser = app.session_for(&stranger).await;
    let r = app
        .get(&browser, &format!("/trajectories/{trajectory}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "as before");
    let token = app.api_token(&stranger).await;
    let t = format!("/api/v1/trajectories/{trajectory}");
    let attempts = [
        (Method::GET, t.clone(), None),
        (
            Method::PUT,
            format!("{t}/weeks/1"),
            Some(serde_json::json!({"kind": "walk", "sessions": "2", "minutes": "20"})),
        ),
        (
            Method::POST,
            format!("{t}/status"),
            Some(serde_json::json!({"action": "start"})),
        ),
        (Method::GET, format!("{t}/messages"), None),
        (Method::GET, format!("{t}/measurements"), None),
        (Method::GET, format!("{t}/fhir"), None),
    ];
    refused_all(&app, &token, attempts, StatusCode::NOT_FOUND).await;
    // The referral behind it: a change by the referrer (403) or a stranger (404) is refused
    // and logged too.
    let (referral,): (String,) =
        sqlx::query_as("SELECT referral_id FROM trajectories WHERE id = $1")
            .bind(&trajectory)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("referral");
    let decision = format!("/api/v1/referrals/{referral}/decision");
    let not_suitable = serde_json::json!({"decision": "not_suitable", "reason": "geen tijd"});
    for (who, status) in [
        (&token, StatusCode::NOT_FOUND),
        (&app.api_token(&referrer).await, StatusCode::FORBIDDEN),
    ] {
        let r = app
            .api(who, Method::POST, &decision)
            .json(&not_suitable)
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), status);
    }
    // A trajectory that does not exist is no access-control failure: nothing is logged.
    let r = app
        .api(&token, Method::GET, "/api/v1/trajectories/bestaat-niet")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let elsewhere = app
        .user(
            "coord@zuid.example",
            false,
            &[(&zuid, Role::Coordinator)],
            true,
        )
        .await;
    let r = app
        .api(
            &app.api_token(&elsewhere).await,
            Method::POST,
            "/api/v1/research/export",
        )
        .json(&serde_json::json!({"org": org, "study": "LOOP-1", "purpose": "Effect van hardlopen op stemming", "format": "csv"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let denied: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT actor_user_id, action, record_type, record_id, org_id FROM audit_log \
         WHERE outcome = 'denied' AND record_type <> 'referral' ORDER BY at, action, record_type",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .expect("audit");
    let mut seen: Vec<(&str, &str, &str, &str)> = denied
        .iter()
        .map(|(who, action, kind, record, org_id)| {
            assert_eq!(org_id.as_deref(), Some(org.as_str()), "{action} {kind}");
            (
                who.as_str(),
                action.as_str(),
                kind.as_str(),
                record.as_str(),
            )
        })
        .collect();
    seen.sort();
    let s = stranger.id.as_str();
    let e = elsewhere.id.as_str();
    let tr = trajectory.as_str();
    let mut expected = vec![
        (s, "read", "trajectory", tr),
        (s, "read", "trajectory", tr),
        (s, "update", "plan", tr),
        (s, "update", "trajectory", tr),
        (s, "read", "messages", tr),
        (s, "read", "measurement", tr),
        (s, "export", "trajectory", tr),
        (e, "export", "research_export", org.as_str()),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    let (leaks,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE outcome = 'denied' \
         AND (reason IS NOT NULL OR subject_user_id IS NOT NULL)",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    assert_eq!(leaks, 0, "nothing about the participant");
    let refused_decisions: Vec<(String,)> = sqlx::query_as(
        "SELECT actor_user_id FROM audit_log WHERE outcome = 'denied' AND action = 'update' \
         AND record_type = 'referral' AND record_id = $1 AND org_id = $2 ORDER BY actor_user_id",
    )
    .bind(&referral)
    .bind(&org)
    .fetch_all(&app.state.db.pool)
    .await
    .expect("audit");
    let mut expected = vec![(stranger.id.clone(),), (referrer.id.clone(),)];
    expected.sort();
    assert_eq!(refused_decisions, expected);

    // The practice's coordinator sees who tried.
    let coordinator = app
        .user(
            "coord@medi-stad.example",
            false,
            &[(&org, Role::Coordinator)],
            true,
        )
        .await;
    let log = app
        .get_json(
            &app.api_token(&coordinator).await,
            &format!("/api/v1/audit?org={org}&record={trajectory}"),
        )
        .await;
    let refusals = log
        .as_array()
        .expect("rows")
        .iter()
        .filter(|row| row["outcome"] == "denied" && row["actor_user_id"] == stranger.id)
        .count();
    assert_eq!(refusals, 7, "{log}");
    // The team itself is not refused.
    let own = app.api_token(&therapist).await;
    let r = app.api(&own, Method::GET, &t).send().await.expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.audit_count_of("read", "trajectory", &trajectory).await,
        3,
        "two refused looks and the therapist's"
    );
}

/// A therapist of another practice, "Loopgroep Zuid" (its id and the therapist).
async fn stranger_therapist(app: &TestApp) -> (String, TestUser) {
    let zuid = app.org("Loopgroep Zuid", OrgKind::TherapistPractice).await;
    let stranger = app
        .user(
            "therapeut@zuid.example",
            false,
            &[(&zuid, Role::Therapist)],
            true,
        )
        .await;
    (zuid, stranger)
}

/// Sends each API request (method, path, JSON body) with `token`; each must get `status`.
async fn refused_all(
    app: &TestApp,
    token: &str,
    attempts: impl IntoIterator<Item = (Method, String, Option<serde_json::Value>)>,
    status: StatusCode,
) {
    for (method, path, body) in attempts {
        let mut req = app.api(token, method.clone(), &path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("req");
        assert_eq!(r.status(), status, "{method} {path}");
    }
}

/// A group and its sessions (participants' names, attendance) are the offering team's: anyone
/// else is refused, and the refusal is audit-logged as denied with the offering or session and
/// its organisation (ASVS 7.2.2).
#[tokio::test]
async fn refused_looks_at_and_changes_of_a_group_are_audit_logged_as_denied() {
    let app = TestApp::spawn().await;
    let Practice {
        org,
        therapist,
        referrer,
        offering,
    } = medi_stad(&app).await;
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let team = app.api_token(&therapist).await;
    let r = app
        .api(
            &team,
            Method::POST,
            &format!("/api/v1/offerings/{offering}/slots"),
        )
        .json(&serde_json::json!({"weekday": "2", "start_time": "19:00"}))
        .send()
        .await
        .expect("req");
    assert!(r.status().is_success(), "slot: {}", r.status());
    let (session,): (String,) =
        sqlx::query_as("SELECT id FROM group_sessions WHERE offering_id = $1 LIMIT 1")
            .bind(&offering)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("a session");
    let (_, stranger) = stranger_therapist(&app).await;
    let token = app.api_token(&stranger).await;
    let attempts = [
        (
            Method::GET,
            format!("/api/v1/offerings/{offering}/group"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/offerings/{offering}/slots"),
            Some(serde_json::json!({"weekday": "4", "start_time": "19:00"})),
        ),
        (Method::GET, format!("/api/v1/sessions/{session}"), None),
        (
            Method::PUT,
            format!("/api/v1/sessions/{session}/attendance/{trajectory}"),
            Some(serde_json::json!({"status": "present"})),
        ),
        (
            Method::POST,
            format!("/api/v1/sessions/{session}/cancel"),
            Some(serde_json::json!({"reason": "onweer"})),
        ),
    ];
    refused_all(&app, &token, attempts, StatusCode::FORBIDDEN).await;
    let browser = app.session_for(&stranger).await;
    let r = app
        .get(&browser, &format!("/offerings/{offering}/group"))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "the page too");
    let mut seen: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT actor_user_id, action, record_type, record_id, org_id FROM audit_log \
         WHERE outcome = 'denied'",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .expect("audit");
    seen.sort();
    let entry = |action: &str, kind: &str, record: &str| {
        (
            stranger.id.clone(),
            action.to_string(),
            kind.to_string(),
            record.to_string(),
            Some(org.clone()),
        )
    };
    let mut expected = vec![
        entry("read", "group", &offering),
        entry("read", "group", &offering),
        entry("create", "schedule", &offering),
        entry("read", "attendance", &session),
        entry("update", "attendance", &session),
        entry("cancel", "group_session", &session),
    ];
    expected.sort();
    assert_eq!(seen, expected);
}
