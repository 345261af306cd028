//! The composition root: how every handler is built from the configuration and the platform's
//! [`Resources`] (the HTTP client, the table, the queues). Each Lambda's `main` calls the one
//! builder it runs; `make run` builds them all at once ([`Handlers::from_env`]). Variables are
//! read through the schema's readers ([`crate::config::schema`]), so a builder only says which
//! it needs; every missing or invalid one is reported together.

use kb::Index;

use crate::bot::Chatbot;
use crate::config::schema::{self as vars, Platforms};
use crate::config::{ConfigError, Env, PublicUrl};
use crate::conversations::{ConversationSettings, Conversations};
use crate::delivery::Delivery;
use crate::discord::webhook::DiscordInteractions;
use crate::discord::worker::DiscordWorker;
use crate::discord::{
    DiscordApiConfig, DiscordAppConfig, DiscordClient, DiscordInteractionsConfig,
};
use crate::flex::FlexWebhooks;
use crate::resources::Resources;
use crate::retry::RetryPolicy;
use crate::routing::Routing;
use crate::twilio::media::{MediaClient, MediaConfig};
use crate::twilio::{TwilioClient, TwilioConfig};
use crate::x::media::XMediaClient;
use crate::x::mentions::{Invitations, MentionMode};
use crate::x::webhook::{CrcConfig, XInbound};
use crate::x::worker::XWorker;
use crate::x::{XApiConfig, XClient, XWebhookConfig};

/// Reads what `build` needs from `env` and builds it; every problem is reported at once.
fn finish<T>(mut env: Env, build: impl FnOnce(&mut Env) -> T) -> Result<T, ConfigError> {
    let built = build(&mut env);
    env.finish()?;
    Ok(built)
}

impl CrcConfig {
    /// `twitter-crc`: the consumer secret, nothing else.
    pub fn from_env(env: Env) -> Result<Self, ConfigError> {
        finish(env, Self::read)
    }

    fn read(env: &mut Env) -> Self {
        Self {
            consumer_secret: env.secret(&vars::X_CONSUMER_SECRET),
        }
    }
}

impl XInbound {
    /// `twitter-inbound`: verifies, and queues on the X intake queue. No table, no Twilio.
    pub fn from_env(env: Env, resources: &dyn Resources) -> Result<Self, ConfigError> {
        finish(env, |env| Self::read(env, resources))
    }

    fn read(env: &mut Env, resources: &dyn Resources) -> Self {
        Self {
            config: XWebhookConfig::from_env(env),
            intake: resources.queue(env.required(&vars::X_INTAKE_QUEUE_URL)),
            mentions: MentionMode::from_env(env),
        }
    }
}

impl XWorker {
    /// `x-worker`: customer DMs into Flex.
    pub fn from_env(env: Env, resources: &dyn Resources) -> Result<Self, ConfigError> {
        finish(env, |env| Self::read(env, resources))
    }

    fn read(env: &mut Env, resources: &dyn Resources) -> Self {
        let conversations = conversations(env, resources);
        // Carrying files, the worker reads them with the brand's credentials (from the secret).
        let x_media = conversations
            .media
            .is_some()
            .then(|| XMediaClient::new(resources.http().clone(), XApiConfig::from_env(env)));
        Self {
            conversations,
            queue: resources.queue(env.required(&vars::DELIVERY_QUEUE_URL)),
            mentions: Invitations::from_env(env, resources.http()),
            x_media,
        }
    }
}

impl FlexWebhooks {
    /// `flex-outbound` and `channel-updated`.
    pub fn from_env(env: Env, resources: &dyn Resources) -> Result<Self, ConfigError> {
        finish(env, |env| Self::read(env, resources))
    }

    fn read(env: &mut Env, resources: &dyn Resources) -> Self {
        Self {
            auth_token: env.secret(&vars::TWILIO_AUTH_TOKEN),
            public_url: PublicUrl::from_env(env),
            store: resources.store(env.required(&vars::TABLE_NAME)),
            queue: resources.queue(env.required(&vars::DELIVERY_QUEUE_URL)),
        }
    }
}

impl Chatbot {
    /// `chatbot`: the virtual agent, on the knowledge base compiled in.
    pub fn from_env(env: Env, resources: &dyn Resources) -> Result<Self, ConfigError> {
        finish(env, |env| Self::read(env, resources))
    }

