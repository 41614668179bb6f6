//! The cells only the administrators' list of everyone's tokens has (admin build only).
use leptos::prelude::*;

use super::{ApiToken, Selection};

/// "Select all on this page", ticking or clearing every row shown.
pub fn select_all(selection: Option<Selection>, tokens: &[ApiToken]) -> Option<impl IntoView> {
    let selection = selection?;
    let rows: Vec<(String, String)> = tokens
        .iter()
        .map(|t| (t.id.clone(), t.name.clone().unwrap_or_default()))
        .collect();
    let all: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
    let checked =
        move || selection.with(|s| !all.is_empty() && all.iter().all(|id| s.contains_key(id)));
    let toggle = move |ev| {
        let on = event_target_checked(&ev);
        selection.update(|s| {
            for (id, name) in &rows {
                if on {
                    s.insert(id.clone(), name.clone());
                } else {
                    s.remove(id);
                }
            }
        })
    };
    Some(view! {
        <th scope="col" class="select">
            <input type="checkbox" aria-label="Select all tokens on this page"
                prop:checked=checked on:change=toggle/>
        </th>
    })
}

pub fn header(everyone: bool, label: &'static str) -> Option<impl IntoView> {
    everyone.then(|| view! { <th scope="col">{label}</th> })
}

pub fn select(selection: Option<Selection>, id: &str, name: &str) -> Option<impl IntoView> {
    let selection = selection?;
    let (id, label) = (id.to_owned(), format!("Select token “{name}”"));
    let (for_change, name) = (id.clone(), name.to_owned());
    Some(view! {
        <td class="select">
            <input type="checkbox" aria-label=label
                prop:checked=move || selection.with(|s| s.contains_key(&id))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    selection.update(|s| {
                        if on { s.insert(for_change.clone(), name.clone()); } else { s.remove(&for_change); }
                    });
                }/>
        </td>
    })
}

pub fn owner(selection: Option<Selection>, token: &ApiToken) -> Option<impl IntoView> {
    selection?;
    let owner = token.owner.clone().unwrap_or_default();
    Some(view! { <td data-label="Owner">{owner}</td> })
}

pub fn kind(selection: Option<Selection>, token: &ApiToken) -> Option<impl IntoView> {
    selection?;
    let personal = token.personal_access_token.unwrap_or(true);
    Some(view! { <td data-label="Type">{if personal { "Personal" } else { "Environment" }}</td> })
}
