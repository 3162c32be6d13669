//! One trajectory as a FHIR R4 `Bundle` for the referrer (SPEC C8): the referral as a
//! `ServiceRequest`, each questionnaire as a `QuestionnaireResponse` and each total as an
//! `Observation`, with the `Patient`, the referrer (`Practitioner` and `PractitionerRole`)
//! and both organisations.
//!
//! The rules:
//! - The bundle is a `collection`. Its `timestamp` is the latest `authored` of the responses
//!   (compared as instants, so offsets count): this module has no clock. Without responses it
//!   has no timestamp.
//! - Every entry's `fullUrl` is `{base_url}/fhir/{Type}/{id}` and every reference is such a
//!   full URL, so each one resolves inside the bundle.
//! - Ids: FHIR allows `[A-Za-z0-9\-\.]{1,64}`. An id FHIR accepts is used as it is (ours are
//!   UUIDs); any other becomes the 40 hex digits of its SHA-1, so two ids never merge. Patient
//!   `{trajectory}`, Practitioner `{trajectory}-referrer`, PractitionerRole
//!   `{trajectory}-referrer-role`, Organization `{trajectory}-referrer-org` and
//!   `{trajectory}-performer-org`, ServiceRequest `{referral}`, QuestionnaireResponse
//!   `{response}`, Observation `{response}-total`.
//! - FHIR allows no `null` and no empty strings, arrays or objects: they are all left out,
//!   e.g. a missing e-mail address leaves out the telecom.
//! - Dates: `referred_on` must be `yyyy-mm-dd`, `authored` an RFC 3339 date-time (written
//!   with an upper-case `T` and `Z`). A date that is neither is left out rather than written
//!   invalid.
//! - The referral status becomes a FHIR request status: `sent` to `started` are `active`,
//!   `waitlisted` is `on-hold`, `completed` and `follow_up_done` are `completed`,
//!   `not_suitable` and `dropped_out` are `revoked` (ended early); anything else `unknown`.
//! - A response points at its questionnaire by the versioned canonical
//!   `{url}|{version}` of [`Instrument::to_fhir`]; its answers follow the item order, coded as
//!   the questionnaire's answer options. An answer to an unknown item, or with a value that
//!   is not an option, is left out, as scoring ignores it. The measurement point (`baseline`,
//!   `end`, …) is the extension `{FHIR_BASE}/StructureDefinition/measurement-point`. Texts
//!   are in Dutch.
//! - A response with a (finite) total gets an Observation: LOINC where the instrument has a
//!   code for its total (PHQ-9 44261-6, GAD-7 70274-6), else the code of the instrument in
//!   `{FHIR_BASE}/CodeSystem/instrument-totals`; the band as interpretation.

use std::collections::BTreeMap;

use data_encoding::HEXLOWER;
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

use crate::measure::{FHIR_BASE, Instrument};
use crate::referral::ReferralStatus;

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// Texts of the export.
const LANG: &str = "nl";

/// What the bundle of one trajectory is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct TrajectoryExport {
    pub trajectory_id: String,
    pub referral_id: String,
    pub patient_name: String,
    pub patient_email: String,
    pub referrer_name: String,
    pub referrer_org: String,
    pub performer_org: String,
    /// As texts, e.g. the translated indication labels.
    pub indications: Vec<String>,
    /// `yyyy-mm-dd`.
    pub referred_on: String,
    /// A [`ReferralStatus`] code, e.g. `started`.
    pub status: String,
    pub responses: Vec<ResponseExport>,
}

/// One completed questionnaire.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseExport {
    pub id: String,
    pub instrument: Instrument,
    /// The measurement point, e.g. `baseline`.
    pub point: String,
    /// RFC 3339, e.g. `2024-03-01T09:30:00+01:00`.
    pub authored: String,
    /// Item code and value as stored.
    pub answers: BTreeMap<String, i64>,
    pub total: Option<f64>,
    /// The band code, e.g. `moderate`.
    pub band: Option<String>,
}

