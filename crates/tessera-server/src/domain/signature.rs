//! Webhook signatures per the Standard Webhooks convention: `v1,` and the base64 of
//! HMAC-SHA256 over `"{webhook-id}.{webhook-timestamp}.{body}"`.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The HMAC key of a secret: a `whsec_…` secret (the convention's form, as its libraries
/// read it) is the base64 it carries; any other secret is its own bytes.
pub fn key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// Whether `secret` is a well-formed `whsec_` secret: base64 of at least 16 bytes. (Any
/// other `whsec_…` is refused when the policy is saved rather than used as plain bytes,
/// which no Standard Webhooks library would verify.)
pub fn is_whsec(secret: &str) -> bool {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .is_some_and(|key| key.len() >= 16)
}

/// The `webhook-signature` header value.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)).expect("HMAC takes any key");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convention's own example (its specification and libraries test with it).
    #[test]
    fn signs_the_standard_webhooks_example() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_plain_secret_is_its_bytes_and_each_part_counts() {
        let base = sign("a plain secret of 24 chars", "msg_1", 10, b"{}");
        assert_ne!(base, sign("a plain secret of 24 chart", "msg_1", 10, b"{}"));
        assert_ne!(base, sign("a plain secret of 24 chars", "msg_2", 10, b"{}"));
        assert_ne!(base, sign("a plain secret of 24 chars", "msg_1", 11, b"{}"));
        assert_ne!(
            base,
            sign("a plain secret of 24 chars", "msg_1", 10, b"{ }")
        );
        assert!(is_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        for bad in [
            "whsec_not base64!",
            "whsec_c2hvcnQ=",
            "plain-secret-of-some-length",
        ] {
            assert!(!is_whsec(bad), "{bad}");
        }
    }
}
