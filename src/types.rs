//! Typed MCP results: serde types for tools, tool call results and their content blocks,
//! resources and prompts, following the MCP schema (2025-11-25 and 2026-07-28).
//!
//! The client's core speaks JSON ([`serde_json::Value`], the form the C, Go and Python
//! bindings use); these types sit beside it. Each [`Client`](crate::Client) method that returns
//! JSON for a common call has a typed twin that decodes the same result into these types:
//!
//! | JSON                                     | typed                                  |
//! |------------------------------------------|----------------------------------------|
//! | [`list_tools`](crate::Client::list_tools) | [`tools`](crate::Client::tools) → [`Tool`] |
//! | [`call_tool`](crate::Client::call_tool)   | [`call`](crate::Client::call) → [`CallToolResult`] |
//! | [`list_resources`](crate::Client::list_resources) | [`resources`](crate::Client::resources) → [`Resource`] |
//! | [`list_resource_templates`](crate::Client::list_resource_templates) | [`resource_templates`](crate::Client::resource_templates) → [`ResourceTemplate`] |
//! | [`read_resource`](crate::Client::read_resource) | [`read`](crate::Client::read) → [`ReadResourceResult`] |
//! | [`list_prompts`](crate::Client::list_prompts) | [`prompts`](crate::Client::prompts) → [`Prompt`] |
//! | [`get_prompt`](crate::Client::get_prompt) | [`prompt`](crate::Client::prompt) → [`GetPromptResult`] |
//!
//! The task methods ([`start_tool_task`](crate::Client::start_tool_task),
//! [`task_status`](crate::Client::task_status), [`cancel_task`](crate::Client::cancel_task),
//! [`list_tasks`](crate::Client::list_tasks)) return [`CreateTaskResult`] and [`Task`] directly.
//!
//! Nothing a server sends is lost: every type keeps the members it does not model (newer
//! fields, `icons`, `execution`, `resultType`, `ttlMs`, vendor extensions) in its `extra` map,
//! and they are written back when the value is serialized. A content block of a type this
//! version does not know becomes [`ContentBlock::Unknown`] instead of failing the whole result.
//!
//! ```no_run
//! # async fn run(client: mcp_client::Client) -> mcp_client::Result<()> {
//! for tool in client.tools().await? {
//!     println!("{}: {}", tool.name, tool.description.as_deref().unwrap_or(""));
//! }
//! let result = client.call("echo", serde_json::json!({"text": "hi"})).await?;
//! if result.is_error() {
//!     eprintln!("tool error: {}", result.text());
//! } else {
//!     println!("{}", result.text());
//! }
//! # Ok(()) }
//! ```

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::redact::truncate_utf8;

/// A JSON object: the type of `_meta`, JSON Schemas and the `extra` members.
pub type JsonObject = Map<String, Value>;

/// The sender or recipient of a message (`"user"` or `"assistant"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// The user.
    User,
    /// The assistant (the model).
    Assistant,
}

/// Hints for the client on how to use or show an object (`Annotations` in the schema).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Annotations {
    /// Who the object is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<Role>>,
    /// How important the object is, from 0 (optional) to 1 (effectively required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<f64>,
    /// When the object was last modified (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// An icon a client may show for a tool, resource, template or prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Icon {
    /// An HTTP(S) URL or a `data:` URI.
    pub src: String,
    /// The MIME type, when the source's is missing or generic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Sizes the icon suits, as `"48x48"` or `"any"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizes: Option<Vec<String>>,
    /// The background theme the icon is designed for: `"light"` or `"dark"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

// ---- tools ------------------------------------------------------------------------------

/// A tool the server offers (an item of the `tools/list` result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Tool {
    /// The tool's name, used to call it.
    pub name: String,
    /// A human-readable name for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does (a hint for the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of the tool's arguments (an object schema). Empty when a server left
    /// it out.
    #[serde(default)]
    pub input_schema: JsonObject,
    /// The JSON Schema of the tool's `structuredContent`, when it declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<JsonObject>,
    /// Hints about the tool's behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// Icons for the tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// The tool's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model (e.g. `execution`).
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl Tool {
    /// The name to show: `title`, else `annotations.title`, else `name` (the schema's order).
    pub fn display_name(&self) -> &str {
        self.title
            .as_deref()
            .or_else(|| self.annotations.as_ref()?.title.as_deref())
            .unwrap_or(&self.name)
    }
}

