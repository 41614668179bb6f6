//! The token format (SPEC §2).
//!
//! `dt0c01.<public>.<secret>`: `public` is 24 random base32 characters (120 bits) and
//! names the token; `secret` is 57 random base32 characters (285 bits) followed by the
//! 7-character base32 encoding of the CRC-32 of everything before it. The checksum lets
//! a mistyped or made-up token be refused before any lookup. Only the SHA-256 digest of
//! the whole token is ever stored; digests are compared in constant time.
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_api::{PUBLIC_LEN, SECRET_LEN, TOKEN_PREFIX};

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const RANDOM_SECRET_LEN: usize = SECRET_LEN - CHECKSUM_LEN;
const CHECKSUM_LEN: usize = 7;
/// `dt0c01.` + public.
pub const ID_LEN: usize = TOKEN_PREFIX.len() + 1 + PUBLIC_LEN;
const TOKEN_LEN: usize = ID_LEN + 1 + SECRET_LEN;

/// The public, non-secret name of a token: `dt0c01.<public>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(String);

impl TokenId {
    /// Accepts exactly `dt0c01.` followed by 24 base32 characters.
    pub fn parse(value: &str) -> Option<TokenId> {
        let public = value.strip_prefix(TOKEN_PREFIX)?.strip_prefix('.')?;
        (public.len() == PUBLIC_LEN && public.bytes().all(is_base32))
            .then(|| TokenId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A whole token whose shape and checksum are right. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({}.***)", &self.0[..ID_LEN])
    }
}

/// Why a string is not a token. Callers must not tell clients which one it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenParseError {
    Shape,
    Checksum,
}

impl Token {
    /// Generates a new token from the operating system's CSPRNG: one read for all of its
    /// random characters (a byte's low 5 bits are uniform, since 32 divides 256).
    pub fn generate() -> Token {
        let mut random = [0u8; PUBLIC_LEN + RANDOM_SECRET_LEN];
        OsRng.fill_bytes(&mut random);
        let (public, secret) = random.split_at(PUBLIC_LEN);
        let char_of = |b: &u8| ALPHABET[usize::from(b & 31)] as char;
        let mut token = String::with_capacity(TOKEN_LEN);
        token.push_str(TOKEN_PREFIX);
        token.push('.');
        token.extend(public.iter().map(char_of));
        token.push('.');
        token.extend(secret.iter().map(char_of));
        let checksum = checksum(&token);
        token.push_str(&checksum);
        Token(token)
    }

    /// Checks shape and checksum; does no lookup.
    pub fn parse(value: &str) -> Result<Token, TokenParseError> {
        let bytes = value.as_bytes();
        let shape_ok = bytes.len() == TOKEN_LEN
            && value.starts_with(TOKEN_PREFIX)
            && bytes[TOKEN_PREFIX.len()] == b'.'
            && bytes[ID_LEN] == b'.'
            && bytes[TOKEN_PREFIX.len() + 1..ID_LEN]
                .iter()
                .copied()
                .all(is_base32)
            && bytes[ID_LEN + 1..].iter().copied().all(is_base32);
        if !shape_ok {
            return Err(TokenParseError::Shape);
        }
        let (body, sum) = value.split_at(TOKEN_LEN - CHECKSUM_LEN);
        if checksum(body) != sum {
            return Err(TokenParseError::Checksum);
        }
        Ok(Token(value.to_owned()))
    }

    pub fn id(&self) -> TokenId {
        TokenId(self.0[..ID_LEN].to_owned())
    }

    /// The whole token; only for the one response that hands it out.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> TokenDigest {
        TokenDigest(Sha256::digest(self.0.as_bytes()).into())
    }
}

/// SHA-256 of a whole token: the only form in which a token is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenDigest(pub [u8; 32]);

impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

impl TokenDigest {
    /// Constant-time comparison, so a timing side channel cannot reveal a digest prefix.
    pub fn matches(&self, other: &TokenDigest) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

fn is_base32(b: u8) -> bool {
    b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)
}

