//! The paths the bridge serves, as API Gateway routes them, declared once: the functions' webhook
//! URLs are `PUBLIC_BASE_URL` + these, and Twilio signs exactly that URL.

pub const TWITTER_WEBHOOK_PATH: &str = "/twitter/webhook";
pub const FLEX_OUTBOUND_PATH: &str = "/twilio/flex-outbound";
pub const CHANNEL_UPDATED_PATH: &str = "/twilio/channel-updated";
pub const CHATBOT_PATH: &str = "/twilio/chatbot";
pub const DISCORD_INTERACTIONS_PATH: &str = "/discord/interactions";

/// Every route: a `PUBLIC_BASE_URL` ending in one of them is a webhook URL, not the base.
pub const ALL: [&str; 5] = [
    TWITTER_WEBHOOK_PATH,
    FLEX_OUTBOUND_PATH,
    CHANNEL_UPDATED_PATH,
    CHATBOT_PATH,
    DISCORD_INTERACTIONS_PATH,
];
