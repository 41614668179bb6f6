//! SPEC §8: the token never stored or logged, headers, audit trail, the console's assets.
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{envelope, TestApp};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn plaintext_tokens_are_absent_from_the_database_and_the_logs() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut tokens = Vec::new();
    for i in 0..5 {
        tokens.push(
            admin
                .generate(&format!("t{i}"), &["metrics.read", "apiTokens.read"])
                .await,
        );
    }
    for (id, token) in &tokens {
        assert_eq!(
            app.check(token, "metrics.read").await.status(),
            StatusCode::NO_CONTENT
        );
        app.token_client(token)
            .send(Method::GET, "/api/v2/apiTokens", None)
            .await;
        admin
            .send_json(
                Method::POST,
                "/api/v2/apiTokens/lookup",
                json!({"token": token}),
            )
            .await;
        // Even a token pasted into a URL must not reach the logs.
        admin.get(&format!("/api/v2/apiTokens/{token}")).await;
        app.check(&format!("{token}x"), "metrics.read").await;
        let _ = id;
    }
    // Logs arrive through a pipe: wait until the last request above is in them.
    let mut logs = app.logs();
    for _ in 0..100 {
        if logs.matches("/api/v2/auth/check").count() >= 2 * tokens.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        logs = app.logs();
    }
    let db = app.database_bytes().await;
    for (id, token) in &tokens {
        let secret = token.rsplit('.').next().unwrap();
        assert!(!contains(&db, secret), "secret in the database");
        assert!(!logs.contains(secret), "secret in the logs");
        assert!(contains(&db, id), "the id is stored");
    }
    assert!(logs.contains("/api/v2/auth/check"), "requests are logged");
}

#[tokio::test]
async fn api_responses_are_not_cached_and_carry_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/api/session", "/api/v2/apiTokens", "/api/v2/openapi.json"] {
        let r = reqwest::get(app.url(path)).await.unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.headers()["referrer-policy"], "no-referrer");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    }
}

#[tokio::test]
async fn every_token_event_is_audited_with_actor_address_and_time() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, _) = admin.generate("t", &["metrics.read"]).await;
    let path = format!("/api/v2/apiTokens/{id}");
    admin
        .send_json(Method::PUT, &path, json!({"name": "renamed"}))
        .await;
    admin
        .send_json(Method::PUT, &path, json!({"enabled": false}))
        .await;
    admin
        .send_json(Method::PUT, &path, json!({"enabled": true}))
        .await;
    admin.request(Method::DELETE, &path).send().await.unwrap();
    let events = app.audit_events().await;
    for event in [
        "token.generated",
        "token.updated",
        "token.disabled",
        "token.enabled",
        "token.deleted",
    ] {
        let row = events
            .iter()
            .find(|e| e.event == event)
            .unwrap_or_else(|| panic!("{event} not audited"));
        assert_eq!(row.actor, "admin");
        assert_eq!(row.target.as_deref(), Some(id.as_str()));
        assert_eq!(row.client_addr.as_deref(), Some("127.0.0.1"));
        assert!(row.at > 1_700_000_000_000);
    }
}

/// A console build with an inline loader script and precompressed copies.
fn fake_console() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let html = "<!DOCTYPE html><html><head><script type=\"module\">import('/app-0123456789abcdef.js')</script></head><body></body></html>";
    std::fs::write(dir.path().join("index.html"), html).unwrap();
    std::fs::write(
        dir.path().join("app-0123456789abcdef_bg.wasm"),
        b"\0asm-original",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app-0123456789abcdef_bg.wasm.br"),
        b"brotli-bytes",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app-0123456789abcdef_bg.wasm.gz"),
        b"gzip-bytes",
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn the_console_is_served_with_deep_links_caching_and_precompression() {
    let assets = fake_console();
    let app = TestApp::spawn_with(&["--assets", assets.path().to_str().unwrap()]).await;
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    for path in ["/", "/personal-access-tokens/new", "/some/deep/link"] {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(r.headers()["cache-control"], "no-cache");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(r.text().await.unwrap().contains("<script type=\"module\">"));
        // The inline loader is allowed by its hash, nothing else inline.
        use base64::Engine;
        use sha2::Digest;
        let hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(b"import('/app-0123456789abcdef.js')"));
        assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
        assert!(!csp.contains("unsafe-inline"));
    }
    let wasm = app.url("/app-0123456789abcdef_bg.wasm");
    let r = client
        .get(&wasm)
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "br");
    assert_eq!(r.headers()["content-type"], "application/wasm");
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"brotli-bytes");
    let r = client
        .get(&wasm)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let r = client.get(&wasm).send().await.unwrap();
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"\0asm-original");
    // Unknown API paths stay JSON errors, never the console.
    envelope(
        client.get(app.url("/api/v2/unknown")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn settings_pages_load_the_admin_build_and_its_loader_is_allowed() {
    let assets = fake_console();
    let admin = "<!DOCTYPE html><html><head><script type=\"module\">import('/admin-fedcba9876543210.js')</script></head><body></body></html>";
    std::fs::write(assets.path().join("admin.html"), admin).unwrap();
    let app = TestApp::spawn_with(&["--assets", assets.path().to_str().unwrap()]).await;
    let client = reqwest::Client::new();
    use base64::Engine;
    use sha2::Digest;
    let hash = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s));
    for (path, loader) in [
        (
            "/settings/access-control/users",
            "/admin-fedcba9876543210.js",
        ),
        (
            "/settings/integration/token-settings",
            "/admin-fedcba9876543210.js",
        ),
        ("/settings", "/admin-fedcba9876543210.js"),
        ("/personal-access-tokens", "/app-0123456789abcdef.js"),
        ("/settingsx", "/app-0123456789abcdef.js"),
    ] {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "{path}");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        // Either page may be loaded from the other, so both loaders are allowed on each.
        for script in [
            "import('/admin-fedcba9876543210.js')",
            "import('/app-0123456789abcdef.js')",
        ] {
            assert!(csp.contains(&hash(script.as_bytes())), "{path}: {csp}");
        }
        assert!(r.text().await.unwrap().contains(loader), "{path}");
    }
}
