//! Group commit for token generation. Generating is one small transaction whose cost is the
//! commit (an fsync, and on PostgreSQL the feed lock held across it), so requests that
//! arrive together share one: a task takes whatever is queued (up to `MAX_BATCH`), checks
//! and inserts each in one transaction, commits once, applies the feed, then answers each.
//!
//! A request refused by policy is answered on its own and does not touch the transaction. A
//! store failure aborts the batch; its requests are then retried one per transaction, so one
//! bad row cannot fail its neighbours. The task, not the request, owns a queued job: a
//! client that hangs up still gets its token committed and in force, or not at all.
use std::sync::Arc;

use tessera_api::CreateTokenRequest;
use tokio::sync::{mpsc, oneshot};

use super::tokens::{generate_in, Generated};
use super::{apply_own_change, Actor};
use crate::error::ApiError;
use crate::feed::Follower;
use crate::store::Store;

/// More would only lengthen the wait of the first request in a batch.
const MAX_BATCH: usize = 64;

pub(super) struct Job {
    pub actor: Actor,
    pub body: CreateTokenRequest,
    pub reply: oneshot::Sender<Result<Generated, ApiError>>,
}

/// Starts the batching task; it ends when every sender (every `Service` clone) is gone.
pub(super) fn start(store: Arc<dyn Store>, follower: Option<Arc<Follower>>) -> mpsc::Sender<Job> {
    let (sender, mut jobs) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let taken = std::mem::take(&mut batch);
            if let Err(retry) = commit(&store, follower.as_deref(), taken).await {
                for job in retry {
                    // A batch of one is always answered, never handed back.
                    let _ = commit(&store, follower.as_deref(), vec![job]).await;
                }
            }
        }
    });
    sender
}

/// Commits `batch` in one transaction and answers every job; a batch of more than one whose
/// transaction failed is handed back unanswered, to be retried one by one.
async fn commit(
    store: &Arc<dyn Store>,
    follower: Option<&Follower>,
    batch: Vec<Job>,
) -> Result<(), Vec<Job>> {
    let single = batch.len() == 1;
    let outcome = async {
        let mut tx = store.begin().await?;
        let mut results = Vec::with_capacity(batch.len());
        for job in &batch {
            match generate_in(&mut *tx, &job.actor, job.body.clone()).await {
                Err(e) if is_store_failure(&e) => return Err(e),
                result => results.push(result),
            }
        }
        let last_change = tx.commit().await?;
        Ok((results, last_change))
    }
    .await;
    let (results, last_change) = match outcome {
        Ok(done) => done,
        Err(_) if !single => return Err(batch),
        Err(e) => {
            let job = batch.into_iter().next().expect("one job");
            let _ = job.reply.send(Err(e));
            return Ok(());
        }
    };
    let applied = match (last_change, follower) {
        (Some(seq), Some(follower)) => apply_own_change(follower, seq)
            .await
            .map_err(|e| e.to_string()),
        _ => Ok(()),
    };
    for (job, result) in batch.into_iter().zip(results) {
        let answer = match (&applied, result) {
            (Err(message), Ok(_)) => Err(ApiError::Unavailable(message.clone())),
            (_, result) => result,
        };
        // The client may have hung up; its token is committed either way.
        let _ = job.reply.send(answer);
    }
    Ok(())
}

/// The errors a transaction fails with, as opposed to a request refused by policy.
fn is_store_failure(e: &ApiError) -> bool {
    matches!(e, ApiError::Internal(_) | ApiError::Unavailable(_))
}
