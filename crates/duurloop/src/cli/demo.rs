//! `duurloop demo`: realistic Dutch demo organisations and people, modelled on the seeds
//! (a GP practice in Lelystad whose POH-GGZ is a running therapist, a running-therapy practice
//! in Groningen, a municipality and an insurer). Idempotent: running it again changes nothing.
//!
//! Demo accounts share one known password and have fixed TOTP secrets so a newcomer (and the
//! browser test) can sign in; the secrets are stored sealed like any other (`secrets`), and
//! `demo-code` computes codes from the seeds here, not from the database. Never load demo
//! data into a production database.

use duurloop_domain::{OrgKind, Role, totp::TotpSecret};

use crate::{
    app::auth::hash_password,
    db::Db,
    secrets::SecretKey,
    store::{self, users},
};

pub const DEMO_PASSWORD: &str = "rustig-duurlopen-2026";

/// A demo login as printed for the newcomer.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub label: &'static str,
    pub email: &'static str,
    pub totp_secret: Option<String>,
}

struct Person {
    label: &'static str,
    email: &'static str,
    name: &'static str,
    admin: bool,
    memberships: &'static [(&'static str, Role)],
    /// Seed for a fixed TOTP secret (20 bytes); None for roles without a second factor.
    totp_seed: Option<&'static [u8; 20]>,
}

const MEDI_STAD: &str = "Huisartsenpraktijk Medi-Stad (Lelystad)";
const GRONINGEN: &str = "Runningtherapie Groningen";
const NOORDWIJK: &str = "Gemeente Noordwijk";
const INSURER: &str = "Zorgverzekeraar Zuiderzee";
const DEVENTER: &str = "Beweegmakelaars Deventer";

const ORGS: &[(&str, OrgKind)] = &[
    (MEDI_STAD, OrgKind::GpPractice),
    (GRONINGEN, OrgKind::TherapistPractice),
    (DEVENTER, OrgKind::CareGroup),
    (NOORDWIJK, OrgKind::Municipality),
    (INSURER, OrgKind::Insurer),
];

const PEOPLE: &[Person] = &[
    Person {
        label: "beheerder (admin)",
        email: "beheer@duurloop.example",
        name: "Beheerder Duurloop",
        admin: true,
        memberships: &[],
        totp_seed: Some(b"duurloop-demo-beheer"),
    },
    Person {
        label: "coördinator (Medi-Stad)",
        email: "praktijkmanager@medi-stad.example",
        name: "Sandra Visser",
        admin: false,
        memberships: &[(MEDI_STAD, Role::Coordinator)],
        totp_seed: Some(b"duurloop-demo-coord!"),
    },
    Person {
        label: "runningtherapeut (POH-GGZ Medi-Stad)",
        email: "poh@medi-stad.example",
        name: "Marieke de Boer",
        admin: false,
        memberships: &[(MEDI_STAD, Role::Therapist)],
        totp_seed: Some(b"duurloop-demo-therap"),
    },
    Person {
        label: "verwijzer (huisarts Medi-Stad)",
        email: "huisarts@medi-stad.example",
        name: "Pieter Jansen",
        admin: false,
        memberships: &[(MEDI_STAD, Role::Referrer)],
        totp_seed: Some(b"duurloop-demo-verwij"),
    },
    Person {
        label: "coördinator (Runningtherapie Groningen)",
        email: "henk@runningtherapie-groningen.example",
        name: "Henk Bakker",
        admin: false,
        memberships: &[(GRONINGEN, Role::Coordinator)],
        totp_seed: Some(b"duurloop-demo-groncd"),
    },
    Person {
        label: "runningtherapeut (Groningen)",
        email: "eva@runningtherapie-groningen.example",
        name: "Eva Mulder",
        admin: false,
        memberships: &[(GRONINGEN, Role::Therapist)],
        totp_seed: Some(b"duurloop-demo-gronth"),
    },
    Person {
        label: "beweegmakelaar (Deventer)",
        email: "makelaar@beweegmakelaars-deventer.example",
        name: "Ahmed El Amrani",
        admin: false,
        memberships: &[(DEVENTER, Role::Referrer)],
        totp_seed: Some(b"duurloop-demo-makelr"),
    },
    Person {
        label: "financier (Gemeente Noordwijk)",
        email: "welzijn@noordwijk.example",
        name: "Femke de Wit",
        admin: false,
        memberships: &[(NOORDWIJK, Role::Funder)],
        totp_seed: None,
    },
    Person {
        label: "financier (zorgverzekeraar)",
        email: "zorginkoop@zuiderzee.example",
        name: "Joost van Dijk",
        admin: false,
        memberships: &[(INSURER, Role::Funder)],
        totp_seed: None,
    },
];