/// The 7-character base32 encoding of the CRC-32 of `body` (35 bits, leading zeros).
pub fn checksum(body: &str) -> String {
    let crc = crc32fast::hash(body.as_bytes());
    (0..CHECKSUM_LEN)
        .map(|i| ALPHABET[((crc as u64 >> (5 * (CHECKSUM_LEN - 1 - i))) & 31) as usize] as char)
        .collect()
}

/// Replaces the secret of anything in `text` that looks like a token with `***`, so that
/// a token pasted into a URL never reaches the logs.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    let marker = "dt0c01.";
    if !text.contains(marker) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(marker) {
        let after = &rest[pos + marker.len()..];
        let public_len = after.bytes().take_while(|b| is_base32(*b)).count();
        out.push_str(&rest[..pos + marker.len() + public_len]);
        let tail = &after[public_len..];
        match tail.strip_prefix('.') {
            Some(secret) => {
                let secret_len = secret
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric())
                    .count();
                out.push_str(".***");
                rest = &secret[secret_len..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner_shape(token: &str) -> bool {
        // dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}
        let parts: Vec<&str> = token.split('.').collect();
        parts.len() == 3
            && parts[0] == "dt0c01"
            && parts[1].len() == 24
            && parts[2].len() == 64
            && parts[1..].iter().all(|p| {
                p.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            })
    }

    #[test]
    fn generated_tokens_match_the_scanner_pattern_and_parse() {
        for _ in 0..100 {
            let token = Token::generate();
            assert!(scanner_shape(token.expose()), "{}", token.expose());
            assert_eq!(Token::parse(token.expose()), Ok(token.clone()));
            assert_eq!(TokenId::parse(token.id().as_str()), Some(token.id()));
        }
    }

    #[test]
    fn generated_tokens_are_distinct() {
        let set: std::collections::HashSet<String> = (0..2000)
            .map(|_| Token::generate().expose().to_owned())
            .collect();
        assert_eq!(set.len(), 2000);
    }

    #[test]
    fn a_changed_character_fails_the_checksum() {
        let token = Token::generate();
        let text = token.expose();
        for pos in [ID_LEN - 1, ID_LEN + 1, TOKEN_LEN - 8, TOKEN_LEN - 1] {
            let mut bytes = text.as_bytes().to_vec();
            bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            assert_eq!(
                Token::parse(&changed),
                Err(TokenParseError::Checksum),
                "pos {pos}"
            );
        }
    }

    #[test]
    fn bad_shapes_are_rejected() {
        let good = Token::generate().expose().to_owned();
        let cases = [
            String::new(),
            "dt0c01".into(),
            good[..good.len() - 1].into(),
            format!("{good}A"),
            good.replacen("dt0c01", "dt0c02", 1),
            good.to_lowercase(),
            good.replacen('.', ":", 1),
            format!("{}1{}", &good[..ID_LEN + 1], &good[ID_LEN + 2..]), // '1' is not base32
        ];
        for case in cases {
            assert_eq!(Token::parse(&case), Err(TokenParseError::Shape), "{case}");
        }
    }

    #[test]
    fn checksum_is_crc32_in_seven_base32_characters() {
        assert_eq!(checksum(""), "AAAAAAA");
        // CRC-32("123456789") = 0xCBF43926, written as 35 bits of base32.
        let crc: u64 = 0xCBF4_3926;
        let expected: String = (0..7)
            .map(|i| ALPHABET[((crc >> (5 * (6 - i))) & 31) as usize] as char)
            .collect();
        assert_eq!(checksum("123456789"), expected);
    }

    #[test]
    fn digests_compare_equal_only_for_the_same_token() {
        let a = Token::generate();
        let b = Token::generate();
        assert!(a.digest().matches(&a.digest()));
        assert!(!a.digest().matches(&b.digest()));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let token = Token::generate();
        let shown = format!("{token:?}");
        assert!(!shown.contains(&token.expose()[ID_LEN + 1..]));
        assert!(shown.contains(token.id().as_str()));
    }

    #[test]
    fn redact_removes_secrets_from_paths() {
        let token = Token::generate();
        let path = format!("/api/v2/apiTokens/{}/x", token.expose());
        let redacted = redact(&path);
        assert_eq!(redacted, format!("/api/v2/apiTokens/{}.***/x", token.id()));
        assert_eq!(redact("/healthz"), "/healthz");
    }
}