/// The FHIR R4 `Bundle` of a trajectory; `base_url` is the public address of this
/// installation, e.g. `https://app.duurloop.nl`. See the module rules.
pub fn bundle(x: &TrajectoryExport, base_url: &str) -> Value {
    let urls = Urls {
        base: base_url.trim_end_matches('/'),
        trajectory: &x.trajectory_id,
    };
    let mut entries = vec![
        urls.entry("Patient", &x.trajectory_id, patient(x)),
        urls.entry("Practitioner", &urls.derived("referrer"), practitioner(x)),
        urls.entry(
            "PractitionerRole",
            &urls.derived("referrer-role"),
            role(&urls),
        ),
        urls.entry(
            "Organization",
            &urls.derived("referrer-org"),
            org(&x.referrer_org),
        ),
        urls.entry(
            "Organization",
            &urls.derived("performer-org"),
            org(&x.performer_org),
        ),
        urls.entry("ServiceRequest", &x.referral_id, service_request(x, &urls)),
    ];
    for response in &x.responses {
        entries.push(urls.entry(
            "QuestionnaireResponse",
            &response.id,
            questionnaire_response(x, response, &urls),
        ));
        if let Some(total) = response.total.filter(|t| t.is_finite()) {
            let id = format!("{}-total", response.id);
            entries.push(urls.entry("Observation", &id, observation(x, response, total, &urls)));
        }
    }
    let timestamp = x
        .responses
        .iter()
        .filter_map(|r| date_time(&r.authored))
        .max_by_key(|d| d.key)
        .map(|d| d.text);
    prune(json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timestamp,
        "entry": entries,
    }))
    .unwrap_or_default()
}

/// Builds the ids and full URLs of one bundle.
struct Urls<'a> {
    base: &'a str,
    trajectory: &'a str,
}

impl Urls<'_> {
    /// The id of a resource made from the trajectory, e.g. the referrer.
    fn derived(&self, role: &str) -> String {
        format!("{}-{role}", self.trajectory)
    }

    fn url(&self, kind: &str, raw_id: &str) -> String {
        format!("{}/fhir/{kind}/{}", self.base, fhir_id(raw_id))
    }

    fn reference(&self, kind: &str, raw_id: &str) -> Value {
        json!({ "reference": self.url(kind, raw_id) })
    }

    fn patient(&self) -> Value {
        self.reference("Patient", self.trajectory)
    }

    /// An entry: `resource` gets its `resourceType` and `id` here.
    fn entry(&self, kind: &str, raw_id: &str, mut resource: Value) -> Value {
        if let Some(fields) = resource.as_object_mut() {
            fields.insert("resourceType".to_string(), Value::from(kind));
            fields.insert("id".to_string(), Value::from(fhir_id(raw_id)));
        }
        json!({ "fullUrl": self.url(kind, raw_id), "resource": resource })
    }
}

/// `raw` if FHIR accepts it as an id, else the hex SHA-1 of it.
fn fhir_id(raw: &str) -> String {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    if (1..=64).contains(&raw.len()) && raw.bytes().all(allowed) {
        raw.to_string()
    } else {
        HEXLOWER.encode(&Sha1::digest(raw.as_bytes()))
    }
}

fn patient(x: &TrajectoryExport) -> Value {
    let email = &x.patient_email;
    let telecom = (!email.trim().is_empty()).then(|| json!({ "system": "email", "value": email }));
    json!({
        "name": [{ "text": x.patient_name }],
        "telecom": [telecom],
    })
}

fn practitioner(x: &TrajectoryExport) -> Value {
    json!({ "name": [{ "text": x.referrer_name }] })
}

fn role(urls: &Urls) -> Value {
    json!({
        "practitioner": urls.reference("Practitioner", &urls.derived("referrer")),
        "organization": urls.reference("Organization", &urls.derived("referrer-org")),
    })
}

fn org(name: &str) -> Value {
    json!({ "name": name })
}

/// The FHIR request status of one of our referral statuses (see the module rules).
pub fn request_status(status: &str) -> &'static str {
    use ReferralStatus as S;
    match S::parse(status) {
        Ok(S::Sent | S::Received | S::Invited | S::IntakePlanned | S::Accepted | S::Started) => {
            "active"
        }
        Ok(S::Waitlisted) => "on-hold",
        Ok(S::Completed | S::FollowUpDone) => "completed",
        Ok(S::NotSuitable | S::DroppedOut) => "revoked",
        Err(_) => "unknown",
    }
}