/// Loads the demo data (idempotent) and returns the logins to print. `key` seals the demo
/// accounts' second-factor secrets.
pub async fn seed(db: &Db, key: &SecretKey, now: i64) -> anyhow::Result<Vec<DemoLogin>> {
    let hash = hash_password(DEMO_PASSWORD).await?;
    let mut tx = db.begin().await?;
    // The demo's accounts have a published password and second-factor keys: loaded into a
    // database that real people use, they would be a way in (OWASP ASVS 2.5.4). Every demo and
    // generated account has an address under a reserved domain (`.example`, `.invalid`, RFC
    // 2606), which no real account can have; one other address means a real database.
    if users::count_outside_reserved_domains(&mut tx).await? > 0 {
        anyhow::bail!(
            "this database has accounts with real e-mail addresses; the demo adds accounts with \
             a published password and is only loaded into a database of its own \
             (start with another database_url, or an empty folder)"
        );
    }
    for (name, kind) in ORGS {
        if store::orgs::by_name(&mut tx, name).await?.is_none() {
            store::orgs::insert(&mut tx, name, *kind, now).await?;
        }
    }
    let mut logins = Vec::new();
    for p in PEOPLE {
        let user_id = match users::by_email(&mut tx, p.email).await? {
            Some(u) => u.id,
            None => {
                let id = users::insert(
                    &mut tx,
                    users::NewUser {
                        email: p.email,
                        name: p.name,
                        password_hash: Some(&hash),
                        is_admin: p.admin,
                        now,
                    },
                )
                .await?;
                if let Some(seed) = p.totp_seed {
                    let secret = TotpSecret::from_bytes(seed.to_vec());
                    users::activate_totp(&mut tx, &id, &key.seal(&id, &secret)?, 0).await?;
                }
                id
            }
        };
        for (org_name, role) in p.memberships {
            if let Some(org) = store::orgs::by_name(&mut tx, org_name).await? {
                users::upsert_membership(&mut tx, &user_id, &org.id, *role, now).await?;
            }
        }
        logins.push(DemoLogin {
            label: p.label,
            email: p.email,
            totp_secret: p
                .totp_seed
                .map(|s| TotpSecret::from_bytes(s.to_vec()).to_base32()),
        });
    }
    seed_directory(&mut tx, now).await?;
    seed_running_group(&mut tx, now).await?;
    seed_funding(&mut tx, now).await?;
    tx.commit().await?;
    Ok(logins)
}

/// A therapist profile, location and offering, created once (found by offering title).
struct DemoOffering {
    org: &'static str,
    therapist: (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    ),
    location: (&'static str, &'static str, &'static str, &'static str),
    title: &'static str,
    kind: &'static str,
    description: &'static str,
    schedule: &'static str,
    weekdays: &'static str,
    start_date: &'static str,
    capacity: i64,
    funding: &'static str,
    indications: &'static str,
    price_cents: i64,
    /// Weekly times (ISO weekday, start) that generate the group's sessions.
    slots: &'static [(u8, &'static str)],
}

