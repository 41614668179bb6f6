//! The only module that speaks HTTP: typed functions over the server's API.
//! Errors mirror the server's envelope, field-level violations included, so forms can
//! show each problem next to the field it concerns.
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tessera_api::{
    ApiToken, ApiTokenList, ConstraintViolation, CreateTokenRequest, CreatedToken, ErrorEnvelope,
    LoginRequest, RotateTokenRequest, SessionInfo, SettingsList, SettingsUpdate, SettingsValue,
    TokenSettingsValue, UpdateTokenRequest, TOKEN_SETTINGS_SCHEMA,
};

/// What went wrong with a request, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status; 0 when the server could not be reached.
    pub status: u16,
    pub message: String,
    pub violations: Vec<ConstraintViolation>,
}

impl ApiError {
    fn network(e: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: 0,
            message: format!(
                "Tessera could not be reached ({e}). Check your connection and try again."
            ),
            violations: Vec::new(),
        }
    }

    /// The message of the first violation whose path is `field` or starts with `field[`.
    pub fn for_field(&self, field: &str) -> Option<String> {
        self.violations
            .iter()
            .find(|v| v.path == field || v.path.starts_with(&format!("{field}[")))
            .map(|v| v.message.clone())
    }

    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

async fn error_from(response: Response) -> ApiError {
    let status = response.status();
    match response.json::<ErrorEnvelope>().await {
        Ok(envelope) => ApiError {
            status,
            message: envelope.error.message,
            violations: envelope.error.constraint_violations,
        },
        Err(_) => ApiError {
            status,
            message: format!("The server answered with an unexpected error ({status})."),
            violations: Vec::new(),
        },
    }
}

pub(crate) async fn send(request: Result<Request, gloo_net::Error>) -> ApiResult<Response> {
    let response = request
        .map_err(ApiError::network)?
        .send()
        .await
        .map_err(ApiError::network)?;
    if response.ok() {
        Ok(response)
    } else {
        Err(error_from(response).await)
    }
}

pub(crate) async fn json<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> ApiResult<T> {
    let response = send(request).await?;
    response.json::<T>().await.map_err(|e| ApiError {
        status: response.status(),
        message: format!("The server's answer could not be read ({e})."),
        violations: Vec::new(),
    })
}

pub(crate) fn with_csrf(builder: RequestBuilder, csrf: &str) -> RequestBuilder {
    builder.header("X-CSRF-Token", csrf)
}

pub(crate) fn body<T: Serialize>(
    builder: RequestBuilder,
    value: &T,
) -> Result<Request, gloo_net::Error> {
    builder.json(value)
}

/// The current session, or `None` when signed out.
pub async fn session() -> ApiResult<Option<SessionInfo>> {
    match json::<SessionInfo>(Request::get("/api/session").build()).await {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.is_unauthorized() => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn sign_in(username: &str, password: &str) -> ApiResult<SessionInfo> {
    let login = LoginRequest {
        username: username.to_owned(),
        password: password.to_owned(),
    };
    json(body(Request::post("/api/session"), &login)).await
}

/// Signs out; for a user of single sign-on, the provider's end-session page to go to.
pub async fn sign_out(csrf: &str) -> ApiResult<Option<String>> {
    let response = send(with_csrf(Request::delete("/api/session"), csrf).build()).await?;
    if response.status() != 200 {
        return Ok(None);
    }
    let out: tessera_api::SignedOut = response.json().await.map_err(ApiError::network)?;
    Ok(Some(out.end_session_url))
}

/// How one may sign in here: passwords, single sign-on, or both.
pub async fn sign_in_options() -> ApiResult<tessera_api::SignInOptions> {
    json(Request::get("/api/session/options").build()).await
}

/// A token's requests per hour over the last 30 days.
pub async fn token_usage(id: &str) -> ApiResult<tessera_api::TokenUsage> {
    json(Request::get(&format!("/api/v2/apiTokens/{id}/usage")).build()).await
}

/// Every token of `owner`, newest first, following page keys.
pub async fn own_tokens(owner: &str) -> ApiResult<Vec<ApiToken>> {
    let selector = format!(
        "owner(\"{}\")",
        owner.replace('\\', "\\\\").replace('"', "\\\"")
    );
    let first = Request::get("/api/v2/apiTokens").query([
        ("apiTokenSelector", selector.as_str()),
        (
            "fields",
            "+scopes,+expirationDate,+lastUsedDate,+lastUsedIpAddress,+personalAccessToken,+additionalMetadata",
        ),
        ("pageSize", "1000"),
    ]);
    let mut page: ApiTokenList = json(first.build()).await?;
    let mut tokens = std::mem::take(&mut page.api_tokens);
    while let Some(key) = page.next_page_key.take() {
        page = json(
            Request::get("/api/v2/apiTokens")
                .query([("nextPageKey", key.as_str())])
                .build(),
        )
        .await?;
        tokens.append(&mut page.api_tokens);
    }
    Ok(tokens)
}

pub async fn create_token(csrf: &str, request: &CreateTokenRequest) -> ApiResult<CreatedToken> {
    json(body(
        with_csrf(Request::post("/api/v2/apiTokens"), csrf),
        request,
    ))
    .await
}

/// Rotates a token: the new one (shown once); the old one works `grace_seconds` more.
pub async fn rotate_token(csrf: &str, id: &str, grace_seconds: i64) -> ApiResult<CreatedToken> {
    let url = format!("/api/v2/apiTokens/{id}/rotate");
    let request = RotateTokenRequest {
        grace_seconds: Some(grace_seconds),
        expiration_date: None,
    };
    json(body(with_csrf(Request::post(&url), csrf), &request)).await
}

pub async fn update_token(csrf: &str, id: &str, update: &UpdateTokenRequest) -> ApiResult<()> {
    let url = format!("/api/v2/apiTokens/{id}");
    send(body(with_csrf(Request::put(&url), csrf), update))
        .await
        .map(|_| ())
}

pub async fn delete_token(csrf: &str, id: &str) -> ApiResult<()> {
    let url = format!("/api/v2/apiTokens/{id}");
    send(with_csrf(Request::delete(&url), csrf).build())
        .await
        .map(|_| ())
}

/// The token settings object: its id and value.
pub async fn token_settings() -> ApiResult<(String, TokenSettingsValue)> {
    let list: SettingsList = json(
        Request::get("/api/v2/settings/objects")
            .query([
                ("schemaIds", TOKEN_SETTINGS_SCHEMA),
                ("scopes", "environment"),
            ])
            .build(),
    )
    .await?;
    list.items
        .into_iter()
        .find_map(|o| match o.value {
            SettingsValue::Token(value) => Some((o.object_id, value)),
            SettingsValue::Lifecycle(_) => None,
        })
        .ok_or_else(|| ApiError {
            status: 404,
            message: "The token settings object is missing.".into(),
            violations: Vec::new(),
        })
}

pub async fn set_pat_enabled(csrf: &str, object_id: &str, enabled: bool) -> ApiResult<()> {
    let url = format!("/api/v2/settings/objects/{object_id}");
    let update = SettingsUpdate {
        value: SettingsValue::Token(TokenSettingsValue {
            pat_enabled: enabled,
        }),
    };
    send(body(with_csrf(Request::put(&url), csrf), &update))
        .await
        .map(|_| ())
}
