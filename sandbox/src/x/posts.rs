//! Posts: `POST /2/tweets` (the reply subset the bridge uses to invite a mention's author to
//! DM), with `CreatePostsRequest` checked as `openapi.json` describes it and OAuth 1.0a user
//! context (`UserToken`) checked like DM sends; the posts created are recorded. And the switch
//! that makes a user's DMs closed to the brand: X then refuses DMs to them with 403.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::{check_oauth, invalid, is_numeric_id, json_object_body, problem};
use crate::{time, Sandbox};

/// A post the brand created through the API.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CreatedPost {
    pub id: String,
    pub text: String,
    /// `reply.in_reply_to_tweet_id`: the post this one answers.
    pub in_reply_to: Option<String>,
}

#[derive(Default)]
pub(crate) struct PostsStore {
    posts: Vec<CreatedPost>,
    /// Users whose DMs are closed to the brand, and how many DMs to them X refused.
    closed_dms: HashMap<String, u32>,
}

/// The keys of `CreatePostsRequest` (additionalProperties false).
const REQUEST_KEYS: &[&str] = &[
    "card_uri",
    "community_id",
    "direct_message_deep_link",
    "edit_options",
    "for_super_followers_only",
    "geo",
    "made_with_ai",
    "media",
    "nullcast",
    "paid_partnership",
    "poll",
    "quote_tweet_id",
    "reply",
    "reply_settings",
    "share_with_followers",
    "text",
];
/// The keys of `CreatePostsReply` (additionalProperties false).
const REPLY_KEYS: &[&str] = &[
    "auto_populate_reply_metadata",
    "exclude_reply_user_ids",
    "in_reply_to_tweet_id",
];
/// X's limit for a post's text.
const MAX_POST_CHARS: usize = 280;

impl Sandbox {
    /// Every post the brand created, oldest first.
    pub fn x_posts(&self) -> Vec<CreatedPost> {
        self.x_store().posts.posts.clone()
    }

    /// The brand's replies to `post_id`.
    pub fn x_replies_to(&self, post_id: &str) -> Vec<CreatedPost> {
        self.x_posts()
            .into_iter()
            .filter(|p| p.in_reply_to.as_deref() == Some(post_id))
            .collect()
    }

    /// `user_id` accepts no DMs from the brand (or opens them again): X answers 403 to a DM.
    pub fn set_x_dms_closed(&self, user_id: &str, closed: bool) {
        let closed_dms = &mut self.x_store().posts.closed_dms;
        if closed {
            closed_dms.entry(user_id.to_owned()).or_default();
        } else {
            closed_dms.remove(user_id);
        }
    }

    /// How many DMs to `user_id` X refused because their DMs are closed.
    pub fn x_refused_dms(&self, user_id: &str) -> u32 {
        self.x_store()
            .posts
            .closed_dms
            .get(user_id)
            .copied()
            .unwrap_or(0)
    }
}

/// Checks a `CreatePostsRequest` body: the reply subset only (text and `reply`); the other keys
/// of the spec are refused as unsupported here, unknown keys as X does.
fn parse_post_body(headers: &HeaderMap, body: &[u8]) -> Result<(String, Option<String>), String> {
    let object = json_object_body(headers, body)?;
    for key in object.keys() {
        if !REQUEST_KEYS.contains(&key.as_str()) {
            return Err(format!("[{key}] is not a valid property of the request"));
        }
        if !["text", "reply"].contains(&key.as_str()) {
            return Err(format!("[{key}] is not supported by the sandbox"));
        }
    }
    let text = match object.get("text") {
        Some(Value::String(t)) if t.trim().is_empty() => {
            return Err("$.text: must not be empty without media".into())
        }
        Some(Value::String(t)) if t.chars().count() > MAX_POST_CHARS => {
            return Err(format!("$.text: longer than {MAX_POST_CHARS} characters"))
        }
        Some(Value::String(t)) => t.clone(),
        Some(_) => return Err("$.text: must be a string".into()),
        None => return Err("$.text: required without media".into()),
    };
    let in_reply_to = match object.get("reply") {
        None => None,
        Some(Value::Object(reply)) => {
            if let Some(key) = reply.keys().find(|k| !REPLY_KEYS.contains(&k.as_str())) {
                return Err(format!("$.reply: [{key}] is not a valid property"));
            }
            let id = reply
                .get("in_reply_to_tweet_id")
                .and_then(Value::as_str)
                .filter(|id| is_numeric_id(id))
                .ok_or("$.reply.in_reply_to_tweet_id: required, ^[0-9]{1,19}$")?;
            Some(id.to_owned())
        }
        Some(_) => return Err("$.reply: must be an object".into()),
    };
    Ok((text, in_reply_to))
}

