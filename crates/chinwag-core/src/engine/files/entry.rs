//! Where each role reaches the file rules: a customer by its credentials (checked, and the
//! request admitted under the service's rate limits, like any other operation), an agent by
//! being logged in and present in the chat. Each call finds the chat and its service, then
//! hands over to the rules in `mod.rs`.

use super::{FileBody, StagedFile, Uploader};
use crate::ChatEngine;
use crate::engine::view::{ChatView, Selection};
use crate::engine::{Slot, lock};
use crate::error::CoreError;
use crate::event::UserData;
use crate::files::{FileError, FileInfo};
use crate::ids::{AgentId, BlobId, ChatId};
use crate::ports::BlobRead;
use crate::roles::customers::Credentials;
use crate::settings::ServiceSettings;
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl ChatEngine {
    /// The customer's chat and service, with the request admitted and seen.
    async fn customer_files(
        &self,
        creds: Credentials<'_>,
    ) -> Result<(Arc<Slot>, &ServiceSettings), CoreError> {
        let service = self.admit_customer(creds)?;
        let slot = self.authorize(creds, true).await?;
        slot.client_seen_ms.store(self.now_ms(), Ordering::Relaxed);
        if service.maintenance {
            return Err(CoreError::Unavailable);
        }
        Ok((slot, service))
    }

    /// The chat as the customer sees it now, with no events (what file answers carry).
    fn bare_view(&self, slot: &Slot, service: &ServiceSettings) -> ChatView {
        let budget = service.limits.max_response_bytes;
        ChatView::of(&lock(&slot.state), Selection::Nothing, budget)
    }

    pub(crate) async fn customer_file_limits(
        &self,
        creds: Credentials<'_>,
    ) -> Result<(UserData, ChatView), CoreError> {
        let (slot, service) = self.customer_files(creds).await?;
        let data = self.file_limits(&slot, service)?;
        Ok((data, self.bare_view(&slot, service)))
    }

    pub(crate) async fn customer_upload(
        &self,
        creds: Credentials<'_>,
        file: FileBody<'_>,
    ) -> Result<StagedFile, CoreError> {
        let (slot, service) = self.customer_files(creds).await?;
        self.stage_file(&slot, service, Uploader::Customer, file)
            .await
    }

    pub(crate) async fn customer_announce(
        &self,
        creds: Credentials<'_>,
        staged: StagedFile,
        description: Option<String>,
        data: UserData,
    ) -> Result<(FileInfo, ChatView), CoreError> {
        if staged.chat != *creds.chat_id {
            return Err(FileError::NotFound.into());
        }
        let (slot, service) = self.customer_files(creds).await?;
        let info = self
            .announce_file(
                &slot,
                service,
                Uploader::Customer,
                staged,
                description,
                data,
            )
            .await?;
        Ok((info, self.bare_view(&slot, service)))
    }

    /// Deletes a staged file its adapter will not announce (the rest of its request failed).
    pub(crate) async fn discard_staged(&self, staged: &StagedFile) {
        if let Some(blobs) = self.blobs.get()
            && let Err(e) = blobs.delete(&staged.chat, &staged.id).await
        {
            tracing::warn!(chat = %staged.chat.as_str(), %e, "a discarded upload stays until the chat's files go");
        }
    }

    pub(crate) async fn customer_download(
        &self,
        creds: Credentials<'_>,
        id: &BlobId,
    ) -> Result<(FileInfo, BlobRead), CoreError> {
        let (slot, service) = self.customer_files(creds).await?;
        self.download_file(&slot, service, Uploader::Customer, id)
            .await
    }

    pub(crate) async fn customer_delete_file(
        &self,
        creds: Credentials<'_>,
        id: &BlobId,
    ) -> Result<(FileInfo, ChatView), CoreError> {
        let (slot, service) = self.customer_files(creds).await?;
        let info = self
            .delete_file(&slot, service, Uploader::Customer, id)
            .await?;
        Ok((info, self.bare_view(&slot, service)))
    }

    /// The chat `agent` is in, and its service.
    async fn agent_files(
        &self,
        agent: &AgentId,
        chat: &ChatId,
    ) -> Result<(Arc<Slot>, &ServiceSettings), CoreError> {
        self.require_login(agent).await?;
        let slot = self.fresh_slot(chat).await?.ok_or(CoreError::NotInChat)?;
        let service = {
            let s = lock(&slot.state);
            if s.agent_participant(agent).is_none() {
                return Err(CoreError::NotInChat);
            }
            s.record.service.clone()
        };
        let service = self
            .service(service.as_str())
            .ok_or(CoreError::UnknownService)?;
        Ok((slot, service))
    }

    pub(crate) async fn agent_list_files(
        &self,
        agent: &AgentId,
        chat: &ChatId,
    ) -> Result<Vec<FileInfo>, CoreError> {
        let (slot, _) = self.agent_files(agent, chat).await?;
        Ok(self.list_files(&slot))
    }

    pub(crate) async fn agent_upload(
        &self,
        agent: &AgentId,
        chat: &ChatId,
        file: FileBody<'_>,
        description: Option<String>,
        data: UserData,
    ) -> Result<FileInfo, CoreError> {
        let (slot, service) = self.agent_files(agent, chat).await?;
        let who = Uploader::Agent(agent);
        let staged = self.stage_file(&slot, service, who, file).await?;
        self.announce_file(&slot, service, who, staged, description, data)
            .await
    }

    pub(crate) async fn agent_download(
        &self,
        agent: &AgentId,
        chat: &ChatId,
        id: &BlobId,
    ) -> Result<(FileInfo, BlobRead), CoreError> {
        let (slot, service) = self.agent_files(agent, chat).await?;
        self.download_file(&slot, service, Uploader::Agent(agent), id)
            .await
    }

    pub(crate) async fn agent_delete_file(
        &self,
        agent: &AgentId,
        chat: &ChatId,
        id: &BlobId,
    ) -> Result<FileInfo, CoreError> {
        let (slot, service) = self.agent_files(agent, chat).await?;
        self.delete_file(&slot, service, Uploader::Agent(agent), id)
            .await
    }
}