const OFFERINGS: &[DemoOffering] = &[
    DemoOffering {
        org: MEDI_STAD,
        therapist: (
            "Marieke de Boer",
            "POH-GGZ en runningtherapeut",
            "BRTN-0412",
            Some("poh@medi-stad.example"),
        ),
        location: (
            "Huisartsenpraktijk Medi-Stad",
            "Agorabaan 12",
            "8232 AB",
            "Lelystad",
        ),
        title: "Runningtherapie Medi-Stad: dinsdag- en zaterdaggroep",
        kind: "running_group",
        description: "Kleine groep (maximaal 8) voor patiënten van Medi-Stad en andere praktijken in Lelystad. Start met wandelen en dribbelen in het Zuiderzeepark.",
        schedule: "dinsdag 19:00 en zaterdag 9:00",
        weekdays: ",2,6,",
        start_date: "2027-01-12",
        capacity: 8,
        funding: ",gp_module,insurer,subsidy,",
        indications: ",anxiety_panic,burnout,depression,sleep,stress,",
        price_cents: 0,
        slots: &[(2, "19:00"), (6, "09:00")],
    },
    DemoOffering {
        org: GRONINGEN,
        therapist: (
            "Eva Mulder",
            "psycholoog en runningtherapeut",
            "BRTN-0198",
            Some("eva@runningtherapie-groningen.example"),
        ),
        location: (
            "Stadspark Groningen",
            "Concourslaan 17",
            "9727 KC",
            "Groningen",
        ),
        title: "Runningtherapie Groningen: groep in het Stadspark",
        kind: "running_group",
        description: "Uitgebreide intake met sportmedische check, stemmingslijst bij start, week 5 en week 10. Persoonlijke aandacht binnen de groep.",
        schedule: "maandag 18:30 en donderdag 18:30",
        weekdays: ",1,4,",
        start_date: "2027-01-11",
        capacity: 10,
        funding: ",employer,insurer,self_pay,uwv,",
        indications: ",burnout,depression,fatigue,psychosomatic,stress,",
        price_cents: 29500,
        slots: &[(1, "18:30"), (4, "18:30")],
    },
    DemoOffering {
        org: GRONINGEN,
        therapist: (
            "Henk Bakker",
            "fysiotherapeut en runningtherapeut",
            "BRTN-0077",
            None,
        ),
        location: (
            "Stadspark Groningen",
            "Concourslaan 17",
            "9727 KC",
            "Groningen",
        ),
        title: "Individuele runningtherapie Groningen",
        kind: "running_individual",
        description: "Eén op één, in uw eigen tempo; ook voor re-integratie via UWV of werkgever.",
        schedule: "in overleg, overdag",
        weekdays: ",1,2,3,4,5,",
        start_date: "2026-12-01",
        capacity: 4,
        funding: ",employer,insurer,self_pay,uwv,",
        indications: ",anxiety_panic,back_neck_tension,burnout,condition,stress,",
        price_cents: 45000,
        slots: &[],
    },
];

async fn seed_directory(c: &mut crate::store::Conn, now: i64) -> anyhow::Result<()> {
    use crate::store::directory as dir;
    for d in OFFERINGS {
        let Some(org) = store::orgs::by_name(c, d.org).await? else {
            continue;
        };
        let existing = dir::offerings(
            c,
            &dir::OfferingFilter {
                listed_only: false,
                org_id: Some(&org.id),
                kind: None,
                weekday: None,
                indication: None,
                funding: None,
            },
        )
        .await?;
        if existing.iter().any(|o| o.title == d.title) {
            continue;
        }
        let therapist_id = match dir::therapists_of(c, &org.id)
            .await?
            .into_iter()
            .find(|t| t.name == d.therapist.0)
        {
            Some(t) => t.id,
            None => {
                let user_id = match d.therapist.3 {
                    Some(email) => users::by_email(c, email).await?.map(|u| u.id),
                    None => None,
                };
                let input = dir::TherapistInput {
                    org_id: &org.id,
                    user_id: user_id.as_deref(),
                    name: d.therapist.0,
                    profession: d.therapist.1,
                    brtn_number: d.therapist.2,
                    brtn_status: "registered",
                };
                dir::insert_therapist(c, &input, now).await?
            }
        };
        let location_id = match dir::locations_of(c, &org.id)
            .await?
            .into_iter()
            .find(|l| l.name == d.location.0)
        {
            Some(l) => l.id,
            None => {
                let pc = duurloop_domain::postcode::Postcode::parse(d.location.2)
                    .map_err(|e| anyhow::anyhow!("demo postcode: {}", e.key))?;
                let (lat, lon, _) = crate::geo::pc4(pc.pc4())
                    .ok_or_else(|| anyhow::anyhow!("demo postcode unknown"))?;
                let input = dir::LocationInput {
                    org_id: &org.id,
                    name: d.location.0,
                    address: d.location.1,
                    postcode: d.location.2,
                    place: d.location.3,
                    lat_e6: (lat * 1e6).round() as i64,
                    lon_e6: (lon * 1e6).round() as i64,
                };
                dir::insert_location(c, &input, now).await?
            }
        };
        let input = dir::OfferingInput {
            org_id: &org.id,
            therapist_id: &therapist_id,
            location_id: &location_id,
            title: d.title,
            kind: d.kind,
            description: d.description,
            schedule: d.schedule,
            weekdays: d.weekdays,
            start_date: d.start_date,
            weeks: 12,
            capacity: d.capacity,
            funding: d.funding,
            indications: d.indications,
            price_cents: d.price_cents,
        };
        let offering_id = dir::insert_offering(c, &input, true, now).await?;
        // Weekly times for the groups, so their sessions exist from the start.
        for (weekday, time) in d.slots {
            store::groups::insert_slot(c, &offering_id, i64::from(*weekday), time, 60, now).await?;
            let start = d
                .start_date
                .split('-')
                .filter_map(|p| p.parse::<i32>().ok())
                .collect::<Vec<_>>();
            if let [y, m, day] = start[..] {
                for (y, m, day) in duurloop_domain::attendance::weekly_dates(
                    (y, m as u8, day as u8),
                    &[*weekday],
                    12,
                ) {
                    store::groups::insert_session_once(
                        c,
                        &offering_id,
                        &format!("{y:04}-{m:02}-{day:02}"),
                        time,
                        60,
                        now,
                    )
                    .await?;
                }
            }
        }
    }
    Ok(())
}

