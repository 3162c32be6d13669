//! The impact report by region: the place of each offering's location, named from its
//! postcode area, with the areas of one place merged and funders' small cells suppressed.

use duurloop::store::{self, directory as dir};
use duurloop_domain::{OrgKind, Role};
use reqwest::Method;
use serde_json::Value;

use crate::{
    authz::{offering_in, trajectory_for},
    helpers::{TestApp, TestUser},
    reports::{contracts_of, funded},
};

/// An offering of `org` with room for everyone, given at a location with this postcode.
async fn offering_at(app: &TestApp, org: &str, therapist_id: &str, postcode: &str) -> String {
    let now = app.state.now();
    let mut c = app.conn().await;
    let location = dir::insert_location(
        &mut c,
        &dir::LocationInput {
            org_id: org,
            name: "Sporthal",
            address: "Laan 1",
            postcode,
            // As typed by someone: the report goes by the postcode, not by this.
            place: "ergens",
            lat_e6: 52_000_000,
            lon_e6: 6_000_000,
        },
        now,
    )
    .await
    .expect("location");
    dir::insert_offering(
        &mut c,
        &dir::OfferingInput {
            org_id: org,
            therapist_id,
            location_id: &location,
            title: &format!("Loopgroep {postcode}"),
            kind: "running_group",
            description: "",
            schedule: "dinsdag 19:00",
            weekdays: ",2,",
            start_date: "2027-01-12",
            weeks: 12,
            capacity: 100,
            funding: ",insurer,",
            indications: ",stress,",
            price_cents: 0,
        },
        true,
        now,
    )
    .await
    .expect("offering")
}

/// The first and latest PHQ-9 of a trajectory, stored as handing in stores them.
pub(crate) async fn phq9(app: &TestApp, trajectory: &str, first: f64, last: f64) {
    let mut c = app.conn().await;
    let ms = store::measure::of_trajectory(&mut c, trajectory)
        .await
        .expect("measurements");
    for (m, total) in ms.iter().take(2).zip([first, last]) {
        store::measure::insert_score(
            &mut c,
            &m.id,
            trajectory,
            "phq9",
            &m.point,
            total,
            total as i64,
            None,
            false,
            app.state.now(),
        )
        .await
        .expect("score");
    }
}

/// A referral to the care group as a region (no offering yet), through the real action.
async fn to_the_region(app: &TestApp, region: &str, referrer: &TestUser) {
    let input = duurloop::app::referrals::ReferralInput {
        region_org_id: region.to_string(),
        ..crate::authz::jan()
    };
    crate::authz::refer_as(app, referrer, &input).await;
}

fn row<'a>(v: &'a Value, label: &str) -> &'a Value {
    v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("a row {label}: {v}"))
}

fn labels(v: &Value) -> Vec<&str> {
    v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["label"].as_str().expect("label"))
        .collect()
}