fn service_request(x: &TrajectoryExport, urls: &Urls) -> Value {
    let reasons: Vec<Value> = x
        .indications
        .iter()
        .map(|text| json!({ "text": text }))
        .collect();
    json!({
        "status": request_status(&x.status),
        "intent": "order",
        "code": { "text": "Runningtherapie" },
        "subject": urls.patient(),
        "authoredOn": date(&x.referred_on).map(|_| &x.referred_on),
        "requester": urls.reference("Practitioner", &urls.derived("referrer")),
        "performer": [urls.reference("Organization", &urls.derived("performer-org"))],
        "reasonCode": reasons,
    })
}

fn questionnaire_response(x: &TrajectoryExport, r: &ResponseExport, urls: &Urls) -> Value {
    let instrument = &r.instrument;
    let system = format!("{FHIR_BASE}/CodeSystem/{}-answers", instrument.code);
    let items: Vec<Value> = instrument
        .items
        .iter()
        .filter_map(|item| {
            let value = *r.answers.get(&item.code)?;
            let option = item.options.iter().find(|o| o.value == value)?;
            Some(json!({
                "linkId": item.code,
                "text": item.text.get(LANG),
                "answer": [{ "valueCoding": {
                    "system": system,
                    "code": value.to_string(),
                    "display": option.text.get(LANG),
                }}],
            }))
        })
        .collect();
    let point = (!r.point.trim().is_empty()).then(|| {
        json!({
            "url": format!("{FHIR_BASE}/StructureDefinition/measurement-point"),
            "valueCode": r.point,
        })
    });
    json!({
        "extension": [point],
        "basedOn": [urls.reference("ServiceRequest", &x.referral_id)],
        "questionnaire": format!(
            "{FHIR_BASE}/Questionnaire/{}|{}", instrument.code, instrument.version
        ),
        "status": "completed",
        "subject": urls.patient(),
        "authored": date_time(&r.authored).map(|d| d.text),
        "item": items,
    })
}

fn observation(x: &TrajectoryExport, r: &ResponseExport, total: f64, urls: &Urls) -> Value {
    let instrument = &r.instrument;
    let coding = match &instrument.loinc_total {
        Some(loinc) => json!({ "system": LOINC, "code": loinc }),
        None => json!({
            "system": format!("{FHIR_BASE}/CodeSystem/instrument-totals"),
            "code": instrument.code,
        }),
    };
    let band = r.band.as_deref().map(|code| {
        let label = instrument.bands.iter().find(|b| b.code == code);
        json!({
            "coding": [{
                "system": format!("{FHIR_BASE}/CodeSystem/{}-bands", instrument.code),
                "code": code,
                "display": label.map(|b| b.label.get(LANG)),
            }],
            "text": label.map_or(code, |b| b.label.get(LANG)),
        })
    });
    json!({
        "status": "final",
        "basedOn": [urls.reference("ServiceRequest", &x.referral_id)],
        "category": [{ "coding": [{
            "system": OBSERVATION_CATEGORY,
            "code": "survey",
            "display": "Survey",
        }]}],
        "code": { "coding": [coding], "text": instrument.title.get(LANG) },
        "subject": urls.patient(),
        "effectiveDateTime": date_time(&r.authored).map(|d| d.text),
        "valueQuantity": { "value": total, "unit": "score", "system": UCUM, "code": "{score}" },
        "interpretation": [band],
        "derivedFrom": [urls.reference("QuestionnaireResponse", &r.id)],
    })
}

/// Drops nulls, blank strings, and arrays and objects left empty, at every depth.
fn prune(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::Array(items) => {
            let items: Vec<Value> = items.into_iter().filter_map(prune).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(fields) => {
            let fields: Map<String, Value> = fields
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!fields.is_empty()).then_some(Value::Object(fields))
        }
        other => Some(other),
    }
}