/// Hints about a tool's behaviour. They are hints only: never trust them from an untrusted
/// server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolAnnotations {
    /// A human-readable title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not modify its environment (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may perform destructive updates (default true; meaningful when not read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling the tool again with the same arguments has no further effect (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool interacts with an open world of external entities (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The result of `tools/call`. A tool that fails reports it here, with `isError: true`; that is
/// not an `Err` of the call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CallToolResult {
    /// The unstructured result: text, images, audio, resource links, embedded resources.
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    /// The structured result (an object up to 2025-11-25, any JSON value from 2026-07-28),
    /// matching the tool's `outputSchema` when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the tool call ended in an error (absent means false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// The result's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model (e.g. `resultType`).
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl CallToolResult {
    /// Whether the tool reported an error (`isError: true`).
    pub fn is_error(&self) -> bool {
        self.is_error == Some(true)
    }

    /// The text blocks of [`content`](Self::content), joined with newlines (other blocks are
    /// skipped; empty when there is no text).
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect();
        texts.join("\n")
    }
}

// ---- content blocks ---------------------------------------------------------------------

/// One piece of content in a tool result or a prompt message, tagged by its `type`.
///
/// Serialized and deserialized with the `type` member: `"text"`, `"image"`, `"audio"`,
/// `"resource_link"` or `"resource"`. A block of any other type (from a newer server) is kept
/// whole as [`ContentBlock::Unknown`]; a block of a known type that lacks a required member is
/// an error.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ContentBlock {
    /// `"text"`: text for or from the model.
    Text(TextContent),
    /// `"image"`: a base64-encoded image.
    Image(ImageContent),
    /// `"audio"`: base64-encoded audio.
    Audio(AudioContent),
    /// `"resource_link"`: a link to a resource the client may read.
    ResourceLink(Resource),
    /// `"resource"`: a resource's contents, embedded.
    Resource(EmbeddedResource),
    /// A block of a type this version does not know: the whole JSON object, `type` included.
    Unknown(JsonObject),
}

