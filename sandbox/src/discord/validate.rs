//! The request bodies Discord accepts, checked the way the official OpenAPI spec describes them
//! (`/work/shared/specs/discord/openapi.json`, discord-api-spec @ 74fda0fa, API v10), with the
//! stricter limits the docs give where they differ. Every fact used is copied into a constant
//! below, with where it comes from; nothing reads the spec at build or test time.
//!
//! One deliberate difference: real Discord ignores fields it does not know, the sandbox refuses
//! them (as `UNKNOWN_FIELD` in an `Invalid Form Body`), so a typo in the bridge cannot pass
//! silently.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

/// `MessageCreateRequest` properties (openapi.json, `POST /channels/{channel_id}/messages`).
pub const MESSAGE_CREATE_FIELDS: &[&str] = &[
    "content",
    "embeds",
    "allowed_mentions",
    "sticker_ids",
    "components",
    "flags",
    "attachments",
    "poll",
    "shared_client_theme",
    "message_reference",
    "nonce",
    "enforce_nonce",
    "tts",
];

/// `IncomingWebhookUpdateRequestPartial` properties (openapi.json,
/// `PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original`).
pub const WEBHOOK_EDIT_FIELDS: &[&str] = &[
    "content",
    "embeds",
    "allowed_mentions",
    "components",
    "attachments",
    "poll",
    "flags",
];

/// `ApplicationCommandUpdateRequest` properties (openapi.json,
/// `PUT /applications/{application_id}/commands`).
pub const COMMAND_FIELDS: &[&str] = &[
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "options",
    "default_member_permissions",
    "dm_permission",
    "contexts",
    "integration_types",
    "handler",
    "type",
    "id",
    "nsfw",
];

/// Properties of an application command option (the union of the `ApplicationCommand*Option`
/// schemas in openapi.json).
pub const OPTION_FIELDS: &[&str] = &[
    "type",
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "required",
    "choices",
    "options",
    "channel_types",
    "min_value",
    "max_value",
    "min_length",
    "max_length",
    "autocomplete",
];

/// `RichEmbed` properties (openapi.json).
pub const EMBED_FIELDS: &[&str] = &[
    "type",
    "url",
    "title",
    "color",
    "timestamp",
    "description",
    "author",
    "image",
    "thumbnail",
    "footer",
    "fields",
    "provider",
    "video",
];

/// `ButtonComponentForMessageRequest` properties (openapi.json).
pub const BUTTON_FIELDS: &[&str] = &[
    "type",
    "id",
    "custom_id",
    "style",
    "label",
    "disabled",
    "url",
    "sku_id",
    "emoji",
];

/// `MessageAllowedMentionsRequest` properties and `AllowedMentionTypes` (openapi.json).
pub const ALLOWED_MENTIONS_FIELDS: &[&str] = &["parse", "users", "roles", "replied_user"];
pub const MENTION_TYPES: &[&str] = &["users", "roles", "everyone"];

/// A bot's message `content`: 2000 characters (docs, "Create Message"; the spec's 4000 is for
/// Nitro users). `IncomingWebhookUpdateRequestPartial.content` is 2000 in the spec too.
pub const MAX_CONTENT: usize = 2000;
/// `MessageCreateRequest.embeds` maxItems 10; `nonce` string maxLength 25;
/// `sticker_ids` maxItems 3; `attachments` maxItems 10 (openapi.json).
pub const MAX_EMBEDS: usize = 10;
pub const MAX_NONCE: usize = 25;
pub const MAX_STICKERS: usize = 3;
pub const MAX_ATTACHMENTS: usize = 10;
/// `RichEmbed`: title 256, description 4096, url 2048, color ≤ 0xFFFFFF, fields maxItems 25;
/// `RichEmbedField`: name 256, value 1024 (openapi.json); all embeds together at most 6000
/// characters, footer text 2048, author name 256 (docs, "Embed Limits").
pub const MAX_EMBED_TITLE: usize = 256;
pub const MAX_EMBED_DESCRIPTION: usize = 4096;
pub const MAX_EMBED_URL: usize = 2048;
pub const MAX_EMBED_COLOR: u64 = 0xFF_FFFF;
pub const MAX_EMBED_FIELDS: usize = 25;
pub const MAX_FIELD_NAME: usize = 256;
pub const MAX_FIELD_VALUE: usize = 1024;
pub const MAX_EMBED_TOTAL: usize = 6000;
pub const MAX_FOOTER_TEXT: usize = 2048;
pub const MAX_AUTHOR_NAME: usize = 256;
/// Components: a legacy message holds at most 5 action rows (docs, "Action Row"); a row holds
/// 1 to 5 children (`ActionRowComponentForMessageRequest.components`); a message at most 40
/// components in all (`MessageCreateRequest.components` maxItems 40, docs "Component
/// Reference"). `ButtonComponentForMessageRequest`: custom_id 1..100, label 80, url 512
/// (openapi.json).
pub const MAX_ROWS: usize = 5;
pub const MAX_ROW_CHILDREN: usize = 5;
pub const MAX_COMPONENTS_TOTAL: usize = 40;
pub const MAX_CUSTOM_ID: usize = 100;
pub const MAX_BUTTON_LABEL: usize = 80;
pub const MAX_BUTTON_URL: usize = 512;
/// `MessageComponentTypes`: action row 1, button 2, selects 3/5/6/7/8, section 9, text display
/// 10, thumbnail 11, media gallery 12, file 13, separator 14, container 17 (openapi.json).
pub const ACTION_ROW: u64 = 1;
pub const BUTTON: u64 = 2;
pub const SELECTS: &[u64] = &[3, 5, 6, 7, 8];
pub const TEXT_DISPLAY: u64 = 10;
/// Top-level components a Components V2 message may have (docs, "Component Reference").
pub const V2_TOP_LEVEL: &[u64] = &[1, 9, 10, 12, 13, 14, 17];
/// A text display's content: 4000 characters (docs, "Text Display").
pub const MAX_TEXT_DISPLAY: usize = 4000;
/// `ButtonStyleTypes` 1..=6: primary, secondary, success, danger, link (5), premium (6).
pub const LINK_STYLE: u64 = 5;
pub const PREMIUM_STYLE: u64 = 6;
/// `MessageFlags` (docs, "Message Object"): the only ones a Create Message may set are
/// SUPPRESS_EMBEDS (1<<2), SUPPRESS_NOTIFICATIONS (1<<12), IS_VOICE_MESSAGE (1<<13) and
/// IS_COMPONENTS_V2 (1<<15); an edit may set SUPPRESS_EMBEDS and IS_COMPONENTS_V2.
pub const SUPPRESS_EMBEDS: u64 = 1 << 2;
pub const SUPPRESS_NOTIFICATIONS: u64 = 1 << 12;
pub const IS_VOICE_MESSAGE: u64 = 1 << 13;
pub const IS_COMPONENTS_V2: u64 = 1 << 15;
pub const CREATE_FLAGS: u64 =
    SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_VOICE_MESSAGE | IS_COMPONENTS_V2;
