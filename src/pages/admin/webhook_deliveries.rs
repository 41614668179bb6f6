//! Token settings, third section: the webhook's latest events and how each delivery went,
//! with a test event to try the receiver (SPEC §11).
use leptos::prelude::*;
use tessera_api::{WebhookDeliveries, WebhookDelivery};

use crate::api_admin;
use crate::components::{RelativeTime, Spinner};
use crate::state::use_session;

/// What the last attempt got, in words.
fn outcome(d: &WebhookDelivery) -> String {
    match &d.last_attempt {
        None => "Not tried yet".to_owned(),
        Some(a) => match (a.status, &a.error) {
            (Some(status), None) => format!("HTTP {status}"),
            (_, Some(error)) => error.clone(),
            (None, None) => "No answer".to_owned(),
        },
    }
}

fn state_label(state: &str) -> &'static str {
    match state {
        "delivered" => "Delivered",
        "pending" => "Retrying",
        "failed" => "Gave up after 24 h",
        "cancelled" => "Cancelled (no URL)",
        _ => "Unknown",
    }
}

#[component]
pub fn WebhookDeliveriesSection() -> impl IntoView {
    let session = use_session();
    let version = RwSignal::new(0u32);
    let loaded = LocalResource::new(move || {
        version.track();
        api_admin::webhook_deliveries()
    });
    let message = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let send_test = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        message.set(None);
        let csrf = session.csrf();
        leptos::task::spawn_local(async move {
            let result = api_admin::send_test_webhook(&csrf).await;
            busy.set(false);
            message.set(Some(match result {
                Ok(_) => Ok("Test event queued. Its delivery appears below.".to_owned()),
                Err(e) => Err(e.for_field("webhookUrl").unwrap_or(e.message)),
            }));
            version.update(|v| *v += 1);
            // Delivery takes a moment; look again once it has had one.
            set_timeout(
                move || version.update(|v| *v += 1),
                std::time::Duration::from_secs(2),
            );
        });
    };
    view! {
        <section class="card deliveries" aria-labelledby="deliveries-title">
            <div class="section-head">
                <h2 id="deliveries-title">"Webhook deliveries"</h2>
                <div class="actions">
                    <button type="button" class="button" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
                    <button type="button" class="button primary" on:click=send_test disabled=move || busy.get()>
                        "Send test event"
                    </button>
                </div>
            </div>
            <p class="hint">
                "Events are signed with the webhook secret and retried for up to 24 hours. "
                "The newest 20 are listed; delivered ones are kept for 7 days."
            </p>
            <p role="status" aria-live="polite">
                {move || match message.get() {
                    None => view! { <span></span> }.into_any(),
                    Some(Ok(m)) => view! { <span class="success">{m}</span> }.into_any(),
                    Some(Err(m)) => view! { <span class="error">{m}</span> }.into_any(),
                }}
            </p>
            {move || match loaded.get() {
                None => view! { <Spinner label="Loading webhook deliveries"/> }.into_any(),
                Some(Err(e)) => view! { <div class="notice error" role="alert">"Deliveries could not be loaded: " {e.message}</div> }.into_any(),
                Some(Ok(WebhookDeliveries { deliveries })) if deliveries.is_empty() => view! {
                    <p class="empty">"No events yet. Set a webhook URL and secret above, then send a test event."</p>
                }.into_any(),
                Some(Ok(WebhookDeliveries { deliveries })) => view! { <DeliveryTable deliveries/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn DeliveryTable(deliveries: Vec<WebhookDelivery>) -> impl IntoView {
    view! {
        <table class="tokens deliveries">
            <thead>
                <tr>
                    <th scope="col">"Event"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Attempts"</th>
                    <th scope="col">"Last attempt"</th>
                </tr>
            </thead>
            <tbody>
                {deliveries.into_iter().map(|d| {
                    let result = outcome(&d);
                    let retry = d.next_attempt_date.clone();
                    let failed = d.state != "delivered";
                    view! {
                        <tr>
                            <td data-label="Event">
                                <code>{d.event_type.clone()}</code>
                                {d.token_id.clone().map(|t| view! { <div class="hint mono">{t}</div> })}
                            </td>
                            <td data-label="Created"><RelativeTime iso=d.created_date.clone()/></td>
                            <td data-label="Status">
                                <span class="badge" class:warning=failed>{state_label(&d.state)}</span>
                                {retry.map(|at| view! { <div class="hint">"Next try " <RelativeTime iso=at/></div> })}
                            </td>
                            <td data-label="Attempts">{d.attempts}</td>
                            <td data-label="Last attempt">{result}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
