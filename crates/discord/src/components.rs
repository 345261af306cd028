//! Message and modal components. Discord's component objects are one loose union keyed by
//! `type`; one struct with optional fields mirrors that, serialises only what is set, and also
//! reads the components of a modal submission (whatever their nesting).
//!
//! Numbers are from Discord's API v10 (`MessageComponentTypes`, `ButtonStyleTypes`,
//! `TextInputStyleTypes` in the official OpenAPI spec).

use serde::{Deserialize, Serialize};

pub const ACTION_ROW: u8 = 1;
pub const BUTTON: u8 = 2;
pub const TEXT_INPUT: u8 = 4;
pub const TEXT_DISPLAY: u8 = 10;
/// A modal's label-and-input wrapper (type 18): what Discord now documents for modals.
pub const LABEL: u8 = 18;
/// `MessageComponentTypes` FILE_UPLOAD: files in a modal (`FileUploadComponentForModalRequest`).
pub const FILE_UPLOAD: u8 = 19;
/// A File Upload takes 0 to 10 files.
pub const MAX_UPLOAD_VALUES: u8 = 10;

pub const STYLE_PRIMARY: u8 = 1;
pub const STYLE_SECONDARY: u8 = 2;
pub const STYLE_SUCCESS: u8 = 3;

pub const INPUT_SHORT: u8 = 1;
pub const INPUT_PARAGRAPH: u8 = 2;

/// An action row holds at most five buttons, and a message at most five action rows.
pub const MAX_BUTTONS_PER_ROW: usize = 5;
pub const MAX_ROWS: usize = 5;

/// Limits of a modal (characters): title, a Label's label and description, input values.
pub const MAX_MODAL_TITLE: usize = 45;
pub const MAX_LABEL: usize = 45;
pub const MAX_LABEL_DESCRIPTION: usize = 100;
pub const MAX_INPUT_VALUE: usize = 4000;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    #[serde(rename = "type")]
    pub kind: u8,
    /// Discord's numeric component id (set by Discord when absent); not our `custom_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// A File Upload's bounds on how many files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_values: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_values: Option<u8>,
    /// A submitted File Upload's attachment ids (resolved in `data.resolved.attachments`).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub values: Vec<String>,
    /// A submitted text input's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Text display content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// An action row's children.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub components: Vec<Component>,
    /// A Label's one child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<Box<Component>>,
}

impl Component {
    pub fn action_row(children: Vec<Component>) -> Self {
        Self {
            kind: ACTION_ROW,
            components: children,
            ..Self::default()
        }
    }

    pub fn button(custom_id: &str, label: &str, style: u8) -> Self {
        Self {
            kind: BUTTON,
            custom_id: Some(custom_id.to_owned()),
            label: Some(super::ids::truncate(label, super::ids::MAX_BUTTON_LABEL)),
            style: Some(style),
            ..Self::default()
        }
    }

    /// A text input for a Label: its visible name belongs to the Label, not the input.
    pub fn text_input(custom_id: &str, style: u8, required: bool, max_length: u32) -> Self {
        Self {
            kind: TEXT_INPUT,
            custom_id: Some(custom_id.to_owned()),
            style: Some(style),
            required: Some(required),
            min_length: required.then_some(1),
            max_length: Some(max_length),
            ..Self::default()
        }
    }

    /// A modal's optional File Upload of up to `max_values` files.
    pub fn file_upload(custom_id: &str, max_values: u8) -> Self {
        Self {
            kind: FILE_UPLOAD,
            custom_id: Some(custom_id.to_owned()),
            min_values: Some(0),
            max_values: Some(max_values.clamp(1, MAX_UPLOAD_VALUES)),
            required: Some(false),
            ..Self::default()
        }
    }

    pub fn with_placeholder(mut self, placeholder: &str) -> Self {
        self.placeholder = Some(super::ids::truncate(placeholder, 100));
        self
    }

    /// A modal's labelled field (type 18) around `input`.
    pub fn labelled(label: &str, description: Option<&str>, input: Component) -> Self {
        Self {
            kind: LABEL,
            label: Some(super::ids::truncate(label, MAX_LABEL)),
            description: description.map(|d| super::ids::truncate(d, MAX_LABEL_DESCRIPTION)),
            component: Some(Box::new(input)),
            ..Self::default()
        }
    }

    /// Every submitted `(custom_id, value)` in this tree: inputs directly, in action rows
    /// (the legacy modal shape) or inside Labels (the current one).
    pub fn submitted_values<'a>(&'a self, out: &mut Vec<(&'a str, &'a str)>) {
        if let (Some(id), Some(value)) = (&self.custom_id, &self.value) {
            out.push((id, value));
        }
        for child in self.components.iter().chain(self.component.as_deref()) {
            child.submitted_values(out);
        }
    }
}

/// Reads a JSON `null` list as empty: Discord omits empty lists, but tolerance costs nothing.
pub(crate) fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}