/// An RFC 3339 date-time as FHIR writes it, and the instant it names for ordering.
struct DateTime {
    text: String,
    /// Seconds since 1970 in UTC, and nanoseconds.
    key: (i64, u32),
}

/// `yyyy-mm-dd` with a real calendar day: year, month and day.
fn date(s: &str) -> Option<(i64, u32, u32)> {
    if s.len() != 10 || s.get(4..5)? != "-" || s.get(7..8)? != "-" {
        return None;
    }
    let (year, month, day) = (
        number(s.get(0..4)?)?,
        number(s.get(5..7)?)?,
        number(s.get(8..10)?)?,
    );
    let year = i64::from(year);
    let real = year >= 1 && (1..=12).contains(&month) && (1..=days_in(year, month)).contains(&day);
    real.then_some((year, month, day))
}

/// `yyyy-mm-ddThh:mm:ss[.f…](Z|±hh:mm)`, also with `t`, a space or `z`.
fn date_time(s: &str) -> Option<DateTime> {
    if !s.is_ascii() {
        return None;
    }
    let (year, month, day) = date(s.get(0..10)?)?;
    if !matches!(s.get(10..11)?, "T" | "t" | " ") || s.get(13..14)? != ":" || s.get(16..17)? != ":"
    {
        return None;
    }
    let (hour, minute, second) = (
        number(s.get(11..13)?)?,
        number(s.get(14..16)?)?,
        number(s.get(17..19)?)?,
    );
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        let digits = fraction.get(..len.min(9))?;
        nanos = number(digits)? * 10_u32.pow(9 - u32::try_from(digits.len()).ok()?);
        rest = fraction.get(len..)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (h, m) = (number(rest.get(1..3)?)?, number(rest.get(4..6)?)?);
            let fhir = (h < 14 && m < 60) || (h == 14 && m == 0);
            if rest.len() != 6 || rest.get(3..4)? != ":" || !fhir {
                return None;
            }
            sign * i64::from(h * 3600 + m * 60)
        }
    };
    let seconds = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset;
    Some(DateTime {
        text: format!("{}T{}", s.get(..10)?, s.get(11..)?.to_ascii_uppercase()),
        key: (seconds, nanos),
    })
}

/// ASCII digits only, at least one.
fn number(digits: &str) -> Option<u32> {
    let plain = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| digits.parse().ok()).flatten()
}