pub const EDIT_FLAGS: u64 = SUPPRESS_EMBEDS | IS_COMPONENTS_V2;
/// Commands: a bulk overwrite holds at most 130 (`maxItems`, openapi.json) and at most 100
/// slash commands (docs, "Registering a Command"); names 1..32, descriptions 1..100 (required
/// for slash commands), at most 25 options and 25 choices; string `max_length` 1..6000 and
/// `min_length` 0..6000; option types 1..=11; `InteractionContextType` 0..=2;
/// `ApplicationIntegrationType` 0..=1; `ApplicationCommandType` 1..=4 (openapi.json, docs).
pub const MAX_COMMANDS: usize = 130;
pub const MAX_SLASH_COMMANDS: usize = 100;
pub const MAX_COMMAND_NAME: usize = 32;
pub const MAX_COMMAND_DESCRIPTION: usize = 100;
pub const MAX_OPTIONS: usize = 25;
pub const MAX_CHOICES: usize = 25;
pub const MAX_STRING_OPTION_LENGTH: u64 = 6000;
pub const CHAT_INPUT: u64 = 1;
pub const STRING_OPTION: u64 = 3;

/// A refused body, as Discord words it.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// 400 `{"code": 50109, "message": "The request body contains invalid JSON."}`.
    BadJson,
    /// 400 `{"code": 50006, "message": "Cannot send an empty message"}`.
    Empty,
    /// 400 `{"code": 50035, "message": "Invalid Form Body", "errors": {...}}`.
    Form(FieldError),
}

/// One field's error: `path` is dotted (`embeds.0.title`), as Discord nests its `errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub path: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    /// `{"embeds": {"0": {"title": {"_errors": [{"code", "message"}]}}}}`; an error on the
    /// whole body sits at the top (`{"_errors": [...]}`).
    pub fn errors(&self) -> Value {
        let mut errors = json!({"_errors": [{"code": self.code, "message": self.message}]});
        for segment in self.path.rsplit('.').filter(|s| !s.is_empty()) {
            errors = json!({ segment: errors });
        }
        errors
    }
}

impl From<FieldError> for Refusal {
    fn from(error: FieldError) -> Self {
        Refusal::Form(error)
    }
}

type Check<T = ()> = Result<T, FieldError>;

fn fail<T>(path: &str, code: &'static str, message: impl Into<String>) -> Check<T> {
    Err(FieldError {
        path: path.to_owned(),
        code,
        message: message.into(),
    })
}

fn join(path: &str, key: impl std::fmt::Display) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn object<'a>(value: &'a Value, path: &str) -> Check<&'a Map<String, Value>> {
    match value.as_object() {
        Some(object) => Ok(object),
        None => fail(
            path,
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        ),
    }
}

fn only_keys(object: &Map<String, Value>, allowed: &[&str], path: &str) -> Check {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => fail(
            &join(path, key),
            "UNKNOWN_FIELD",
            format!("Unknown field (not one of {})", allowed.join(", ")),
        ),
        None => Ok(()),
    }
}

/// A present, non-null member.
fn member<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

fn string<'a>(value: &'a Value, path: &str, min: usize, max: usize) -> Check<&'a str> {
    let Some(text) = value.as_str() else {
        return fail(
            path,
            "STRING_TYPE_CONVERT",
            format!("Could not interpret \"{value}\" as string."),
        );
    };
    let length = text.chars().count();
    if length < min || length > max {
        let message = if min == 0 {
            format!("Must be {max} or fewer in length.")
        } else {
            format!("Must be between {min} and {max} in length.")
        };
        let code = if min == 0 {
            "BASE_TYPE_MAX_LENGTH"
        } else {
            "BASE_TYPE_BAD_LENGTH"
        };
        return fail(path, code, message);
    }
    Ok(text)
}

fn opt_string<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Check<Option<&'a str>> {
    member(object, key)
        .map(|v| string(v, &join(path, key), 0, max))
        .transpose()
}

fn required_string<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
    min: usize,
    max: usize,
) -> Check<&'a str> {
    match member(object, key) {
        Some(v) => string(v, &join(path, key), min, max),
        None => fail(
            &join(path, key),
            "BASE_TYPE_REQUIRED",
            "This field is required",
        ),
    }
}

