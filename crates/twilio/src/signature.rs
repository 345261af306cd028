//! `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth token, over the full public URL
//! followed by every POST parameter as `key + value`, sorted by key.
//!
//! Twilio's JSON-body webhooks instead carry `bodySHA256=<hex sha256 of the body>` in the URL and
//! sign the URL alone. Twilio may sign the URL with or without the scheme's default port, so both
//! spellings are accepted. See <https://www.twilio.com/docs/usage/webhooks/webhooks-security>.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const HEADER: &str = "x-twilio-signature";

/// The signature Twilio sends for a form-encoded request to `url`.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (key, value) in sorted {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks a request Twilio sent to `url` (public URL with the raw query string).
/// `body` is the raw body: form parameters are parsed from it unless the URL carries `bodySHA256`.
pub fn verify(auth_token: &str, url: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(signature) = signature else {
        return false;
    };
    let body_hash = url::Url::parse(url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "bodySHA256")
            .map(|(_, v)| v.into_owned())
    });
    let params: Vec<(String, String)> = match &body_hash {
        Some(_) => Vec::new(),
        None => url::form_urlencoded::parse(body).into_owned().collect(),
    };
    let signed = url_variants(url)
        .iter()
        .any(|candidate| constant_time_eq(&sign(auth_token, candidate, &params), signature));
    match body_hash {
        Some(expected) => signed && constant_time_eq(&hex(&Sha256::digest(body)), &expected),
        None => signed,
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The URL as given, plus the same URL with the default port added or removed.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    if let Ok(parsed) = url::Url::parse(url) {
        let default_port = match parsed.scheme() {
            "https" => 443,
            "http" => 80,
            _ => return variants,
        };
        let host = parsed.host_str().unwrap_or_default();
        let authority_with = format!("{host}:{default_port}");
        let (from, to) = if url.contains(&authority_with) {
            (authority_with.clone(), host.to_owned())
        } else {
            (host.to_owned(), authority_with.clone())
        };
        if parsed.port().is_none() || parsed.port() == Some(default_port) {
            variants.push(url.replacen(&from, &to, 1));
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    // Twilio's documented example (webhooks-security page): token 12345, this URL and params.
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn form() -> String {
        serde_urlencoded::to_string(params()).unwrap()
    }

    #[test]
    fn matches_twilio_documented_example() {
        assert_eq!(sign(TOKEN, URL, &params()), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify(
            TOKEN,
            URL,
            form().as_bytes(),
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
    }

    #[test]
    fn accepts_the_url_with_or_without_default_port() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        let sig = sign(TOKEN, with_port, &params());
        assert!(verify(TOKEN, URL, form().as_bytes(), Some(&sig)));
        let sig = sign(TOKEN, URL, &params());
        assert!(verify(TOKEN, with_port, form().as_bytes(), Some(&sig)));
    }

    #[test]
    fn refuses_tampering() {
        let sig = sign(TOKEN, URL, &params());
        let tampered = form().replace("1234", "9999");
        assert!(!verify(TOKEN, URL, tampered.as_bytes(), Some(&sig)));
        assert!(!verify(
            TOKEN,
            "https://evil.com/myapp.php?foo=1&bar=2",
            form().as_bytes(),
            Some(&sig)
        ));
        assert!(!verify("other", URL, form().as_bytes(), Some(&sig)));
        assert!(!verify(TOKEN, URL, form().as_bytes(), None));
    }

    #[test]
    fn json_body_is_checked_through_body_sha256() {
        let body = br#"{"EventType":"onMessageAdded"}"#;
        let url = format!(
            "https://example.com/hook?bodySHA256={}",
            hex(&Sha256::digest(body))
        );
        let sig = sign(TOKEN, &url, &[]);
        assert!(verify(TOKEN, &url, body, Some(&sig)));
        assert!(!verify(
            TOKEN,
            &url,
            br#"{"EventType":"onMessageRemoved"}"#,
            Some(&sig)
        ));
    }
}
