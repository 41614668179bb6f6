//! Typed contexts shared by the pages.
use leptos::prelude::*;
use tessera_api::{Scope, SessionInfo};

use crate::api;

/// Where the session stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionState {
    Loading,
    SignedOut,
    SignedIn(SessionInfo),
    /// The server could not be asked.
    Failed(String),
}

/// Where the session stands, without its data: views keyed on it are not rebuilt when,
/// say, `patEnabled` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStatus {
    Loading,
    SignedOut,
    SignedIn,
    Failed(String),
}

/// The signed-in user, `patEnabled` and the CSRF token, for every page.
#[derive(Clone, Copy)]
pub struct SessionContext {
    pub state: RwSignal<SessionState>,
    status: Memo<SessionStatus>,
    pat_enabled: Memo<bool>,
    is_admin: Memo<bool>,
}

impl SessionContext {
    pub fn info(&self) -> Option<SessionInfo> {
        match self.state.get() {
            SessionState::SignedIn(info) => Some(info),
            _ => None,
        }
    }

    pub fn csrf(&self) -> String {
        self.state.with_untracked(|s| match s {
            SessionState::SignedIn(info) => info.csrf_token.clone(),
            _ => String::new(),
        })
    }

    pub fn status(&self) -> SessionStatus {
        self.status.get()
    }

    pub fn pat_enabled(&self) -> bool {
        self.pat_enabled.get()
    }

    pub fn is_admin(&self) -> bool {
        self.is_admin.get()
    }

    /// Scopes the user may put on a token (admins hold all).
    pub fn held_scopes(&self) -> Vec<Scope> {
        self.state.with(|s| match s {
            SessionState::SignedIn(info) => info
                .user
                .permissions
                .iter()
                .filter_map(|p| Scope::parse(p))
                .collect(),
            _ => Vec::new(),
        })
    }

    /// Reflects a settings change everywhere at once.
    pub fn set_pat_enabled(&self, enabled: bool) {
        self.state.update(|s| {
            if let SessionState::SignedIn(info) = s {
                info.pat_enabled = enabled;
            }
        });
    }

    /// Asks the server again (after sign-in, or when a request says the session ended).
    pub fn refresh(&self) {
        let state = self.state;
        leptos::task::spawn_local(async move {
            state.set(match api::session().await {
                Ok(Some(info)) => SessionState::SignedIn(info),
                Ok(None) => SessionState::SignedOut,
                Err(e) => SessionState::Failed(e.message),
            });
        });
    }
}

pub fn provide_session_context() -> SessionContext {
    let state = RwSignal::new(SessionState::Loading);
    let context = SessionContext {
        state,
        status: Memo::new(move |_| match state.get() {
            SessionState::Loading => SessionStatus::Loading,
            SessionState::SignedOut => SessionStatus::SignedOut,
            SessionState::SignedIn(_) => SessionStatus::SignedIn,
            SessionState::Failed(m) => SessionStatus::Failed(m),
        }),
        pat_enabled: Memo::new(move |_| {
            state.with(|s| matches!(s, SessionState::SignedIn(i) if i.pat_enabled))
        }),
        is_admin: Memo::new(move |_| {
            state.with(|s| matches!(s, SessionState::SignedIn(i) if i.user.admin))
        }),
    };
    context.refresh();
    provide_context(context);
    context
}

pub fn use_session() -> SessionContext {
    expect_context::<SessionContext>()
}

/// Set while a page holds something that would be lost by leaving (the show-once token);
/// the message is what the person is asked before leaving.
#[derive(Clone, Copy)]
pub struct LeaveGuard(pub RwSignal<Option<&'static str>>);

pub fn provide_leave_guard() {
    provide_context(LeaveGuard(RwSignal::new(None)));
}

pub fn use_leave_guard() -> LeaveGuard {
    expect_context::<LeaveGuard>()
}
