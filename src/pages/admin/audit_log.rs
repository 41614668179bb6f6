//! Settings > Access control > Audit log: the Audit logs API, newest first, with its
//! filters, and what each change did (before → after).
use leptos::prelude::*;
use tessera_api::{AuditLog, AuditLogEntry};

use super::access_tokens::FilterSelect;
use crate::admin_query::{changes, AuditFilters};
use crate::api_admin;
use crate::components::{Crumb, RelativeTime, Shell, Spinner};
use crate::format;
use crate::pages::NoAccess;
use crate::state::use_session;

const EVENT_TYPES: [&str; 6] = ["CREATE", "UPDATE", "DELETE", "LOGIN", "LOGOUT", "GENERAL"];
const CATEGORIES: [(&str, &str); 3] = [
    ("TOKEN", "Tokens"),
    ("CONFIG", "Settings and users"),
    ("WEB_UI", "Sign-in and sign-out"),
];
const WINDOWS: [(&str, &str); 5] = [
    ("now-24h", "Last 24 hours"),
    ("now-7d", "Last 7 days"),
    ("now-2w", "Last 2 weeks"),
    ("now-30d", "Last 30 days"),
    ("now-1y", "Last year"),
];

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let crumbs = vec![
        Crumb::here("Settings"),
        Crumb::here("Access control"),
        Crumb::here("Audit log"),
    ];
    view! {
        <Shell crumbs=crumbs>
            {move || if use_session().is_admin() { view! { <Audit/> }.into_any() } else { view! { <NoAccess what="read the audit log"/> }.into_any() }}
        </Shell>
    }
}

#[component]
fn Audit() -> impl IntoView {
    let draft = RwSignal::new(AuditFilters::default());
    let applied = RwSignal::new((AuditFilters::default(), WINDOWS[2].0.to_owned()));
    let window = RwSignal::new(WINDOWS[2].0.to_owned());
    // Entries shown so far and the key of the next page ("Show older").
    let entries = RwSignal::new(Vec::<AuditLogEntry>::new());
    let next = RwSignal::new(None::<String>);
    let total = RwSignal::new(0u64);
    let key = RwSignal::new(None::<String>);
    let page = LocalResource::new(move || {
        let (filters, from) = applied.get();
        let key = key.get();
        async move { api_admin::audit_page(&filters.filter(), &from, key.as_deref()).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(AuditLog {
            audit_logs,
            total_count,
            next_page_key,
            ..
        })) = page.get()
        {
            let more = key.get_untracked().is_some();
            entries.update(|e| {
                if !more {
                    e.clear();
                }
                e.extend(audit_logs);
            });
            total.set(total_count);
            next.set(next_page_key);
        }
    });
    // A new query starts a new list: the old entries and the old query's next key go, so
    // "Show older" cannot append the old query's pages to it.
    let apply = move || {
        key.set(None);
        next.set(None);
        entries.set(Vec::new());
        applied.set((draft.get_untracked(), window.get_untracked()));
    };
    let text = |id: &'static str,
                label: &'static str,
                get: fn(&AuditFilters) -> String,
                set: fn(&mut AuditFilters, String)| {
        view! {
            <div class="field">
                <label class="label" for=id>{label}</label>
                <input id=id type="text" autocomplete="off"
                    prop:value=move || draft.with(get)
                    on:input=move |ev| draft.update(|d| set(d, event_target_value(&ev)))/>
            </div>
        }
    };
    view! {
        <div class="page-header">
            <div>
                <h1>"Audit log"</h1>
                <p class="lead">"Who changed what, and when: tokens, users, settings, sign-ins. Newest first."</p>
            </div>
        </div>
        <form class="card filters" role="search" aria-label="Filter the audit log"
            on:submit=move |ev| { ev.prevent_default(); apply(); }>
            <FilterSelect id="audit-window" label="Time" value=Signal::derive(move || window.get())
                options=WINDOWS.iter().map(|&(v, l)| (v, l.to_owned())).collect()
                on_change=Callback::new(move |v| { window.set(v); apply(); })/>
            <FilterSelect id="audit-type" label="Event type" value=Signal::derive(move || draft.with(|d| d.event_type.clone()))
                options=std::iter::once(("", "Any event".to_owned())).chain(EVENT_TYPES.iter().map(|&t| (t, t.to_owned()))).collect()
                on_change=Callback::new(move |v| { draft.update(|d| d.event_type = v); apply(); })/>
            <FilterSelect id="audit-category" label="Category" value=Signal::derive(move || draft.with(|d| d.category.clone()))
                options=std::iter::once(("", "Any category".to_owned())).chain(CATEGORIES.iter().map(|&(v, l)| (v, l.to_owned()))).collect()
                on_change=Callback::new(move |v| { draft.update(|d| d.category = v); apply(); })/>
            {text("audit-user", "User", |d| d.user.clone(), |d, v| d.user = v)}
            {text("audit-entity", "Entity", |d| d.entity_id.clone(), |d, v| d.entity_id = v)}
            <button type="submit" class="button">"Apply"</button>
        </form>
        {move || match page.get() {
            Some(Err(e)) if entries.with(Vec::is_empty) => view! { <div class="notice error" role="alert">"The audit log could not be loaded: " {e.message}</div> }.into_any(),
            None if entries.with(Vec::is_empty) => view! { <div class="page-loading"><Spinner/></div> }.into_any(),
            _ if entries.with(Vec::is_empty) => view! {
                <div class="card empty"><h2>"No entries"</h2><p>"Nothing matches these filters in this time."</p></div>
            }.into_any(),
            _ => view! { <Entries entries=entries.get() total=total.get()/> }.into_any(),
        }}
        // An older page that failed: said below the entries already shown.
        {move || match page.get() {
            Some(Err(e)) if entries.with(|e| !e.is_empty()) => Some(view! {
                <p class="notice error" role="alert">"Older entries could not be loaded: " {e.message}</p>
            }),
            _ => None,
        }}
        <div class="pager">
            <button type="button" class="button small" hidden=move || next.get().is_none()
                on:click=move |_| key.set(next.get_untracked())>"Show older entries"</button>
        </div>
    }
}