    fn read(env: &mut Env, resources: &dyn Resources) -> Self {
        Self {
            auth_token: env.secret(&vars::TWILIO_AUTH_TOKEN),
            public_url: PublicUrl::from_env(env),
            store: resources.store(env.required(&vars::TABLE_NAME)),
            queue: resources.queue(env.required(&vars::DELIVERY_QUEUE_URL)),
            routing: Routing::from_env(env),
            bot_name: env.or_default(&vars::BOT_NAME),
            index: Index::builtin(),
        }
    }
}

impl Delivery {
    /// `outbound-delivery`. A deployment may serve X, Discord or both: a platform is
    /// configured when its first credential is set, and then all of its variables are required.
    pub fn from_env(env: Env, resources: &dyn Resources) -> Result<Self, ConfigError> {
        finish(env, |env| {
            let platforms = Platforms {
                x: env.is_set(&vars::X_CONSUMER_KEY),
                discord: env.is_set(&vars::DISCORD_BOT_TOKEN),
            };
            Self::read(env, resources, platforms)
        })
    }

    fn read(env: &mut Env, resources: &dyn Resources, platforms: Platforms) -> Self {
        let http = resources.http();
        let twilio = TwilioConfig::from_env(env);
        let x = platforms.x.then(|| XApiConfig::from_env(env));
        Self {
            store: resources.store(env.required(&vars::TABLE_NAME)),
            media: media_client(env, resources, &twilio),
            twilio: TwilioClient::new(http.clone(), twilio),
            x_media: x.clone().map(|x| XMediaClient::new(http.clone(), x)),
            x: x.map(|x| XClient::new(http.clone(), x)),
            discord: platforms
                .discord
                .then(|| DiscordClient::new(http.clone(), DiscordApiConfig::from_env(env))),
            max_receives: env.number(&vars::DELIVERY_MAX_RECEIVES),
            transcripts: transcripts(env, resources),
            send_transcripts: env
                .or_default(&vars::TRANSCRIPTS)
                .eq_ignore_ascii_case("send"),
        }
    }
}

/// The transcripts bucket, when `TRANSCRIPTS_BUCKET` names one; a build that cannot reach S3
/// (without the `s3` feature) is a configuration problem, not a silent skip.
fn transcripts(
    env: &mut Env,
    resources: &dyn Resources,
) -> Option<std::sync::Arc<dyn crate::transcripts::TranscriptStore>> {
    let bucket = env.optional(&vars::TRANSCRIPTS_BUCKET)?;
    let store = resources.transcripts(bucket);
    if store.is_none() {
        env.invalid(
            vars::TRANSCRIPTS_BUCKET.name,
            "is set, but this function is built without S3 (the s3 feature)",
        );
    }
    store
}

impl DiscordInteractions {
    /// `discord-interactions`: verifies, and queues on the Discord queue.
    pub fn from_env(env: Env, resources: &dyn Resources) -> Result<Self, ConfigError> {
        finish(env, |env| Self::read(env, resources))
    }

    fn read(env: &mut Env, resources: &dyn Resources) -> Self {
        Self {
            config: DiscordInteractionsConfig::from_env(env),
            queue: resources.queue(env.required(&vars::DISCORD_QUEUE_URL)),
        }
    }
}

impl DiscordWorker {
    /// `discord-worker`: interactions into Flex, cases into their channels.
    pub fn from_env(env: Env, resources: &dyn Resources) -> Result<Self, ConfigError> {
        finish(env, |env| Self::read(env, resources))
    }

    fn read(env: &mut Env, resources: &dyn Resources) -> Self {
        Self {
            discord: DiscordClient::new(resources.http().clone(), DiscordApiConfig::from_env(env)),
            app: DiscordAppConfig::from_env(env),
            conversations: conversations(env, resources),
        }
    }
}

/// Opening and posting to conversations, as the two workers share it.
fn conversations(env: &mut Env, resources: &dyn Resources) -> Conversations {
    let twilio = TwilioConfig::from_env(env);
    Conversations {
        media: media_client(env, resources, &twilio),
        twilio: TwilioClient::new(resources.http().clone(), twilio),
        settings: ConversationSettings::from_env(env),
        store: resources.store(env.required(&vars::TABLE_NAME)),
    }
}

