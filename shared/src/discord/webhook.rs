//! `discord-interactions` (`POST /discord/interactions`): verify, then answer within Discord's
//! 3 seconds without calling Twilio or Discord. Modals are answered at once; everything slow is
//! answered with a deferred ephemeral reply and put on the Discord queue for `discord-worker`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::interactions::{self, Action, Interaction, InteractionContext};
use super::{responses, signature, DiscordInteractionsConfig};
use crate::config::{ConfigError, Env};
use crate::lambda::aws_config;
use crate::queue::{Queue, SqsQueue};
use crate::web::{http::StatusCode, ApiError, WebRequest, WebResponse};

/// The slow part of an interaction, on the Discord queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscordJob {
    pub context: InteractionContext,
    pub action: Action,
}

pub struct DiscordInteractions {
    pub config: DiscordInteractionsConfig,
    pub queue: Arc<dyn Queue>,
}

fn answer(response: &responses::InteractionResponse) -> WebResponse {
    WebResponse::json(StatusCode::OK, response)
}

impl DiscordInteractions {
    /// Everything `discord-interactions` needs, built once per cold start.
    pub async fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let config = DiscordInteractionsConfig::from_env(&mut env);
        let queue_url = env.required("DISCORD_QUEUE_URL");
        env.finish()?;
        config.validate()?;
        let aws = aws_config().await;
        Ok(Self {
            config,
            queue: Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url)),
        })
    }

    pub async fn handle(&self, request: &WebRequest) -> Result<WebResponse, ApiError> {
        request.check_size()?;
        let verified = signature::verify(
            &self.config.public_key,
            request.header(signature::SIGNATURE_HEADER),
            request.header(signature::TIMESTAMP_HEADER),
            &request.body,
        );
        if !verified {
            tracing::warn!("discord interaction refused: bad or missing signature");
            return Err(ApiError::Unauthorized);
        }
        let interaction =
            interactions::parse(&request.body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let Interaction::FromUser { context, action } = interaction else {
            return Ok(answer(&responses::pong()));
        };
        let span = tracing::info_span!("discord_interaction", event_id = %context.interaction_id);
        let _entered = span.enter();
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
            Action::ModalSubmit { custom_id, .. } => {
                tracing::info!(custom_id = %custom_id, "unknown modal submitted");
                return Ok(answer(&responses::ephemeral_message(
                    "That form is out of date. Please try again.",
                )));
            }
            _ => {}
        }
        let job = DiscordJob { context, action };
        let body = serde_json::to_string(&job).map_err(|e| ApiError::bad_request(e.to_string()))?;
        // One group per user keeps a customer's messages in order; the interaction id drops
        // Discord's (rare) duplicate deliveries.
        self.queue
            .send(&job.context.user_id, &job.context.interaction_id, &body)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "could not queue the interaction");
                ApiError::Unavailable { retry_after: None }
            })?;
        tracing::info!("interaction deferred to the worker");
        Ok(answer(&responses::deferred_ephemeral()))
    }
}
