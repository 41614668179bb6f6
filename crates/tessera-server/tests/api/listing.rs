//! `GET /api/v2/apiTokens`: selector, fields, sort, paging.
use std::collections::HashSet;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{envelope, TestApp};

async fn list(session: &crate::helpers::Session, query: &str) -> Value {
    let r = session.get(&format!("/api/v2/apiTokens{query}")).await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    r.json().await.unwrap()
}

fn names(list: &Value) -> Vec<String> {
    list["apiTokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn default_fields_and_field_selection() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    admin.generate("one", &["metrics.read"]).await;
    let l = list(&admin, "").await;
    let t = &l["apiTokens"][0];
    let keys: HashSet<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        HashSet::from(["id", "name", "enabled", "owner", "creationDate"])
    );
    assert_eq!(l["pageSize"], 200);
    assert!(l["nextPageKey"].is_null());
    let l = list(&admin, "?fields=%2Bscopes,-owner").await;
    let keys: HashSet<&str> = l["apiTokens"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from(["id", "name", "enabled", "creationDate", "scopes"])
    );
    let l = list(&admin, "?fields=name,expirationDate").await;
    let t = l["apiTokens"][0].as_object().unwrap();
    assert_eq!(t.len(), 3);
    assert!(
        t["expirationDate"].is_null(),
        "asked-for nullable fields are present as null"
    );
    let e = envelope(
        admin.get("/api/v2/apiTokens?fields=colour").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["error"]["constraintViolations"][0]["path"], "fields");
    assert_eq!(
        e["error"]["constraintViolations"][0]["parameterLocation"],
        "QUERY"
    );
}

