//! Issue 16: what single sign-on refuses — forged ID tokens, tampered state, a callback in
//! another browser, a replayed code, a provider's error — with a page that says why and
//! nothing created; and a key rotation at the provider followed.
use reqwest::StatusCode;

use crate::helpers::provider::{query, Browser};
use crate::sso::Sso;

#[tokio::test]
async fn forged_id_tokens_are_refused_and_nothing_is_created() {
    let sso = Sso::start(&[]).await;
    for (mode, why) in [
        ("none", "the ID token does not hold"),
        ("unknown-kid", "the ID token does not hold"),
        ("wrong-aud", "the ID token does not hold"),
        ("expired", "the ID token does not hold"),
    ] {
        sso.provider.tamper_next(mode).await;
        let browser = Browser::default();
        let r = browser.sign_in(&sso.app.base, "bob", "/").await;
        let reason = Sso::refused(r, StatusCode::BAD_REQUEST).await;
        assert!(reason.contains(why), "{mode}: {reason}");
        let r = browser.get(format!("{}/api/session", sso.app.base)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{mode}: signed in");
    }
    assert!(!sso.users().await.contains(&"bob".to_owned()));
    // The same sign-in, untouched, works.
    let r = Browser::default().sign_in(&sso.app.base, "bob", "/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(sso.users().await.contains(&"bob".to_owned()));
}

#[tokio::test]
async fn a_tampered_state_a_foreign_browser_and_a_replayed_code_are_refused() {
    let sso = Sso::start(&[]).await;
    let base = &sso.app.base;
    // Tampered state.
    let browser = Browser::default();
    let mut callback = browser.reach_callback(base, "bob", "/").await;
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                format!("{v}x")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    callback.query_pairs_mut().clear().extend_pairs(&pairs);
    let reason = Sso::refused(browser.get(callback).await, StatusCode::BAD_REQUEST).await;
    assert!(reason.contains("state does not match"), "{reason}");
    // A callback carried to another browser (no sign-in cookie there).
    let callback = browser.reach_callback(base, "bob", "/").await;
    let reason = Sso::refused(
        Browser::default().get(callback.clone()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(reason.contains("not started in this browser"), "{reason}");
    // The code used once, then again under a new sign-in's state.
    let r = browser.get(callback.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "first use");
    let code = query(&callback, "code");
    let state = browser.start_only(base).await;
    let replay = format!("{base}/api/session/oidc/callback?code={code}&state={state}");
    let reason = Sso::refused(browser.get(replay).await, StatusCode::BAD_REQUEST).await;
    assert!(
        reason.contains("refused the authorization code"),
        "{reason}"
    );
    // A provider's error is shown by its code only, and only to the browser that started
    // the sign-in: a crafted link cannot put words on this site.
    let crafted = format!(
        "{base}/api/session/oidc/callback?error=access_denied&error_description=Call+%2B1+555"
    );
    let r = Browser::default().get(&crafted).await;
    let reason = Sso::refused(r, StatusCode::BAD_REQUEST).await;
    assert!(reason.contains("not started in this browser"), "{reason}");
    let started = Browser::default();
    let state = started.start_only(base).await;
    let r = started.get(format!("{crafted}&state={state}")).await;
    let reason = Sso::refused(r, StatusCode::BAD_REQUEST).await;
    assert!(
        reason.contains("(access_denied)") && !reason.contains("555"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_key_rotation_at_the_provider_is_followed() {
    let mut sso = Sso::start(&[]).await;
    assert_eq!(
        Browser::default()
            .sign_in(&sso.app.base, "alice", "/")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    sso.provider.restart();
    let r = Browser::default()
        .sign_in(&sso.app.base, "alice", "/")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
}