impl ContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text(TextContent {
            text: text.into(),
            annotations: None,
            meta: None,
            extra: JsonObject::new(),
        })
    }

    /// The text of a text block; `None` for any other block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ContentBlock::Text(t) => Some(&t.text),
            _ => None,
        }
    }

    /// The block's `type`, as it appears in JSON (for an unknown block, what the server sent).
    pub fn kind(&self) -> &str {
        match self {
            ContentBlock::Text(_) => "text",
            ContentBlock::Image(_) => "image",
            ContentBlock::Audio(_) => "audio",
            ContentBlock::ResourceLink(_) => "resource_link",
            ContentBlock::Resource(_) => "resource",
            ContentBlock::Unknown(m) => m.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// The known blocks, written with their `type` tag.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum TaggedBlock<'a> {
    Text(&'a TextContent),
    Image(&'a ImageContent),
    Audio(&'a AudioContent),
    ResourceLink(&'a Resource),
    Resource(&'a EmbeddedResource),
}

impl Serialize for ContentBlock {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            ContentBlock::Text(b) => TaggedBlock::Text(b).serialize(s),
            ContentBlock::Image(b) => TaggedBlock::Image(b).serialize(s),
            ContentBlock::Audio(b) => TaggedBlock::Audio(b).serialize(s),
            ContentBlock::ResourceLink(b) => TaggedBlock::ResourceLink(b).serialize(s),
            ContentBlock::Resource(b) => TaggedBlock::Resource(b).serialize(s),
            ContentBlock::Unknown(m) => m.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut block = JsonObject::deserialize(d)?;
        let kind = match block.get("type") {
            Some(Value::String(k)) => k.clone(),
            Some(_) => {
                return Err(de::Error::custom(
                    "a content block's `type` is not a string",
                ))
            }
            None => return Err(de::Error::custom("a content block has no `type`")),
        };
        /// The block without its tag, as the variant's type.
        fn body<T: DeserializeOwned, E: de::Error>(
            kind: &str,
            mut block: JsonObject,
        ) -> std::result::Result<T, E> {
            block.remove("type");
            serde_json::from_value(Value::Object(block))
                .map_err(|e| E::custom(format_args!("`{kind}` content block: {e}")))
        }
        match kind.as_str() {
            "text" => body(&kind, block).map(ContentBlock::Text),
            "image" => body(&kind, block).map(ContentBlock::Image),
            "audio" => body(&kind, block).map(ContentBlock::Audio),
            "resource_link" => body(&kind, block).map(ContentBlock::ResourceLink),
            "resource" => body(&kind, block).map(ContentBlock::Resource),
            _ => {
                // Keep the tag in place so the block serializes back unchanged.
                block.insert("type".into(), Value::String(kind));
                Ok(ContentBlock::Unknown(block))
            }
        }
    }
}

/// Text for or from the model (a `"text"` block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TextContent {
    /// The text.
    pub text: String,
    /// Hints for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// The block's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// An image (an `"image"` block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ImageContent {
    /// The image, base64-encoded.
    pub data: String,
    /// Its MIME type, e.g. `image/png`.
    pub mime_type: String,
    /// Hints for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// The block's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// Audio (an `"audio"` block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AudioContent {
    /// The audio, base64-encoded.
    pub data: String,
    /// Its MIME type, e.g. `audio/wav`.
    pub mime_type: String,
    /// Hints for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// The block's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// A resource's contents embedded in a result (a `"resource"` block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EmbeddedResource {
    /// The contents: text or a blob.
    pub resource: ResourceContents,
    /// Hints for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// The block's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

// ---- resources --------------------------------------------------------------------------

/// A resource the server can read (an item of `resources/list`, and the body of a
/// `"resource_link"` content block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Resource {
    /// The resource's URI.
    pub uri: String,
    /// Its name (programmatic; the display fallback).
    pub name: String,
    /// A human-readable name for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the resource is (a hint for the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its MIME type, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Hints for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Its size in bytes (before any base64 encoding), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Icons for the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// The resource's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// A family of resources described by a URI template (an item of `resources/templates/list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceTemplate {
    /// An RFC 6570 URI template, e.g. `file:///{path}`.
    pub uri_template: String,
    /// Its name (programmatic; the display fallback).
    pub name: String,
    /// A human-readable name for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the template is for (a hint for the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The MIME type shared by every matching resource, if they all have the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Hints for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Icons for the template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// The template's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The contents of a resource: text, or a base64 blob. Told apart by which of `text` and
/// `blob` is present (no tag).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ResourceContents {
    /// Text contents (`TextResourceContents`).
    Text(TextResourceContents),
    /// Binary contents, base64-encoded (`BlobResourceContents`).
    Blob(BlobResourceContents),
}

impl ResourceContents {
    /// The URI of these contents.
    pub fn uri(&self) -> &str {
        match self {
            ResourceContents::Text(t) => &t.uri,
            ResourceContents::Blob(b) => &b.uri,
        }
    }

    /// The MIME type, if known.
    pub fn mime_type(&self) -> Option<&str> {
        match self {
            ResourceContents::Text(t) => t.mime_type.as_deref(),
            ResourceContents::Blob(b) => b.mime_type.as_deref(),
        }
    }

    /// The text of text contents; `None` for a blob.
    pub fn text(&self) -> Option<&str> {
        match self {
            ResourceContents::Text(t) => Some(&t.text),
            ResourceContents::Blob(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for ResourceContents {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let contents = JsonObject::deserialize(d)?;
        let (text, blob) = (contents.contains_key("text"), contents.contains_key("blob"));
        let value = Value::Object(contents);
        if text {
            serde_json::from_value(value)
                .map(ResourceContents::Text)
                .map_err(|e| de::Error::custom(format_args!("text resource contents: {e}")))
        } else if blob {
            serde_json::from_value(value)
                .map(ResourceContents::Blob)
                .map_err(|e| de::Error::custom(format_args!("blob resource contents: {e}")))
        } else {
            Err(de::Error::custom(
                "resource contents have neither `text` nor `blob`",
            ))
        }
    }
}

/// Text contents of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TextResourceContents {
    /// The URI of the resource (or sub-resource).
    pub uri: String,
    /// The MIME type, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The text.
    pub text: String,
    /// The contents' `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// Binary contents of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BlobResourceContents {
    /// The URI of the resource (or sub-resource).
    pub uri: String,
    /// The MIME type, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The data, base64-encoded.
    pub blob: String,
    /// The contents' `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The result of `resources/read`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ReadResourceResult {
    /// The contents: one item, or several for a resource with sub-resources.
    pub contents: Vec<ResourceContents>,
    /// The result's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model (e.g. 2026-07-28's `ttlMs` and `cacheScope`).
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ReadResourceResult {
    /// The text contents, joined with newlines (blobs are skipped).
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .contents
            .iter()
            .filter_map(ResourceContents::text)
            .collect();
        texts.join("\n")
    }
}

// ---- prompts ----------------------------------------------------------------------------

/// A prompt or prompt template the server offers (an item of `prompts/list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Prompt {
    /// The prompt's name, used to get it.
    pub name: String,
    /// A human-readable name for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the prompt provides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The arguments the prompt takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<PromptArgument>>,
    /// Icons for the prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// The prompt's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// An argument a prompt accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PromptArgument {
    /// The argument's name.
    pub name: String,
    /// A human-readable name for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the argument is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it must be given (absent means false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// One message of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PromptMessage {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: ContentBlock,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The result of `prompts/get`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetPromptResult {
    /// A description of the prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The prompt's messages.
    pub messages: Vec<PromptMessage>,
    /// The result's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

// ---- tasks (2025-11-25) -----------------------------------------------------------------

/// Whether a tool may be called as a task (its `execution.taskSupport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TaskSupport {
    /// Never as a task (the default, when the tool declares nothing).
    #[default]
    Forbidden,
    /// As a task or plainly.
    Optional,
    /// Only as a task.
    Required,
}

impl TaskSupport {
    /// The `execution.taskSupport` of a tool as `tools/list` gives it (`Forbidden` when absent
    /// or unknown).
    pub fn of_tool(tool: &Value) -> TaskSupport {
        TaskSupport::of_execution(tool.get("execution"))
    }

    fn of_execution(execution: Option<&Value>) -> TaskSupport {
        match execution
            .and_then(|e| e.get("taskSupport"))
            .and_then(Value::as_str)
        {
            Some("optional") => TaskSupport::Optional,
            Some("required") => TaskSupport::Required,
            _ => TaskSupport::Forbidden,
        }
    }
}

impl Tool {
    /// The tool's `execution.taskSupport` ([`TaskSupport::Forbidden`] when it declares none).
    pub fn task_support(&self) -> TaskSupport {
        TaskSupport::of_execution(self.extra.get("execution"))
    }
}

/// A progress token (`_meta.progressToken`): a string or an integer the caller picks, unique
/// among its requests in flight. The server's `notifications/progress` for the request carry it,
/// and reach the notification handler.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProgressToken {
    /// A string token.
    String(String),
    /// An integer token.
    Integer(i64),
}

impl From<&str> for ProgressToken {
    fn from(s: &str) -> Self {
        ProgressToken::String(s.to_owned())
    }
}

impl From<String> for ProgressToken {
    fn from(s: String) -> Self {
        ProgressToken::String(s)
    }
}

impl From<i64> for ProgressToken {
    fn from(n: i64) -> Self {
        ProgressToken::Integer(n)
    }
}

impl From<&ProgressToken> for Value {
    fn from(t: &ProgressToken) -> Self {
        match t {
            ProgressToken::String(s) => Value::from(s.as_str()),
            ProgressToken::Integer(n) => Value::from(*n),
        }
    }
}

impl ProgressToken {
    /// Whether `v` (a notification's `progressToken`) is this token.
    pub fn matches(&self, v: &Value) -> bool {
        match self {
            ProgressToken::String(s) => v.as_str() == Some(s),
            ProgressToken::Integer(n) => v.as_i64() == Some(*n),
        }
    }
}

/// The status of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskStatus {
    /// The request is being processed.
    Working,
    /// The server needs input from the client (its requests arrive during `tasks/result`).
    InputRequired,
    /// Done; the result is available (terminal).
    Completed,
    /// The request did not complete successfully, a tool error included (terminal).
    Failed,
    /// Cancelled before completion (terminal).
    Cancelled,
    /// A status this version does not know.
    #[serde(other)]
    Unknown,
}

impl TaskStatus {
    /// Whether the status is terminal (`completed`, `failed` or `cancelled`).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

/// A task: the state of a task-augmented request on the server (the result of `tasks/get`
/// and `tasks/cancel`, an item of `tasks/list`, the params of `notifications/tasks/status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Task {
    /// The task's id, chosen by the server.
    pub task_id: String,
    /// Its current status.
    pub status: TaskStatus,
    /// A human-readable description of the status (for a failed task, what went wrong).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When the task was created (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// When the task was last updated (ISO 8601).
    #[serde(default)]
    pub last_updated_at: String,
    /// How long the server keeps the task from its creation, in milliseconds; `None` for
    /// unlimited.
    #[serde(default)]
    pub ttl: Option<u64>,
    /// The polling interval the server suggests, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval: Option<u64>,
    /// The `_meta` of the message that carried the task.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The answer to a task-augmented request (`CreateTaskResult`): the task, not yet the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateTaskResult {
    /// The task created.
    pub task: Task,
    /// The result's `_meta`.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
    /// Members this version does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl CreateTaskResult {
    /// The text the server suggests handing the model at once while the task runs
    /// (`_meta["io.modelcontextprotocol/model-immediate-response"]`), if any.
    pub fn model_immediate_response(&self) -> Option<&str> {
        self.meta
            .as_ref()?
            .get("io.modelcontextprotocol/model-immediate-response")?
            .as_str()
    }
}

// ---- decoding, for the client's typed methods -------------------------------------------

/// Decode the result of `method` as the schema type `what`.
pub(crate) fn decode<T: DeserializeOwned>(method: &str, what: &str, result: Value) -> Result<T> {
    serde_json::from_value(result).map_err(|e| {
        Error::MalformedMessage(format!("the `{method}` result is not a valid {what}: {e}"))
    })
}

/// Decode every item of a list result of `method` as the schema type `what`; an error names
/// the item (its position, and its `name` or `uri` when it has one).
pub(crate) fn decode_list<T: DeserializeOwned>(
    method: &str,
    what: &str,
    items: Vec<Value>,
) -> Result<Vec<T>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let label = item
                .get("name")
                .or_else(|| item.get("uri"))
                .and_then(Value::as_str)
                .map(|n| format!(" (`{}`)", truncate_utf8(n, 80)))
                .unwrap_or_default();
            serde_json::from_value(item).map_err(|e| {
                Error::MalformedMessage(format!(
                    "`{method}`: item {i}{label} is not a valid {what}: {e}"
                ))
            })
        })
        .collect()
}

/// Serialize the arguments of the tool or prompt `name` into a JSON object (`null`, e.g. from
/// `()` or `None`, means no arguments: `{}`).
pub(crate) fn arguments_object(kind: &str, name: &str, arguments: impl Serialize) -> Result<Value> {
    match serde_json::to_value(arguments) {
        Ok(Value::Null) => Ok(Value::Object(JsonObject::new())),
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(other) => Err(Error::InvalidArgument(format!(
            "the arguments of {kind} `{name}` must serialize to a JSON object, not {}",
            json_type(&other)
        ))),
        Err(e) => Err(Error::InvalidArgument(format!(
            "the arguments of {kind} `{name}` cannot be serialized to JSON: {e}"
        ))),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
