//! Authorization as an extractor: it runs before the query string and the body are parsed,
//! so a caller learns nothing about its input (400) before it is allowed (401/403).
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tessera_api::Scope;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// What an endpoint requires of its caller.
pub trait Requirement {
    fn check(caller: &Caller, state: &AppState) -> Result<(), ApiError>;
}

/// The caller, authenticated and allowed by `R` (put it before `ApiQuery` and `ApiJson`).
pub struct Authorized<R>(pub Caller, pub PhantomData<R>);

impl<R: Requirement> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        R::check(&caller, state)?;
        Ok(Authorized(caller, PhantomData))
    }
}

macro_rules! requirement {
    ($name:ident, $check:ident, $scope:expr, $doc:literal) => {
        #[doc = $doc]
        pub struct $name;
        impl Requirement for $name {
            fn check(caller: &Caller, state: &AppState) -> Result<(), ApiError> {
                caller.$check(state, $scope)
            }
        }
    };
}

requirement!(
    TokensRead,
    require,
    Scope::ApiTokensRead,
    "`apiTokens.read` (tokens)."
);
requirement!(
    TokensWrite,
    require,
    Scope::ApiTokensWrite,
    "`apiTokens.write` (tokens)."
);
requirement!(
    SettingsRead,
    require_settings,
    Scope::SettingsRead,
    "An admin, or `settings.read`."
);
requirement!(
    SettingsWrite,
    require_settings,
    Scope::SettingsWrite,
    "An admin, or `settings.write`."
);
requirement!(
    AuditRead,
    require_audit,
    Scope::AuditLogsRead,
    "An admin, or `auditLogs.read`."
);

/// A signed-in administrator, by session only (the users API): no token manages people.
pub struct AdminSession;

impl Requirement for AdminSession {
    fn check(caller: &Caller, state: &AppState) -> Result<(), ApiError> {
        // A demotion made on another node holds here too (writes re-check in the
        // transaction; reads rely on the index being current).
        state.require_current()?;
        match caller {
            Caller::Session { user, .. } if user.admin => Ok(()),
            Caller::Session { .. } => Err(ApiError::Forbidden(
                "Only administrators manage users".into(),
            )),
            Caller::Token { .. } => Err(ApiError::Forbidden(
                "Users are managed by a signed-in administrator, not with a token".into(),
            )),
        }
    }
}
