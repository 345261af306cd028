//! OAuth 1.0a (RFC 5849) `Authorization` header check, as X does for user-context calls.
//!
//! The header's parameters are parsed, the credentials compared with the sandbox's, and the
//! HMAC-SHA1 signature recomputed with the `oauth1-request` crate from the same nonce and
//! timestamp (method, URL and query parameters; a JSON body is not signed).

use std::collections::HashMap;
use std::num::NonZeroU64;

use crate::{time, SandboxConfig};

/// X refuses timestamps this far from its clock.
const MAX_CLOCK_SKEW_SECS: u64 = 15 * 60;

/// Checks the header; returns the nonce (for replay detection) or why it was refused.
pub(super) fn verify(
    config: &SandboxConfig,
    method: &str,
    url: &str,
    query: Option<&str>,
    header: Option<&str>,
) -> Result<String, &'static str> {
    let params = parse_header(header.ok_or("no Authorization header")?)?;
    let get = |name: &str| params.get(name).map(String::as_str);
    let field = |name: &'static str| get(name).ok_or(name);
    if field("oauth_signature_method")? != "HMAC-SHA1" {
        return Err("oauth_signature_method is not HMAC-SHA1");
    }
    if get("oauth_version").is_some_and(|v| v != "1.0") {
        return Err("oauth_version is not 1.0");
    }
    if field("oauth_consumer_key")? != config.x_consumer_key {
        return Err("unknown oauth_consumer_key");
    }
    if field("oauth_token")? != config.x_access_token {
        return Err("unknown oauth_token");
    }
    let nonce = field("oauth_nonce")?;
    if nonce.is_empty() {
        return Err("empty oauth_nonce");
    }
    let timestamp = field("oauth_timestamp")?
        .parse::<u64>()
        .ok()
        .and_then(NonZeroU64::new)
        .ok_or("bad oauth_timestamp")?;
    if time::now_secs().abs_diff(timestamp.get()) > MAX_CLOCK_SKEW_SECS {
        return Err("oauth_timestamp out of bounds");
    }

    let query: Vec<(String, String)> = query
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default();
    let client = oauth1_request::Credentials::new(
        config.x_consumer_key.as_str(),
        config.x_consumer_secret.as_str(),
    );
    let token = oauth1_request::Credentials::new(
        config.x_access_token.as_str(),
        config.x_access_token_secret.as_str(),
    );
    let mut builder = oauth1_request::Builder::new(client, oauth1_request::HMAC_SHA1);
    builder
        .token(token)
        .nonce(nonce)
        .timestamp(timestamp)
        .version(get("oauth_version").is_some());
    let expected = builder.authorize(method, url, &oauth1_request::ParameterList::new(query));
    let expected = parse_header(&expected)?;
    if expected.get("oauth_signature") != Some(&field("oauth_signature")?.to_owned()) {
        return Err("oauth_signature does not match");
    }
    Ok(nonce.to_owned())
}

/// `OAuth k="v", k2="v2"` into decoded pairs; a repeated parameter is refused.
fn parse_header(header: &str) -> Result<HashMap<String, String>, &'static str> {
    let rest = header
        .trim()
        .get(..6)
        .filter(|scheme| scheme.eq_ignore_ascii_case("oauth "))
        .map(|_| &header.trim()[6..])
        .ok_or("not an OAuth Authorization header")?;
    let mut params = HashMap::new();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').ok_or("malformed OAuth parameter")?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or("OAuth parameter value not quoted")?;
        let key = percent_decode(key.trim()).ok_or("bad percent-encoding")?;
        if key == "realm" {
            continue;
        }
        let value = percent_decode(value).ok_or("bad percent-encoding")?;
        if params.insert(key, value).is_some() {
            return Err("repeated OAuth parameter");
        }
    }
    Ok(params)
}

/// RFC 3986 percent-decoding (OAuth never encodes a space as `+`).
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:9/2/dm_conversations/with/2900000001/messages";

    fn config() -> SandboxConfig {
        SandboxConfig::for_tests("http://127.0.0.1:9/hook")
    }

    fn header(consumer_secret: &str) -> String {
        let c = config();
        let token = oauth1_request::Token::from_parts(
            c.x_consumer_key.as_str(),
            consumer_secret,
            c.x_access_token.as_str(),
            c.x_access_token_secret.as_str(),
        );
        oauth1_request::post(URL, &(), &token, oauth1_request::HMAC_SHA1)
    }

    #[test]
    fn accepts_what_oauth1_request_signs() {
        let c = config();
        let nonce = verify(&c, "POST", URL, None, Some(&header(&c.x_consumer_secret))).unwrap();
        assert!(!nonce.is_empty());
    }

    #[test]
    fn refuses_wrong_secret_url_method_or_header() {
        let c = config();
        let good = header(&c.x_consumer_secret);
        assert!(verify(&c, "POST", URL, None, Some(&header("wrong"))).is_err());
        assert!(verify(&c, "POST", "http://127.0.0.1:9/2/other", None, Some(&good)).is_err());
        assert!(verify(&c, "GET", URL, None, Some(&good)).is_err());
        assert!(verify(&c, "POST", URL, Some("a=1"), Some(&good)).is_err());
        assert!(verify(&c, "POST", URL, None, None).is_err());
        assert!(verify(&c, "POST", URL, None, Some("Bearer abc")).is_err());
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("a%2Bb%3D").as_deref(), Some("a+b="));
        assert_eq!(percent_decode("%zz"), None);
    }
}
