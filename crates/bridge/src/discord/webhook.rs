//! `discord-interactions` (`POST /discord/interactions`): verify, then answer within Discord's
//! 3 seconds without calling Twilio or Discord. Modals are answered at once; everything slow is
//! answered with a deferred ephemeral reply and put on the Discord queue for `discord-worker`.

use tracing::Instrument;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::interactions::{self, Action, Interaction, InteractionContext};
use super::media::{interaction_files, Attachment};
use super::{responses, signature, DiscordInteractionsConfig};
use crate::now_epoch;
use crate::queue::{Lane, Queue};
use crate::web::{http::StatusCode, ApiError, WebRequest, WebResponse};

/// The slow part of an interaction, on the Discord queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscordJob {
    pub context: InteractionContext,
    pub action: Action,
    /// The customer's files (a command's `attachment`, a modal's File Upload), as the
    /// interaction resolved them; the worker downloads them from Discord's CDN. Absent in jobs
    /// queued before files.
    #[serde(default, skip_serializing_if = "JobFiles::is_empty")]
    pub files: JobFiles,
}

/// The files of an interaction, as the job carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFiles {
    /// The interaction's `attachment_size_limit`: the most a file may weigh there.
    pub size_limit: u64,
    pub files: Vec<Attachment>,
}

impl JobFiles {
    fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The files of a verified interaction body. A file the body names but does not resolve
    /// is left out (logged): the text still goes through.
    fn of(body: &[u8]) -> Self {
        match interaction_files(body) {
            Ok(found) => Self {
                size_limit: found.size_limit,
                files: found.files,
            },
            Err(err) => {
                tracing::warn!(error = %err, "the interaction's files are unreadable; sent without them");
                Self::default()
            }
        }
    }
}

pub struct DiscordInteractions {
    pub config: DiscordInteractionsConfig,
    pub queue: Arc<dyn Queue>,
}

fn answer(response: &responses::InteractionResponse) -> WebResponse {
    WebResponse::json(StatusCode::OK, response)
}

impl DiscordInteractions {
    pub async fn handle(&self, request: &WebRequest) -> Result<WebResponse, ApiError> {
        request.check_size()?;
        let verified = signature::verify(
            &self.config.public_key,
            request.header(signature::SIGNATURE_HEADER),
            request.header(signature::TIMESTAMP_HEADER),
            &request.body,
        );
        if !verified {
            tracing::debug!("discord interaction refused: bad or missing signature");
            return Err(ApiError::Unauthorized);
        }
        let timestamp = request.header(signature::TIMESTAMP_HEADER);
        if !signature::is_fresh(timestamp, now_epoch(), self.config.max_clock_skew_secs) {
            tracing::debug!("discord interaction refused: signed too long ago (a replay?)");
            return Err(ApiError::Unauthorized);
        }
        let interaction =
            interactions::parse(&request.body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let Interaction::FromUser { context, action } = interaction else {
            return Ok(answer(&responses::pong()));
        };
        let span = tracing::info_span!("discord_interaction", event_id = %context.interaction_id);
        let files = JobFiles::of(&request.body);
        self.answer(context, action, files).instrument(span).await
    }

    /// A verified interaction from a user: answered at once, or deferred to the worker.
    async fn answer(
        &self,
        context: InteractionContext,
        action: Action,
        files: JobFiles,
    ) -> Result<WebResponse, ApiError> {
        if let Some(modal) = responses::modal_for(&action) {
            return Ok(answer(&modal));
        }
        match &action {
            Action::Unknown { what } => {
                tracing::info!(what = %what, "interaction not understood");
                return Ok(answer(&responses::ephemeral_message(
                    "Sorry, I don't know that one. Try /helpme.",
                )));
            }
            Action::Helped => {
                tracing::info!("a bot answer helped");
                return Ok(answer(&responses::ephemeral_message(HELPED_TEXT)));
            }
            Action::ModalSubmit { custom_id, .. } => {
                tracing::info!(custom_id = %custom_id, "unknown modal submitted");
                return Ok(answer(&responses::ephemeral_message(
                    "That form is out of date. Please try again.",
                )));
            }
            _ => {}
        }
        let job = DiscordJob {
            context,
            action,
            files,
        };
        // Our own job not serialising is the bridge's failure, not the caller's: 503.
        let body = serde_json::to_string(&job).map_err(ApiError::unavailable)?;
        // One group per user keeps a customer's messages in order; the interaction id drops
        // Discord's (rare) duplicate deliveries.
        self.queue
            .send(
                &Lane::platform_user(&job.context.user_id),
                &job.context.interaction_id,
                &body,
            )
            .await?;
        tracing::info!("interaction deferred to the worker");
        Ok(answer(&responses::deferred_ephemeral()))
    }
}

/// The answer to That helped: nothing to queue, the customer is only thanked.
pub const HELPED_TEXT: &str =
    "Glad that helped! If there's anything else, use /reply or ask for an agent.";

#[cfg(test)]
mod tests {
    //! The endpoint holds no HTTP client at all (only its config and the queue), so every answer
    //! below is made without a network call but the queue's.
    use super::*;
    use crate::discord::signature::{public_key_hex, sign};
    use crate::queue::MemoryQueue;
    use std::time::Duration;

    const SEED: [u8; 32] = [7; 32];