pub fn print_logins(logins: &[DemoLogin], base_url: &str) {
    println!(
        "\nDemo-gegevens geladen. Inloggen op {base_url}/login met wachtwoord `{DEMO_PASSWORD}`:"
    );
    for l in logins {
        match &l.totp_secret {
            Some(s) => println!("  {:<42} {:<44} TOTP-sleutel {s}", l.label, l.email),
            None => println!("  {:<42} {:<44} (geen tweede factor)", l.label, l.email),
        }
    }
    println!(
        "De TOTP-sleutel voegt u toe aan een authenticator-app, of u krijgt de huidige code met\n  \
         oathtool --totp -b SLEUTEL    of    cargo run --release -- demo-code E-MAILADRES\n"
    );
}

/// The current code of a demo account (for newcomers without an authenticator app).
pub fn demo_code(email: &str, now_ms: i64) -> Option<String> {
    PEOPLE
        .iter()
        .find(|p| p.email == email)
        .and_then(|p| p.totp_seed)
        .map(|s| TotpSecret::from_bytes(s.to_vec()).code_at(now_ms / 1000))
}

const RUNNING_GROUP: &str = "Runningtherapie Medi-Stad: donderdaggroep (loopt)";

/// A Medi-Stad group halfway through its twelve weeks: five participants with intakes,
/// plans, attendance at the sessions so far and runs summarised from generated watch files
/// (so the group page, the trajectories and the portal have something to show).
async fn seed_running_group(c: &mut crate::store::Conn, now: i64) -> anyhow::Result<()> {
    use crate::store::{directory as dir, groups, portal, referrals, trajectories};
    use duurloop_domain::plan::{self, StartLevel};
    let Some(org) = store::orgs::by_name(c, MEDI_STAD).await? else {
        return Ok(());
    };
    let filter = dir::OfferingFilter {
        listed_only: false,
        org_id: Some(&org.id),
        kind: None,
        weekday: None,
        indication: None,
        funding: None,
    };
    let existing = dir::offerings(c, &filter).await?;
    if existing.iter().any(|o| o.title == RUNNING_GROUP) {
        return Ok(());
    }
    let Some(base) = existing.first() else {
        return Ok(());
    };
    let tz = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC);
    let today = jiff::Timestamp::from_millisecond(now)?.to_zoned(tz).date();
    // Thursdays: the group started on the Thursday six weeks ago.
    let mut start = today.checked_sub(jiff::Span::new().days(42))?;
    while start.weekday() != jiff::civil::Weekday::Thursday {
        start = start.checked_sub(jiff::Span::new().days(1))?;
    }
    let start_s = start.to_string();
    let input = dir::OfferingInput {
        org_id: &org.id,
        therapist_id: &base.therapist_id,
        location_id: &base.location_id,
        title: RUNNING_GROUP,
        kind: "running_group",
        description: "Lopende groep voor patiënten van Medi-Stad: halverwege de twaalf weken.",
        schedule: "donderdag 18:30",
        weekdays: ",4,",
        start_date: &start_s,
        weeks: 12,
        capacity: 8,
        funding: ",gp_module,subsidy,",
        indications: ",burnout,depression,stress,",
        price_cents: 0,
    };
    let offering = dir::insert_offering(c, &input, true, now).await?;
    groups::insert_slot(c, &offering, 4, "18:30", 60, now).await?;
    for (y, m, d) in duurloop_domain::attendance::weekly_dates(
        (start.year().into(), start.month() as u8, start.day() as u8),
        &[4],
        12,
    ) {
        groups::insert_session_once(
            c,
            &offering,
            &format!("{y:04}-{m:02}-{d:02}"),
            "18:30",
            60,
            now,
        )
        .await?;
    }
    let referrer = users::by_email(c, "huisarts@medi-stad.example")
        .await?
        .map(|u| u.id);
    let therapist = users::by_email(c, "poh@medi-stad.example")
        .await?
        .map(|u| u.id);
    let sessions = groups::sessions(c, &offering).await?;
    let people = [
        ("Anouk Smit", 58, 38, StartLevel::Walker, 0.95),
        ("Bram de Graaf", 66, 52, StartLevel::Inactive, 0.8),
        ("Chantal Peters", 61, 29, StartLevel::Occasional, 1.0),
        ("Dirk Hendriks", 72, 61, StartLevel::Inactive, 0.6),
        ("Esra Yilmaz", 64, 45, StartLevel::Walker, 0.9),
    ];
    for (i, (name, hr, age, level, keenness)) in people.into_iter().enumerate() {
        let email = format!("deelnemer{}@example.nl", i + 1);
        let key = format!("demo-running-group-{i}");
        let referral = referrals::insert(
            c,
            &referrals::NewReferral {
                status: "started",
                source: "professional",
                offering_id: Some(&offering),
                region_org_id: None,
                referrer_user_id: referrer.as_deref(),
                referrer_org_id: Some(&org.id),
                client_name: name,
                client_email: &email,
                client_phone: "",
                client_postcode: "8232 AB",
                client_lang: "nl",
                indications: ",stress,",
                medication: "",
                physical_limits: "",
                motivation: "high",
                funding_route: "gp_module",
                consent_by: "Pieter Jansen",
                consent_text: &crate::i18n::Lang::Nl.t(crate::app::referrals::CONSENT_TEXT_KEY),
                note: "",
                submission_key: &key,
                respond_by: now,
                now,
            },
        )
        .await?;
        referrals::add_event(
            c,
            &referrals::NewEvent {
                referral_id: &referral,
                actor_user_id: None,
                kind: "created",
                from_status: None,
                to_status: Some("sent"),
                note: "professional",
                now,
            },
        )
        .await?;
        referrals::add_event(
            c,
            &referrals::NewEvent {
                referral_id: &referral,
                actor_user_id: therapist.as_deref(),
                kind: "status",
                from_status: Some("accepted"),
                to_status: Some("started"),
                note: "",
                now,
            },
        )
        .await?;
        // The intake consult, a week before the start (billed as a consult: SPEC §3).
        let intake_at = now - 49 * 86_400_000;
        referrals::plan_intake(c, &referral, "demo", intake_at).await?;
        let mut intake = referrals::intake(c, &referral)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo intake"))?;
        intake.resting_hr = Some(i64::from(hr));
        intake.age = Some(i64::from(age));
        referrals::record_intake(c, &intake, intake_at).await?;
        let p = plan::generate(level, 12);
        let zone = plan::easy_zone(hr, age);
        let trajectory = trajectories::insert(
            c,
            &trajectories::NewTrajectory {
                referral_id: &referral,
                offering_id: &offering,
                org_id: &org.id,
                therapist_user_id: therapist.as_deref(),
                start_date: &start_s,
                weeks: 12,
                start_level: level.as_str(),
                plan: &serde_json::to_string(&p)?,
                hr_low: Some(i64::from(zone.low)),
                hr_high: Some(i64::from(zone.high)),
                now,
            },
        )
        .await?;
        // Guidance at a distance: Anouk and her therapist wrote to each other; her answer
        // waits for the therapist (the start page counts it, the trajectory page shows it).
        if i == 0 {
            use crate::store::messages::{self, Side};
            messages::insert(
                c,
                &trajectory,
                Side::Therapist,
                therapist.as_deref(),
                "Hoi Anouk, wat fijn dat je twee keer per week zelf bent gaan lopen. \
                 Lukt het om het tempo rustig te houden, zodat je er nog bij kunt praten?",
                now - 2 * 86_400_000,
            )
            .await?;
            messages::mark_read_from(c, &trajectory, Side::Therapist, now - 86_400_000).await?;
            messages::insert(
                c,
                &trajectory,
                Side::Participant,
                None,
                "Ja, dat gaat goed! Alleen na het werk ben ik soms te moe. \
                 Is het goed als ik dan op zaterdag loop?",
                now - 3_600_000,
            )
            .await?;
        }
        // Measurements: baseline and week 5 answered (scores falling as the weeks go by);
        // Esra's week 5 is still open, and Dirk's week-5 answer to PHQ-9 item 9 raised a
        // safety alert the therapist has not yet acknowledged.
        crate::app::measure::schedule(c, &trajectory, &offering, &start_s, 12, now)
            .await
            .map_err(|e| anyhow::anyhow!("demo measurements: {e}"))?;
        let baseline = [
            (15, 12, 9),
            (18, 14, 6),
            (11, 9, 12),
            (19, 16, 5),
            (14, 11, 8),
        ][i];
        let week5 = [
            (7, 6, 15),
            (12, 10, 11),
            (5, 4, 18),
            (16, 15, 7),
            (9, 8, 13),
        ][i];
        for m in crate::store::measure::of_trajectory(c, &trajectory).await? {
            let target = match m.point.as_str() {
                "baseline" => baseline,
                "week5" if i != 4 => week5,
                _ => continue,
            };
            demo_answers(c, &m, target, i == 3 && m.point == "week5", now).await?;
        }
        // Attendance at the sessions so far, and two runs a week of their own.
        for (n, s) in sessions
            .iter()
            .filter(|s| s.session_date < today.to_string())
            .enumerate()
        {
            let present = ((n * 7 + i * 3) % 10) as f64 / 10.0 < keenness;
            groups::record_attendance(
                c,
                &s.id,
                &trajectory,
                if present { "present" } else { "absent_notice" },
                "",
                therapist.as_deref().unwrap_or_default(),
                now,
            )
            .await?;
            if !present {
                continue;
            }
            for extra in [2i64, 4] {
                let date = s
                    .session_date
                    .parse::<jiff::civil::Date>()?
                    .checked_add(jiff::Span::new().days(extra))?;
                if date >= today {
                    continue;
                }
                let minutes = 18 + (n as i64) * 2 + i as i64;
                let file = demo_gpx(
                    &date.to_string(),
                    minutes,
                    i64::from((zone.low + zone.high) / 2),
                );
                let track = duurloop_tracks::parse(file.as_bytes(), duurloop_tracks::Format::Gpx)
                    .map_err(|e| anyhow::anyhow!("demo track: {}", e.key()))?;
                let sum = duurloop_tracks::summarise(
                    &track,
                    Some(duurloop_tracks::HrZone {
                        low: zone.low,
                        high: zone.high,
                    }),
                );
                let run = portal::RunRow {
                    run_date: date.to_string(),
                    duration_s: sum.duration_s,
                    moving_s: Some(sum.moving_s),
                    distance_m: Some(sum.distance_m.round() as i64),
                    elevation_gain_m: sum.elevation_gain_m.map(|g| g.round() as i64),
                    avg_hr: sum.avg_hr.map(i64::from),
                    max_hr: sum.max_hr.map(i64::from),
                    in_zone_s: sum.in_zone_s,
                    exertion: Some(3),
                    mood_before: Some(3),
                    mood_after: Some(4),
                    pain: i64::from(i == 3 && n == 4),
                    pain_where: if i == 3 && n == 4 {
                        "rechterkuit".into()
                    } else {
                        String::new()
                    },
                    source: "gpx".into(),
                    ..Default::default()
                };
                portal::insert_run(c, &trajectory, &run, now).await?;
            }
        }
    }
    seed_closed_referral(
        c,
        &org.id,
        &offering,
        referrer.as_deref(),
        therapist.as_deref(),
        now,
    )
    .await
}

