//! Issue 11: the authorization index is a projection of the change feed. After any
//! interleaving of concurrent changes — the server's own, and the CLI's from a second
//! service on the same database — a node's index equals one rebuilt from the database, and
//! each change the node made was in force when it returned (read-your-writes).
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use tessera_api::{CreateTokenRequest, Scope, UpdateTokenRequest};
use tessera_server::auth::AuthIndex;
use tessera_server::domain::scope_set::ScopeSet;
use tessera_server::feed::Follower;
use tessera_server::service::{Actor, Origin, Service};
use tessera_server::store::{self, Store, User, UserPatch};

const USERS: [&str; 3] = ["ann", "ben", "cai"];

#[derive(Debug, Clone)]
enum Op {
    Generate { user: usize, scopes: u8 },
    Toggle { token: usize, enabled: bool },
    Rescope { token: usize, scopes: u8 },
    Delete { token: usize },
    PatSwitch(bool),
    UserActive { user: usize, active: bool },
    UserPermissions { user: usize, scopes: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS.len();
    prop_oneof![
        3 => (user.clone(), any::<u8>()).prop_map(|(user, scopes)| Op::Generate { user, scopes }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(token, enabled)| Op::Toggle { token, enabled }),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(token, scopes)| Op::Rescope { token, scopes }),
        1 => any::<usize>().prop_map(|token| Op::Delete { token }),
        1 => any::<bool>().prop_map(Op::PatSwitch),
        1 => (user.clone(), any::<bool>()).prop_map(|(user, active)| Op::UserActive { user, active }),
        1 => (user, any::<u8>()).prop_map(|(user, scopes)| Op::UserPermissions { user, scopes }),
    ]
}

/// A few scopes chosen by the bits of `bits` (never none).
fn scopes(bits: u8) -> ScopeSet {
    let pool = [
        Scope::MetricsRead,
        Scope::SloRead,
        Scope::ProblemsRead,
        Scope::EntitiesRead,
    ];
    let mut set: ScopeSet = pool
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, s)| *s)
        .collect();
    if set == ScopeSet::default() {
        set.insert(Scope::MetricsRead);
    }
    set
}

/// Runs one op; refusals (a scope the owner lacks, PATs off, a token already gone) are
/// part of the game. Returns a token id when one was made.
async fn run(service: &Service, op: &Op, tokens: &Mutex<Vec<String>>) -> Option<String> {
    let pick = |i: usize| {
        let tokens = tokens.lock().unwrap();
        (!tokens.is_empty()).then(|| tokens[i % tokens.len()].clone())
    };
    let cli = Actor::cli();
    match op {
        Op::Generate { user, scopes: bits } => {
            // A user acting: their rights now are re-read in the transaction, so a
            // permission another worker just removed refuses the scope.
            let owner = Actor {
                origin: Origin::User,
                username: USERS[*user].to_owned(),
                admin: false,
                permissions: ScopeSet::default(),
                ..Actor::cli()
            };
            let body = CreateTokenRequest {
                name: "t".into(),
                scopes: scopes(*bits).to_strings(),
                personal_access_token: Some(true),
                expiration_date: None,
                rate_limit_per_minute: None,
            };
            return service
                .create_token(&owner, body)
                .await
                .ok()
                .map(|g| g.record.id);
        }
        Op::Toggle { token, enabled } => {
            let id = pick(*token)?;
            let body = UpdateTokenRequest {
                enabled: Some(*enabled),
                ..Default::default()
            };
            let _ = service.update_token(&cli, &id, body).await;
        }
        Op::Rescope {
            token,
            scopes: bits,
        } => {
            let id = pick(*token)?;
            let body = UpdateTokenRequest {
                scopes: Some(scopes(*bits).to_strings()),
                ..Default::default()
            };
            let _ = service.update_token(&cli, &id, body).await;
        }
        Op::Delete { token } => {
            let _ = service.delete_token(&cli, &pick(*token)?).await;
        }
        Op::PatSwitch(on) => service.set_pat_enabled(&cli, *on).await.unwrap(),
        Op::UserActive { user, active } => {
            let patch = UserPatch {
                active: Some(*active),
                ..UserPatch::default()
            };
            service
                .update_user(&cli, USERS[*user], patch)
                .await
                .unwrap();
        }
        Op::UserPermissions { user, scopes: bits } => {
            let patch = UserPatch {
                permissions: Some(scopes(*bits)),
                ..UserPatch::default()
            };
            service
                .update_user(&cli, USERS[*user], patch)
                .await
                .unwrap();
        }
    }
    None
}

async fn rebuilt(store: &Arc<dyn Store>) -> AuthIndex {
    let s = store.snapshot().await.unwrap();
    AuthIndex::new(s.tokens, &s.users, s.pat_enabled)
}

