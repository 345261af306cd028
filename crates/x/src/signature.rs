//! X webhook security: the CRC challenge answer and the `x-twitter-webhooks-signature` check.
//! Both are base64 HMAC-SHA256 keyed with the app's consumer secret, prefixed `sha256=`.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const HEADER: &str = "x-twitter-webhooks-signature";

/// `sha256=<base64 HMAC-SHA256(consumer_secret, message)>`
pub fn sign(consumer_secret: &str, message: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(consumer_secret.as_bytes()).expect("any key length");
    mac.update(message);
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// Whether `token` has the form of X's `crc_token`s: 16 to 128 characters of base64 and base64url
/// (`^[A-Za-z0-9+/=_-]{16,128}$`). The CRC answer is the signature a POST body would carry, so
/// only such tokens may be signed: none of them is a JSON object, or any body the webhook takes.
pub fn is_crc_token(token: &str) -> bool {
    (16..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
}

/// The `response_token` for a CRC `crc_token` (check it with [`is_crc_token`] first).
pub fn crc_response_token(consumer_secret: &str, crc_token: &str) -> String {
    sign(consumer_secret, crc_token.as_bytes())
}

/// Checks the signature header over the exact raw body, in constant time.
pub fn verify(consumer_secret: &str, raw_body: &[u8], header: Option<&str>) -> bool {
    match header {
        Some(given) => sign(consumer_secret, raw_body)
            .as_bytes()
            .ct_eq(given.trim().as_bytes())
            .into(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // TEST-ONLY vector (fixtures/x/webhook-crc-and-signature-test-vector.json).
    const SECRET: &str = "TEST_ONLY_consumer_secret_0123456789abcdefghijklmnopqrstuv";

    #[test]
    fn crc_matches_the_test_vector() {
        assert_eq!(
            crc_response_token(SECRET, "NjI4ZmM0ZjEtM2Q2Ni00ZjI1LTg0YjYtYzQxMmQzZDFjMDcx"),
            "sha256=g8qL1pBB43kACXFNjPGw5t9H4ky1MqNyPrgCoMLwOgU="
        );
    }

    #[test]
    fn only_tokens_of_xs_form_are_crc_tokens() {
        for token in [
            "NjI4ZmM0ZjEtM2Q2Ni00ZjI1LTg0YjYtYzQxMmQzZDFjMDcx",
            "abcdefghijklmnop",
            "a-b_c+d/e=f0123456789",
            &"A".repeat(128),
        ] {
            assert!(is_crc_token(token), "{token}");
        }
        for token in [
            "",
            "abcdefghijklmno",
            &"A".repeat(129),
            r#"{"direct_message_events":[]}"#,
            "abcdefghijklmnop ",
            "abcdefghijklmnop\n",
            "abcdéfghijklmnopq",
            "abcdefghijklmnop\"",
        ] {
            assert!(!is_crc_token(token), "{token:?}");
        }
    }

    #[test]
    fn body_signature_matches_the_test_vector_and_nothing_else() {
        let body = include_bytes!("../../../fixtures/x/aaa-v2-dm-inbound-text.json");
        let header = "sha256=SJ8Z7BgY1dFCySSIGrlH9YkO0h2Ku7sDlTy3dUHRdWI=";
        assert!(verify(SECRET, body, Some(header)));
        assert!(!verify(SECRET, &body[..body.len() - 1], Some(header)));
        assert!(!verify("wrong", body, Some(header)));
        assert!(!verify(SECRET, body, None));
    }
}