/// A referral that ended seven weeks ago as not suitable, so the demo shows what happens to a
/// closed referral: the coordinator's *Gegevens wissen* and the retention date.
async fn seed_closed_referral(
    c: &mut crate::store::Conn,
    org: &str,
    offering: &str,
    referrer: Option<&str>,
    therapist: Option<&str>,
    now: i64,
) -> anyhow::Result<()> {
    use crate::store::referrals;
    let day = 86_400_000;
    let referral = referrals::insert(
        c,
        &referrals::NewReferral {
            status: "not_suitable",
            source: "professional",
            offering_id: Some(offering),
            region_org_id: None,
            referrer_user_id: referrer,
            referrer_org_id: Some(org),
            client_name: "Femke Bos",
            client_email: "deelnemer6@example.nl",
            client_phone: "",
            client_postcode: "8232 AB",
            client_lang: "en",
            indications: ",stress,",
            medication: "",
            physical_limits: "",
            motivation: "moderate",
            funding_route: "gp_module",
            consent_by: "Pieter Jansen",
            consent_text: &crate::i18n::Lang::Nl.t(crate::app::referrals::CONSENT_TEXT_KEY),
            note: "",
            submission_key: "demo-closed-referral",
            respond_by: now - 56 * day,
            now: now - 60 * day,
        },
    )
    .await?;
    for (from, to, kind, at) in [
        (None, "sent", "created", now - 60 * day),
        (Some("sent"), "not_suitable", "status", now - 49 * day),
    ] {
        referrals::add_event(
            c,
            &referrals::NewEvent {
                referral_id: &referral,
                actor_user_id: if from.is_some() { therapist } else { None },
                kind,
                from_status: from,
                to_status: Some(to),
                note: if from.is_some() {
                    "Liever eerst behandeling bij de psycholoog; over een half jaar opnieuw bekijken."
                } else {
                    "professional"
                },
                now: at,
            },
        )
        .await?;
    }
    Ok(())
}

