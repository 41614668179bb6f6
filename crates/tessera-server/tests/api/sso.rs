//! Issue 16: single sign-on against a real OpenID provider (npm's oidc-provider), through
//! a scripted browser: the code flow, the mapping of groups, and every forged or replayed
//! answer refused with a page that says why and nothing created.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::provider::{free_port, Browser, Provider, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::{TestApp, ADMIN_PASSWORD};

const MAPPING: &str = r#"
[[group]]
name = "tessera-admins"
admin = true
[[group]]
name = "observability"
permissions = ["metrics.read", "metrics.write", "apiTokens.read", "apiTokens.write"]
zones = ["Production"]
"#;

pub struct Sso {
    pub app: TestApp,
    pub provider: Provider,
    _files: tempfile::TempDir,
}

impl Sso {
    pub async fn start(extra: &[&str]) -> Sso {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let provider = Provider::start(&format!("{base}/api/session/oidc/callback"));
        let files = tempfile::tempdir().unwrap();
        let key = files.path().join("oidc.key");
        std::fs::write(&key, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n").unwrap();
        let mapping = files.path().join("mapping.toml");
        std::fs::write(&mapping, MAPPING).unwrap();
        let (listen, key, mapping) = (
            format!("127.0.0.1:{port}"),
            key.display().to_string(),
            mapping.display().to_string(),
        );
        let mut args = vec![
            "--listen",
            &listen,
            "--public-url",
            &base,
            "--oidc-issuer",
            &provider.issuer,
            "--oidc-client-id",
            CLIENT_ID,
            "--oidc-client-secret",
            CLIENT_SECRET,
            "--oidc-key-file",
            &key,
            "--oidc-claims-mapping",
            &mapping,
            "--oidc-name",
            "Test IdP",
        ];
        args.extend_from_slice(extra);
        let app = TestApp::spawn_with(&args).await;
        if !extra.contains(&"--password-login") {
            app.admin().await.set_pat_enabled(true).await;
        }
        Sso {
            app,
            provider,
            _files: files,
        }
    }

    /// The refusal page's reason.
    pub async fn refused(r: reqwest::Response, status: StatusCode) -> String {
        assert_eq!(r.status(), status);
        let page = r.text().await.unwrap();
        let start = page.find("<p id=\"reason\">").expect("a reason") + 15;
        page[start..start + page[start..].find("</p>").unwrap()].to_owned()
    }

    pub async fn users(&self) -> Vec<String> {
        let admin = self.app.admin().await;
        let list: Value = admin
            .get("/api/v2/tessera/users")
            .await
            .json()
            .await
            .unwrap();
        list["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The signed-in session of a browser, as the console reads it.
pub async fn session(browser: &Browser, base: &str) -> Value {
    let r = browser.get(format!("{base}/api/session")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Generates a token with the browser's session (as the console does) and returns it.
pub async fn generate(browser: &Browser, base: &str, name: &str, scopes: &[&str]) -> String {
    let me = session(browser, base).await;
    let r = browser
        .client
        .post(format!("{base}/api/v2/apiTokens"))
        .header("X-CSRF-Token", me["csrfToken"].as_str().unwrap())
        .json(&json!({"name": name, "scopes": scopes}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_first_sign_in_creates_the_user_with_the_mapped_rights_and_lands_where_asked() {
    let sso = Sso::start(&[]).await;
    let base = &sso.app.base;
    let browser = Browser::default();
    let r = browser
        .sign_in(base, "alice", "/personal-access-tokens?x=1")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/personal-access-tokens?x=1");
    let me = session(&browser, base).await;
    assert_eq!(me["user"]["username"], "alice");
    assert_eq!(me["user"]["displayName"], "Alice Liddell");
    assert_eq!(me["user"]["admin"], false);
    assert_eq!(me["user"]["managementZones"], json!(["Production"]));
    assert_eq!(
        me["user"]["permissions"],
        json!([
            "apiTokens.read",
            "apiTokens.write",
            "metrics.read",
            "metrics.write"
        ])
    );
    // The user was added by `oidc`, audited.
    let events = sso.app.audit_events().await;
    assert!(events.iter().any(|e| e.event == "user.added"
        && e.actor == "oidc"
        && e.target.as_deref() == Some("alice")));
    // They generate a token with the session, and it works.
    let token = generate(&browser, base, "from sso", &["metrics.read"]).await;
    assert_eq!(
        sso.app.check(&token, "metrics.read").await.status(),
        StatusCode::NO_CONTENT
    );
    // An SSO user has no password to sign in with: refused as a wrong one would be.
    for password in ["any", "sso:", "alice-password-1"] {
        let r = sso.app.attempt_sign_in("alice", password).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{password:?}");
    }
    // A group removed at the provider is gone at the next sign-in (audited), and so is
    // what the token could do with it.
    sso.provider
        .set_user(
            "alice",
            json!({"preferred_username": "alice", "name": "Alice Liddell", "groups": []}),
        )
        .await;
    let again = Browser::default();
    assert_eq!(
        again.sign_in(base, "alice", "/").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        session(&again, base).await["user"]["permissions"],
        json!([])
    );
    assert!(sso
        .app
        .audit_events()
        .await
        .iter()
        .any(|e| e.event == "user.updated" && e.actor == "oidc"));
    sso.app
        .eventually_check(&token, "metrics.read", StatusCode::FORBIDDEN)
        .await;
}

#[tokio::test]
async fn a_group_can_make_an_admin_and_next_must_stay_on_this_site() {
    let sso = Sso::start(&[]).await;
    let browser = Browser::default();
    for next in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let r = browser.sign_in(&sso.app.base, "root", next).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/", "{next}");
    }
    assert_eq!(
        session(&browser, &sso.app.base).await["user"]["admin"],
        true
    );
}

#[tokio::test]
async fn a_local_user_is_never_taken_over_and_password_login_can_be_turned_off() {
    let sso = Sso::start(&["--password-login", "false"]).await;
    sso.app.add_user("bob", &["metrics.read"], &[]);
    let reason = Sso::refused(
        Browser::default().sign_in(&sso.app.base, "bob", "/").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        reason.contains("already exists and does not sign in through this provider"),
        "{reason}"
    );
    // No password works, the admin's included; the sign-in page is told so.
    let r = sso.app.attempt_sign_in("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = sso.app.attempt_sign_in("bob", "bob-password-1").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let options: Value = reqwest::get(sso.app.url("/api/session/options"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(options, json!({"passwordLogin": false, "sso": "Test IdP"}));
    // Single sign-on still signs people in.
    assert_eq!(
        Browser::default()
            .sign_in(&sso.app.base, "root", "/")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_sso_user_gets_no_local_password_from_the_cli_or_an_administrator() {
    let sso = Sso::start(&[]).await;
    assert_eq!(
        Browser::default()
            .sign_in(&sso.app.base, "alice", "/")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (ok, out) = sso.app.cli_result(&["passwd", "alice"], None);
    assert!(!ok && out.contains("no local password"), "{out}");
    let admin = sso.app.admin().await;
    let r = admin
        .send_json(
            reqwest::Method::POST,
            "/api/v2/tessera/users/alice/password",
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = sso.app.attempt_sign_in("alice", "alice-password-1").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_out_ends_the_session_and_names_the_providers_end_session_page() {
    let sso = Sso::start(&[]).await;
    let base = &sso.app.base;
    let browser = Browser::default();
    assert_eq!(
        browser.sign_in(base, "alice", "/").await.status(),
        StatusCode::SEE_OTHER
    );
    let me = session(&browser, base).await;
    let r = browser
        .client
        .delete(format!("{base}/api/session"))
        .header("X-CSRF-Token", me["csrfToken"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let url = r.json::<Value>().await.unwrap()["endSessionUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&format!("{}/session/end?", sso.provider.issuer)),
        "{url}"
    );
    assert!(url.contains("client_id=app"), "{url}");
    // The provider accepts it (its confirmation page, not an error).
    let page = browser.get(&url).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(!page.text().await.unwrap().contains("oops!"));
    let r = browser.get(format!("{base}/api/session")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A password user signs out as before: 204.
    let admin = sso.app.admin().await;
    let r = admin
        .request(reqwest::Method::DELETE, "/api/session")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}