#[component]
fn Entries(entries: Vec<AuditLogEntry>, total: u64) -> impl IntoView {
    let shown = entries.len();
    view! {
        <div class="table-wrap">
            <table class="tokens audit">
                <caption class="sr-only">{format!("Audit log entries, {shown} of {total}")}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"User"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Entity"</th>
                        <th scope="col">"What happened"</th>
                        <th scope="col">"Changes"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries.into_iter().map(|e| view! { <Entry entry=e/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <p class="muted" role="status">{format!("{shown} of {total} entries")}</p>
    }
}

#[component]
fn Entry(entry: AuditLogEntry) -> impl IntoView {
    let iso = format::iso(entry.timestamp as f64);
    let origin = entry
        .user_origin
        .clone()
        .map(|o| format!("from {o}"))
        .unwrap_or_default();
    let changes = changes(entry.patch.as_ref());
    view! {
        <tr class:expired=!entry.success>
            <th scope="row" class="name"><RelativeTime iso=iso note=origin/></th>
            <td data-label="User">{entry.user}</td>
            <td data-label="Event">
                <span class="badge neutral">{entry.event_type}</span> " " <span class="muted">{entry.category}</span>
                {(!entry.success).then(|| view! { " " <span class="badge danger">"Refused"</span> })}
            </td>
            <td data-label="Entity"><code class="token-id">{entry.entity_id.unwrap_or_default()}</code></td>
            <td data-label="What happened">{entry.message}</td>
            <td data-label="Changes">
                {if changes.is_empty() { None } else { Some(view! {
                    <ul class="changes">
                        {changes.into_iter().map(|c| view! {
                            <li><code>{c.path}</code> ": " <span class="before">{c.before}</span> " → " <span class="after">{c.after}</span></li>
                        }).collect_view()}
                    </ul>
                }) }}
            </td>
        </tr>
    }
}
