//! Micro-benchmarks of the token hot path (issue 5), so a regression shows in nanoseconds:
//! generation, parse + checksum, digest + constant-time compare, and the whole in-memory
//! authorization decision that `auth/check` makes. Run by `make bench` (`cargo bench`).
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tessera_api::Scope;
use tessera_server::auth::AuthIndex;
use tessera_server::domain::scope_set::ScopeSet;
use tessera_server::domain::token::Token;
use tessera_server::store::{TokenRecord, User};

fn record(token: &Token, owner: &str) -> TokenRecord {
    TokenRecord {
        id: token.id().to_string(),
        owner: owner.to_owned(),
        name: "bench".to_owned(),
        scopes: ScopeSet::from_stored(["metrics.read", "apiTokens.read"]),
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

fn user(name: &str) -> User {
    User {
        username: name.to_owned(),
        display_name: name.to_owned(),
        password_hash: String::new(),
        admin: false,
        active: true,
        permissions: ScopeSet::ALL,
        zones: vec!["Production".to_owned()],
        all_zones: false,
    }
}

fn tokens(c: &mut Criterion) {
    c.bench_function("token/generate", |b| b.iter(Token::generate));

    let token = Token::generate();
    let text = token.expose().to_owned();
    c.bench_function("token/parse_and_checksum", |b| {
        b.iter(|| Token::parse(black_box(&text)).unwrap())
    });

    let stored = token.digest();
    c.bench_function("token/digest_and_compare", |b| {
        b.iter(|| black_box(&token).digest().matches(black_box(&stored)))
    });

    // 10,000 tokens of 50 users in the index, as in the API benchmark.
    let users: Vec<User> = (0..50).map(|i| user(&format!("user{i}"))).collect();
    let mut records: Vec<TokenRecord> = (0..9_999)
        .map(|i| record(&Token::generate(), &users[i % 50].username))
        .collect();
    records.push(record(&token, "user7"));
    let index = AuthIndex::new(records.clone(), &users, true);
    let header = format!("Api-Token {text}");
    c.bench_function("auth/decision_allowed", |b| {
        b.iter(|| {
            index
                .authenticate(black_box(&header), 1)
                .and_then(|p| p.require(Scope::MetricsRead))
                .unwrap()
        })
    });
    c.bench_function("auth/decision_missing_scope", |b| {
        b.iter(|| {
            index
                .authenticate(black_box(&header), 1)
                .and_then(|p| p.require(Scope::SloWrite))
                .unwrap_err()
        })
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
