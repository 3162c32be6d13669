//! The OpenAPI document says what the server does: every status an operation answers is
//! listed, 4xx answers have the JSON error body, and bodies and content types match what is
//! documented. `.ci/schemathesis` checks the same with generated requests; these tests keep
//! what it found fixed.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, link_in};

async fn document(app: &TestApp) -> Value {
    reqwest::get(app.url("/api/openapi.json"))
        .await
        .expect("req")
        .json()
        .await
        .expect("json")
}

/// Follows a `$ref` to a component schema.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {r}"));
            let target = &doc["components"]["schemas"][name];
            assert!(!target.is_null(), "no schema {name}");
            resolve(doc, target)
        }
        None => schema,
    }
}

fn type_matches(t: &str, value: &Value) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("unknown type {other}"),
    }
}

/// The property names a schema declares, with those of its `allOf` parts.
fn declared(doc: &Value, schema: &Value, names: &mut HashSet<String>) {
    let schema = resolve(doc, schema);
    if let Some(p) = schema.get("properties").and_then(Value::as_object) {
        names.extend(p.keys().cloned());
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        declared(doc, part, names);
    }
}

/// Checks a value against a schema of the document, for the parts of JSON Schema that utoipa
/// writes (`$ref`, `allOf`, `oneOf`, `anyOf`, `type`, `enum`, `properties`, `required`,
/// `additionalProperties`, `items`, `prefixItems`). Stricter than JSON Schema in one way: an
/// object may only have the properties its schema declares (unless `additionalProperties`
/// says otherwise), so a field the document does not mention is an error.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    check_part(doc, schema, value, at, true)
}

