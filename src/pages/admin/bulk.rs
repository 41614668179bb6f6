//! Bulk disable and delete of the ticked tokens: a confirmation naming the count, then one
//! request per token, and a report that names each token that failed and why.
use std::collections::BTreeMap;

use leptos::prelude::*;
use tessera_api::UpdateTokenRequest;

use crate::api;
use crate::components::ConfirmDialog;
use crate::state::use_session;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Disable,
    Delete,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Disable => "Disable",
            Action::Delete => "Delete",
        }
    }
    fn past(self) -> &'static str {
        match self {
            Action::Disable => "disabled",
            Action::Delete => "deleted",
        }
    }
}

fn tokens(n: usize) -> String {
    format!("{n} token{}", if n == 1 { "" } else { "s" })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub id: String,
    pub name: String,
    pub message: String,
}

/// What a bulk action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkReport {
    pub action: Action,
    pub done: usize,
    pub failed: Vec<Failure>,
}

impl BulkReport {
    pub fn view(self) -> impl IntoView {
        let summary = format!("{} {}.", tokens(self.done), self.action.past());
        let class = if self.failed.is_empty() {
            "notice"
        } else {
            "notice error"
        };
        let failed = (!self.failed.is_empty()).then(|| {
            let action = self.action;
            view! {
                <p>{format!("{} could not be {}:", tokens(self.failed.len()), action.past())}</p>
                <ul class="failures">
                    {self.failed.into_iter().map(|f| view! {
                        <li><strong>{f.name}</strong> " (" <code>{f.id}</code> "): " {f.message}</li>
                    }).collect_view()}
                </ul>
            }
        });
        view! { <div class=class data-testid="bulk-report"><p>{summary}</p>{failed}</div> }
    }
}

/// Shown while tokens are ticked: the count, Disable, Delete and Clear.
#[component]
pub fn BulkBar(
    selection: RwSignal<BTreeMap<String, String>>,
    on_done: Callback<BulkReport>,
) -> impl IntoView {
    let session = use_session();
    let asking = RwSignal::new(None::<Action>);
    let busy = RwSignal::new(false);
    let count = move || selection.with(BTreeMap::len);
    let run = Callback::new(move |()| {
        let Some(action) = asking.get_untracked() else {
            return;
        };
        let rows = selection.get_untracked();
        let csrf = session.csrf();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let mut report = BulkReport {
                action,
                done: 0,
                failed: Vec::new(),
            };
            for (id, name) in rows {
                let result = match action {
                    Action::Disable => {
                        let update = UpdateTokenRequest {
                            enabled: Some(false),
                            ..Default::default()
                        };
                        api::update_token(&csrf, &id, &update).await
                    }
                    Action::Delete => api::delete_token(&csrf, &id).await,
                };
                match result {
                    Ok(()) => report.done += 1,
                    Err(e) => {
                        report.failed.push(Failure {
                            id,
                            name,
                            message: e.message,
                        });
                    }
                }
            }
            busy.set(false);
            asking.set(None);
            on_done.run(report);
        });
    });
    let ask = move |action| move |_| asking.set(Some(action));
    view! {
        <div class="bulk-bar" role="region" aria-label="Selected tokens" hidden=move || count() == 0>
            <span>{move || format!("{} selected", tokens(count()))}</span>
            <button type="button" class="button small" on:click=ask(Action::Disable)>"Disable selected"</button>
            <button type="button" class="button small danger-outline" on:click=ask(Action::Delete)>"Delete selected"</button>
            <button type="button" class="link-button" on:click=move |_| selection.set(BTreeMap::new())>"Clear selection"</button>
        </div>
        <ConfirmDialog
            id="bulk"
            open=Signal::derive(move || asking.get().is_some())
            title=Signal::derive(move || asking.get().map(|a| format!("{} {}?", a.verb(), tokens(count()))).unwrap_or_default())
            message=Signal::derive(move || match asking.get() {
                Some(Action::Delete) => "Programs that use these tokens will stop working at once. This can't be undone.".to_owned(),
                _ => "Programs that use these tokens will be refused until the tokens are enabled again.".to_owned(),
            })
            confirm_label=Signal::derive(move || asking.get().map(|a| format!("{} {}", a.verb(), tokens(count()))).unwrap_or_default())
            busy=busy
            on_confirm=run
            on_cancel=Callback::new(move |()| asking.set(None))
        />
    }
}
