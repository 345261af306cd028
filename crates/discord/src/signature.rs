//! Discord interaction security: every request to the interactions endpoint carries an Ed25519
//! signature (`X-Signature-Ed25519`, hex) over the bytes of `X-Signature-Timestamp` followed by
//! the raw body, made with the key whose public half is the app's `DISCORD_PUBLIC_KEY` (hex).
//! Discord probes the endpoint with badly signed requests and expects `401` for them.

use ed25519_dalek::{Signature, VerifyingKey};
#[cfg(any(test, feature = "testing"))]
use ed25519_dalek::{Signer, SigningKey};

/// Header names as API Gateway hands them over (lower case).
pub const SIGNATURE_HEADER: &str = "x-signature-ed25519";
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";

/// Checks a signature over the exact raw body. Any malformed key, signature or missing header is
/// simply "not valid": the caller answers 401 and nothing here can panic.
pub fn verify(
    public_key_hex: &str,
    signature_hex: Option<&str>,
    timestamp: Option<&str>,
    raw_body: &[u8],
) -> bool {
    let (Some(signature_hex), Some(timestamp)) = (signature_hex, timestamp) else {
        return false;
    };
    let Some(key) = parse_public_key(public_key_hex) else {
        return false;
    };
    let Some(signature) = decode_hex::<64>(signature_hex.trim()) else {
        return false;
    };
    let signature = Signature::from_bytes(&signature);
    let mut message = Vec::with_capacity(timestamp.len() + raw_body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(raw_body);
    // `verify_strict` also refuses weak keys and non-canonical signatures, which an honest
    // signer never produces.
    key.verify_strict(&message, &signature).is_ok()
}

/// Whether an interaction's `X-Signature-Timestamp` (Unix seconds) is within `max_skew_secs`
/// of `now`; a missing or malformed one is not.
pub fn is_fresh(timestamp: Option<&str>, now: i64, max_skew_secs: i64) -> bool {
    timestamp
        .and_then(|t| t.trim().parse::<i64>().ok())
        .is_some_and(|t| now.abs_diff(t) <= max_skew_secs.unsigned_abs())
}

/// The app's public key, if the hex is a valid Ed25519 point (checked once at start-up too).
pub fn parse_public_key(public_key_hex: &str) -> Option<VerifyingKey> {
    let bytes = decode_hex::<32>(public_key_hex.trim())?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// Signs an interaction as Discord would. For tests and the sandbox (which plays Discord) only:
/// the bridge itself never holds a signing key.
#[cfg(any(test, feature = "testing"))]
pub fn sign(seed: &[u8; 32], timestamp: &str, raw_body: &[u8]) -> String {
    let key = SigningKey::from_bytes(seed);
    let mut message = Vec::with_capacity(timestamp.len() + raw_body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(raw_body);
    encode_hex(&key.sign(&message).to_bytes())
}

/// The hex public key for a signing seed: what the sandbox puts in `DISCORD_PUBLIC_KEY`.
#[cfg(any(test, feature = "testing"))]
pub fn public_key_hex(seed: &[u8; 32]) -> String {
    encode_hex(SigningKey::from_bytes(seed).verifying_key().as_bytes())
}

/// A 32-byte signing seed from 64 hex digits (e.g. the test vector's), if well formed.
#[cfg(any(test, feature = "testing"))]
pub fn seed_from_hex(seed_hex: &str) -> Option<[u8; 32]> {
    decode_hex::<32>(seed_hex.trim())
}

/// Exactly `N` bytes from `2N` hex digits (either case); anything else is `None`.
fn decode_hex<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let digits = hex.as_bytes();
    if digits.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let high = (pair[0] as char).to_digit(16)?;
        let low = (pair[1] as char).to_digit(16)?;
        *byte = (high * 16 + low) as u8;
    }
    Some(out)
}

#[cfg(any(test, feature = "testing"))]
fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // TEST-ONLY vector (fixtures/discord/signature-test-vector.json), over ping.json's raw bytes.
    const SEED_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const PUBLIC_KEY: &str = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
    const SIGNATURE: &str = "73c7a267b49beae5c6e32a60c0ab3d49c15a94b549543201d7b54ee1636086b2aace343a5d72d5377654119de60fdf810a5f3d3af5366ca8a1326d0054ef6300";
    const TIMESTAMP: &str = "1786010400";
    const BODY: &[u8] = include_bytes!("../../../fixtures/discord/ping.json");

    #[test]
    fn the_test_vector_is_valid() {
        assert!(verify(PUBLIC_KEY, Some(SIGNATURE), Some(TIMESTAMP), BODY));
        assert!(verify(
            &PUBLIC_KEY.to_uppercase(),
            Some(&SIGNATURE.to_uppercase()),
            Some(TIMESTAMP),
            BODY
        ));
    }

    #[test]
    fn the_vector_file_agrees_with_these_constants() {
        let vector: serde_json::Value = serde_json::from_str(include_str!(
            "../../../fixtures/discord/signature-test-vector.json"
        ))
        .unwrap();
        assert_eq!(vector["private_key_seed_hex_TEST_ONLY"], SEED_HEX);
        assert_eq!(vector["public_key_hex"], PUBLIC_KEY);
        assert_eq!(vector["headers"]["X-Signature-Ed25519"], SIGNATURE);
        assert_eq!(vector["headers"]["X-Signature-Timestamp"], TIMESTAMP);
        assert_eq!(vector["body_utf8"].as_str().unwrap().as_bytes(), BODY);
        for case in vector["negative_cases"].as_array().unwrap() {
            let body = if case.get("body_modification").is_some() {
                let parsed: serde_json::Value = serde_json::from_slice(BODY).unwrap();
                serde_json::to_vec(&parsed).unwrap()
            } else {
                BODY.to_vec()
            };
            assert!(!verify(
                PUBLIC_KEY,
                case["X-Signature-Ed25519"].as_str(),
                case["X-Signature-Timestamp"].as_str(),
                &body
            ));
        }
    }

    #[test]
    fn any_change_breaks_it() {
        let mut flipped = SIGNATURE.as_bytes().to_vec();
        flipped[0] = b'7';
        flipped[1] = b'2';
        let flipped = String::from_utf8(flipped).unwrap();
        assert!(!verify(PUBLIC_KEY, Some(&flipped), Some(TIMESTAMP), BODY));
        assert!(!verify(
            PUBLIC_KEY,
            Some(SIGNATURE),
            Some("1786010401"),
            BODY
        ));
        let mut body = BODY.to_vec();
        body[10] ^= 1;
        assert!(!verify(PUBLIC_KEY, Some(SIGNATURE), Some(TIMESTAMP), &body));
        let reserialised =
            serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(BODY).unwrap())
                .unwrap();
        assert!(!verify(
            PUBLIC_KEY,
            Some(SIGNATURE),
            Some(TIMESTAMP),
            &reserialised
        ));
        let other_key = public_key_hex(&[7; 32]);
        assert!(!verify(&other_key, Some(SIGNATURE), Some(TIMESTAMP), BODY));
    }

    #[test]
    fn malformed_input_is_refused_without_panicking() {
        let bad = [
            "",
            "zz",
            "0",
            "é1",
            &SIGNATURE[..126],
            &format!("{SIGNATURE}00"),
            &SIGNATURE.replace('7', "g"),
        ];
        for signature in bad {
            assert!(
                !verify(PUBLIC_KEY, Some(signature), Some(TIMESTAMP), BODY),
                "{signature}"
            );
        }
        for key in [
            "",
            "xyz",
            &PUBLIC_KEY[..62],
            &"ff".repeat(32),
            "é".repeat(32).as_str(),
        ] {
            assert!(
                !verify(key, Some(SIGNATURE), Some(TIMESTAMP), BODY),
                "{key}"
            );
        }
        assert!(!verify(PUBLIC_KEY, None, Some(TIMESTAMP), BODY));
        assert!(!verify(PUBLIC_KEY, Some(SIGNATURE), None, BODY));
        assert!(parse_public_key(PUBLIC_KEY).is_some());
        assert!(parse_public_key("not hex").is_none());
    }

    #[test]
    fn signing_reproduces_the_vector_and_round_trips() {
        let seed = seed_from_hex(SEED_HEX).unwrap();
        assert_eq!(public_key_hex(&seed), PUBLIC_KEY);
        assert_eq!(sign(&seed, TIMESTAMP, BODY), SIGNATURE);
        let signature = sign(&seed, "1", b"{}");
        assert!(verify(
            &public_key_hex(&seed),
            Some(&signature),
            Some("1"),
            b"{}"
        ));
        assert!(seed_from_hex("00").is_none());
    }
}
