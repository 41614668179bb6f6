//! Webhook events (SPEC §11): what each says, and putting it in the outbox inside the
//! transaction of the change it reports, so an event exists exactly when its change does.
//! Delivery is `crate::delivery`'s.
use serde_json::{json, Map, Value};

use super::{Actor, Service};
use crate::auth::session::random_secret;
use crate::domain::lifecycle::Policy;
use crate::domain::time::{self, Millis};
use crate::error::ApiError;
use crate::store::{DeliveryRow, OutboxEvent, StoreTx, TokenRecord};

pub const TOKEN_EXPIRING: &str = "token.expiring";
pub const TOKEN_EXPIRED: &str = "token.expired";
pub const TOKEN_ROTATED: &str = "token.rotated";
pub const TOKEN_DISABLED_UNUSED: &str = "token.disabled_unused";
pub const TOKEN_POLICY_CAPPED: &str = "token.policy_capped";
pub const SETTINGS_CHANGED: &str = "settings.changed";
/// Sent from the Token settings page to try the receiver.
pub const WEBHOOK_TEST: &str = "webhook.test";

/// What every token event says about its token (never the token or its digest).
pub fn token_data(t: &TokenRecord) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("tokenId".into(), json!(t.id));
    data.insert("name".into(), json!(t.name));
    data.insert("owner".into(), json!(t.owner));
    data.insert("personalAccessToken".into(), json!(t.personal));
    data.insert(
        "expirationDate".into(),
        json!(t.expires_at.map(time::format)),
    );
    data.insert(
        "lastUsedDate".into(),
        json!(t.last_used_at.map(time::format)),
    );
    data
}

/// A token event with `extra` fields besides the token's.
pub fn about(t: &TokenRecord, extra: Value) -> Map<String, Value> {
    let mut data = token_data(t);
    if let Value::Object(extra) = extra {
        data.extend(extra);
    }
    data
}

/// Adds event `kind` to the outbox when the policy names a webhook URL (without one,
/// nothing is kept: there is nowhere to deliver it).
pub async fn emit(
    tx: &mut dyn StoreTx,
    policy: &Policy,
    kind: &str,
    token: Option<&str>,
    data: Map<String, Value>,
) -> Result<Option<String>, ApiError> {
    if policy.webhook_url.is_none() {
        return Ok(None);
    }
    let now = time::now();
    let payload = json!({"type": kind, "timestamp": time::format(now), "data": data});
    let event = OutboxEvent {
        id: format!("msg_{}", random_secret()),
        kind: kind.to_owned(),
        token_id: token.map(str::to_owned),
        payload: payload.to_string(),
        created_at: now,
        attempts: 0,
    };
    tx.enqueue(&event).await?;
    Ok(Some(event.id))
}

/// `emit` with the policy as `tx` reads it.
pub async fn emit_now(
    tx: &mut dyn StoreTx,
    kind: &str,
    token: Option<&str>,
    data: Map<String, Value>,
) -> Result<(), ApiError> {
    let policy = super::lifecycle::policy_in(tx).await?;
    emit(tx, &policy, kind, token, data).await.map(drop)
}

/// `settings.changed`: which object, who, and the change. The secret and the webhook URL
/// appear only as paths: a receiver's URL may carry a credential, and the new receiver
/// must not learn the old one's.
pub fn settings_data(schema: &str, actor: &Actor, changes: &[Value]) -> Map<String, Value> {
    let changes = changes
        .iter()
        .map(|op| match op["path"].as_str() {
            Some(path @ "/webhookUrl") => json!({"op": op["op"], "path": path}),
            _ => op.clone(),
        })
        .collect();
    let mut data = Map::new();
    data.insert("schemaId".into(), json!(schema));
    data.insert("changedBy".into(), json!(actor.username));
    data.insert("changes".into(), Value::Array(changes));
    data
}

fn admins_only(actor: &Actor) -> Result<(), ApiError> {
    if actor.sees_all_tokens() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Only administrators may see and test webhook deliveries".into(),
        ))
    }
}

impl Service {
    /// Queues a `webhook.test` event; its id, or 400 when no webhook URL is set.
    pub async fn send_test_webhook(&self, actor: &Actor) -> Result<String, ApiError> {
        admins_only(actor)?;
        let actor = actor.clone();
        self.change_with_events(move |mut tx| async move {
            let actor = actor.confirmed(&mut *tx).await?;
            admins_only(&actor)?;
            let policy = super::lifecycle::policy_in(&mut *tx).await?;
            if policy.webhook_url.is_none() {
                return Err(ApiError::invalid(
                    tessera_api::ParameterLocation::PayloadBody,
                    "webhookUrl",
                    "Set a webhook URL in the lifecycle policy first",
                ));
            }
            let mut data = Map::new();
            data.insert("requestedBy".into(), json!(actor.username));
            let id = emit(&mut *tx, &policy, WEBHOOK_TEST, None, data).await?;
            Ok((id.unwrap_or_default(), tx.commit().await?))
        })
        .await
    }

    /// The newest events and their latest attempts (administrators only).
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, ApiError> {
        admins_only(actor)?;
        Ok(self.store.webhook_deliveries(limit).await?)
    }
}

/// The next attempt after `attempts` failed ones: 5 s, then four times longer each time, at
/// most 6 h apart; `None` once the event is 24 h old (it is given up).
pub fn retry_at(created_at: Millis, attempts: i32, now: Millis) -> Option<Millis> {
    const WINDOW: Millis = 24 * 3600 * 1000;
    let wait = (5_000_i64 << (2 * attempts.clamp(1, 12) as u32 - 2)).min(6 * 3600 * 1000);
    (now - created_at < WINDOW).then(|| (now + wait).min(created_at + WINDOW))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_for_a_day_then_stop() {
        let start = 1_000_000;
        let waits: Vec<_> = (1..=4)
            .map(|n| retry_at(start, n, start).unwrap() - start)
            .collect();
        assert_eq!(waits, [5_000, 20_000, 80_000, 320_000]);
        assert_eq!(retry_at(start, 40, start).unwrap() - start, 6 * 3600 * 1000);
        let late = start + 23 * 3600 * 1000;
        assert_eq!(retry_at(start, 9, late), Some(start + 24 * 3600 * 1000));
        assert_eq!(retry_at(start, 9, start + 24 * 3600 * 1000), None);
    }
}
