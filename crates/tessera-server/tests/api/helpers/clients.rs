//! Clients of a `TestApp`: a browser session, a hand-written raw session, a program with a
//! token, and the error envelope's shape.
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

/// A signed-in browser session: cookie jar plus the CSRF token.
pub struct Session {
    pub base: String,
    pub client: reqwest::Client,
    pub csrf: String,
}

impl Session {
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self
            .client
            .request(method.clone(), format!("{}{}", self.base, path));
        if method == Method::GET {
            builder
        } else {
            builder.header("X-CSRF-Token", &self.csrf)
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn send_json(&self, method: Method, path: &str, body: Value) -> Response {
        self.request(method, path).json(&body).send().await.unwrap()
    }

    /// Generates a PAT and returns (id, token).
    pub async fn generate(&self, name: &str, scopes: &[&str]) -> (String, String) {
        self.generate_with(json!({"name": name, "scopes": scopes}))
            .await
    }

    /// Generates a PAT with a rate limit and returns (id, token).
    pub async fn generate_limited(&self, scopes: &[&str], per_minute: u32) -> (String, String) {
        self.generate_with(
            json!({"name": "limited", "scopes": scopes, "rateLimitPerMinute": per_minute}),
        )
        .await
    }

    /// Generates a token from a whole request body and returns (id, token).
    pub async fn generate_with(&self, body: Value) -> (String, String) {
        let name = body["name"].clone();
        let r = self
            .send_json(Method::POST, "/api/v2/apiTokens", body)
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "generate {name}: {}",
            r.text().await.unwrap()
        );
        let body: Value = r.json().await.unwrap();
        (
            body["id"].as_str().unwrap().to_owned(),
            body["token"].as_str().unwrap().to_owned(),
        )
    }

    /// The token once its last use is stored: the server writes it off the request's path,
    /// so a read right after a check may not see it yet.
    pub async fn token_after_use(&self, id: &str) -> Value {
        let path = format!("/api/v2/apiTokens/{id}");
        let mut token = Value::Null;
        for _ in 0..100 {
            token = self.get(&path).await.json().await.unwrap();
            if !token["lastUsedDate"].is_null() {
                return token;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the last use of {id} was never recorded: {token}");
    }

    /// Every token this session can see, with `fields` (e.g. `+scopes`).
    pub async fn all_tokens(&self, fields: &str) -> Vec<Value> {
        let list: Value = self
            .request(Method::GET, "/api/v2/apiTokens")
            .query(&[("pageSize", "10000"), ("fields", fields)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list["apiTokens"].as_array().unwrap().clone()
    }

    pub async fn set_pat_enabled(&self, enabled: bool) {
        let list: Value = self
            .get("/api/v2/settings/objects?schemaIds=builtin:tokens.token-settings&scopes=environment")
            .await
            .json()
            .await
            .unwrap();
        let id = list["items"][0]["objectId"].as_str().unwrap().to_owned();
        let r = self
            .send_json(
                Method::PUT,
                &format!("/api/v2/settings/objects/{id}"),
                json!({"value": {"patEnabled": enabled}}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
}

/// A session's cookie and CSRF token, for requests written by hand on a raw socket.
pub struct RawSession {
    pub cookie: String,
    pub csrf: String,
}

impl RawSession {
    /// An HTTP/1.1 request with the session's credentials and an optional JSON body.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> String {
        let body = body.unwrap_or_default();
        format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {}\r\nX-CSRF-Token: {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.cookie,
            self.csrf,
            body.len()
        )
    }
}

/// A program calling the API with `Authorization: Api-Token …`.
pub struct TokenClient {
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
}

impl TokenClient {
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut builder = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("Authorization", format!("Api-Token {}", self.token));
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        builder.send().await.unwrap()
    }
}

/// The error envelope of a response, asserting its shape and status.
pub async fn envelope(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], status.as_u16(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["constraintViolations"].is_array(), "{body}");
    body
}