fn days_in(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::measure::builtin_by_code;

    const BASE: &str = "https://app.duurloop.nl/";

    fn response(id: &str, code: &str, authored: &str, values: &[i64]) -> ResponseExport {
        let instrument = builtin_by_code(code).expect("built in");
        let answers: BTreeMap<String, i64> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{code}_{}", i + 1), *v))
            .collect();
        let score = instrument.score(&answers).ok();
        ResponseExport {
            id: id.to_string(),
            point: "baseline".to_string(),
            authored: authored.to_string(),
            total: score.as_ref().map(|s| s.total),
            band: score.and_then(|s| s.band),
            instrument,
            answers,
        }
    }

    fn export() -> TrajectoryExport {
        TrajectoryExport {
            trajectory_id: "0190f5a2-7c1e-7d3a-9b2f-3c4d5e6f7a8b".to_string(),
            referral_id: "0190f5a2-7c1e-7d3a-9b2f-000000000001".to_string(),
            patient_name: "Anna de Vries".to_string(),
            patient_email: "anna@example.nl".to_string(),
            referrer_name: "Dr. P. Jansen".to_string(),
            referrer_org: "Huisartsenpraktijk De Linde".to_string(),
            performer_org: "Loopgroep Utrecht".to_string(),
            indications: vec!["Somberheid".to_string(), "Stress".to_string()],
            referred_on: "2024-02-12".to_string(),
            status: "started".to_string(),
            responses: vec![
                response(
                    "r-phq9",
                    "phq9",
                    "2024-03-01T09:00:00+01:00",
                    &[2, 1, 2, 1, 1, 2, 1, 1, 1],
                ),
                response(
                    "r-gad7",
                    "gad7",
                    "2024-03-01T08:30:00Z",
                    &[1, 1, 2, 1, 0, 1, 1],
                ),
                response(
                    "r-who5",
                    "who5",
                    "2024-03-01t08:10:00.250z",
                    &[2, 3, 2, 3, 2],
                ),
                // Item 9 left open: no total, so no Observation.
                response(
                    "r-open",
                    "phq9",
                    "2024-02-20T10:00:00Z",
                    &[1, 1, 1, 1, 1, 1, 1, 1],
                ),
            ],
        }
    }

    fn entries(bundle: &Value) -> Vec<&Value> {
        bundle["entry"]
            .as_array()
            .expect("entries")
            .iter()
            .collect()
    }

    fn of_type<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
        entries(bundle)
            .into_iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == kind)
            .collect()
    }

    fn observation_of<'a>(bundle: &'a Value, response: &str) -> &'a Value {
        of_type(bundle, "Observation")
            .into_iter()
            .find(|o| o["id"] == format!("{response}-total"))
            .expect("observation")
    }

    /// Every `(key, value)` at any depth.
    fn all_fields(value: &Value) -> Vec<(String, &Value)> {
        let mut found = Vec::new();
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                Value::Array(items) => stack.extend(items),
                Value::Object(fields) => {
                    for (k, v) in fields {
                        found.push((k.clone(), v));
                        stack.push(v);
                    }
                }
                _ => {}
            }
        }
        found
    }

    #[test]
    fn the_bundle_is_a_collection_with_each_resource_once() {
        let b = bundle(&export(), BASE);
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["type"], "collection");
        let kinds: Vec<&str> = entries(&b)
            .iter()
            .map(|e| e["resource"]["resourceType"].as_str().expect("type"))
            .collect();
        assert_eq!(
            kinds,
            [
                "Patient",
                "Practitioner",
                "PractitionerRole",
                "Organization",
                "Organization",
                "ServiceRequest",
                "QuestionnaireResponse",
                "Observation",
                "QuestionnaireResponse",
                "Observation",
                "QuestionnaireResponse",
                "Observation",
                "QuestionnaireResponse",
            ]
        );
        let patient = &of_type(&b, "Patient")[0];
        assert_eq!(patient["name"][0]["text"], "Anna de Vries");
        assert_eq!(patient["telecom"][0]["system"], "email");
        assert_eq!(patient["telecom"][0]["value"], "anna@example.nl");
        let orgs: Vec<&Value> = of_type(&b, "Organization")
            .iter()
            .map(|o| &o["name"])
            .collect();
        assert_eq!(orgs, ["Huisartsenpraktijk De Linde", "Loopgroep Utrecht"]);
        assert_eq!(
            of_type(&b, "Practitioner")[0]["name"][0]["text"],
            "Dr. P. Jansen"
        );
    }

    #[test]
    fn every_full_url_is_unique_and_names_its_resource() {
        let b = bundle(&export(), BASE);
        let mut seen = BTreeSet::new();
        for entry in entries(&b) {
            let url = entry["fullUrl"].as_str().expect("fullUrl");
            let resource = &entry["resource"];
            let expected = format!(
                "https://app.duurloop.nl/fhir/{}/{}",
                resource["resourceType"].as_str().expect("type"),
                resource["id"].as_str().expect("id")
            );
            assert_eq!(url, expected);
            assert!(seen.insert(url.to_string()), "duplicate {url}");
        }
    }

    #[test]
    fn every_reference_resolves_inside_the_bundle() {
        let b = bundle(&export(), BASE);
        let urls: BTreeSet<&str> = entries(&b)
            .iter()
            .filter_map(|e| e["fullUrl"].as_str())
            .collect();
        let references: Vec<&str> = all_fields(&b)
            .into_iter()
            .filter(|(k, _)| k == "reference")
            .map(|(_, v)| v.as_str().expect("a string"))
            .collect();
        // Role 2, request 3, 4 responses × 2, 3 observations × 3.
        assert_eq!(references.len(), 2 + 3 + 8 + 9);
        for reference in references {
            assert!(urls.contains(reference), "{reference}");
        }
        let observation = observation_of(&b, "r-gad7");
        assert_eq!(
            observation["derivedFrom"][0]["reference"],
            "https://app.duurloop.nl/fhir/QuestionnaireResponse/r-gad7"
        );
    }

    #[test]
    fn the_referral_is_a_service_request() {
        let b = bundle(&export(), BASE);
        let request = &of_type(&b, "ServiceRequest")[0];
        assert_eq!(request["status"], "active");
        assert_eq!(request["intent"], "order");
        assert_eq!(request["code"]["text"], "Runningtherapie");
        assert_eq!(request["authoredOn"], "2024-02-12");
        assert_eq!(request["reasonCode"][0]["text"], "Somberheid");
        assert_eq!(request["reasonCode"][1]["text"], "Stress");
        let url = |kind: &str, id: &str| format!("https://app.duurloop.nl/fhir/{kind}/{id}");
        let t = "0190f5a2-7c1e-7d3a-9b2f-3c4d5e6f7a8b";
        assert_eq!(request["subject"]["reference"], url("Patient", t));
        let referrer = url("Practitioner", &format!("{t}-referrer"));
        assert_eq!(request["requester"]["reference"], referrer);
        let performer = url("Organization", &format!("{t}-performer-org"));
        assert_eq!(request["performer"][0]["reference"], performer);
        let role = &of_type(&b, "PractitionerRole")[0];
        assert_eq!(role["practitioner"]["reference"], referrer);
        let org = url("Organization", &format!("{t}-referrer-org"));
        assert_eq!(role["organization"]["reference"], org);
    }

    #[test]
    fn referral_statuses_map_to_fhir_request_statuses() {
        let fhir = [
            "draft",
            "active",
            "on-hold",
            "revoked",
            "completed",
            "entered-in-error",
            "unknown",
        ];
        for status in ReferralStatus::ALL {
            assert!(
                fhir.contains(&request_status(status.as_str())),
                "{status:?}"
            );
        }
        assert_eq!(request_status("sent"), "active");
        assert_eq!(request_status("intake_planned"), "active");
        assert_eq!(request_status("started"), "active");
        assert_eq!(request_status("waitlisted"), "on-hold");
        assert_eq!(request_status("completed"), "completed");
        assert_eq!(request_status("follow_up_done"), "completed");
        assert_eq!(request_status("dropped_out"), "revoked");
        assert_eq!(request_status("not_suitable"), "revoked");
        assert_eq!(request_status("Started"), "unknown");
        assert_eq!(request_status(""), "unknown");
    }

    #[test]
    fn answers_are_coded_as_the_questionnaire_options() {
        let b = bundle(&export(), BASE);
        let responses = of_type(&b, "QuestionnaireResponse");
        assert_eq!(responses.len(), 4);
        for qr in &responses {
            assert_eq!(qr["status"], "completed");
            let canonical = qr["questionnaire"].as_str().expect("canonical");
            let (url, version) = canonical.split_once('|').expect("versioned");
            let code = url.rsplit('/').next().expect("code");
            let questionnaire = builtin_by_code(code).expect("built in").to_fhir("nl");
            assert_eq!(url, questionnaire["url"]);
            assert_eq!(version, questionnaire["version"]);
            for item in qr["item"].as_array().expect("items") {
                let asked = questionnaire["item"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .find(|i| i["linkId"] == item["linkId"])
                    .expect("a questionnaire item");
                assert_eq!(item["text"], asked["text"]);
                let given = &item["answer"][0]["valueCoding"];
                let offered = asked["answerOption"]
                    .as_array()
                    .expect("options")
                    .iter()
                    .map(|o| &o["valueCoding"])
                    .any(|c| {
                        c["system"] == given["system"]
                            && c["code"] == given["code"]
                            && c["display"] == given["display"]
                    });
                assert!(offered, "{given}");
            }
        }
        let phq9 = &responses[0];
        assert_eq!(
            phq9["questionnaire"],
            "https://duurloop.nl/fhir/Questionnaire/phq9|1"
        );
        assert_eq!(phq9["item"].as_array().map(Vec::len), Some(9));
        assert_eq!(phq9["item"][0]["linkId"], "phq9_1");
        assert_eq!(phq9["item"][0]["answer"][0]["valueCoding"]["code"], "2");
        assert_eq!(
            phq9["item"][0]["answer"][0]["valueCoding"]["display"],
            "Meer dan de helft van de dagen"
        );
        let point = &phq9["extension"][0];
        assert_eq!(
            point["url"],
            "https://duurloop.nl/fhir/StructureDefinition/measurement-point"
        );
        assert_eq!(point["valueCode"], "baseline");
        assert_eq!(responses[3]["item"].as_array().map(Vec::len), Some(8));
    }

    #[test]
    fn answers_scoring_ignores_are_left_out_and_items_keep_their_order() {
        let mut x = export();
        let answers = &mut x.responses[0].answers;
        answers.insert("phq9_2".to_string(), 7);
        answers.insert("phq9_99".to_string(), 1);
        let b = bundle(&x, BASE);
        let items = of_type(&b, "QuestionnaireResponse")[0]["item"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["linkId"].as_str().expect("linkId"))
            .collect::<Vec<_>>();
        assert_eq!(
            items,
            [
                "phq9_1", "phq9_3", "phq9_4", "phq9_5", "phq9_6", "phq9_7", "phq9_8", "phq9_9"
            ]
        );
    }

    #[test]
    fn totals_carry_loinc_codes_where_they_exist() {
        let b = bundle(&export(), BASE);
        assert_eq!(of_type(&b, "Observation").len(), 3);
        let code = |id: &str| observation_of(&b, id)["code"]["coding"][0].clone();
        assert_eq!(
            code("r-phq9"),
            json!({ "system": "http://loinc.org", "code": "44261-6" })
        );
        assert_eq!(
            code("r-gad7"),
            json!({ "system": "http://loinc.org", "code": "70274-6" })
        );
        assert_eq!(
            code("r-who5"),
            json!({ "system": "https://duurloop.nl/fhir/CodeSystem/instrument-totals", "code": "who5" })
        );
        let phq9 = observation_of(&b, "r-phq9");
        assert_eq!(phq9["status"], "final");
        assert_eq!(
            phq9["category"][0]["coding"][0]["system"],
            OBSERVATION_CATEGORY
        );
        assert_eq!(phq9["category"][0]["coding"][0]["code"], "survey");
        assert_eq!(phq9["interpretation"][0]["coding"][0]["code"], "moderate");
        assert!(
            phq9["interpretation"][0]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
    }

    #[test]
    fn values_are_numeric_quantities_in_score_units() {
        let b = bundle(&export(), BASE);
        let expected = [("r-phq9", 12.0), ("r-gad7", 7.0), ("r-who5", 48.0)];
        for (id, total) in expected {
            let quantity = &observation_of(&b, id)["valueQuantity"];
            assert_eq!(quantity["value"].as_f64(), Some(total), "{id}");
            assert_eq!(quantity["unit"], "score");
            assert_eq!(quantity["system"], "http://unitsofmeasure.org");
            assert_eq!(quantity["code"], "{score}");
        }
    }

    #[test]
    fn dates_are_fhir_date_times_and_the_timestamp_is_the_latest_instant() {
        let b = bundle(&export(), BASE);
        // 09:00+01:00 is 08:00Z, earlier than 08:30Z although it sorts later as text.
        assert_eq!(b["timestamp"], "2024-03-01T08:30:00Z");
        assert_eq!(
            observation_of(&b, "r-phq9")["effectiveDateTime"],
            "2024-03-01T09:00:00+01:00"
        );
        let who5 = observation_of(&b, "r-who5");
        assert_eq!(who5["effectiveDateTime"], "2024-03-01T08:10:00.250Z");
        for (key, value) in all_fields(&b) {
            if ["timestamp", "authored", "effectiveDateTime"].contains(&key.as_str()) {
                let text = value.as_str().expect("a string");
                let shape = text.len() >= 20
                    && text.as_bytes()[10] == b'T'
                    && (text.ends_with('Z') || text.as_bytes()[text.len() - 6] == b'+');
                assert!(shape && date_time(text).is_some(), "{key}: {text}");
            }
        }
    }

    #[test]
    fn an_unreadable_date_is_left_out() {
        let mut x = export();
        x.referred_on = "12-02-2024".to_string();
        x.responses[0].authored = "2024-03-01 09:00".to_string();
        let b = bundle(&x, BASE);
        assert!(of_type(&b, "ServiceRequest")[0].get("authoredOn").is_none());
        assert!(
            of_type(&b, "QuestionnaireResponse")[0]
                .get("authored")
                .is_none()
        );
        assert!(
            observation_of(&b, "r-phq9")
                .get("effectiveDateTime")
                .is_none()
        );
        x.responses.clear();
        assert!(bundle(&x, BASE).get("timestamp").is_none());
    }

    #[test]
    fn dates_are_parsed_strictly() {
        assert_eq!(date("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(date("2023-02-29"), None);
        assert_eq!(date("2024-13-01"), None);
        assert_eq!(date("0000-01-01"), None);
        assert_eq!(date("2024-1-01"), None);
        let key = |s: &str| date_time(s).map(|d| d.key);
        assert_eq!(key("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(key("1970-01-01T01:00:00+01:00"), Some((0, 0)));
        assert_eq!(key("2000-03-01T00:00:00Z"), Some((951_868_800, 0)));
        assert_eq!(
            key("2024-03-01T00:00:00.5-00:30"),
            Some((1_709_253_000, 500_000_000))
        );
        for bad in [
            "2024-03-01T24:00:00Z",
            "2024-03-01T10:00Z",
            "2024-03-01T10:00:00",
            "2024-03-01T10:00:00+15:00",
            "2024-03-01T10:00:00.Z",
            "2024-03-01T10:00:00+0100",
            "2024-03-01T10:00:00Zjunk",
            "2024-03-01T10:00:00+01:00x",
            "2024-03-01T10:00:00×",
        ] {
            assert!(date_time(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_json_has_no_nulls_and_nothing_empty() {
        let mut x = export();
        x.patient_email = String::new();
        x.indications.clear();
        x.responses[0].band = None;
        let b = bundle(&x, BASE);
        for (key, value) in all_fields(&b) {
            let empty = match value {
                Value::Null => true,
                Value::String(s) => s.trim().is_empty(),
                Value::Array(a) => a.is_empty(),
                Value::Object(o) => o.is_empty(),
                _ => false,
            };
            assert!(!empty, "{key}: {value}");
        }
        let patient = &of_type(&b, "Patient")[0];
        assert!(patient.get("telecom").is_none());
        assert!(of_type(&b, "ServiceRequest")[0].get("reasonCode").is_none());
        assert!(observation_of(&b, "r-phq9").get("interpretation").is_none());
    }

    #[test]
    fn ids_match_the_fhir_id_pattern() {
        let mut x = export();
        x.trajectory_id = "traj_1".to_string();
        x.responses[1].id = "r".repeat(70);
        let b = bundle(&x, BASE);
        let valid = |id: &str| {
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        };
        for entry in entries(&b) {
            let id = entry["resource"]["id"].as_str().expect("id");
            assert!(valid(id), "{id}");
        }
        for entry in entries(&bundle(&export(), BASE)) {
            let id = entry["resource"]["id"].as_str().expect("id");
            assert!(valid(id), "{id}");
        }
        // Refused ids become a SHA-1, kept apart from the ids made from them.
        let patient = fhir_id("traj_1");
        assert_eq!(patient.len(), 40);
        assert_ne!(patient, fhir_id("traj-1"));
        assert_ne!(fhir_id("traj_1-referrer"), fhir_id("traj_1-referrer-role"));
        assert_eq!(of_type(&b, "Patient")[0]["id"], patient);
        assert_eq!(fhir_id("abc.DEF-1"), "abc.DEF-1");
        assert_eq!(fhir_id("").len(), 40);
        assert_eq!(fhir_id(&"a".repeat(64)), "a".repeat(64));
        assert_eq!(fhir_id(&"a".repeat(65)).len(), 40);
    }
}
