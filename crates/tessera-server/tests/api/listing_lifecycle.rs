//! Tessera's `apiTokenSelector` extensions for the administrators' token page (issue 14):
//! `status(…)` and `unusedDays(n)`, counted from the rows, on both databases.
use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, TestApp};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Sets columns the API cannot (an expiry in the past, an old creation and last use).
async fn set(app: &TestApp, id: &str, column: &str, value: i64) {
    use sqlx::Connection;
    if app.on_sqlite() {
        let mut db = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
        let sql = format!("UPDATE tokens SET {column} = ? WHERE id = ?");
        sqlx::query(&sql)
            .bind(value)
            .bind(id)
            .execute(&mut db)
            .await
            .unwrap();
    } else {
        let mut db = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
        let sql = format!("UPDATE tokens SET {column} = $1 WHERE id = $2");
        sqlx::query(&sql)
            .bind(value)
            .bind(id)
            .execute(&mut db)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn status_and_unused_days_select_what_the_admin_page_shows() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut ids = std::collections::HashMap::new();
    for (name, expires) in [
        ("a", None),
        ("b", None),
        ("c", Some("now+3d")),
        ("d", Some("now+30d")),
        ("e", None),
        ("f", None),
    ] {
        let mut body = json!({"name": name, "scopes": ["metrics.read"]});
        if let Some(e) = expires {
            body["expirationDate"] = json!(e);
        }
        let r = admin
            .send_json(Method::POST, "/api/v2/apiTokens", body)
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.insert(
            name,
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let r = admin
        .send_json(
            Method::PUT,
            &format!("/api/v2/apiTokens/{}", ids["b"]),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    set(&app, &ids["e"], "expires_at", now - 3_600_000).await;
    set(&app, &ids["f"], "created_at", now - 200 * DAY_MS).await;
    set(&app, &ids["f"], "last_used_at", now - 100 * DAY_MS).await;

    let names = |selector: &'static str| {
        let admin = &admin;
        async move {
            let q = format!(
                "/api/v2/apiTokens?fields=name&apiTokenSelector={}",
                urlencoding(selector)
            );
            let r = admin.get(&q).await;
            assert_eq!(r.status(), StatusCode::OK, "{selector}");
            let body: Value = r.json().await.unwrap();
            let names: BTreeSet<String> = body["apiTokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                body["totalCount"].as_u64().unwrap() as usize,
                names.len(),
                "{selector}"
            );
            names.into_iter().collect::<Vec<_>>().join("")
        }
    };
    assert_eq!(names(r#"status("enabled")"#).await, "acdf");
    assert_eq!(names(r#"status("disabled")"#).await, "b");
    assert_eq!(names(r#"status("expired")"#).await, "e");
    assert_eq!(names(r#"status("expiring")"#).await, "c");
    assert_eq!(names(r#"status("disabled","expired")"#).await, "be");
    assert_eq!(names("unusedDays(90)").await, "f");
    assert_eq!(names(r#"unusedDays(90),status("disabled")"#).await, "");
    // A page key whose query was edited (a `now` far away, a status no selector can hold)
    // is refused before it reaches SQL or arithmetic.
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let first: Value = admin
        .get("/api/v2/apiTokens?pageSize=1")
        .await
        .json()
        .await
        .unwrap();
    let key = first["nextPageKey"].as_str().unwrap();
    let key: Value = serde_json::from_slice(&engine.decode(key).unwrap()).unwrap();
    let odd_selector = json!({"owners": [], "personal": null, "scopes": [], "names": [],
        "statuses": ["nope"], "unused_days": null});
    for (field, value) in [
        ("now", json!(i64::MAX)),
        ("now", json!(i64::MIN)),
        ("selector", odd_selector),
    ] {
        let mut forged = key.clone();
        forged["query"][field] = value;
        let forged = engine.encode(serde_json::to_vec(&forged).unwrap());
        let r = admin
            .get(&format!("/api/v2/apiTokens?nextPageKey={forged}"))
            .await;
        let body = envelope(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["constraintViolations"][0]["path"], "nextPageKey",
            "{field}"
        );
    }
    let long = format!("owner({})", vec!["\"a\""; 101].join(","));
    for bad in [
        r#"status("nope")"#,
        "unusedDays(0)",
        "unusedDays(x)",
        "unusedDays(1,2)",
        long.as_str(),
    ] {
        let q = format!("/api/v2/apiTokens?apiTokenSelector={}", urlencoding(bad));
        let body = envelope(admin.get(&q).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            body["error"]["constraintViolations"][0]["path"], "apiTokenSelector",
            "{bad}"
        );
    }
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
