//! Property tests for every parser that reads outside input (issue 6): none panics on any
//! input, and each round-trips through its printer where one exists. The HTTP side (a bad
//! value is a 400 naming the parameter) is in `tests/api/hostile_input.rs`.
use proptest::prelude::*;
use tessera_api::SCOPES;
use tessera_server::domain::query::{Field, Fields, ListQuery, PageKey, Position, Selector, Sort};
use tessera_server::domain::selector::STATUSES;
use tessera_server::domain::time;
use tessera_server::domain::token::{checksum, redact, Token};

const NOW: i64 = 1_795_000_000_000;

/// `PROPTEST_CASES` (set by `make soak`) or `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Strings that look like the input (the parser's own alphabet) plus arbitrary Unicode.
fn noisy(alphabet: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex(alphabet).unwrap(),
        any::<String>(),
    ]
}

fn scope_name() -> impl Strategy<Value = String> {
    proptest::sample::select(SCOPES).prop_map(|s| s.as_str().to_owned())
}

fn selector() -> impl Strategy<Value = Selector> {
    (
        proptest::collection::vec(any::<String>(), 0..3),
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(scope_name(), 0..3),
        proptest::collection::vec(any::<String>(), 0..3),
        proptest::collection::vec(proptest::sample::select(&STATUSES[..]), 0..3),
        proptest::option::of(1u32..=36_500),
    )
        .prop_map(
            |(owners, personal, scopes, names, statuses, unused_days)| Selector {
                owners,
                personal,
                scopes,
                names,
                statuses: statuses.into_iter().map(str::to_owned).collect(),
                unused_days,
            },
        )
}

fn fields() -> impl Strategy<Value = Fields> {
    proptest::sample::subsequence(Field::all().collect::<Vec<_>>(), 0..12).prop_map(|mut f| {
        if !f.contains(&Field::Id) {
            f.push(Field::Id);
        }
        f.sort();
        Fields(f)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    #[test]
    fn token_parse_never_panics(input in noisy("(dt0c01\\.)?[A-Z2-7.]{0,100}")) {
        let _ = Token::parse(&input);
        let _ = redact(&input);
    }

    #[test]
    fn generated_tokens_parse_and_any_one_changed_character_is_rejected(
        position in 0usize..96, replacement in "[A-Z2-7.a-z]",
    ) {
        let token = Token::generate();
        let parsed = Token::parse(token.expose()).unwrap();
        prop_assert_eq!(parsed.id(), token.id());
        let mut changed: Vec<char> = token.expose().chars().collect();
        let position = position % changed.len();
        let replacement = replacement.chars().next().unwrap();
        prop_assume!(changed[position] != replacement);
        changed[position] = replacement;
        let changed: String = changed.into_iter().collect();
        // CRC-32 catches every single-character change.
        prop_assert!(Token::parse(&changed).is_err(), "{}", changed);
    }

    #[test]
    fn a_body_with_the_right_checksum_parses_only_when_well_formed(body in "dt0c01\\.[A-Z2-7]{24}\\.[A-Z2-7]{57}") {
        let whole = format!("{body}{}", checksum(&body));
        prop_assert!(Token::parse(&whole).is_ok());
        prop_assert!(!redact(&whole).contains(&whole[32..]), "redact keeps the secret");
    }

    #[test]
    fn selector_parse_never_panics(input in noisy(r#"(owner|name|scope|personalAccessToken|[a-z]{0,3})?[("\\, )a-z.]{0,30}"#)) {
        let _ = Selector::parse(&input);
    }

    #[test]
    fn selectors_round_trip(selector in selector()) {
        let printed = selector.to_string();
        prop_assert_eq!(Selector::parse(&printed), Ok(selector), "{}", printed);
    }

    #[test]
    fn fields_parse_never_panics(input in noisy("[+ -]?[a-zA-Z]{0,12}(,[+ -]?[a-zA-Z]{0,12}){0,4}")) {
        if let Ok(fields) = Fields::parse(&input) {
            prop_assert!(fields.has(Field::Id), "id is always returned");
        }
    }

    #[test]
    fn fields_round_trip(fields in fields()) {
        prop_assert_eq!(Fields::parse(&fields.to_string()), Ok(fields));
    }

    #[test]
    fn sort_round_trips_and_never_panics(input in noisy("[+ -]?[a-zA-Z]{0,14}")) {
        if let Ok(sort) = Sort::parse(&input) {
            prop_assert_eq!(Sort::parse(&sort.to_string()), Ok(sort));
        }
    }

    #[test]
    fn times_never_panic(input in noisy("(now)?[+-]?[0-9]{0,12}[mhdwMyx]?|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{0,12}Z?")) {
        let _ = time::parse_bound(&input, NOW);
        if let Ok(at) = time::parse_expiration(&input, NOW) {
            prop_assert!(at > NOW, "an expiration is in the future");
        }
    }

    #[test]
    fn printed_times_parse_back(ms in -62_135_596_800_000i64..253_402_300_799_000) {
        let printed = time::format(ms);
        prop_assert_eq!(time::parse_bound(&printed, NOW), Ok(ms), "{}", printed);
        prop_assert_eq!(time::parse_bound(&ms.max(0).to_string(), NOW), Ok(ms.max(0)));
    }

    #[test]
    fn relative_times_move_the_right_way(amount in 1u32..100_000, unit in "[mhdwMy]") {
        if let Ok(at) = time::parse_bound(&format!("now-{amount}{unit}"), NOW) {
            prop_assert!(at < NOW);
        }
        if let Ok(at) = time::parse_expiration(&format!("now+{amount}{unit}"), NOW) {
            prop_assert!(at > NOW);
        }
    }

    #[test]
    fn page_keys_never_panic(input in noisy("[A-Za-z0-9_-]{0,200}")) {
        let _ = PageKey::decode(&input);
    }

    #[test]
    fn page_keys_round_trip(
        selector in selector(), fields in fields(), sort in "-?(name|creationDate|lastUsedDate)",
        page_size in 1u32..=ListQuery::MAX_PAGE_SIZE,
        snapshot in prop_oneof![0i64.., any::<i64>()],
        offset in prop_oneof![0..=PageKey::MAX_OFFSET, any::<u64>()],
        from in proptest::option::of(any::<i64>()), to in proptest::option::of(any::<i64>()),
        total in any::<u64>(),
    ) {
        let key = PageKey {
            query: ListQuery { selector, fields, sort: Sort::parse(&sort).unwrap(), from, to, page_size, now: 1_800_000_000_000 },
            at: Position { snapshot, offset, total },
        };
        // Keys this server writes round-trip; forged ranges are refused (issue 13).
        let in_range = key.at.snapshot >= 0 && key.at.offset <= PageKey::MAX_OFFSET;
        prop_assert_eq!(PageKey::decode(&key.encode()), in_range.then_some(key));
    }
}
