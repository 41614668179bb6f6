//! Token names, usernames, display names and management zone names.

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

/// A login name: 1–64 characters of `[A-Za-z0-9._@-]`, case-sensitive, not only dots
/// (`.` and `..` are path segments a URL parser removes, so `/users/..` never names them).
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
        if value.chars().all(|c| c == '.') {
            return Err("Username must have a character that is not a dot");
        }
        Ok(Username(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name as the console shows it: 1–100 characters after trimming, no control
/// characters and no invisible formatting ones (bidi overrides, zero-width), which could
/// make one name look like another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(value: &str) -> Result<DisplayName, &'static str> {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 100 {
            return Err("A display name must be 1 to 100 characters long");
        }
        let invisible = |c: char| {
            matches!(c, '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}'
                | '\u{17B4}' | '\u{17B5}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E0FFF}')
        };
        if value.chars().any(|c| c.is_control() || invisible(c)) {
            return Err(
                "A display name may not contain control or invisible formatting characters",
            );
        }
        Ok(DisplayName(value.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A management zone name: 1–100 characters after trimming, no control characters, and not
/// `*` or `-`, which `X-Tessera-Management-Zones` uses for "all zones" and "no zones".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ZoneName(String);

impl ZoneName {
    pub fn parse(value: &str) -> Result<ZoneName, &'static str> {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 100 {
            return Err("A management zone name must be 1 to 100 characters long");
        }
        if value.chars().any(char::is_control) {
            return Err("A management zone name may not contain control characters");
        }
        if value == "*" || value == "-" {
            return Err(
                "`*` and `-` are not management zone names: they mean all zones and no zones",
            );
        }
        Ok(ZoneName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `X-Tessera-Management-Zones`: `*` for all zones, `-` for none, otherwise each name
/// percent-encoded as UTF-8 (everything but letters, digits and `-._~`), comma-separated.
/// A name can never encode to `*`, to `-` (refused by `ZoneName`), or contain a comma.
pub fn zones_header(all_zones: bool, zones: &[String]) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    if all_zones {
        return "*".to_owned();
    }
    if zones.is_empty() {
        return "-".to_owned();
    }
    zones
        .iter()
        .map(|z| percent_encoding::utf8_percent_encode(z, KEEP).to_string())
        .collect::<Vec<_>>()
        .join(",")
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
    fn zone_names_exclude_the_header_words_and_encode_unambiguously() {
        assert_eq!(ZoneName::parse(" eu-west ").unwrap().as_str(), "eu-west");
        for bad in ["*", "-", " ", "a\u{7}b", &"z".repeat(101)] {
            assert!(ZoneName::parse(bad).is_err(), "{bad:?}");
        }
        let zones = ["Zürich".to_owned(), "a,b".to_owned(), "x*".to_owned()];
        assert_eq!(zones_header(false, &zones), "Z%C3%BCrich,a%2Cb,x%2A");
        assert_eq!(zones_header(false, &[]), "-");
        assert_eq!(zones_header(true, &zones), "*");
    }

    #[test]
    fn usernames_follow_the_spec_alphabet() {
        assert!(Username::parse("alice.o'hara").is_err());
        assert!(Username::parse("ops-bot@example.com").is_ok());
        assert!(Username::parse("").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
        assert!(Username::parse("a b").is_err());
        // `/api/v2/tessera/users/..` would be normalised away by any URL parser.
        for dots in [".", "..", "..."] {
            assert!(Username::parse(dots).is_err(), "{dots}");
        }
        assert!(Username::parse("a.b").is_ok() && Username::parse(".a").is_ok());
    }
}