#[tokio::test]
async fn the_report_by_region_groups_by_the_place_of_each_location_and_hides_small_places_from_funders()
 {
    let app = TestApp::spawn().await;
    let org = app.org("Zorggroep Salland", OrgKind::CareGroup).await;
    let coord = app
        .user("coord@x.example", false, &[(&org, Role::Coordinator)], true)
        .await;
    let therapist = app
        .user("poh@x.example", false, &[(&org, Role::Therapist)], true)
        .await;
    let gp_practice = app.org("Huisartsen Oost", OrgKind::GpPractice).await;
    let referrer = app
        .user(
            "huisarts@oost.example",
            false,
            &[(&gp_practice, Role::Referrer)],
            true,
        )
        .await;
    // Lelystad (8232), Deventer in two postcode areas (7411, 7412), Groningen (9711).
    let (therapist_id, _) = offering_in(&app, &org, &therapist.id).await;
    let lelystad = offering_at(&app, &org, &therapist_id, "8232 AB").await;
    let deventer_a = offering_at(&app, &org, &therapist_id, "7411 AB").await;
    let deventer_b = offering_at(&app, &org, &therapist_id, "7412 CD").await;
    let groningen = offering_at(&app, &org, &therapist_id, "9711 AA").await;
    let insurer = app.org("Zuiderzee", OrgKind::Insurer).await;
    let funder = app
        .user(
            "inkoop@zuiderzee.example",
            false,
            &[(&insurer, Role::Funder)],
            true,
        )
        .await;
    let contract = contracts_of(&app, &org, &insurer, &["Module"]).await;
    for (offering, n) in [
        (&lelystad, 12),
        (&deventer_a, 5),
        (&deventer_b, 4),
        (&groningen, 3),
    ] {
        funded(&app, offering, &referrer, &therapist, n, &[&contract[0]]).await;
    }
    // Two more in Deventer with PHQ-9 scores, one in each area: 15 → 7 and 18 → 12.
    for (offering, first, last) in [(&deventer_a, 15.0, 7.0), (&deventer_b, 18.0, 12.0)] {
        let t = trajectory_for(&app, offering, &referrer, &therapist).await;
        store::funding::set_funding(&mut *app.conn().await, &t, &[contract[0].clone()])
            .await
            .expect("funding");
        phq9(&app, &t, first, last).await;
    }
    // And one sent to the care group as a region, not placed with an offering yet.
    to_the_region(&app, &org, &referrer).await;

    // The coordinator: the two Deventer areas are one row, the unplaced one is "Onbekend".
    let token = app.api_token(&coord).await;
    let v = app
        .get_json(
            &token,
            &format!("/api/v1/reports/impact?org={org}&by=region"),
        )
        .await;
    assert_eq!(v["by"], "region");
    assert_eq!(
        labels(&v),
        ["Deventer", "Groningen", "Lelystad", "Onbekend"],
        "{v}"
    );
    let deventer = row(&v, "Deventer");
    assert_eq!(
        (deventer["referred"].as_u64(), deventer["intake"].as_u64()),
        (Some(11), Some(11))
    );
    assert_eq!(row(&v, "Lelystad")["referred"], 12);
    assert_eq!(row(&v, "Groningen")["referred"], 3);
    assert_eq!(row(&v, "Onbekend")["referred"], 1);
    assert_eq!(row(&v, "Onbekend")["intake"], 0);
    assert_eq!(v["total"]["referred"], 27);
    let outcome = &deventer["outcomes"][0];
    assert_eq!(outcome["instrument"], "phq9", "{v}");
    assert_eq!(outcome["stats"]["n"], 2, "one pair from each area: {v}");
    assert_eq!(outcome["stats"]["mean_change"], -7.0);
    // In English the unplaced row is "Unknown".
    let en: Value = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/reports/impact?org={org}&by=region"),
        )
        .header("accept-language", "en")
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(labels(&en).last(), Some(&"Unknown"), "{en}");
    // The page offers the dimension and shows the rows; the CSV has them too.
    let client = app.session_for(&coord).await;
    let html = app
        .html(&client, &format!("/reports?org={org}&by=region"))
        .await;
    assert!(
        html.contains("<option value=\"region\" selected>Regio (plaats van de locatie)</option>"),
        "{html}"
    );
    assert!(html.contains("<th scope=\"row\">Deventer</th>") && html.contains("Onbekend"));
    let csv = app
        .html(&client, &format!("/reports/export.csv?org={org}&by=region"))
        .await;
    assert!(
        csv.starts_with("\u{feff}Regio (plaats van de locatie),Verwezen,Intake"),
        "{csv}"
    );
    for line in [
        "Deventer,11,11,",
        "Groningen,3,3,",
        "Lelystad,12,12,",
        "Onbekend,1,0,",
        "Totaal,27,26,",
    ] {
        assert!(csv.contains(line), "{line}: {csv}");
    }

    // The funder: its 26 (not the unplaced one); Groningen's 3 is hidden, and so is the next
    // smallest place, or Groningen would be the total minus the rest.
    let ft = app.api_token(&funder).await;
    let v = app
        .get_json(
            &ft,
            &format!("/api/v1/reports/impact?org={insurer}&by=region"),
        )
        .await;
    assert_eq!(v["suppressed"], true);
    assert_eq!(labels(&v), ["Deventer", "Groningen", "Lelystad"], "{v}");
    assert_eq!(v["total"]["referred"], 26, "{v}");
    assert!(row(&v, "Groningen")["referred"].is_null(), "3 < 10: {v}");
    assert!(
        row(&v, "Deventer")["referred"].is_null(),
        "complementary: {v}"
    );
    assert_eq!(row(&v, "Lelystad")["referred"], 12);
    assert!(
        row(&v, "Deventer")["outcomes"][0]["stats"]["n"].is_null(),
        "2 < 10: {v}"
    );
    let client = app.session_for(&funder).await;
    let csv = app
        .html(
            &client,
            &format!("/reports/export.csv?org={insurer}&by=region"),
        )
        .await;
    assert!(
        csv.contains("Groningen,<10,<10")
            && csv.contains("Lelystad,12,12")
            && csv.contains("Totaal,26,26"),
        "{csv}"
    );
}