/// As [`check`]; `whole` is false for an `allOf` part, whose siblings declare the rest.
fn check_part(
    doc: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    whole: bool,
) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if let Some(b) = schema.as_bool() {
        return if b {
            Ok(())
        } else {
            Err(format!("{at}: nothing is allowed here"))
        };
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check_part(doc, s, value, at, false)?;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(any) = schema.get(key).and_then(Value::as_array)
            && !any
                .iter()
                .any(|s| check_part(doc, s, value, at, whole).is_ok())
        {
            let shown: String = value.to_string().chars().take(80).collect();
            return Err(format!("{at}: {shown} matches none of {key}"));
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.iter().any(|t| type_matches(t, value)) {
            let shown: String = value.to_string().chars().take(80).collect();
            return Err(format!("{at}: {shown} is not of type {t}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Some(obj) = value.as_object() {
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !obj.contains_key(name) {
                    return Err(format!("{at}: `{name}` is required but missing"));
                }
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let closed = whole
            && schema.get("additionalProperties").is_none()
            && (properties.is_some() || schema.get("allOf").is_some());
        let mut names = HashSet::new();
        if closed {
            declared(doc, schema, &mut names);
        }
        for (name, v) in obj {
            let at = format!("{at}/{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(s) => check(doc, s, v, &at)?,
                None => match schema.get("additionalProperties") {
                    Some(extra) => check(doc, extra, v, &at)?,
                    None if closed && !names.contains(name) => {
                        return Err(format!("{at}: a field the schema does not declare"));
                    }
                    None => {}
                },
            }
        }
    }
    if let Some(items) = value.as_array() {
        let prefix = schema
            .get("prefixItems")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, v) in items.iter().enumerate() {
            let at = format!("{at}/{i}");
            match prefix.get(i) {
                Some(s) => check(doc, s, v, &at)?,
                None => {
                    if let Some(s) = schema.get("items") {
                        check(doc, s, v, &at)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Asserts that an answer is one the document lists for the operation: its status, its content
/// type and (for JSON) a body matching the schema; a 4xx must have the JSON error body.
/// Returns the status and the JSON body (`null` for other bodies).
async fn assert_documented(
    doc: &Value,
    method: &Method,
    template: &str,
    resp: reqwest::Response,
) -> (StatusCode, Value) {
    let op = &doc["paths"][template][method.as_str().to_lowercase()];
    assert!(!op.is_null(), "{method} {template} is not in the document");
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_string());
    let text = resp.text().await.expect("body");
    let what = format!("{method} {template} answered {status}");
    let documented = op["responses"]
        .get(status.as_str())
        .unwrap_or_else(|| panic!("{what}, which the document does not list: {text}"));
    if status.is_client_error() {
        assert_eq!(
            content_type.as_deref(),
            Some("application/json"),
            "{what} without the JSON error body: {text}"
        );
        let body: Value = serde_json::from_str(&text).expect("JSON error body");
        assert!(body["error"]["code"].is_string(), "{what}: {text}");
        assert!(body["error"]["message"].is_string(), "{what}: {text}");
    }
    let Some(content) = documented.get("content").and_then(Value::as_object) else {
        return (status, Value::Null);
    };
    let content_type = content_type.unwrap_or_else(|| panic!("{what} without a content type"));
    let media = content.get(&content_type).unwrap_or_else(|| {
        panic!(
            "{what} with content type {content_type}; documented: {:?}",
            content.keys().collect::<Vec<_>>()
        )
    });
    if !(content_type == "application/json" || content_type.ends_with("+json")) {
        return (status, Value::Null);
    }
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
    if let Some(schema) = media.get("schema")
        && let Err(e) = check(doc, schema, &body, "")
    {
        panic!("{what} with a body that does not match its schema: {e}");
    }
    (status, body)
}

/// The operations of the document: method, path template, operation.
fn operations(doc: &Value) -> Vec<(Method, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            out.push((method, path.clone(), op.clone()));
        }
    }
    out
}

/// A path with a value for each parameter: an unknown id for text, `number` for numbers.
fn fill(template: &str, op: &Value, number: &str) -> String {
    let mut path = template.to_string();
    for p in op["parameters"].as_array().into_iter().flatten() {
        if p["in"] != "path" {
            continue;
        }
        let name = p["name"].as_str().expect("name");
        let value = if p["schema"]["type"] == "string" {
            uuid::Uuid::now_v7().to_string()
        } else {
            number.to_string()
        };
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    path
}

#[tokio::test]
async fn every_operation_lists_the_answers_the_framework_gives_with_the_error_body() {
    let app = TestApp::spawn().await;
    let admin = app.user("beheer@duurloop.example", true, &[], true).await;
    let token = app.api_token(&admin).await;
    let doc = document(&app).await;
    let client = reqwest::Client::new();
    for (method, template, op) in operations(&doc) {
        let url = |path: &str| app.url(path);
        let public = op["security"].as_array().is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
        });
        let path = fill(&template, &op, "1");
        let json_body = op["requestBody"]["content"]
            .as_object()
            .is_some_and(|c| c.contains_key("application/json"));
        // No token, or a token nobody has.
        if !public {
            for auth in [None, Some("dl_bestaat-niet")] {
                let mut req = client.request(method.clone(), url(&path));
                if let Some(t) = auth {
                    req = req.bearer_auth(t);
                }
                let (status, _) =
                    assert_documented(&doc, &method, &template, req.send().await.expect("req"))
                        .await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {template}");
            }
        }
        // With a token: unknown ids, and whatever the call itself answers.
        let req = client
            .request(method.clone(), url(&path))
            .bearer_auth(&token);
        let req = if json_body { req.json(&json!({})) } else { req };
        assert_documented(&doc, &method, &template, req.send().await.expect("req")).await;
        if json_body {
            let bodies: [(Option<&str>, &str); 4] = [
                (Some("application/json"), "{niet json"),
                (Some("application/json"), "[]"),
                (Some("application/json"), r#"{"name": ["geen tekst"]}"#),
                (None, "{}"),
            ];
            for (content_type, body) in bodies {
                let mut req = client
                    .request(method.clone(), url(&path))
                    .bearer_auth(&token)
                    .body(body);
                if let Some(ct) = content_type {
                    req = req.header("content-type", ct);
                }
                let (status, _) =
                    assert_documented(&doc, &method, &template, req.send().await.expect("req"))
                        .await;
                assert!(status.is_client_error(), "{method} {template} took {body}");
            }
        }
        // A query parameter given twice does not deserialize into its field.
        if let Some(q) = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["in"] == "query")
        {
            let name = q["name"].as_str().expect("name");
            let req = client
                .request(method.clone(), url(&format!("{path}?{name}=1&{name}=2")))
                .bearer_auth(&token);
            let (status, _) =
                assert_documented(&doc, &method, &template, req.send().await.expect("req")).await;
            assert!(status.is_client_error(), "{method} {template}?{name}");
        }
        // A number in the path that is no number.
        let number_in_path = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["in"] == "path" && p["schema"]["type"] != "string");
        if number_in_path {
            let path = fill(&template, &op, "geen-getal");
            let req = client
                .request(method.clone(), url(&path))
                .bearer_auth(&token);
            let req = if json_body { req.json(&json!({})) } else { req };
            let (status, _) =
                assert_documented(&doc, &method, &template, req.send().await.expect("req")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}");
        }
    }
}

#[tokio::test]
async fn operation_ids_are_unique() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let mut seen = HashSet::new();
    for (method, template, op) in operations(&doc) {
        let id = op["operationId"].as_str().expect("operationId").to_string();
        assert!(
            seen.insert(id.clone()),
            "{method} {template} has the operationId `{id}` of another operation"
        );
    }
}

#[tokio::test]
async fn the_demo_answers_as_the_document_says() {
    let app = TestApp::spawn().await;
    duurloop::cli::demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let coordinator = app
        .api_token(&app.demo_user("praktijkmanager@medi-stad.example").await)
        .await;
    let referrer = app
        .api_token(&app.demo_user("huisarts@medi-stad.example").await)
        .await;
    let therapist = app
        .api_token(&app.demo_user("poh@medi-stad.example").await)
        .await;
    let doc = document(&app).await;
    let client = reqwest::Client::new();
    let call = |token: &str, method: Method, template: &str, path: &str, body: Option<Value>| {
        let mut req = client
            .request(method.clone(), app.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let doc = &doc;
        let template = template.to_string();
        async move {
            let resp = req.send().await.expect("req");
            assert_documented(doc, &method, &template, resp).await
        }
    };
    let (_, me) = call(&coordinator, Method::GET, "/api/v1/me", "/api/v1/me", None).await;
    let org = me["memberships"][0]["org_id"]
        .as_str()
        .expect("org")
        .to_string();
    let t = "/api/v1/organisations/{id}/directory";
    let (_, directory) = call(&coordinator, Method::GET, t, &t.replace("{id}", &org), None).await;
    // A new location answers `{id}` (documented once as a referral's `Created`, with more
    // required fields, when two types had that name).
    let t = "/api/v1/organisations/{id}/locations";
    let (status, _) = call(
        &coordinator,
        Method::POST,
        t,
        &t.replace("{id}", &org),
        Some(json!({"name": "Sportpark", "address": "Parkweg 1", "postcode": "8232 AB", "place": "Lelystad"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // A running group, its sessions (a session was documented as the portal's session token)
    // and its participants' trajectories.
    let offering = directory["offerings"]
        .as_array()
        .expect("offerings")
        .iter()
        .find(|o| o["title"].as_str().is_some_and(|t| t.contains("loopt")))
        .expect("the running group")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let t = "/api/v1/offerings/{id}/group";
    let (_, group) = call(
        &therapist,
        Method::GET,
        t,
        &t.replace("{id}", &offering),
        None,
    )
    .await;
    let session = group["sessions"][0]["id"].as_str().expect("session");
    let t = "/api/v1/sessions/{id}";
    let (status, _) = call(
        &therapist,
        Method::GET,
        t,
        &t.replace("{id}", session),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let trajectory = group["participants"][0]["trajectory_id"]
        .as_str()
        .expect("trajectory")
        .to_string();
    for t in [
        "/api/v1/trajectories/{id}",
        "/api/v1/trajectories/{id}/funding",
        // Answers are an object (they were served as a string of JSON).
        "/api/v1/trajectories/{id}/measurements",
        // A FHIR Bundle is `application/fhir+json`.
        "/api/v1/trajectories/{id}/fhir",
        // Messages (Anouk's in the demo): a staff author's name, a participant's none.
        "/api/v1/trajectories/{id}/messages",
    ] {
        let (status, _) = call(
            &therapist,
            Method::GET,
            t,
            &t.replace("{id}", &trajectory),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{t}");
    }
    let (_, referrals) = call(
        &therapist,
        Method::GET,
        "/api/v1/referrals",
        "/api/v1/referrals",
        None,
    )
    .await;
    let referral = referrals[0]["id"].as_str().expect("referral");
    let t = "/api/v1/referrals/{id}";
    call(
        &therapist,
        Method::GET,
        t,
        &t.replace("{id}", referral),
        None,
    )
    .await;
    // A new referral answers `{id, waitlist, duplicate}`, a new location only `{id}`: two
    // types, and two schemas (they once shared the name `Created`, and one schema).
    let t = "/api/v1/referrals";
    let (status, created) = call(
        &referrer,
        Method::POST,
        t,
        t,
        Some(json!({
            "offering_id": offering,
            "client_name": "Jan Jansen",
            "client_email": "jan@example.nl",
            "client_phone": "06-12345678",
            "client_postcode": "8232 AB",
            "indications": ["stress"],
            "motivation": "high",
            "funding_route": "gp_module",
            "consent": "yes",
            "submission_key": "openapi-1"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    call(
        &therapist,
        Method::GET,
        "/api/v1/alerts",
        "/api/v1/alerts",
        None,
    )
    .await;
    // The impact report of an organisation that does not exist.
    let t = "/api/v1/reports/impact";
    let (status, _) = call(
        &coordinator,
        Method::GET,
        t,
        &format!("{t}?org={}", uuid::Uuid::now_v7()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &coordinator,
        Method::GET,
        t,
        &format!("{t}?org={org}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A participant's portal session (documented as a group session when two types had the
    // name `SessionOut`).
    let t = "/api/v1/portal/link";
    call(
        "",
        Method::POST,
        t,
        t,
        Some(json!({"email": "deelnemer1@example.nl"})),
    )
    .await;
    let magic = link_in(
        &app.last_mail_to("deelnemer1@example.nl")
            .await
            .expect("mail")
            .body_text,
        &app.base,
    );
    let magic = magic.rsplit('/').next().expect("token");
    let t = "/api/v1/portal/session";
    let (status, session) = call("", Method::POST, t, t, Some(json!({"token": magic}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let portal = session["session"].as_str().expect("session");
    let (status, _) = call(
        portal,
        Method::GET,
        "/api/v1/portal",
        "/api/v1/portal",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let t = "/api/v1/portal/messages";
    let (status, messages) = call(portal, Method::GET, t, t, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !messages["messages"]
            .as_array()
            .expect("messages")
            .is_empty()
    );
    let (status, _) = call(
        portal,
        Method::POST,
        t,
        t,
        Some(json!({"body": "Tot donderdag!"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = call(portal, Method::POST, t, t, Some(json!({"body": " "}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
