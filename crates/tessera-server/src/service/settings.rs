//! The token settings object: turning personal access tokens on or off.
use tessera_api::TOKEN_SETTINGS_SCHEMA;

use super::{webhooks, Actor, Service};
use crate::domain::patch::Patch;
use crate::domain::time;
use crate::error::ApiError;

impl Service {
    /// Turns personal access tokens on or off; audited when it changes anything.
    pub async fn set_pat_enabled(&self, actor: &Actor, enabled: bool) -> Result<(), ApiError> {
        let actor = actor.clone();
        self.change_with_events(move |mut tx| async move {
            // Rights as the database holds them now: a user demoted a moment ago may not.
            let actor = actor.confirmed(&mut *tx).await?;
            if !actor.sees_all_tokens() {
                return Err(ApiError::Forbidden(
                    "Only administrators may access token settings".into(),
                ));
            }
            let before = tx.lock_pat_enabled().await?;
            tx.set_pat_enabled(enabled, &actor.username, time::now())
                .await?;
            if before != enabled {
                let detail = format!("patEnabled={enabled}");
                let mut diff = Patch::default();
                diff.replace("/patEnabled", &before, &enabled);
                let event = actor.event(
                    "settings.changed",
                    Some(TOKEN_SETTINGS_SCHEMA),
                    Some(detail),
                );
                tx.audit(&event.with_patch(&diff)).await?;
                let data =
                    webhooks::settings_data(TOKEN_SETTINGS_SCHEMA, &actor, diff.operations());
                webhooks::emit_now(&mut *tx, webhooks::SETTINGS_CHANGED, None, data).await?;
            }
            Ok(((), tx.commit().await?))
        })
        .await
    }
}
