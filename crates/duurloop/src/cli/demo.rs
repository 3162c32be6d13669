//! `duurloop demo`: realistic Dutch demo organisations and people, modelled on the seeds
//! (a GP practice in Lelystad whose POH-GGZ is a running therapist, a running-therapy practice
//! in Groningen, a municipality and an insurer). Idempotent: running it again changes nothing.
//!
//! Demo accounts share one known password and have fixed TOTP secrets so a newcomer (and the
//! browser test) can sign in. Never load demo data into a production database.

use duurloop_domain::{OrgKind, Role, totp::TotpSecret};

use crate::{
    app::auth::hash_password,
    db::Db,
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

/// Loads the demo data (idempotent) and returns the logins to print.
pub async fn seed(db: &Db, now: i64) -> anyhow::Result<Vec<DemoLogin>> {
    let hash = hash_password(DEMO_PASSWORD).await?;
    let mut tx = db.begin().await?;
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
                    users::activate_totp(&mut tx, &id, &secret.to_base32(), 0).await?;
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
    tx.commit().await?;
    Ok(logins)
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
