//! Issue 6: arbitrary values for every query parameter and body that the API reads, sent to
//! the real server. Each answer is a success or a 400 in the envelope that names the
//! parameter; never a 5xx, never a dropped connection.
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Session, TestApp};

fn runner() -> TestRunner {
    // `make soak` raises this through PROPTEST_CASES.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// A value shaped like the parameter's language, or anything at all.
fn value_for(parameter: &str) -> BoxedStrategy<String> {
    let shaped = match parameter {
        "apiTokenSelector" => {
            r#"(owner|name|scope|personalAccessToken)\(("[a-z.\\"]{0,8}"|true|x)?\)"#
        }
        "fields" => "[+ -]?(id|name|scopes|owner|x)(,[+ -]?(id|lastUsedDate|y)){0,3}",
        "sort" => "[+ -]?(name|creationDate|owner|)",
        "from" | "to" => {
            "now(-[0-9]{1,12}[mhdwMyq]?)?|[0-9]{1,20}|2026-[0-9]{2}-[0-9]{2}T00:00:00Z"
        }
        "pageSize" => "-?[0-9]{0,12}",
        _ => "[A-Za-z0-9_-]{0,60}",
    };
    prop_oneof![
        proptest::string::string_regex(shaped).unwrap(),
        any::<String>()
    ]
    .boxed()
}

/// 2xx, or a 400 whose first violation names `parameter`.
async fn assert_accepted_or_named(
    response: reqwest::Response,
    parameter: &str,
) -> Result<(), TestCaseError> {
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| TestCaseError::fail(format!("{status}: not JSON: {e}")))?;
    if status.is_success() {
        return Ok(());
    }
    prop_assert_eq!(status, StatusCode::BAD_REQUEST, "{}", body);
    prop_assert_eq!(&body["error"]["code"], &json!(400));
    let path = body["error"]["constraintViolations"][0]["path"]
        .as_str()
        .unwrap_or_default();
    prop_assert!(
        path == parameter || path == "query",
        "violation names `{}`: {}",
        path,
        body
    );
    Ok(())
}

#[test]
fn every_list_parameter_is_accepted_or_named_in_a_400() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (app, admin, _) = rt.block_on(setup());
    for parameter in [
        "apiTokenSelector",
        "fields",
        "sort",
        "from",
        "to",
        "pageSize",
        "nextPageKey",
    ] {
        runner()
            .run(&value_for(parameter), |value| {
                rt.block_on(async {
                    let response = admin
                        .request(Method::GET, "/api/v2/apiTokens")
                        .query(&[(parameter, value.as_str())])
                        .send()
                        .await
                        .unwrap();
                    assert_accepted_or_named(response, parameter).await
                })
            })
            .unwrap_or_else(|e| panic!("{parameter}: {e}\n{}", app.logs()));
    }
}

#[test]
fn the_check_scope_and_token_headers_never_break_the_server() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (app, _, token) = rt.block_on(setup());
    let strategy = (
        value_for("scope"),
        prop_oneof![
            Just(format!("Api-Token {token}")),
            "Api-Token [ -~]{0,120}",
            "[ -~]{0,40}",
        ],
    );
    runner()
        .run(&strategy, |(scope, authorization)| {
            rt.block_on(async {
                let response = reqwest::Client::new()
                    .get(app.url("/api/v2/auth/check"))
                    .query(&[("scope", scope.as_str())])
                    .header("Authorization", authorization)
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                prop_assert!(!status.is_server_error(), "{}", status);
                if status != StatusCode::NO_CONTENT {
                    let body: Value = response.json().await.unwrap();
                    prop_assert_eq!(&body["error"]["code"], &json!(status.as_u16()));
                }
                Ok(())
            })
        })
        .unwrap();
}