fn array<'a>(value: &'a Value, path: &str, min: usize, max: usize) -> Check<&'a Vec<Value>> {
    let Some(items) = value.as_array() else {
        return fail(
            path,
            "LIST_TYPE_CONVERT",
            "Only iterables may be used in a ListType",
        );
    };
    if items.len() < min || items.len() > max {
        let message = if min == 0 {
            format!("Must be {max} or fewer in length.")
        } else {
            format!("Must be between {min} and {max} in length.")
        };
        return fail(path, "BASE_TYPE_BAD_LENGTH", message);
    }
    Ok(items)
}

fn opt_array<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Check<&'a [Value]> {
    match member(object, key) {
        Some(v) => array(v, &join(path, key), 0, max).map(Vec::as_slice),
        None => Ok(&[]),
    }
}

fn opt_bool(object: &Map<String, Value>, key: &str, path: &str) -> Check<Option<bool>> {
    match member(object, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => fail(
            &join(path, key),
            "BOOLEAN_TYPE_CONVERT",
            "Must be either true or false.",
        ),
    }
}

fn opt_uint(object: &Map<String, Value>, key: &str, path: &str, max: u64) -> Check<Option<u64>> {
    match member(object, key) {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n <= max => Ok(Some(n)),
            Some(_) => fail(
                &join(path, key),
                "NUMBER_TYPE_MAX",
                format!("int value should be less than or equal to {max}."),
            ),
            None => fail(
                &join(path, key),
                "NUMBER_TYPE_COERCE",
                format!("Value \"{v}\" is not int."),
            ),
        },
    }
}

/// `SnowflakeType`: a string matching `^(0|[1-9][0-9]*)$` (openapi.json).
pub fn is_snowflake(id: &str) -> bool {
    id == "0"
        || (!id.is_empty()
            && id.len() <= 20
            && !id.starts_with('0')
            && id.bytes().all(|c| c.is_ascii_digit()))
}

fn snowflake_list(object: &Map<String, Value>, key: &str, path: &str, max: usize) -> Check {
    for (i, item) in opt_array(object, key, path, max)?.iter().enumerate() {
        if !item.as_str().is_some_and(is_snowflake) {
            return fail(
                &join(&join(path, key), i),
                "NUMBER_TYPE_COERCE",
                format!("Value \"{item}\" is not snowflake."),
            );
        }
    }
    Ok(())
}

/// A message as the sandbox keeps it, from a Create Message body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewMessage {
    pub content: String,
    /// Arrays as sent (`[]` when absent).
    pub embeds: Value,
    pub components: Value,
    /// As sent, `null` when absent.
    pub allowed_mentions: Value,
    /// A string nonce, or an integer one as its decimal string.
    pub nonce: Option<String>,
    pub enforce_nonce: bool,
    pub flags: u64,
    pub tts: bool,
}

/// Checks a `POST /channels/{channel_id}/messages` JSON body.
pub fn message_create(raw: &[u8]) -> Result<NewMessage, Refusal> {
    let value: Value = serde_json::from_slice(raw).map_err(|_| Refusal::BadJson)?;
    let body = object(&value, "")?;
    only_keys(body, MESSAGE_CREATE_FIELDS, "")?;
    let flags = opt_uint(body, "flags", "", u64::from(u32::MAX))?.unwrap_or(0);
    if flags & !CREATE_FLAGS != 0 {
        return Err(flags_error(CREATE_FLAGS).into());
    }
    let v2 = flags & IS_COMPONENTS_V2 != 0;
    let content = opt_string(body, "content", "", MAX_CONTENT)?.unwrap_or_default();
    let embeds = opt_array(body, "embeds", "", MAX_EMBEDS)?;
    check_embeds(embeds)?;
    let components = opt_array(body, "components", "", MAX_COMPONENTS_TOTAL)?;
    check_components(components, v2)?;
    if v2 && !content.is_empty() {
        return Err(legacy_with_v2("content").into());
    }
    if v2 && !embeds.is_empty() {
        return Err(legacy_with_v2("embeds").into());
    }
    if let Some(mentions) = member(body, "allowed_mentions") {
        check_allowed_mentions(mentions)?;
    }
    snowflake_list(body, "sticker_ids", "", MAX_STICKERS)?;
    let attachments = opt_array(body, "attachments", "", MAX_ATTACHMENTS)?;
    for (i, attachment) in attachments.iter().enumerate() {
        object(attachment, &join("attachments", i))?;
    }
    for key in ["poll", "message_reference", "shared_client_theme"] {
        if let Some(v) = member(body, key) {
            object(v, key)?;
        }
    }
    let nonce = match member(body, "nonce") {
        None => None,
        Some(Value::Number(n)) if n.is_i64() => Some(n.to_string()),
        Some(v) => Some(string(v, "nonce", 0, MAX_NONCE)?.to_owned()),
    };
    let enforce_nonce = opt_bool(body, "enforce_nonce", "")?.unwrap_or(false);
    let tts = opt_bool(body, "tts", "")?.unwrap_or(false);
    let has_stickers = member(body, "sticker_ids")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    if content.is_empty()
        && embeds.is_empty()
        && components.is_empty()
        && attachments.is_empty()
        && !has_stickers
        && member(body, "poll").is_none()
    {
        return Err(Refusal::Empty);
    }
    Ok(NewMessage {
        content: content.to_owned(),
        embeds: Value::Array(embeds.to_vec()),
        components: Value::Array(components.to_vec()),
        allowed_mentions: member(body, "allowed_mentions")
            .cloned()
            .unwrap_or(Value::Null),
        nonce,
        enforce_nonce,
        flags,
        tts,
    })
}