async fn interleave(workers: Vec<Vec<Op>>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = store::open(&url).await.unwrap();
    let setup = Service::new(store.clone(), None);
    for name in USERS {
        let user = User {
            username: name.into(),
            display_name: name.into(),
            password_hash: String::new(),
            admin: false,
            active: true,
            permissions: ScopeSet::ALL.without_admin_only(),
            zones: Vec::new(),
            all_zones: false,
        };
        setup.add_user(&Actor::cli(), user).await.unwrap();
    }
    let follower = Arc::new(
        Follower::start(store.clone(), std::time::Duration::from_secs(5))
            .await
            .unwrap(),
    );
    let node = Service::new(store.clone(), Some(follower.clone()));
    // The CLI: another connection pool on the same file, with no index of its own.
    let cli = Service::new(store::open(&url).await.unwrap(), None);
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = workers
        .into_iter()
        .enumerate()
        .map(|(i, ops)| {
            let service = if i == 0 { cli.clone() } else { node.clone() };
            let (tokens, follower, store) = (tokens.clone(), follower.clone(), store.clone());
            tokio::spawn(async move {
                for op in ops {
                    if let Some(id) = run(&service, &op, &tokens).await {
                        tokens.lock().unwrap().push(id.clone());
                        if i != 0 {
                            // Read-your-writes: the node knows its new token at once.
                            let stored = store.token(&id).await.unwrap();
                            let known = follower.index().view().tokens.contains_key(&id);
                            assert!(known || stored.is_none(), "{id} missing after its commit");
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    // The CLI's last changes arrive by reading the feed (the server's poll).
    follower.catch_up().await.unwrap();
    assert_eq!(follower.index().view(), rebuilt(&store).await.view());
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_index_equals_a_rebuild_after_any_interleaving(
        workers in proptest::collection::vec(proptest::collection::vec(op(), 1..25), 3)
    ) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(3)
            .enable_all()
            .build()
            .unwrap()
            .block_on(interleave(workers));
    }
}

#[tokio::test]
async fn a_feed_pruned_past_a_reader_rebuilds_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = store::open(&url).await.unwrap();
    let follower = Follower::start(store.clone(), std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let cli = Service::new(store.clone(), None);
    let dora = User {
        username: "dora".into(),
        display_name: "Dora".into(),
        password_hash: String::new(),
        admin: false,
        active: true,
        permissions: ScopeSet::default(),
        zones: Vec::new(),
        all_zones: false,
    };
    cli.add_user(&Actor::cli(), dora).await.unwrap();
    cli.set_pat_enabled(&Actor::cli(), true).await.unwrap();
    // The user's change is pruned; only the newest (the switch) is left, and the reader is
    // behind both: reading on from its position alone would never learn of dora.
    assert_eq!(store.prune_changes(i64::MAX).await.unwrap(), 1);
    follower.catch_up().await.unwrap();
    assert!(follower.index().user("dora").is_some());
    assert!(follower.index().pat_enabled());
    assert_eq!(follower.index().view(), rebuilt(&store).await.view());
}

#[tokio::test]
async fn a_session_is_not_started_for_a_password_changed_while_it_was_checked() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let service = Service::new(store::open(&url).await.unwrap(), None);
    let user = User {
        username: "erin".into(),
        display_name: "Erin".into(),
        password_hash: "old-hash".into(),
        admin: false,
        active: true,
        permissions: ScopeSet::default(),
        zones: Vec::new(),
        all_zones: false,
    };
    service.add_user(&Actor::cli(), user.clone()).await.unwrap();
    let client = std::net::IpAddr::from([127, 0, 0, 1]);
    // The sign-in verified the old password; the change lands before the session does.
    let patch = UserPatch {
        password_hash: Some("new-hash".into()),
        ..UserPatch::default()
    };
    service
        .update_user(&Actor::cli(), "erin", patch)
        .await
        .unwrap();
    assert!(service.start_session(&user, client, 10).await.is_err());
    // Likewise for a user disabled meanwhile.
    let current = service
        .users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "erin")
        .unwrap();
    let disable = UserPatch {
        active: Some(false),
        ..UserPatch::default()
    };
    service
        .update_user(&Actor::cli(), "erin", disable)
        .await
        .unwrap();
    assert!(service.start_session(&current, client, 10).await.is_err());
    // The user as it is now may.
    let enable = UserPatch {
        active: Some(true),
        ..UserPatch::default()
    };
    let now = service
        .update_user(&Actor::cli(), "erin", enable)
        .await
        .unwrap();
    assert!(service.start_session(&now, client, 10).await.is_ok());
}
