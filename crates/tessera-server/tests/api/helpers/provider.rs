//! A real OpenID provider for the single sign-on tests: npm's `oidc-provider` running
//! `tests/oidc/provider.mjs` (users alice, root, bob; test routes to change users and to
//! tamper with the next ID token), and a scripted browser that signs in through it.
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use reqwest::{Response, StatusCode};
use serde_json::Value;

pub const CLIENT_ID: &str = "app";
pub const CLIENT_SECRET: &str = "app-secret";

pub struct Provider {
    pub issuer: String,
    port: u16,
    redirect: String,
    child: Child,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(port: u16, redirect: &str) -> Child {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut child = Command::new("node")
        .arg(root.join("tests/oidc/provider.mjs"))
        .current_dir(&root)
        .env("PORT", port.to_string())
        .env("REDIRECT_URI", redirect)
        // Tessera's sign-in page, where the provider may send the browser after sign-out.
        .env(
            "POST_LOGOUT_URI",
            redirect.replace("/api/session/oidc/callback", "/login"),
        )
        .env("CLIENT_ID", CLIENT_ID)
        .env("CLIENT_SECRET", CLIENT_SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the OpenID provider (node; npm ci installs oidc-provider)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    match lines.next() {
        Some(Ok(line)) if line.starts_with("OP listening") => {}
        other => panic!("the OpenID provider did not start: {other:?}"),
    }
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

impl Provider {
    /// A provider whose one client may send browsers back to `redirect`.
    pub fn start(redirect: &str) -> Provider {
        let port = free_port();
        Provider {
            issuer: format!("http://127.0.0.1:{port}"),
            port,
            redirect: redirect.to_owned(),
            child: spawn(port, redirect),
        }
    }

    /// Stops and starts it again on the same address: it signs with a new key, and its
    /// users and grants are as at first start.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.port, &self.redirect);
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) {
        let r = reqwest::Client::new()
            .request(method, format!("{}{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::NO_CONTENT,
            "provider control {path}"
        );
    }

    /// Replaces a user's claims (e.g. their groups).
    pub async fn set_user(&self, id: &str, claims: Value) {
        self.control(reqwest::Method::PUT, &format!("/__test/users/{id}"), claims)
            .await;
    }

    pub async fn delete_user(&self, id: &str) {
        self.control(
            reqwest::Method::DELETE,
            &format!("/__test/users/{id}"),
            Value::Null,
        )
        .await;
    }

    /// Stops it (the provider cannot be reached until `restart`).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The next ID token is replaced: `none`, `unknown-kid`, `wrong-aud` or `expired`.
    pub async fn tamper_next(&self, mode: &str) {
        self.control(
            reqwest::Method::POST,
            "/__test/tamper",
            serde_json::json!({ "mode": mode }),
        )
        .await;
    }
}

/// A browser without JavaScript: a cookie jar, redirects followed by hand.
pub struct Browser {
    pub client: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }
}

fn location(r: &Response, base: &reqwest::Url) -> reqwest::Url {
    let to = r.headers()["location"].to_str().unwrap();
    base.join(to).unwrap()
}

impl Browser {
    /// GET `url` with this browser's cookies, redirects not followed.
    pub async fn get(&self, url: impl reqwest::IntoUrl) -> Response {
        self.client.get(url).send().await.unwrap()
    }

    /// Follows `url` through the provider's pages, signing in as `login` and consenting,
    /// until the provider sends the browser to a URL starting with `stop`; returns it.
    pub async fn through_provider(&self, url: &str, login: &str, stop: &str) -> reqwest::Url {
        let mut next = reqwest::Url::parse(url).unwrap();
        for _ in 0..12 {
            if next.as_str().starts_with(stop) {
                return next;
            }
            let r = self.get(next.clone()).await;
            if r.status().is_redirection() {
                next = location(&r, &next);
                continue;
            }
            let page = r.text().await.unwrap();
            let form: Vec<(&str, &str)> = if page.contains(r#"name="prompt" value="login""#) {
                vec![("prompt", "login"), ("login", login), ("password", "any")]
            } else if page.contains(r#"name="prompt" value="consent""#) {
                vec![("prompt", "consent")]
            } else {
                panic!("unexpected provider page at {next}: {page}");
            };
            let r = self
                .client
                .post(next.clone())
                .form(&form)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_redirection(), "{}", r.status());
            next = location(&r, &next);
        }
        panic!("too many redirects at the provider");
    }

    /// Starts sign-in at Tessera (`base`), goes through the provider as `login`, and
    /// returns Tessera's answer to the callback.
    pub async fn sign_in(&self, base: &str, login: &str, next: &str) -> Response {
        let callback = self.reach_callback(base, login, next).await;
        self.get(callback).await
    }

    /// Starts a sign-in at Tessera but does not go to the provider; the state it sent.
    pub async fn start_only(&self, base: &str) -> String {
        let r = self
            .get(format!("{base}/api/session/oidc/start?next=/"))
            .await;
        let to_provider = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        query(&to_provider, "state")
    }

    /// As `sign_in`, but stops before Tessera sees the callback; returns its URL.
    pub async fn reach_callback(&self, base: &str, login: &str, next: &str) -> reqwest::Url {
        let start = format!("{base}/api/session/oidc/start?next={}", urlencode(next));
        let r = self.get(&start).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "start");
        let to_provider = r.headers()["location"].to_str().unwrap().to_owned();
        self.through_provider(
            &to_provider,
            login,
            &format!("{base}/api/session/oidc/callback"),
        )
        .await
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The value of `key` in `url`'s query.
pub fn query(url: &reqwest::Url, key: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no {key} in {url}"))
        .1
        .into_owned()
}