/// MCS, when the deployment names its Chat Service (`TWILIO_CHAT_SERVICE_SID`).
fn media_client(
    env: &mut Env,
    resources: &dyn Resources,
    twilio: &TwilioConfig,
) -> Option<MediaClient> {
    let media_url = env.or_default(&vars::TWILIO_MEDIA_URL);
    let chat_service_sid = env.optional(&vars::TWILIO_CHAT_SERVICE_SID)?;
    Some(MediaClient::new(
        resources.http().clone(),
        twilio.clone(),
        MediaConfig::at(&media_url, chat_service_sid),
    ))
}

/// Every function's handler, as `make run` serves them in one process. A platform the
/// deployment does not serve has no handlers; its routes answer 401.
pub struct Handlers {
    pub x: Option<XHandlers>,
    pub flex: FlexWebhooks,
    pub chatbot: Chatbot,
    pub delivery: Delivery,
    pub discord: Option<DiscordHandlers>,
}

pub struct XHandlers {
    pub crc: CrcConfig,
    pub inbound: XInbound,
    pub worker: XWorker,
}

pub struct DiscordHandlers {
    pub interactions: DiscordInteractions,
    pub worker: DiscordWorker,
}

impl Handlers {
    /// Every handler from one environment, as the template gives each function its part of
    /// it: the deployment is checked whole ([`vars::check_deployment`]) and every problem is
    /// reported at once.
    pub fn from_env(env: Env, resources: &dyn Resources) -> Result<Self, ConfigError> {
        finish(env, |env| {
            let platforms = vars::check_deployment(env);
            Self {
                x: platforms.x.then(|| XHandlers {
                    crc: CrcConfig::read(env),
                    inbound: XInbound::read(env, resources),
                    worker: XWorker::read(env, resources),
                }),
                flex: FlexWebhooks::read(env, resources),
                chatbot: Chatbot::read(env, resources),
                delivery: Delivery::read(env, resources, platforms),
                discord: platforms.discord.then(|| DiscordHandlers {
                    interactions: DiscordInteractions::read(env, resources),
                    worker: DiscordWorker::read(env, resources),
                }),
            }
        })
    }

    /// Every API client retries with `retry` (shorter back-offs keep tests quick).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        let twilio = |client: &mut TwilioClient| *client = client.clone().with_retry(retry);
        let discord = |client: &mut DiscordClient| *client = client.clone().with_retry(retry);
        twilio(&mut self.delivery.twilio);
        if let Some(client) = &mut self.delivery.x {
            *client = client.clone().with_retry(retry);
        }
        if let Some(client) = &mut self.delivery.x_media {
            *client = client.clone().with_retry(retry);
        }
        if let Some(client) = &mut self.delivery.media {
            *client = client.clone().with_retry(retry);
        }
        if let Some(client) = &mut self.delivery.discord {
            discord(client);
        }
        let media = |conversations: &mut Conversations| {
            if let Some(client) = &mut conversations.media {
                *client = client.clone().with_retry(retry);
            }
        };
        if let Some(x) = &mut self.x {
            twilio(&mut x.worker.conversations.twilio);
            media(&mut x.worker.conversations);
            if let Some(client) = &mut x.worker.x_media {
                *client = client.clone().with_retry(retry);
            }
            if let Some(invitations) = &mut x.worker.mentions {
                invitations.x = invitations.x.clone().with_retry(retry);
            }
        }
        if let Some(d) = &mut self.discord {
            twilio(&mut d.worker.conversations.twilio);
            media(&mut d.worker.conversations);
            discord(&mut d.worker.discord);
        }
        self
    }

    /// The Discord clients hold back after `limit` invalid answers in `window` (tests).
    pub fn with_discord_invalid_request_limit(
        mut self,
        limit: usize,
        window: std::time::Duration,
    ) -> Self {
        let limited =
            |client: &DiscordClient| client.clone().with_invalid_request_limit(limit, window);
        // Each function has its own client, and so its own count, as each Lambda does.
        if let Some(client) = &mut self.delivery.discord {
            *client = limited(client);
        }
        if let Some(d) = &mut self.discord {
            d.worker.discord = limited(&d.worker.discord);
        }
        self
    }
}