/// `POST /2/tweets`
pub(super) async fn create_post(
    State(sandbox): State<Sandbox>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check_oauth(&sandbox, &method, &uri, &headers) {
        return response;
    }
    let (text, in_reply_to) = match parse_post_body(&headers, &body) {
        Ok(parsed) => parsed,
        Err(detail) => return invalid(detail),
    };
    let post = CreatedPost {
        id: time::snowflake(),
        text,
        in_reply_to,
    };
    sandbox.x_store().posts.posts.push(post.clone());
    tracing::info!(id = %post.id, in_reply_to = ?post.in_reply_to, "sandbox: X post created");
    let body =
        json!({"data": {"id": post.id, "text": post.text, "edit_history_post_ids": [post.id]}});
    (StatusCode::CREATED, Json(body)).into_response()
}

/// In front of the DM endpoint: a DM to a user whose DMs are closed is refused with 403 once
/// its OAuth is checked (X authenticates first), and counted.
pub(super) async fn closed_dms(
    State(sandbox): State<Sandbox>,
    request: Request,
    next: Next,
) -> Response {
    let participant = request
        .uri()
        .path()
        .strip_prefix("/2/dm_conversations/with/")
        .and_then(|rest| rest.strip_suffix("/messages"))
        .map(str::to_owned);
    let closed = participant.as_ref().is_some_and(|p| {
        request.method() == Method::POST && sandbox.x_store().posts.closed_dms.contains_key(p)
    });
    if !closed {
        return next.run(request).await;
    }
    if let Err(response) = check_oauth(&sandbox, request.method(), request.uri(), request.headers())
    {
        return response;
    }
    let participant = participant.unwrap_or_default();
    *sandbox
        .x_store()
        .posts
        .closed_dms
        .entry(participant.clone())
        .or_default() += 1;
    tracing::info!(%participant, "sandbox: X DM refused: the user's DMs are closed");
    problem(
        StatusCode::FORBIDDEN,
        json!({
            "title": "Forbidden",
            "type": "about:blank",
            "status": 403,
            "detail": "You are not allowed to send Direct Messages to this user.",
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::json_headers;
    use super::*;

    #[test]
    fn post_bodies_follow_the_spec() {
        let h = json_headers();
        assert_eq!(
            parse_post_body(
                &h,
                br#"{"text":"hi","reply":{"in_reply_to_tweet_id":"123"}}"#
            )
            .unwrap(),
            ("hi".into(), Some("123".into()))
        );
        assert_eq!(
            parse_post_body(&h, br#"{"text":"hi"}"#).unwrap(),
            ("hi".into(), None)
        );
        let long = format!(r#"{{"text":"{}"}}"#, "a".repeat(281));
        for bad in [
            &br#"{"text":""}"#[..],
            br#"{}"#,
            br#"{"text":"hi","colour":1}"#,
            br#"{"text":"hi","media":{"media_ids":["1"]}}"#,
            br#"{"text":"hi","reply":{"in_reply_to_tweet_id":"abc"}}"#,
            br#"{"text":"hi","reply":{"in_reply_to_tweet_id":"1","x":1}}"#,
            br#"{"text":"hi","reply":"1"}"#,
            br#"{"text":5}"#,
            long.as_bytes(),
            b"not json",
        ] {
            assert!(
                parse_post_body(&h, bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse_post_body(&HeaderMap::new(), br#"{"text":"hi"}"#).is_err());
    }
}