/// Fills in a demo measurement with answers that add up to the given PHQ-9 and GAD-7 totals
/// and WHO-5 raw score, scores it, and raises the safety alert when asked.
async fn demo_answers(
    c: &mut crate::store::Conn,
    m: &crate::store::measure::MeasurementRow,
    (phq9, gad7, who5): (i64, i64, i64),
    safety: bool,
    now: i64,
) -> anyhow::Result<()> {
    use std::collections::BTreeMap;
    let spread = |code: &str, n: usize, max: i64, mut total: i64| {
        let mut a = BTreeMap::new();
        for k in 1..=n {
            let v = total.min(max);
            a.insert(format!("{code}_{k}"), v);
            total -= v;
        }
        a
    };
    let mut answers: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut p = spread("phq9", 8, 3, phq9);
    p.insert("phq9_9".into(), i64::from(safety));
    answers.insert("phq9".into(), p);
    answers.insert("gad7".into(), spread("gad7", 7, 3, gad7));
    answers.insert("who5".into(), spread("who5", 5, 5, who5));
    let at = m
        .due_date
        .parse::<jiff::civil::Date>()?
        .to_zoned(jiff::tz::TimeZone::UTC)?
        .timestamp()
        .as_millisecond()
        + 19 * 3_600_000;
    crate::store::measure::complete(c, &m.id, &serde_json::to_string(&answers)?, at.min(now))
        .await?;
    for (code, a) in &answers {
        let Some(i) = duurloop_domain::measure::builtin_by_code(code) else {
            continue;
        };
        let score = i
            .score(a)
            .map_err(|e| anyhow::anyhow!("demo answers incomplete: {e}"))?;
        crate::store::measure::insert_score(
            c,
            &m.id,
            &m.trajectory_id,
            code,
            &m.point,
            score.total,
            score.raw,
            score.band.as_deref(),
            score.prorated,
            at.min(now),
        )
        .await?;
        for rule in i.safety_hits(a) {
            let value = a.get(&rule.item).copied().unwrap_or_default();
            crate::store::measure::insert_alert(
                c,
                &m.id,
                &m.trajectory_id,
                code,
                &rule.item,
                value,
                at.min(now),
            )
            .await?;
        }
    }
    Ok(())
}