/// `CreatePrivateChannelRequest` properties (openapi.json, `POST /users/@me/channels`).
pub const CREATE_DM_FIELDS: &[&str] = &["recipient_id", "access_tokens", "nicks"];

/// Checks a `POST /users/@me/channels` body; returns the recipient's id. A bot opens a DM
/// with one user, so `recipient_id` is required here (the spec allows null for group DMs,
/// which bots cannot create).
pub fn create_dm(raw: &[u8]) -> Result<String, Refusal> {
    let value: Value = serde_json::from_slice(raw).map_err(|_| Refusal::BadJson)?;
    let body = object(&value, "")?;
    only_keys(body, CREATE_DM_FIELDS, "")?;
    match member(body, "recipient_id") {
        Some(Value::String(id)) if is_snowflake(id) => Ok(id.clone()),
        Some(other) => Err(FieldError {
            path: "recipient_id".into(),
            code: "NUMBER_TYPE_COERCE",
            message: format!("Value \"{other}\" is not snowflake."),
        }
        .into()),
        None => Err(FieldError {
            path: "recipient_id".into(),
            code: "BASE_TYPE_REQUIRED",
            message: "This field is required".into(),
        }
        .into()),
    }
}

/// A partial edit of a message: only what the body sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageEdit {
    pub content: Option<String>,
    pub embeds: Option<Value>,
    pub components: Option<Value>,
    pub allowed_mentions: Option<Value>,
    pub flags: Option<u64>,
}

/// Checks a `PATCH /webhooks/{application_id}/{token}/messages/@original` JSON body.
pub fn webhook_edit(raw: &[u8]) -> Result<MessageEdit, Refusal> {
    let value: Value = serde_json::from_slice(raw).map_err(|_| Refusal::BadJson)?;
    let body = object(&value, "")?;
    only_keys(body, WEBHOOK_EDIT_FIELDS, "")?;
    let flags = opt_uint(body, "flags", "", u64::from(u32::MAX))?;
    if flags.is_some_and(|f| f & !EDIT_FLAGS != 0) {
        return Err(flags_error(EDIT_FLAGS).into());
    }
    let v2 = flags.is_some_and(|f| f & IS_COMPONENTS_V2 != 0);
    // `null` clears a field, as an empty value does.
    let content = body
        .get("content")
        .map(|v| match v {
            Value::Null => Ok(String::new()),
            v => string(v, "content", 0, MAX_CONTENT).map(str::to_owned),
        })
        .transpose()?;
    let embeds = match body.get("embeds") {
        None => None,
        Some(_) => {
            let embeds = opt_array(body, "embeds", "", MAX_EMBEDS)?;
            check_embeds(embeds)?;
            Some(Value::Array(embeds.to_vec()))
        }
    };
    let components = match body.get("components") {
        None => None,
        Some(_) => {
            let components = opt_array(body, "components", "", MAX_COMPONENTS_TOTAL)?;
            check_components(components, v2)?;
            Some(Value::Array(components.to_vec()))
        }
    };
    if v2 && content.as_deref().is_some_and(|c| !c.is_empty()) {
        return Err(legacy_with_v2("content").into());
    }
    if let Some(mentions) = member(body, "allowed_mentions") {
        check_allowed_mentions(mentions)?;
    }
    opt_array(body, "attachments", "", MAX_ATTACHMENTS)?;
    if let Some(poll) = member(body, "poll") {
        object(poll, "poll")?;
    }
    Ok(MessageEdit {
        content,
        embeds,
        components,
        allowed_mentions: body.get("allowed_mentions").cloned(),
        flags,
    })
}

fn flags_error(allowed: u64) -> FieldError {
    FieldError {
        path: "flags".into(),
        code: "MESSAGE_INVALID_FLAGS",
        message: format!("Only flags in {allowed:#x} may be set on this message."),
    }
}

fn legacy_with_v2(field: &str) -> FieldError {
    FieldError {
        path: field.into(),
        code: "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
        message: "The 'content' and 'embeds' fields cannot be used when using \
                  MessageFlags.IS_COMPONENTS_V2"
            .into(),
    }
}

fn check_allowed_mentions(value: &Value) -> Check {
    let path = "allowed_mentions";
    let mentions = object(value, path)?;
    only_keys(mentions, ALLOWED_MENTIONS_FIELDS, path)?;
    let mut seen = HashSet::new();
    for (i, kind) in opt_array(mentions, "parse", path, MENTION_TYPES.len())?
        .iter()
        .enumerate()
    {
        let item_path = join(&join(path, "parse"), i);
        match kind.as_str() {
            Some(k) if MENTION_TYPES.contains(&k) && seen.insert(k) => {}
            Some(k) if MENTION_TYPES.contains(&k) => {
                return fail(
                    &item_path,
                    "SET_TYPE_ALREADY_CONTAINS_VALUE",
                    "Duplicate value",
                )
            }
            _ => {
                return fail(
                    &item_path,
                    "BASE_TYPE_CHOICES",
                    format!("Value must be one of {MENTION_TYPES:?}."),
                )
            }
        }
    }
    snowflake_list(mentions, "users", path, 100)?;
    snowflake_list(mentions, "roles", path, 100)?;
    opt_bool(mentions, "replied_user", path)?;
    Ok(())
}

