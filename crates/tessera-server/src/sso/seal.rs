//! Sealing with the operator's key (`--oidc-key-file`): XChaCha20-Poly1305 with a random
//! nonce, and a purpose bound in as associated data, so a sealed sign-in cookie is never
//! taken for a sealed refresh token or the other way round.
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

#[derive(Clone)]
pub struct SealKey(XChaCha20Poly1305);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(…)")
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

impl SealKey {
    /// From the key file's text: 32 bytes, base64 (standard or URL-safe).
    pub fn parse(text: &str) -> Result<SealKey, String> {
        let text = text.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| B64.decode(text.trim_end_matches('=')))
            .map_err(|_| "the key is not base64".to_owned())?;
        if bytes.len() != 32 {
            return Err(format!("the key is {} bytes; it must be 32", bytes.len()));
        }
        Ok(SealKey(XChaCha20Poly1305::new(bytes.as_slice().into())))
    }

    /// `nonce ‖ ciphertext`, URL-safe base64.
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> String {
        use rand::RngCore;
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: purpose.as_bytes(),
                },
            )
            .expect("encryption with a valid key does not fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        B64.encode(out)
    }

    /// The plain text, or None if `sealed` was not sealed with this key for `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        let bytes = B64.decode(sealed).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, body) = bytes.split_at(24);
        self.0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: purpose.as_bytes(),
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_purpose() {
        let key =
            SealKey::parse(&base64::engine::general_purpose::STANDARD.encode([7u8; 32])).unwrap();
        let other = SealKey::parse(&B64.encode([8u8; 32])).unwrap();
        let sealed = key.seal("login", b"state");
        assert_eq!(key.open("login", &sealed).as_deref(), Some(&b"state"[..]));
        assert_eq!(key.open("refresh", &sealed), None);
        assert_eq!(other.open("login", &sealed), None);
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            key.open("login", std::str::from_utf8(&tampered).unwrap()),
            None
        );
        assert_ne!(key.seal("login", b"state"), sealed, "a new nonce each time");
        assert!(SealKey::parse("c2hvcnQ=")
            .unwrap_err()
            .contains("must be 32"));
    }
}