#[tokio::test]
async fn selector_criteria_all_must_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.user("alice", &["metrics.read", "slo.read"]).await;
    admin.generate("deploy prod", &["metrics.read"]).await;
    admin.generate("deploy staging", &["slo.read"]).await;
    alice.generate("alice metrics", &["metrics.read"]).await;
    let r = admin
        .send_json(
            Method::POST,
            "/api/v2/apiTokens",
            json!({"name": "env", "scopes": ["entities.read"], "personalAccessToken": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let q = |s: &str| format!("?apiTokenSelector={}&fields=name", urlencode(s));
    assert_eq!(list(&admin, &q(r#"owner("alice")"#)).await["totalCount"], 1);
    assert_eq!(
        list(&admin, &q(r#"personalAccessToken(false)"#)).await["totalCount"],
        1
    );
    assert_eq!(
        list(&admin, &q(r#"scope("metrics.read","entities.read")"#)).await["totalCount"],
        3
    );
    assert_eq!(
        list(&admin, &q(r#"scope("metrics.read"),owner("admin")"#)).await["totalCount"],
        1
    );
    let mut n = names(&list(&admin, &q(r#"name("DEPLOY")"#)).await);
    n.sort();
    assert_eq!(n, vec!["deploy prod", "deploy staging"]);
    for bad in [
        r#"owner(alice)x"#,
        r#"colour("red")"#,
        r#"scope("nope")"#,
        r#"personalAccessToken(maybe)"#,
    ] {
        let e = envelope(
            admin.get(&format!("/api/v2/apiTokens{}", q(bad))).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(
            e["error"]["constraintViolations"][0]["path"], "apiTokenSelector",
            "{bad}"
        );
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn sort_orders_by_each_key_both_ways() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for name in ["bravo", "alpha", "charlie"] {
        admin.generate(name, &["metrics.read"]).await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(
        names(&list(&admin, "").await),
        vec!["charlie", "alpha", "bravo"],
        "newest first by default"
    );
    assert_eq!(
        names(&list(&admin, "?sort=name").await),
        vec!["alpha", "bravo", "charlie"]
    );
    assert_eq!(
        names(&list(&admin, "?sort=-name").await),
        vec!["charlie", "bravo", "alpha"]
    );
    assert_eq!(
        names(&list(&admin, "?sort=%2BcreationDate").await),
        vec!["bravo", "alpha", "charlie"]
    );
    for key in ["lastUsedDate", "expirationDate", "modifiedDate"] {
        assert_eq!(
            list(&admin, &format!("?sort=-{key}")).await["totalCount"],
            3
        );
    }
    let e = envelope(
        admin.get("/api/v2/apiTokens?sort=owner").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["error"]["constraintViolations"][0]["path"], "sort");
}

#[tokio::test]
async fn from_and_to_filter_by_last_use() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, used) = admin.generate("used", &["metrics.read"]).await;
    admin.generate("unused", &["metrics.read"]).await;
    app.check(&used, "metrics.read").await;
    admin.token_after_use(&id).await;
    assert_eq!(names(&list(&admin, "?from=now-1h").await), vec!["used"]);
    assert_eq!(list(&admin, "?to=now-1h").await["totalCount"], 0);
    assert_eq!(list(&admin, "?from=0").await["totalCount"], 1);
    assert_eq!(
        list(&admin, "?from=2000-01-01T00:00:00Z&to=now").await["totalCount"],
        1
    );
    let e = envelope(
        admin.get("/api/v2/apiTokens?from=yesterday").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["error"]["constraintViolations"][0]["path"], "from");
}

#[tokio::test]
async fn page_size_and_page_key_are_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for bad in ["0", "10001", "ten", "-1"] {
        let e = envelope(
            admin
                .get(&format!("/api/v2/apiTokens?pageSize={bad}"))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["error"]["constraintViolations"][0]["path"], "pageSize");
    }
    let e = envelope(
        admin.get("/api/v2/apiTokens?nextPageKey=garbage").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["error"]["constraintViolations"][0]["path"], "nextPageKey");
    for _ in 0..3 {
        admin.generate("t", &["metrics.read"]).await;
    }
    let first = list(&admin, "?pageSize=2").await;
    let key = first["nextPageKey"].as_str().unwrap();
    let e = envelope(
        admin
            .get(&format!("/api/v2/apiTokens?nextPageKey={key}&pageSize=2"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["error"]["constraintViolations"][0]["path"], "nextPageKey");
}

#[tokio::test]
async fn paging_across_a_thousand_tokens_is_stable_under_concurrent_inserts() {
    let app = TestApp::spawn().await;
    let admin = Arc::new(app.admin().await);
    let mut batch = Vec::new();
    for i in 0..1000 {
        let admin = admin.clone();
        batch.push(tokio::spawn(async move {
            admin
                .generate(&format!("seed-{i:04}"), &["metrics.read"])
                .await
                .0
        }));
        if batch.len() == 16 {
            for t in batch.drain(..) {
                t.await.unwrap();
            }
        }
    }
    for t in batch.drain(..) {
        t.await.unwrap();
    }
    // While paging, eight clients keep inserting at once (on PostgreSQL, row numbers taken
    // in one order may commit in another; the snapshot must hold anyway).
    let inserters: Vec<_> = (0..8)
        .map(|w| {
            let admin = admin.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    admin
                        .generate(&format!("late-{w}-{i}"), &["metrics.read"])
                        .await;
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut page = list(&admin, "?pageSize=97&fields=name").await;
    let total = page["totalCount"].as_u64().unwrap();
    assert!(total >= 1000);
    loop {
        assert_eq!(
            page["totalCount"].as_u64().unwrap(),
            total,
            "the total does not move while paging"
        );
        seen.extend(names(&page));
        match page["nextPageKey"].as_str() {
            Some(key) => page = list(&admin, &format!("?nextPageKey={key}")).await,
            None => break,
        }
    }
    for inserter in inserters {
        inserter.await.unwrap();
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(seen.len() as u64, total, "no token twice, none skipped");
    assert_eq!(unique.len(), seen.len());
    assert!(seen.iter().filter(|n| n.starts_with("seed-")).count() == 1000);
    let after = list(&admin, "?pageSize=1").await;
    assert_eq!(after["totalCount"].as_u64().unwrap(), 1200);
}

/// A first page's total comes from the index when the selector names only owners and type,
/// else from the database; both must equal the rows the pages hold.
#[tokio::test]
async fn first_page_totals_equal_the_rows_the_pages_hold() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.user("alice", &["metrics.read"]).await;
    app.add_user("bob", &["metrics.read"], &[]);
    let mut doomed = Vec::new();
    for i in 0..3 {
        doomed.push(admin.generate(&format!("a{i}"), &["metrics.read"]).await.0);
        alice.generate(&format!("b{i}"), &["metrics.read"]).await;
    }
    for i in 0..2 {
        let body = json!({"name": format!("e{i}"), "scopes": ["metrics.read"], "personalAccessToken": false});
        let r = admin
            .send_json(Method::POST, "/api/v2/apiTokens", body)
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = admin
        .request(Method::DELETE, &format!("/api/v2/apiTokens/{}", doomed[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let selectors = [
        "",
        r#"owner("alice")"#,
        r#"owner("alice","admin","alice")"#,
        r#"owner("bob")"#,
        r#"owner("nobody")"#,
        r#"personalAccessToken(false)"#,
        r#"owner("admin"),personalAccessToken(true)"#,
    ];
    let mut totals = Vec::new();
    for session in [&admin, &alice] {
        for selector in selectors {
            let by_rows = if selector.is_empty() {
                r#"name("")"#.to_owned()
            } else {
                format!(r#"{selector},name("")"#)
            };
            let q = |s: &str| format!("?pageSize=1&fields=name&apiTokenSelector={}", urlencode(s));
            let mut page = list(session, &q(selector)).await;
            let total = page["totalCount"].as_u64().unwrap();
            let counted = list(session, &q(&by_rows)).await["totalCount"]
                .as_u64()
                .unwrap();
            let mut rows = 0;
            loop {
                rows += page["apiTokens"].as_array().unwrap().len() as u64;
                match page["nextPageKey"].as_str() {
                    Some(key) => page = list(session, &format!("?nextPageKey={key}")).await,
                    None => break,
                }
            }
            assert_eq!((total, counted), (rows, rows), "{selector}");
            totals.push(total);
        }
    }
    // admin: 2 + 3 personal + 2 environment; alice sees only her own three.
    assert_eq!(totals, [7, 3, 7, 0, 0, 2, 2, 3, 3, 3, 0, 0, 0, 0]);
}