fn check_embeds(embeds: &[Value]) -> Check {
    let mut total = 0;
    for (i, embed) in embeds.iter().enumerate() {
        let path = join("embeds", i);
        let embed = object(embed, &path)?;
        only_keys(embed, EMBED_FIELDS, &path)?;
        let count = |s: Option<&str>| s.map_or(0, |s| s.chars().count());
        total += count(opt_string(embed, "title", &path, MAX_EMBED_TITLE)?);
        total += count(opt_string(
            embed,
            "description",
            &path,
            MAX_EMBED_DESCRIPTION,
        )?);
        opt_string(embed, "url", &path, MAX_EMBED_URL)?;
        opt_string(embed, "type", &path, 64)?;
        opt_uint(embed, "color", &path, MAX_EMBED_COLOR)?;
        if let Some(timestamp) = opt_string(embed, "timestamp", &path, 64)? {
            if !crate::time::is_datetime(timestamp) {
                return fail(
                    &join(&path, "timestamp"),
                    "DATE_TIME_TYPE_PARSE",
                    format!("Could not parse {timestamp}. Should be ISO8601."),
                );
            }
        }
        if let Some(footer) = member(embed, "footer") {
            let footer_path = join(&path, "footer");
            let footer = object(footer, &footer_path)?;
            total += required_string(footer, "text", &footer_path, 1, MAX_FOOTER_TEXT)?
                .chars()
                .count();
        }
        if let Some(author) = member(embed, "author") {
            let author_path = join(&path, "author");
            let author = object(author, &author_path)?;
            total += required_string(author, "name", &author_path, 1, MAX_AUTHOR_NAME)?
                .chars()
                .count();
        }
        for key in ["image", "thumbnail", "provider", "video"] {
            if let Some(v) = member(embed, key) {
                object(v, &join(&path, key))?;
            }
        }
        for (j, field) in opt_array(embed, "fields", &path, MAX_EMBED_FIELDS)?
            .iter()
            .enumerate()
        {
            let field_path = join(&join(&path, "fields"), j);
            let field = object(field, &field_path)?;
            only_keys(field, &["name", "value", "inline"], &field_path)?;
            total += required_string(field, "name", &field_path, 1, MAX_FIELD_NAME)?
                .chars()
                .count();
            total += required_string(field, "value", &field_path, 1, MAX_FIELD_VALUE)?
                .chars()
                .count();
            opt_bool(field, "inline", &field_path)?;
        }
    }
    if total > MAX_EMBED_TOTAL {
        return fail(
            "embeds",
            "MAX_EMBED_SIZE_EXCEEDED",
            format!("Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"),
        );
    }
    Ok(())
}

fn kind_of(component: &Map<String, Value>, path: &str) -> Check<u64> {
    match member(component, "type").and_then(Value::as_u64) {
        Some(kind) => Ok(kind),
        None => fail(
            &join(path, "type"),
            "BASE_TYPE_REQUIRED",
            "This field is required",
        ),
    }
}

/// A message's components: legacy action rows of buttons and selects, or (with
/// IS_COMPONENTS_V2) the newer layout components, checked more loosely.
fn check_components(components: &[Value], v2: bool) -> Check {
    if !v2 && components.len() > MAX_ROWS {
        return fail(
            "components",
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {MAX_ROWS} or fewer in length."),
        );
    }
    let mut state = ComponentCount::default();
    for (i, component) in components.iter().enumerate() {
        let path = join("components", i);
        let object = object(component, &path)?;
        let kind = kind_of(object, &path)?;
        let allowed = if v2 { V2_TOP_LEVEL } else { &[ACTION_ROW] };
        if !allowed.contains(&kind) {
            return fail(
                &join(&path, "type"),
                "UNION_TYPE_CHOICES",
                format!("Value of field \"type\" must be one of {allowed:?}."),
            );
        }
        check_component(object, kind, &path, &mut state)?;
    }
    if state.total > MAX_COMPONENTS_TOTAL {
        return fail(
            "components",
            "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED",
            format!("The maximum number of components allowed is {MAX_COMPONENTS_TOTAL}"),
        );
    }
    Ok(())
}

#[derive(Default)]
struct ComponentCount {
    total: usize,
    custom_ids: HashSet<String>,
}

fn check_component(
    component: &Map<String, Value>,
    kind: u64,
    path: &str,
    state: &mut ComponentCount,
) -> Check {
    state.total += 1;
    match kind {
        ACTION_ROW => {
            only_keys(component, &["type", "id", "components"], path)?;
            let children = match member(component, "components") {
                Some(v) => array(v, &join(path, "components"), 1, MAX_ROW_CHILDREN)?,
                None => {
                    return fail(
                        &join(path, "components"),
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    )
                }
            };
            for (i, child) in children.iter().enumerate() {
                let child_path = join(&join(path, "components"), i);
                let child = object(child, &child_path)?;
                let child_kind = kind_of(child, &child_path)?;
                if child_kind == BUTTON {
                    check_button(child, &child_path, state)?;
                } else if SELECTS.contains(&child_kind) {
                    if children.len() > 1 {
                        return fail(
                            &join(path, "components"),
                            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                            "The specified component exceeds the maximum width",
                        );
                    }
                    state.total += 1;
                    custom_id(child, &child_path, state, true)?;
                } else {
                    return fail(
                        &join(&child_path, "type"),
                        "UNION_TYPE_CHOICES",
                        "An action row holds buttons or one select menu.",
                    );
                }
            }
        }
        TEXT_DISPLAY => {
            required_string(component, "content", path, 1, MAX_TEXT_DISPLAY)?;
        }
        _ => {
            // Sections, containers and media: count their children; check any rows inside.
            for key in ["components", "items"] {
                for (i, child) in opt_array(component, key, path, MAX_COMPONENTS_TOTAL)?
                    .iter()
                    .enumerate()
                {
                    let child_path = join(&join(path, key), i);
                    let child = object(child, &child_path)?;
                    let child_kind = kind_of(child, &child_path).unwrap_or(0);
                    check_component(child, child_kind, &child_path, state)?;
                }
            }
            if let Some(accessory) = member(component, "accessory") {
                let accessory_path = join(path, "accessory");
                let accessory = object(accessory, &accessory_path)?;
                if kind_of(accessory, &accessory_path)? == BUTTON {
                    check_button(accessory, &accessory_path, state)?;
                } else {
                    state.total += 1;
                }
            }
        }
    }
    Ok(())
}

