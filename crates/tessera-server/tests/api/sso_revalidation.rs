//! Issue 16: SSO users are re-validated with the provider (refresh token) at least every
//! --oidc-revalidate, so a group removed or a person deleted there takes effect on their
//! tokens without them signing in again; a provider that cannot be reached disables no one.
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::provider::Browser;
use crate::sso::{generate, Sso};

/// Signs `login` in through the provider and generates a token with `scopes`.
async fn token_of(sso: &Sso, login: &str, scopes: &[&str]) -> String {
    let base = &sso.app.base;
    let browser = Browser::default();
    assert_eq!(
        browser.sign_in(base, login, "/").await.status(),
        StatusCode::SEE_OTHER
    );
    generate(&browser, base, "while away", scopes).await
}

#[tokio::test]
async fn a_group_removed_or_a_user_deleted_at_the_provider_reaches_their_tokens() {
    let sso = Sso::start(&["--oidc-revalidate", "1h"]).await;
    let alice = token_of(&sso, "alice", &["metrics.read"]).await;
    let root = token_of(&sso, "root", &["metrics.read"]).await;
    for token in [&alice, &root] {
        assert_eq!(
            sso.app.check(token, "metrics.read").await.status(),
            StatusCode::NO_CONTENT
        );
    }
    sso.provider
        .set_user(
            "alice",
            json!({"preferred_username": "alice", "name": "Alice Liddell", "groups": []}),
        )
        .await;
    sso.provider.delete_user("root").await;
    // Before the interval nothing changes; after it, both are checked.
    sso.app.advance_clock(Duration::from_secs(1800)).await;
    assert_eq!(
        sso.app.check(&alice, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    sso.app.advance_clock(Duration::from_secs(1801)).await;
    sso.app
        .eventually_check(&alice, "metrics.read", StatusCode::FORBIDDEN)
        .await;
    sso.app
        .eventually_check(&root, "metrics.read", StatusCode::UNAUTHORIZED)
        .await;
    let events = sso.app.audit_events().await;
    assert!(events.iter().any(|e| e.event == "user.disabled"
        && e.actor == "oidc"
        && e.target.as_deref() == Some("root")));
    assert!(events.iter().any(|e| e.event == "user.updated"
        && e.actor == "oidc"
        && e.target.as_deref() == Some("alice")));
    // Back at the provider, they stay disabled here until an administrator enables them.
    sso.provider
        .set_user(
            "root",
            json!({"preferred_username": "root", "name": "Root", "groups": ["tessera-admins"]}),
        )
        .await;
    let r = Browser::default().sign_in(&sso.app.base, "root", "/").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("is disabled"));
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_disables_no_one() {
    let mut sso = Sso::start(&["--oidc-revalidate", "1h"]).await;
    let alice = token_of(&sso, "alice", &["metrics.read"]).await;
    sso.provider.stop();
    sso.app.advance_clock(Duration::from_secs(3601)).await;
    sso.app.until_logged("SSO re-validation postponed").await;
    assert_eq!(
        sso.app.check(&alice, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn a_provider_error_that_is_not_a_refusal_disables_no_one() {
    let sso = Sso::start(&["--oidc-revalidate", "1h"]).await;
    let alice = token_of(&sso, "alice", &["metrics.read"]).await;
    sso.provider.tamper_next("server-error").await;
    sso.app.advance_clock(Duration::from_secs(3601)).await;
    sso.app.until_logged("SSO re-validation postponed").await;
    assert!(
        sso.app.logs().contains("server_error"),
        "{}",
        sso.app.logs()
    );
    assert_eq!(
        sso.app.check(&alice, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(!sso
        .app
        .audit_events()
        .await
        .iter()
        .any(|e| e.event == "user.disabled"));
}
