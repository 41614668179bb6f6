//! Group commit for token generation. Generating is one small transaction whose cost is the
//! commit (an fsync, and on PostgreSQL the feed lock held across it), so requests that
//! arrive together share one: a task takes whatever is queued (up to `MAX_BATCH`), checks
//! every request, then inserts those allowed, commits once, applies the feed, and answers
//! each. Checks come first so the batch takes its locks in the order every other change
//! does (rows read, then the feed lock the first insert takes): on PostgreSQL, a check read
//! after an insert could wait on a row whose holder waits on the feed lock — a deadlock.
//!
//! A request refused by policy is answered on its own and does not touch the transaction. A
//! store failure before the commit aborts the batch; its requests are then retried one per
//! transaction, so one bad row cannot fail its neighbours (two failures in a row, and the
//! rest are answered with the error: the database is down, not one row bad). A failed
//! commit is never retried — it may have committed, and a retry would make a second token
//! nobody holds. The task, not the request, owns a queued job: a client that hangs up still
//! gets its token committed and in force, or not at all.
use std::sync::Arc;

use tessera_api::CreateTokenRequest;
use tokio::sync::{mpsc, oneshot};

use super::tokens::{check_generation, insert_generated, Generated};
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

/// How a batch's transaction failed.
enum Failure {
    /// Before the commit: nothing was written; the jobs may be retried.
    Store(Vec<Job>, ApiError),
    /// The commit itself: the outcome is unknown; answered, never retried.
    Answered,
}

/// Starts the batching task; it ends when every sender (every `Service` clone) is gone.
pub(super) fn start(store: Arc<dyn Store>, follower: Option<Arc<Follower>>) -> mpsc::Sender<Job> {
    let (sender, mut jobs) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let taken = std::mem::take(&mut batch);
            // A task per batch: a panic fails its own requests (their replies are dropped),
            // not every later generation.
            let (store, follower) = (store.clone(), follower.clone());
            let run =
                tokio::spawn(async move { run_batch(&store, follower.as_deref(), taken).await });
            if let Err(e) = run.await {
                tracing::error!(error = %e, "a generation batch failed");
            }
        }
    });
    sender
}

async fn run_batch(store: &Arc<dyn Store>, follower: Option<&Follower>, batch: Vec<Job>) {
    let Err(Failure::Store(retry, error)) = commit(store, follower, batch).await else {
        return;
    };
    if retry.len() == 1 {
        return answer_all(retry, error);
    }
    let mut failures = 0;
    let mut rest = retry.into_iter();
    while let Some(job) = rest.next() {
        match commit(store, follower, vec![job]).await {
            Err(Failure::Store(alone, e)) => {
                failures += 1;
                if failures == 2 {
                    let e2 = same(&e);
                    answer_all(alone, e);
                    return answer_all(rest.collect(), e2);
                }
                answer_all(alone, e);
            }
            Err(Failure::Answered) => failures += 1,
            Ok(()) => failures = 0,
        }
    }
}

/// Answers every job with `error`: the first with it as it is (a conflict stays a
/// conflict), the others with the same status.
fn answer_all(jobs: Vec<Job>, error: ApiError) {
    let copy = same(&error);
    let mut first = Some(error);
    for job in jobs {
        let e = first.take().unwrap_or_else(|| same(&copy));
        let _ = job.reply.send(Err(e));
    }
}

/// An error for each of several requests (`ApiError` is not `Clone`: it may hold a source).
fn same(error: &ApiError) -> ApiError {
    match error {
        ApiError::Unavailable(m) => ApiError::Unavailable(m.clone()),
        other => ApiError::Internal(anyhow::anyhow!("generating the token failed: {other}")),
    }
}

/// Checks, inserts and commits `batch` in one transaction and answers every job, unless the
/// transaction failed before its commit (then the jobs are handed back unanswered).
async fn commit(
    store: &Arc<dyn Store>,
    follower: Option<&Follower>,
    batch: Vec<Job>,
) -> Result<(), Failure> {
    let mut tx = match store.begin().await {
        Ok(tx) => tx,
        Err(e) => return Err(Failure::Store(batch, e.into())),
    };
    let mut results = Vec::with_capacity(batch.len());
    for job in &batch {
        match check_generation(&mut *tx, &job.actor, job.body.clone()).await {
            Err(e) if is_store_failure(&e) => return Err(Failure::Store(batch, e)),
            result => results.push(result),
        }
    }
    for (job, result) in batch.iter().zip(&results) {
        if let Ok(generated) = result {
            if let Err(e) = insert_generated(&mut *tx, &job.actor, generated).await {
                return Err(Failure::Store(batch, e));
            }
        }
    }
    let last_change = match tx.commit().await {
        Ok(seq) => seq,
        Err(e) => {
            // Those refused by policy get their own answer; the others the commit's error.
            let e: ApiError = e.into();
            for (job, result) in batch.into_iter().zip(results) {
                let _ = job.reply.send(result.and(Err(same(&e))));
            }
            return Err(Failure::Answered);
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