/// A plausible watch recording: a point every 10 seconds, easy running in Lelystad's
/// Zuiderzeepark with a gently varying heart rate around `hr`.
fn demo_gpx(date: &str, minutes: i64, hr: i64) -> String {
    let mut pts = String::new();
    for i in 0..=(minutes * 6) {
        let angle = i as f64 / (minutes * 6) as f64 * std::f64::consts::TAU;
        let (lat, lon) = (
            52.5076 + 0.006 * angle.sin(),
            5.4694 + 0.01 * (1.0 - angle.cos()),
        );
        let s = i * 10;
        pts.push_str(&format!(
            "<trkpt lat=\"{lat:.6}\" lon=\"{lon:.6}\"><ele>{:.1}</ele><time>{date}T17:{:02}:{:02}Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>",
            -3.0 + (angle * 3.0).sin(),
            (s / 60) % 60,
            s % 60,
            hr + (i % 9) - 4
        ));
    }
    format!(
        "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"Duurloop demo\" xmlns=\"http://www.topografix.com/GPX/1/1\" xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\"><trk><trkseg>{pts}</trkseg></trk></gpx>"
    )
}

/// The funding mix of the Lelystad practice (SPEC §3): the intake billed as a regular consult
/// and the group sessions under the GP module group tariff, both to the insurer, with a
/// primary-care subsidy alongside (a module fee per participant from a budget); and a
/// municipality deal ("Extraatje voor je welzijn") paying the first 12 sessions within 16
/// weeks. The running group's participants are funded by them; last month is invoiced and
/// sent, so the invoice, budget and funder pages show real figures.
async fn seed_funding(c: &mut crate::store::Conn, now: i64) -> anyhow::Result<()> {
    use crate::store::funding::{self as f, NewContract, NewPayer};
    let (Some(org), Some(insurer), Some(municipality)) = (
        store::orgs::by_name(c, MEDI_STAD).await?,
        store::orgs::by_name(c, INSURER).await?,
        store::orgs::by_name(c, NOORDWIJK).await?,
    ) else {
        return Ok(());
    };
    if !f::payers_of(c, &org.id).await?.is_empty() {
        return Ok(());
    }
    let year = crate::clock::local_date(now)
        .get(..4)
        .unwrap_or("2026")
        .to_string();
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let payer = async |c: &mut crate::store::Conn,
                       kind: &str,
                       name: &str,
                       funder: Option<&str>,
                       reference: &str|
           -> anyhow::Result<String> {
        Ok(f::insert_payer(
            c,
            &NewPayer {
                org_id: &org.id,
                kind,
                name,
                funder_org_id: funder,
                reference,
                address: "",
                email: "",
            },
            now,
        )
        .await?)
    };
    let zuiderzee = payer(c, "insurer", INSURER, Some(&insurer.id), "UZOVI 3399").await?;
    let subsidy = payer(
        c,
        "subsidy",
        "Samen Gezond Lelystad (eerstelijnssubsidie)",
        None,
        "SUB-2026-014",
    )
    .await?;
    let gemeente = payer(
        c,
        "municipality",
        "Gemeente Noordwijk — Extraatje voor je welzijn",
        Some(&municipality.id),
        "WMO-7781",
    )
    .await?;
    let contract = async |c: &mut crate::store::Conn,
                          payer_id: &str,
                          name: &str,
                          max_sessions: Option<i64>,
                          max_weeks: Option<i64>,
                          budget_cents: Option<i64>,
                          tariffs: &[(&str, i64)]|
           -> anyhow::Result<String> {
        Ok(f::insert_contract(
            c,
            &NewContract {
                payer_id,
                name,
                valid_from: &from,
                valid_to: Some(&to),
                max_sessions,
                max_weeks,
                budget_cents,
                tariffs,
            },
            now,
        )
        .await?)
    };
    let consult = contract(
        c,
        &zuiderzee,
        &format!("Consult huisartsenzorg {year}"),
        None,
        None,
        None,
        &[("intake", 1_240)],
    )
    .await?;
    let module = contract(
        c,
        &zuiderzee,
        &format!("Module GGZ groepstarief {year}"),
        Some(12),
        None,
        None,
        &[("group_session", 1_500), ("trial_session", 0)],
    )
    .await?;
    let sub = contract(
        c,
        &subsidy,
        &format!("Subsidie runningtherapie {year}"),
        None,
        None,
        Some(60_000),
        &[("module_fee", 5_000)],
    )
    .await?;
    let deal = contract(
        c,
        &gemeente,
        &format!("Extraatje voor je welzijn {year}"),
        Some(12),
        Some(16),
        Some(1_000_000),
        &[("group_session", 1_750), ("intake", 2_500)],
    )
    .await?;
    let group: Vec<(String,)> = sqlx::query_as(
        "SELECT t.id FROM trajectories t JOIN offerings o ON o.id = t.offering_id \
         WHERE o.title = $1 ORDER BY t.created_at, t.id",
    )
    .bind(RUNNING_GROUP)
    .fetch_all(&mut *c)
    .await?;
    // The last participant's running therapy is paid by the municipality deal (she came
    // through the municipality's welfare project); the others by the Lelystad mix.
    for (i, (t,)) in group.iter().enumerate() {
        let sources = if i + 1 == group.len() {
            vec![deal.clone()]
        } else {
            vec![consult.clone(), module.clone(), sub.clone()]
        };
        f::set_funding(c, t, &sources).await?;
    }
    // Up to yesterday: the insurer's and the municipality's invoices sent, the subsidy's
    // left as a draft.
    let Some(manager) = users::by_email(c, "praktijkmanager@medi-stad.example").await? else {
        return Ok(());
    };
    let day = |ms: i64| {
        crate::app::funding::parse_date(&crate::clock::local_date(ms)).unwrap_or((1970, 1, 1))
    };
    let period = (day(now - 60 * 86_400_000), day(now - 86_400_000));
    let app_err = |e: crate::app::AppError| anyhow::anyhow!("demo invoice: {e}");
    let sent = crate::app::funding::draft(c, &org.id, &zuiderzee, period, &manager.id, now)
        .await
        .map_err(app_err)?;
    crate::app::funding::issue(c, &org.id, &sent, now)
        .await
        .map_err(app_err)?;
    let to_municipality =
        crate::app::funding::draft(c, &org.id, &gemeente, period, &manager.id, now)
            .await
            .map_err(app_err)?;
    crate::app::funding::issue(c, &org.id, &to_municipality, now)
        .await
        .map_err(app_err)?;
    crate::app::funding::draft(c, &org.id, &subsidy, period, &manager.id, now)
        .await
        .map_err(app_err)?;
    Ok(())
}