/// Any JSON at all, and objects with the right keys holding values of any type.
fn json_body() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        proptest::sample::select(vec![
            "metrics.read",
            "apiTokens.write",
            "now+30d",
            "now-1d",
            "t"
        ])
        .prop_map(Value::from),
    ];
    let any_json = leaf.clone().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-zA-Z]{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let key = proptest::sample::select(vec![
        "name",
        "scopes",
        "expirationDate",
        "enabled",
        "patEnabled",
        "value",
        "username",
        "password",
        "extra",
    ]);
    prop_oneof![
        any_json.clone(),
        proptest::collection::btree_map(key, any_json, 0..4)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
    ]
}

#[test]
fn every_json_body_is_accepted_or_refused_with_a_named_field() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (app, admin, _) = rt.block_on(setup());
    let (id, _) = rt.block_on(admin.generate("target", &["metrics.read"]));
    let routes = [
        (Method::POST, "/api/v2/apiTokens".to_owned()),
        (Method::PUT, format!("/api/v2/apiTokens/{id}")),
        (Method::POST, "/api/v2/apiTokens/lookup".to_owned()),
        (
            Method::PUT,
            format!(
                "/api/v2/settings/objects/{}",
                tessera_server::http::settings::OBJECT_ID
            ),
        ),
    ];
    for (method, path) in routes {
        runner()
            .run(&json_body(), |body| {
                rt.block_on(async {
                    let response = admin.send_json(method.clone(), &path, body.clone()).await;
                    let status = response.status();
                    prop_assert!(
                        !status.is_server_error(),
                        "{} {}: {} for {}",
                        method,
                        path,
                        status,
                        body
                    );
                    if !status.is_success() {
                        let text = response.text().await.unwrap();
                        let envelope: Value = serde_json::from_str(&text)
                            .map_err(|_| TestCaseError::fail(text.clone()))?;
                        prop_assert_eq!(status, StatusCode::BAD_REQUEST, "{} for {}", text, body);
                        let violation = &envelope["error"]["constraintViolations"][0];
                        prop_assert_eq!(
                            &violation["parameterLocation"],
                            &json!("PAYLOAD_BODY"),
                            "{}",
                            text
                        );
                        prop_assert!(
                            violation["path"].as_str().is_some_and(|p| !p.is_empty()),
                            "{}",
                            text
                        );
                    }
                    Ok(())
                })
            })
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", app.logs()));
    }
    // The settings object was only ever written with valid values: still a boolean.
    let settings: Value = rt.block_on(async {
        admin.get("/api/v2/settings/objects?schemaIds=builtin:tokens.token-settings&scopes=environment").await.json().await.unwrap()
    });
    assert!(
        settings["items"][0]["value"]["patEnabled"].is_boolean(),
        "{settings}"
    );
}

#[test]
fn broken_bytes_are_a_400_naming_the_body() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_app, admin, _) = rt.block_on(setup());
    runner()
        .run(&proptest::collection::vec(any::<u8>(), 0..200), |bytes| {
            rt.block_on(async {
                let response = admin
                    .request(Method::POST, "/api/v2/apiTokens")
                    .header("Content-Type", "application/json")
                    .body(bytes.clone())
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                if status != StatusCode::CREATED {
                    let body: Value = response.json().await.unwrap();
                    prop_assert_eq!(status, StatusCode::BAD_REQUEST);
                    prop_assert!(body["error"]["constraintViolations"][0]["path"].is_string());
                }
                Ok(())
            })
        })
        .unwrap();
}

async fn setup() -> (TestApp, Session, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, token) = admin
        .generate("hostile", &["apiTokens.read", "metrics.read"])
        .await;
    (app, admin, token)
}

/// Found by schemathesis: serde builds a struct from an array, so `[null, null]` was a
/// valid (empty) update.
#[tokio::test]
async fn a_json_array_is_not_a_body() {
    let (_app, admin, _) = setup().await;
    let (id, _) = admin.generate("target", &["metrics.read"]).await;
    for (method, path) in [
        (Method::PUT, format!("/api/v2/apiTokens/{id}")),
        (Method::POST, "/api/v2/apiTokens".to_owned()),
    ] {
        let r = admin.send_json(method, &path, json!([null, null])).await;
        let body = crate::helpers::envelope(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["constraintViolations"][0]["path"], "body");
    }
}
