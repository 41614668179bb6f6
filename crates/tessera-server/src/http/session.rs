//! Tessera's browser sessions: sign in, who am I, sign out.
use axum::extract::State;
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use tessera_api::{LoginRequest, ParameterLocation, SessionInfo, SignedOut, UserInfo};

use super::extract::ApiJson;
use crate::auth::caller::{session_user, ClientAddr};
use crate::auth::{session, Caller, UserEntry};
use crate::domain::names::Username;
use crate::domain::{password, time};
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/session", post(sign_in).get(current).delete(sign_out))
}

/// The session as the console reads it, with the parts of the lifecycle policy its forms
/// need (anyone may know the limits they are held to).
async fn session_info(
    state: &AppState,
    user: &UserEntry,
    csrf_token: &str,
) -> Result<SessionInfo, ApiError> {
    let policy = state.service.lifecycle_policy().await?;
    Ok(SessionInfo {
        user: UserInfo {
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            admin: user.admin,
            permissions: user.effective_permissions().to_strings(),
            management_zones: user.zones.clone(),
            all_zones: user.all_zones || user.admin,
        },
        pat_enabled: state.index().pat_enabled(),
        csrf_token: csrf_token.to_owned(),
        max_lifetime_days: policy.max_lifetime_days,
        expiry_warning_days: policy.expiry_warning_days,
    })
}

/// Signs in with username and password and sets the session cookie.
#[utoipa::path(post, path = "/api/session", tag = "Session", request_body = LoginRequest,
    responses((status = 200, body = SessionInfo), (status = 400, body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 429, body = tessera_api::ErrorEnvelope)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    if !state.settings.password_login {
        return Err(ApiError::Forbidden(
            "Signing in with a password is turned off here; use single sign-on".into(),
        ));
    }
    // A name that cannot exist is refused before it becomes a limiter key (bounded memory).
    Username::parse(&body.username)
        .map_err(|e| ApiError::invalid(ParameterLocation::PayloadBody, "username", e))?;
    let too_many = |retry_after_secs| ApiError::TooManyRequests { retry_after_secs };
    state.login_limiter.check(client).map_err(too_many)?;
    state
        .store()
        .take_sign_in_attempt(
            &body.username,
            time::now(),
            state.settings.login_attempts_per_user,
        )
        .await?
        .map_err(too_many)?;
    let user = state.store().user(&body.username).await?;
    // An SSO user's marker is checked like a wrong password (argon2 against the dummy
    // hash), so the answer's timing does not tell which users sign in through SSO.
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .filter(|h| !crate::service::sso::is_sso(h));
    let password = body.password.clone();
    // argon2 is deliberately slow and takes 19 MiB per check: keep it off the async workers,
    // and run at most one per core, so a burst of sign-ins queues instead of taking memory.
    let _permit = state
        .password_checks
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let verified = tokio::task::spawn_blocking(move || {
        password::verify(
            &password,
            stored.as_deref().unwrap_or_else(|| password::dummy_hash()),
        )
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    let user = match user {
        Some(u) if verified && u.active => u,
        _ => {
            state.service.failed_sign_in(&body.username, client).await;
            return Err(ApiError::InvalidCredentials);
        }
    };
    let session = state
        .service
        .start_session(&user, client, state.settings.max_sessions_per_user)
        .await?;
    let entry = UserEntry::from_user(&user);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        session::set_cookie(
            &session.cookie,
            state.settings.secure_cookie,
            state.settings.session_max.as_secs(),
        ),
    );
    Ok((
        headers,
        Json(session_info(&state, &entry, &session.record.csrf_token).await?),
    ))
}

/// The signed-in user, `patEnabled` and the CSRF token.
#[utoipa::path(get, path = "/api/session", tag = "Session",
    responses((status = 200, body = SessionInfo), (status = 401, body = tessera_api::ErrorEnvelope)))]
pub async fn current(
    State(state): State<AppState>,
    parts: Parts,
) -> Result<Json<SessionInfo>, ApiError> {
    let (user, record) = session_user(&parts, &state).await?;
    Ok(Json(session_info(&state, &user, &record.csrf_token).await?))
}

/// Signs out: the session is deleted on the server and the cookie cleared. A user who
/// signed in through the identity provider gets 200 with `endSessionUrl`, where the
/// browser should go next to end the provider's session too (when it publishes one).
#[utoipa::path(delete, path = "/api/session", tag = "Session",
    responses((status = 204), (status = 200, description = "Signed out; the provider's end-session URL follows", body = SignedOut), (status = 400, description = "Called with a token instead of a session", body = tessera_api::ErrorEnvelope),
              (status = 401, body = tessera_api::ErrorEnvelope), (status = 403, body = tessera_api::ErrorEnvelope)))]
pub async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    let Caller::Session {
        session: record, ..
    } = &caller
    else {
        return Err(ApiError::bad_request(
            "Only a browser session can be signed out",
        ));
    };
    state
        .service
        .end_session(&caller.actor(), record.id_digest)
        .await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        session::clear_cookie(state.settings.secure_cookie),
    );
    if let Some(url) = end_session_url(&state, caller.username()).await {
        return Ok((
            StatusCode::OK,
            headers,
            Json(SignedOut {
                end_session_url: url,
            }),
        )
            .into_response());
    }
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

async fn end_session_url(state: &AppState, username: &str) -> Option<String> {
    let sso = state.sso.as_ref()?;
    let user = state.store().user(username).await.ok()??;
    if !crate::service::sso::is_sso(&user.password_hash) {
        return None;
    }
    let mut url = url::Url::parse(&sso.rp.end_session().await?).ok()?;
    url.query_pairs_mut()
        .append_pair("client_id", sso.rp.client_id())
        .append_pair("post_logout_redirect_uri", &sso.sign_in_page);
    Some(url.to_string())
}
