//! Issue 6: a change to PATs, a token's status or its existence holds for every request
//! that starts after the change returned, however many checks run at the same time; and
//! concurrent updates of one token never lose a field.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Session, TestApp};

const CLIENTS: usize = 16;

/// Hammers the check with `token` from 16 clients while `change` runs; returns every
/// (start, status) and the instant `change` returned.
async fn hammer_during<F: std::future::Future<Output = ()>>(
    app: &TestApp,
    token: &str,
    change: F,
) -> (Vec<(Instant, StatusCode)>, Instant) {
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (stop, url, token) = (
                stop.clone(),
                app.url("/api/v2/auth/check?scope=metrics.read"),
                token.to_owned(),
            );
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut seen = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let r = client
                        .get(&url)
                        .header("Authorization", format!("Api-Token {token}"))
                        .send()
                        .await
                        .unwrap();
                    seen.push((started, r.status()));
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    change.await;
    let changed = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    (all, changed)
}

fn assert_refused_after(seen: &[(Instant, StatusCode)], changed: Instant, refused: StatusCode) {
    let before = seen
        .iter()
        .filter(|(t, s)| *t < changed && *s == StatusCode::NO_CONTENT)
        .count();
    let after: Vec<_> = seen.iter().filter(|(t, _)| *t > changed).collect();
    assert!(before > 0, "no check was allowed before the change");
    assert!(
        after.len() > CLIENTS,
        "too few checks after the change: {}",
        after.len()
    );
    let allowed_after = after.iter().filter(|(_, s)| *s != refused).count();
    assert_eq!(
        allowed_after,
        0,
        "{allowed_after} of {} checks after the change were not {refused}",
        after.len()
    );
}

async fn setup() -> (TestApp, Session, String, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, token) = admin.generate("hammered", &["metrics.read"]).await;
    (app, admin, id, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn turning_pats_off_refuses_every_later_check() {
    let (app, admin, _, token) = setup().await;
    let (seen, changed) = hammer_during(&app, &token, admin.set_pat_enabled(false)).await;
    assert_refused_after(&seen, changed, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disabling_a_token_refuses_every_later_check() {
    let (app, admin, id, token) = setup().await;
    let disable = async {
        let r = admin
            .send_json(
                Method::PUT,
                &format!("/api/v2/apiTokens/{id}"),
                json!({"enabled": false}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    };
    let (seen, changed) = hammer_during(&app, &token, disable).await;
    assert_refused_after(&seen, changed, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_a_token_refuses_every_later_check() {
    let (app, admin, id, token) = setup().await;
    let delete = async {
        let r = admin
            .request(Method::DELETE, &format!("/api/v2/apiTokens/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    };
    let (seen, changed) = hammer_during(&app, &token, delete).await;
    assert_refused_after(&seen, changed, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_of_one_token_never_lose_a_field() {
    let (app, admin, id, _) = setup().await;
    let admin = Arc::new(admin);
    let path = format!("/api/v2/apiTokens/{id}");
    let scope_sets = [
        vec!["metrics.read"],
        vec!["metrics.read", "slo.read"],
        vec!["problems.read"],
    ];
    let writers: Vec<(&str, Vec<Value>)> = vec![
        (
            "name",
            (0..30)
                .map(|i| json!({"name": format!("name-{i}")}))
                .collect(),
        ),
        (
            "enabled",
            (0..30).map(|i| json!({"enabled": i % 2 == 1})).collect(),
        ),
        (
            "scopes",
            (0..30)
                .map(|i| json!({"scopes": scope_sets[i % 3]}))
                .collect(),
        ),
    ];
    let tasks: Vec<_> = writers
        .into_iter()
        .map(|(field, bodies)| {
            let (admin, path) = (admin.clone(), path.clone());
            tokio::spawn(async move {
                for body in bodies {
                    let r = admin.send_json(Method::PUT, &path, body).await;
                    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{field}");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let token: Value = admin.get(&path).await.json().await.unwrap();
    assert_eq!(token["name"], "name-29");
    assert_eq!(token["enabled"], true);
    assert_eq!(token["scopes"], json!(scope_sets[29 % 3]));
    // The in-memory decision agrees with the stored row.
    let after_restart = app.restart();
    let stored: Value = after_restart
        .admin()
        .await
        .get(&path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["name"], token["name"]);
    assert_eq!(stored["enabled"], token["enabled"]);
    assert_eq!(stored["scopes"], token["scopes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_enables_and_disables_each_audit_exactly_the_transitions_they_made() {
    let (app, admin, id, _) = setup().await;
    let admin = Arc::new(admin);
    let path = format!("/api/v2/apiTokens/{id}");
    let tasks: Vec<_> = (0..4)
        .map(|w| {
            let (admin, path) = (admin.clone(), path.clone());
            tokio::spawn(async move {
                for i in 0..15 {
                    let body = json!({"enabled": (w + i) % 2 == 0});
                    let r = admin.send_json(Method::PUT, &path, body).await;
                    assert_eq!(r.status(), StatusCode::NO_CONTENT);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    // Oldest first: the token starts enabled, so the events must alternate from a disable.
    let mut events: Vec<String> = app
        .audit_events()
        .await
        .into_iter()
        .filter(|e| e.target.as_deref() == Some(id.as_str()) && e.event != "token.generated")
        .map(|e| e.event)
        .collect();
    events.reverse();
    assert!(!events.is_empty(), "no transition was audited");
    for (i, event) in events.iter().enumerate() {
        let expected = if i % 2 == 0 {
            "token.disabled"
        } else {
            "token.enabled"
        };
        assert_eq!(event, expected, "event {i} of {events:?}");
    }
    let token: Value = admin.get(&path).await.json().await.unwrap();
    assert_eq!(
        token["enabled"],
        events.len().is_multiple_of(2),
        "{events:?}"
    );
}
