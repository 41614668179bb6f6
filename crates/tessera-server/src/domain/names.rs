//! Token names and usernames.

/// A token name: at most 100 characters as sent, at least one of them not a space, no
/// control characters; stored trimmed. Names need not be unique. (Counting before the
/// trim keeps the rule expressible as `maxLength` in the OpenAPI document.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(value: &str) -> Result<TokenName, &'static str> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err("Token name must not be empty");
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err("Token name must be at most 100 characters");
        }
        if trimmed.chars().any(char::is_control) {
            return Err("Token name must not contain control characters");
        }
        Ok(TokenName(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A login name: 1–64 characters of `[A-Za-z0-9._@-]`, case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(value: &str) -> Result<Username, &'static str> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-');
        if value.is_empty() || value.len() > 64 {
            return Err("Username must be 1 to 64 characters long");
        }
        if !value.chars().all(ok_char) {
            return Err("Username may only contain letters, digits and . _ @ -");
        }
        Ok(Username(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_trimmed_and_bounded() {
        assert_eq!(
            TokenName::parse("  ci deploy ").unwrap().as_str(),
            "ci deploy"
        );
        assert!(TokenName::parse("   ").is_err());
        assert!(TokenName::parse(&"x".repeat(100)).is_ok());
        assert!(TokenName::parse(&"x".repeat(101)).is_err());
        assert!(
            TokenName::parse(&"é".repeat(100)).is_ok(),
            "characters, not bytes"
        );
        assert!(TokenName::parse("a\u{0}b").is_err());
        assert!(TokenName::parse("<img src=x onerror=alert(1)>").is_ok());
    }

    #[test]
    fn usernames_follow_the_spec_alphabet() {
        assert!(Username::parse("alice.o'hara").is_err());
        assert!(Username::parse("ops-bot@example.com").is_ok());
        assert!(Username::parse("").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
        assert!(Username::parse("a b").is_err());
    }
}
