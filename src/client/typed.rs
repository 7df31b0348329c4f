//! Typed twins of the client's JSON methods: each calls its JSON method and decodes the result
//! into the serde types of `crate::types`. A result that does not match the schema is an
//! `Error::MalformedMessage` naming the method and what failed.

use super::{Client, RequestOptions};
use crate::error::Result;

impl Client {
    /// Every tool, typed, following `nextCursor`: [`Client::list_tools`] decoded into
    /// [`Tool`](crate::types::Tool)s (with their input and output schemas).
    pub async fn tools(&self) -> Result<Vec<crate::types::Tool>> {
        self.tools_with(RequestOptions::default()).await
    }

    /// [`Client::tools`] with per-request options (applied to each page).
    pub async fn tools_with(&self, opts: RequestOptions) -> Result<Vec<crate::types::Tool>> {
        let tools = self.list_tools_with(opts).await?;
        crate::types::decode_list("tools/list", "Tool", tools)
    }

    /// `tools/call`, typed: `arguments` is anything that serializes to a JSON object (a
    /// struct, a map, `serde_json::json!({..})`; `()` for none), and the result comes back
    /// as a [`CallToolResult`](crate::types::CallToolResult). A tool error is a result with
    /// [`is_error()`](crate::types::CallToolResult::is_error), not an `Err`.
    ///
    /// Arguments that do not serialize to an object are an [`crate::Error::InvalidArgument`].
    pub async fn call(
        &self,
        name: &str,
        arguments: impl serde::Serialize,
    ) -> Result<crate::types::CallToolResult> {
        self.call_with(name, arguments, RequestOptions::default())
            .await
    }

    /// [`Client::call`] with per-request options.
    pub async fn call_with(
        &self,
        name: &str,
        arguments: impl serde::Serialize,
        opts: RequestOptions,
    ) -> Result<crate::types::CallToolResult> {
        let arguments = crate::types::arguments_object("tool", name, arguments)?;
        let result = self.call_tool_with(name, arguments, opts).await?;
        crate::types::decode("tools/call", "CallToolResult", result)
    }

    /// Every resource, typed, following `nextCursor`: [`Client::list_resources`] decoded
    /// into [`Resource`](crate::types::Resource)s.
    pub async fn resources(&self) -> Result<Vec<crate::types::Resource>> {
        self.resources_with(RequestOptions::default()).await
    }

    /// [`Client::resources`] with per-request options (applied to each page).
    pub async fn resources_with(
        &self,
        opts: RequestOptions,
    ) -> Result<Vec<crate::types::Resource>> {
        let resources = self.list_resources_with(opts).await?;
        crate::types::decode_list("resources/list", "Resource", resources)
    }

    /// Every resource template, typed, following `nextCursor`:
    /// [`Client::list_resource_templates`] decoded into
    /// [`ResourceTemplate`](crate::types::ResourceTemplate)s.
    pub async fn resource_templates(&self) -> Result<Vec<crate::types::ResourceTemplate>> {
        let templates = self.list_resource_templates().await?;
        crate::types::decode_list("resources/templates/list", "ResourceTemplate", templates)
    }

    /// `resources/read`, typed: [`Client::read_resource`] decoded into a
    /// [`ReadResourceResult`](crate::types::ReadResourceResult) (text or blob contents).
    pub async fn read(&self, uri: &str) -> Result<crate::types::ReadResourceResult> {
        self.read_with(uri, RequestOptions::default()).await
    }

    /// [`Client::read`] with per-request options.
    pub async fn read_with(
        &self,
        uri: &str,
        opts: RequestOptions,
    ) -> Result<crate::types::ReadResourceResult> {
        let result = self.read_resource_with(uri, opts).await?;
        crate::types::decode("resources/read", "ReadResourceResult", result)
    }

    /// Every prompt, typed, following `nextCursor`: [`Client::list_prompts`] decoded into
    /// [`Prompt`](crate::types::Prompt)s (with their arguments).
    pub async fn prompts(&self) -> Result<Vec<crate::types::Prompt>> {
        self.prompts_with(RequestOptions::default()).await
    }

    /// [`Client::prompts`] with per-request options (applied to each page).
    pub async fn prompts_with(&self, opts: RequestOptions) -> Result<Vec<crate::types::Prompt>> {
        let prompts = self.list_prompts_with(opts).await?;
        crate::types::decode_list("prompts/list", "Prompt", prompts)
    }

    /// `prompts/get`, typed: `arguments` is anything that serializes to a JSON object of
    /// strings (a struct, a map, `serde_json::json!({..})`; `()` for none), and the result
    /// comes back as a [`GetPromptResult`](crate::types::GetPromptResult).
    ///
    /// Arguments that do not serialize to an object are an [`crate::Error::InvalidArgument`].
    pub async fn prompt(
        &self,
        name: &str,
        arguments: impl serde::Serialize,
    ) -> Result<crate::types::GetPromptResult> {
        self.prompt_with(name, arguments, RequestOptions::default())
            .await
    }

    /// [`Client::prompt`] with per-request options.
    pub async fn prompt_with(
        &self,
        name: &str,
        arguments: impl serde::Serialize,
        opts: RequestOptions,
    ) -> Result<crate::types::GetPromptResult> {
        let arguments = crate::types::arguments_object("prompt", name, arguments)?;
        let result = self.get_prompt_with(name, arguments, opts).await?;
        crate::types::decode("prompts/get", "GetPromptResult", result)
    }
}