fn custom_id(
    component: &Map<String, Value>,
    path: &str,
    state: &mut ComponentCount,
    required: bool,
) -> Check {
    match member(component, "custom_id") {
        Some(id) => {
            let id = string(id, &join(path, "custom_id"), 1, MAX_CUSTOM_ID)?;
            if !state.custom_ids.insert(id.to_owned()) {
                return fail(
                    &join(path, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                );
            }
            Ok(())
        }
        None if required => fail(
            &join(path, "custom_id"),
            "BASE_TYPE_REQUIRED",
            "This field is required",
        ),
        None => Ok(()),
    }
}

fn check_button(button: &Map<String, Value>, path: &str, state: &mut ComponentCount) -> Check {
    state.total += 1;
    only_keys(button, BUTTON_FIELDS, path)?;
    let style = match opt_uint(button, "style", path, 6)? {
        Some(style) if style >= 1 => style,
        _ => {
            return fail(
                &join(path, "style"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 2, 3, 4, 5, 6}.",
            )
        }
    };
    let label = opt_string(button, "label", path, MAX_BUTTON_LABEL)?;
    let url = opt_string(button, "url", path, MAX_BUTTON_URL)?;
    match style {
        LINK_STYLE => {
            if url.is_none() {
                return fail(
                    &join(path, "url"),
                    "BUTTON_COMPONENT_URL_REQUIRED",
                    "A url is required",
                );
            }
            if member(button, "custom_id").is_some() {
                return fail(
                    &join(path, "custom_id"),
                    "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                    "A custom id cannot be specified",
                );
            }
        }
        PREMIUM_STYLE => {
            if member(button, "sku_id").is_none() {
                return fail(
                    &join(path, "sku_id"),
                    "BASE_TYPE_REQUIRED",
                    "This field is required",
                );
            }
        }
        _ => {
            custom_id(button, path, state, true)?;
            if url.is_some() {
                return fail(
                    &join(path, "url"),
                    "BUTTON_COMPONENT_URL_NOT_ALLOWED",
                    "A url cannot be specified",
                );
            }
        }
    }
    if style != PREMIUM_STYLE
        && label.is_none_or(str::is_empty)
        && member(button, "emoji").is_none()
    {
        return fail(
            &join(path, "label"),
            "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
            "A label or emoji is required",
        );
    }
    Ok(())
}

/// Checks a `PUT /applications/{application_id}/commands` body; returns the commands.
pub fn commands(raw: &[u8]) -> Result<Vec<Value>, Refusal> {
    let value: Value = serde_json::from_slice(raw).map_err(|_| Refusal::BadJson)?;
    if value.is_null() {
        return Ok(Vec::new());
    }
    Ok(check_commands(&value)?)
}

fn check_commands(value: &Value) -> Check<Vec<Value>> {
    let commands = array(value, "", 0, MAX_COMMANDS)?;
    let mut names = HashSet::new();
    let mut slash = 0;
    for (i, command) in commands.iter().enumerate() {
        let path = i.to_string();
        let command = object(command, &path)?;
        only_keys(command, COMMAND_FIELDS, &path)?;
        let kind = match opt_uint(command, "type", &path, 4)? {
            None => CHAT_INPUT,
            Some(kind) if kind >= 1 => kind,
            Some(_) => {
                return fail(
                    &join(&path, "type"),
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {1, 2, 3, 4}.",
                )
            }
        };
        let name = required_string(command, "name", &path, 1, MAX_COMMAND_NAME)?;
        if kind == CHAT_INPUT {
            slash += 1;
            check_slash_name(name, &join(&path, "name"))?;
            required_string(command, "description", &path, 1, MAX_COMMAND_DESCRIPTION)?;
        } else {
            opt_string(command, "description", &path, MAX_COMMAND_DESCRIPTION)?;
        }
        if !names.insert((kind, name.to_owned())) {
            return fail(
                &join(&path, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                format!("Application command names must be unique ({name})"),
            );
        }
        check_enum_list(command, "contexts", &path, 2)?;
        check_enum_list(command, "integration_types", &path, 1)?;
        opt_bool(command, "dm_permission", &path)?;
        opt_bool(command, "nsfw", &path)?;
        check_options(command, &path, 0)?;
    }
    if slash > MAX_SLASH_COMMANDS {
        return fail(
            "",
            "APPLICATION_COMMAND_TOO_MANY",
            format!("At most {MAX_SLASH_COMMANDS} slash commands"),
        );
    }
    Ok(commands.clone())
}

/// A slash command or option name: lowercase letters, digits, `-`, `_` and `'` (docs,
/// "Application Command Naming": `^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`, lowercase
/// where the script has case).
fn check_slash_name(name: &str, path: &str) -> Check {
    let valid = name
        .chars()
        .all(|c| (c.is_alphanumeric() && !c.is_uppercase()) || matches!(c, '-' | '_' | '\''));
    if valid {
        Ok(())
    } else {
        fail(
            path,
            "APPLICATION_COMMAND_INVALID_NAME",
            format!("Command name is invalid ({name})"),
        )
    }
}

/// `contexts` (0..=2) or `integration_types` (0..=1): at least one, unique (openapi.json).
fn check_enum_list(command: &Map<String, Value>, key: &str, path: &str, max: u64) -> Check {
    let Some(list) = member(command, key) else {
        return Ok(());
    };
    let list_path = join(path, key);
    let mut seen = HashSet::new();
    for (i, item) in array(list, &list_path, 1, 3)?.iter().enumerate() {
        match item.as_u64() {
            Some(n) if n <= max && seen.insert(n) => {}
            _ => {
                return fail(
                    &join(&list_path, i),
                    "BASE_TYPE_CHOICES",
                    format!("Value must be one of 0..={max}, once each."),
                )
            }
        }
    }
    Ok(())
}

fn check_options(parent: &Map<String, Value>, path: &str, depth: usize) -> Check {
    let options = opt_array(parent, "options", path, MAX_OPTIONS)?;
    let mut names = HashSet::new();
    let mut optional_seen = false;
    for (i, option) in options.iter().enumerate() {
        let option_path = join(&join(path, "options"), i);
        let option = object(option, &option_path)?;
        only_keys(option, OPTION_FIELDS, &option_path)?;
        let kind = match opt_uint(option, "type", &option_path, 11)? {
            Some(kind) if kind >= 1 => kind,
            _ => {
                return fail(
                    &join(&option_path, "type"),
                    "BASE_TYPE_CHOICES",
                    "Value must be one of 1..=11.",
                )
            }
        };
        let name = required_string(option, "name", &option_path, 1, MAX_COMMAND_NAME)?;
        check_slash_name(name, &join(&option_path, "name"))?;
        if !names.insert(name.to_owned()) {
            return fail(
                &join(&option_path, "name"),
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                format!("Option name {name} is already used"),
            );
        }
        required_string(
            option,
            "description",
            &option_path,
            1,
            MAX_COMMAND_DESCRIPTION,
        )?;
        let required = opt_bool(option, "required", &option_path)?.unwrap_or(false);
        if required && optional_seen {
            return fail(
                &join(&option_path, "required"),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            );
        }
        optional_seen |= !required;
        opt_array(option, "choices", &option_path, MAX_CHOICES)?;
        if kind == STRING_OPTION {
            opt_uint(option, "min_length", &option_path, MAX_STRING_OPTION_LENGTH)?;
            if opt_uint(option, "max_length", &option_path, MAX_STRING_OPTION_LENGTH)? == Some(0) {
                return fail(
                    &join(&option_path, "max_length"),
                    "NUMBER_TYPE_MIN",
                    "int value should be greater than or equal to 1.",
                );
            }
        }
        // Subcommands (1) and groups (2) nest options, two levels at most.
        if kind <= 2 && depth < 2 {
            check_options(option, &option_path, depth + 1)?;
        } else if member(option, "options").is_some() {
            return fail(
                &join(&option_path, "options"),
                "APPLICATION_COMMAND_OPTION_NESTING",
                "Only subcommands and groups have options",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(body: Value) -> Result<NewMessage, Refusal> {
        message_create(body.to_string().as_bytes())
    }

    fn refused_at(result: Result<NewMessage, Refusal>) -> (String, &'static str) {
        match result {
            Err(Refusal::Form(e)) => (e.path, e.code),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_bridges_agent_message_passes() {
        for message in flex_bridge::discord::messages::agent_message(
            "Hi @everyone, pick one. Options: Track order, Cancel",
        ) {
            let raw = serde_json::to_vec(&message.with_nonce("job-1")).unwrap();
            let parsed = message_create(&raw).unwrap();
            assert_eq!(parsed.allowed_mentions, json!({"parse": []}));
            assert_eq!(parsed.nonce.as_deref(), Some("job-1"));
            assert!(parsed.enforce_nonce);
        }
        let fixture =
            include_str!("../../../fixtures/discord/responses/create-message-agent-reply.json");
        assert!(message_create(fixture.as_bytes()).is_ok());
    }

    #[test]
    fn message_bodies_are_refused_like_discord_does() {
        assert_eq!(message_create(b"nope"), Err(Refusal::BadJson));
        assert_eq!(create(json!({})), Err(Refusal::Empty));
        assert_eq!(create(json!({"content": ""})), Err(Refusal::Empty));
        assert_eq!(
            refused_at(create(json!({"content": "x".repeat(2001)}))),
            ("content".into(), "BASE_TYPE_MAX_LENGTH")
        );
        assert!(create(json!({"content": "é".repeat(2000)})).is_ok());
        assert_eq!(
            refused_at(create(json!({"content": "hi", "text": "hi"}))),
            ("text".into(), "UNKNOWN_FIELD")
        );
        assert_eq!(
            refused_at(create(json!({"content": "hi", "nonce": "x".repeat(26)}))),
            ("nonce".into(), "BASE_TYPE_MAX_LENGTH")
        );
        assert_eq!(
            create(json!({"content": "hi", "nonce": 42}))
                .unwrap()
                .nonce
                .as_deref(),
            Some("42")
        );
        assert_eq!(
            refused_at(create(json!({"content": "hi", "flags": 64}))),
            ("flags".into(), "MESSAGE_INVALID_FLAGS")
        );
        assert_eq!(
            refused_at(create(
                json!({"content": "hi", "allowed_mentions": {"parse": ["here"]}})
            )),
            ("allowed_mentions.parse.0".into(), "BASE_TYPE_CHOICES")
        );
        assert_eq!(
            refused_at(create(json!({"embeds": [{"title": "t".repeat(257)}]}))),
            ("embeds.0.title".into(), "BASE_TYPE_MAX_LENGTH")
        );
        assert_eq!(
            refused_at(create(json!({"embeds": [{"fields": [{"name": "a"}]}]}))),
            ("embeds.0.fields.0.value".into(), "BASE_TYPE_REQUIRED")
        );
        let big = json!({"description": "d".repeat(4000)});
        assert_eq!(
            refused_at(create(json!({"embeds": [big.clone(), big]}))),
            ("embeds".into(), "MAX_EMBED_SIZE_EXCEEDED")
        );
    }

    #[test]
    fn components_are_checked() {
        let button = |id: &str| json!({"type": 2, "style": 1, "label": "L", "custom_id": id});
        let row = |buttons: Vec<Value>| json!({"type": 1, "components": buttons});
        assert!(create(json!({"components": [row(vec![button("a"), button("b")])]})).is_ok());
        assert_eq!(
            refused_at(create(
                json!({"components": [row(vec![button("a"), button("a")])]})
            )),
            (
                "components.0.components.1.custom_id".into(),
                "COMPONENT_CUSTOM_ID_DUPLICATED"
            )
        );
        assert_eq!(
            refused_at(create(json!({"components": [row(vec![])]}))),
            ("components.0.components".into(), "BASE_TYPE_BAD_LENGTH")
        );
        let six: Vec<Value> = (0..6).map(|i| button(&i.to_string())).collect();
        assert!(create(json!({"components": [row(six)]})).is_err());
        let rows: Vec<Value> = (0..6).map(|i| row(vec![button(&i.to_string())])).collect();
        assert!(create(json!({"components": rows})).is_err());
        assert!(create(json!({"components": [button("a")]})).is_err());
        let long_id = "x".repeat(101);
        assert!(create(json!({"components": [row(vec![button(&long_id)])]})).is_err());
        let no_label = json!({"type": 2, "style": 1, "custom_id": "a"});
        assert!(create(json!({"components": [row(vec![no_label])]})).is_err());
        let link = json!({"type": 2, "style": 5, "label": "Docs", "url": "https://example.com"});
        assert!(create(json!({"components": [row(vec![link])]})).is_ok());
        let v2 = json!({"flags": IS_COMPONENTS_V2, "components": [{"type": 10, "content": "hi"}]});
        assert!(create(v2.clone()).is_ok());
        let mut with_content = v2;
        with_content["content"] = json!("hi");
        assert!(create(with_content).is_err());
    }

    #[test]
    fn edits_are_partial() {
        let edit =
            webhook_edit(br#"{"content": "Sent", "allowed_mentions": {"parse": []}}"#).unwrap();
        assert_eq!(edit.content.as_deref(), Some("Sent"));
        assert_eq!(edit.components, None);
        assert!(webhook_edit(br#"{"content": "Sent", "tts": true}"#).is_err());
        assert!(
            webhook_edit(format!(r#"{{"content": "{}"}}"#, "x".repeat(2001)).as_bytes()).is_err()
        );
        assert_eq!(
            webhook_edit(br#"{"content": null}"#)
                .unwrap()
                .content
                .as_deref(),
            Some("")
        );
    }

    #[test]
    fn the_bridges_commands_pass_and_bad_ones_do_not() {
        let ours = flex_bridge::discord::commands::definitions();
        assert_eq!(commands(ours.to_string().as_bytes()).unwrap().len(), 5);
        let fixture =
            include_str!("../../../fixtures/discord/responses/register-commands-global.json");
        assert!(commands(fixture.as_bytes()).is_ok(), "{fixture}");
        assert_eq!(commands(b"null").unwrap(), Vec::<Value>::new());
        let refused = |body: Value| match commands(body.to_string().as_bytes()) {
            Err(Refusal::Form(e)) => e.code,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            refused(json!([{"name": "Help", "description": "d"}])),
            "APPLICATION_COMMAND_INVALID_NAME"
        );
        assert_eq!(refused(json!([{"name": "help"}])), "BASE_TYPE_REQUIRED");
        assert_eq!(
            refused(json!([{"name": "a", "description": "d"}, {"name": "a", "description": "e"}])),
            "APPLICATION_COMMANDS_DUPLICATE_NAME"
        );
        assert_eq!(
            refused(json!([{"name": "a", "description": "d", "contexts": [3]}])),
            "BASE_TYPE_CHOICES"
        );
        assert_eq!(
            refused(json!([{"name": "a", "description": "d", "options": [
                {"type": 3, "name": "x", "description": "d"},
                {"type": 3, "name": "y", "description": "d", "required": true}
            ]}])),
            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"
        );
        assert_eq!(
            refused(json!([{"name": "a", "description": "d", "colour": 1}])),
            "UNKNOWN_FIELD"
        );
    }

    #[test]
    fn errors_nest_like_discords() {
        let error = FieldError {
            path: "embeds.0.title".into(),
            code: "BASE_TYPE_MAX_LENGTH",
            message: "m".into(),
        };
        assert_eq!(
            error.errors(),
            json!({"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "m"}]}}}})
        );
        let top = FieldError {
            path: String::new(),
            code: "C",
            message: "m".into(),
        };
        assert_eq!(
            top.errors(),
            json!({"_errors": [{"code": "C", "message": "m"}]})
        );
        assert!(is_snowflake("1100000000000000001") && is_snowflake("0"));
        assert!(!is_snowflake("01") && !is_snowflake("") && !is_snowflake("1a"));
    }
}
