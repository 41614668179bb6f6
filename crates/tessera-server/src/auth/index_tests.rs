//! Tests of the authorization index (`index.rs`).
use super::*;

fn token_change(record: &TokenRecord, present: bool) -> ChangeBatch {
    ChangeBatch {
        tokens: vec![(record.id.clone(), present.then(|| record.clone()))],
        ..ChangeBatch::default()
    }
}

fn user_change(name: &str, user: Option<User>) -> ChangeBatch {
    ChangeBatch {
        users: vec![(name.to_owned(), user)],
        ..ChangeBatch::default()
    }
}

fn pat_change(enabled: bool) -> ChangeBatch {
    ChangeBatch {
        pat_enabled: Some(enabled),
        ..ChangeBatch::default()
    }
}

fn user(name: &str, permissions: &[Scope]) -> User {
    User {
        username: name.into(),
        display_name: name.into(),
        password_hash: String::new(),
        admin: false,
        active: true,
        permissions: permissions.iter().copied().collect(),
        zones: vec!["Production".into()],
        all_zones: false,
    }
}

fn record(token: &Token, owner: &str, scopes: &[Scope]) -> TokenRecord {
    TokenRecord {
        id: token.id().as_str().into(),
        owner: owner.into(),
        name: "t".into(),
        scopes: scopes.iter().copied().collect(),
        personal: true,
        enabled: true,
        digest: token.digest(),
        created_at: 0,
        modified_at: None,
        expires_at: None,
        last_used_at: None,
        last_used_ip: None,
        rotated_from: None,
        rotated_to: None,
        capped_at: None,
        rate_limit: None,
    }
}

fn header(token: &Token) -> String {
    format!("Api-Token {}", token.expose())
}

#[test]
fn the_decision_follows_the_rules_in_order() {
    let token = Token::generate();
    let alice = user("alice", &[Scope::MetricsRead]);
    let mut rec = record(&token, "alice", &[Scope::MetricsRead, Scope::SloRead]);
    let index = AuthIndex::new(vec![rec.clone()], std::slice::from_ref(&alice), true);

    let ok = index.authenticate(&header(&token), 0).unwrap();
    assert_eq!(ok.require(Scope::MetricsRead), Ok(()));
    assert_eq!(
        ok.require(Scope::EntitiesRead),
        Err(Denied::MissingScope(Scope::EntitiesRead))
    );
    assert_eq!(
        ok.require(Scope::SloRead),
        Err(Denied::OwnerLacksPermission(Scope::SloRead))
    );
    assert_eq!(ok.owner.zones_header(), "Production");

    assert_eq!(
        index.authenticate("Bearer x", 0).unwrap_err(),
        Denied::Unauthorized
    );
    let other = Token::generate();
    assert_eq!(
        index.authenticate(&header(&other), 0).unwrap_err(),
        Denied::Unauthorized
    );

    index.apply(&pat_change(false));
    assert_eq!(
        index.authenticate(&header(&token), 0).unwrap_err(),
        Denied::PatDisabled
    );
    index.apply(&pat_change(true));

    rec.expires_at = Some(10);
    index.apply(&token_change(&rec, true));
    assert_eq!(
        index.authenticate(&header(&token), 10).unwrap_err(),
        Denied::Unauthorized
    );
    assert!(index.authenticate(&header(&token), 9).is_ok());

    let mut inactive = alice;
    inactive.active = false;
    index.apply(&user_change("alice", Some(inactive)));
    assert_eq!(
        index.authenticate(&header(&token), 0).unwrap_err(),
        Denied::Unauthorized
    );

    index.apply(&token_change(&rec, false));
    index.apply(&user_change("alice", Some(user("alice", &[]))));
    assert_eq!(
        index.authenticate(&header(&token), 0).unwrap_err(),
        Denied::Unauthorized
    );
}

#[test]
fn a_change_keeps_the_last_use_throttle_and_a_rebuild_equals_the_changes() {
    let token = Token::generate();
    let mut rec = record(&token, "a", &[Scope::MetricsRead]);
    let index = AuthIndex::new(vec![rec.clone()], &[user("a", &[])], true);
    let p = index.authenticate(&header(&token), 0).unwrap();
    assert!(p.claim_last_used_write(1_000_000));
    rec.name = "renamed".into();
    rec.scopes = [Scope::SloRead].into_iter().collect();
    index.apply(&token_change(&rec, true));
    let p = index.authenticate(&header(&token), 0).unwrap();
    assert!(
        !p.claim_last_used_write(1_000_001),
        "the throttle survives a change"
    );
    index.apply(&user_change("b", Some(user("b", &[]))));
    index.apply(&pat_change(false));
    let rebuilt = AuthIndex::new(vec![rec], &[user("a", &[]), user("b", &[])], false);
    assert_eq!(index.view(), rebuilt.view());
    index.apply(&user_change("b", None));
    assert_ne!(index.view(), rebuilt.view());
}

#[test]
fn last_used_writes_are_throttled_to_one_a_minute() {
    let token = Token::generate();
    let index = AuthIndex::new(vec![record(&token, "a", &[])], &[user("a", &[])], true);
    let p = index.authenticate(&header(&token), 0).unwrap();
    assert!(p.claim_last_used_write(1_000_000));
    assert!(!p.claim_last_used_write(1_000_001));
    assert!(!p.claim_last_used_write(1_059_999));
    assert!(p.claim_last_used_write(1_060_000));
}

#[test]
fn counts_follow_inserts_updates_and_deletes_by_owner_and_type() {
    let mut records: Vec<TokenRecord> = (0..5)
        .map(|i| record(&Token::generate(), if i < 3 { "a" } else { "b" }, &[]))
        .collect();
    records[0].personal = false;
    let index = AuthIndex::new(records.clone(), &[user("a", &[]), user("b", &[])], true);
    let count = |owners: &[&str], personal| {
        let set: BTreeSet<&str> = owners.iter().copied().collect();
        index.count_tokens((!owners.is_empty()).then_some(&set), personal)
    };
    assert_eq!(
        (
            count(&[], None),
            count(&["a"], None),
            count(&["a"], Some(false))
        ),
        (5, 3, 1)
    );
    // Moved to b and made personal, then one of b's deleted.
    let mut moved = records[0].clone();
    moved.owner = "b".into();
    moved.personal = true;
    index.apply(&token_change(&moved, true));
    index.apply(&token_change(&records[4], false));
    assert_eq!(
        (
            count(&["a"], None),
            count(&["b"], Some(true)),
            count(&[], Some(false))
        ),
        (2, 2, 0)
    );
    assert_eq!(count(&["a", "b", "nobody"], None), 4);
}