    fn endpoint() -> (DiscordInteractions, Arc<MemoryQueue>) {
        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        // The requests below carry a fixed timestamp: no replay window here (tested apart).
        let config = DiscordInteractionsConfig {
            max_clock_skew_secs: i64::MAX,
            ..DiscordInteractionsConfig::new(public_key_hex(&SEED))
        };
        (
            DiscordInteractions {
                config,
                queue: queue.clone(),
            },
            queue,
        )
    }

    fn signed(body: &str) -> WebRequest {
        WebRequest::post(body.to_owned())
            .with_header(
                signature::SIGNATURE_HEADER,
                &sign(&SEED, "1786012345", body.as_bytes()),
            )
            .with_header(signature::TIMESTAMP_HEADER, "1786012345")
    }

    fn command(name: &str, options: serde_json::Value) -> String {
        serde_json::json!({
            "id": "1300000000000000001", "application_id": "1100000000000000001", "type": 2,
            "token": "tok", "version": 1, "guild_id": "900", "channel_id": "901", "context": 0,
            "member": {"user": {"id": "800", "username": "river"}},
            "data": {"id": "1", "name": name, "type": 1, "options": options}
        })
        .to_string()
    }

    async fn answer(endpoint: &DiscordInteractions, body: &str) -> serde_json::Value {
        let response = endpoint.handle(&signed(body)).await.expect("answered");
        assert_eq!(response.content_type, "application/json");
        serde_json::from_str(&response.body).unwrap()
    }

    #[tokio::test]
    async fn answers_at_once_and_queues_only_slow_work() {
        let (endpoint, queue) = endpoint();
        assert_eq!(
            answer(
                &endpoint,
                r#"{"id":"1","application_id":"2","type":1,"token":"t","version":1}"#
            )
            .await,
            serde_json::json!({"type": 1})
        );
        assert_eq!(
            answer(&endpoint, &command("bug", serde_json::json!([]))).await["type"],
            9
        );
        assert!(queue.is_idle(), "modals need no worker");
        let deferred = answer(
            &endpoint,
            &command(
                "helpme",
                serde_json::json!([{"name": "question", "type": 3, "value": "Where is my order?"}]),
            ),
        )
        .await;
        assert_eq!(
            deferred,
            serde_json::json!({"type": 5, "data": {"flags": 64}})
        );
        let queued = queue.receive(10).await;
        assert_eq!(queued.len(), 1);
        let job: DiscordJob = serde_json::from_str(&queued[0].body).unwrap();
        assert_eq!(
            job.action,
            Action::HelpMe {
                question: "Where is my order?".into()
            }
        );
        assert_eq!(queued[0].group.as_deref(), Some("800"));
    }

    #[tokio::test]
    async fn interactions_signed_too_long_ago_are_refused_as_replays() {
        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        let endpoint = DiscordInteractions {
            config: DiscordInteractionsConfig::new(public_key_hex(&SEED)),
            queue: queue.clone(),
        };
        let body = command(
            "helpme",
            serde_json::json!([{"name": "question", "type": 3, "value": "hi"}]),
        );
        let at = |offset: i64| {
            let timestamp = (now_epoch() + offset).to_string();
            WebRequest::post(body.clone())
                .with_header(
                    signature::SIGNATURE_HEADER,
                    &sign(&SEED, &timestamp, body.as_bytes()),
                )
                .with_header(signature::TIMESTAMP_HEADER, &timestamp)
        };
        // Well past the window: the handler reads the clock a moment after the signing, so a
        // 301 s offset could cross a second boundary and land on 300. The exact edge is checked
        // on `is_fresh` below with a fixed clock.
        for stale in [-360, 360, -86_400] {
            assert!(
                matches!(
                    endpoint.handle(&at(stale)).await,
                    Err(ApiError::Unauthorized)
                ),
                "{stale} s away"
            );
        }
        assert!(queue.is_idle(), "a replay queues nothing");
        let fresh = endpoint.handle(&at(-30)).await.unwrap();
        assert_eq!(fresh.status, StatusCode::OK);
        assert!(!queue.is_idle());
        let now = 1_786_012_400;
        assert!(signature::is_fresh(Some("1786012100"), now, 300));
        assert!(signature::is_fresh(Some("1786012700"), now, 300));
        assert!(!signature::is_fresh(Some("1786012099"), now, 300));
        assert!(!signature::is_fresh(Some("1786012701"), now, 300));
        assert!(!signature::is_fresh(Some("soon"), now_epoch(), 300));
        assert!(!signature::is_fresh(None, now_epoch(), 300));
    }

    #[tokio::test]
    async fn refuses_bad_signatures_before_reading_anything() {
        let (endpoint, queue) = endpoint();
        let body = command(
            "helpme",
            serde_json::json!([{"name": "question", "type": 3, "value": "hi"}]),
        );
        let mut request = signed(&body);
        request
            .headers
            .insert(signature::TIMESTAMP_HEADER, "1786012399".parse().unwrap());
        assert!(matches!(
            endpoint.handle(&request).await,
            Err(ApiError::Unauthorized)
        ));
        let mut request = signed(&body);
        request.body = body.replace("hi", "ho").into();
        assert!(matches!(
            endpoint.handle(&request).await,
            Err(ApiError::Unauthorized)
        ));
        assert!(matches!(
            endpoint.handle(&WebRequest::post(body)).await,
            Err(ApiError::Unauthorized)
        ));
        assert!(queue.is_idle());
        let garbage = signed("not json");
        assert!(matches!(
            endpoint.handle(&garbage).await,
            Err(ApiError::BadRequest(_))
        ));
    }
}
