//! File transfer as each role sees it. A customer's upload comes in two steps, because a
//! multipart request may send its `userData` after the file: [`Customers::upload`] stores the
//! bytes (checked and scanned), [`Customers::announce`] puts the file in the transcript with
//! its description and data (or [`Customers::discard`] drops it). An agent sends both at once.

use super::Agents;
use super::customers::{ChatView, Credentials, Customers};
use crate::error::CoreError;
use crate::event::UserData;
use crate::files::FileInfo;
use crate::ids::{AgentId, BlobId, ChatId};
use crate::ports::BlobRead;

pub use crate::engine::{FileBody, StagedFile};

impl Customers {
    /// The service's file limits and what this chat used of them (`fileGetLimits`), as the
    /// strings clients read, with the chat as it is now.
    pub async fn file_limits(
        &self,
        creds: Credentials<'_>,
    ) -> Result<(UserData, ChatView), CoreError> {
        self.engine.customer_file_limits(creds).await
    }

    /// Stores an upload, refused at the first byte past what the limits leave, by its
    /// content's type, or by the scan hook. Nobody sees it until it is announced.
    pub async fn upload(
        &self,
        creds: Credentials<'_>,
        file: FileBody<'_>,
    ) -> Result<StagedFile, CoreError> {
        self.engine.customer_upload(creds, file).await
    }

    /// Announces a stored upload with a `FileUploaded` event (limits checked again).
    pub async fn announce(
        &self,
        creds: Credentials<'_>,
        staged: StagedFile,
        description: Option<String>,
        data: UserData,
    ) -> Result<(FileInfo, ChatView), CoreError> {
        self.engine
            .customer_announce(creds, staged, description, data)
            .await
    }

    /// Drops a stored upload that will not be announced.
    pub async fn discard(&self, staged: &StagedFile) {
        self.engine.discard_staged(staged).await;
    }

    /// Opens a file of the chat for download (counted against `download-attempts`).
    pub async fn download(
        &self,
        creds: Credentials<'_>,
        id: &BlobId,
    ) -> Result<(FileInfo, BlobRead), CoreError> {
        self.engine.customer_download(creds, id).await
    }

    /// Deletes one of the customer's own files (a `FileDeleted` event).
    pub async fn delete_file(
        &self,
        creds: Credentials<'_>,
        id: &BlobId,
    ) -> Result<(FileInfo, ChatView), CoreError> {
        self.engine.customer_delete_file(creds, id).await
    }
}

impl Agents {
    /// The largest `upload-max-file-size` of the services with file transfer on (0 when
    /// none is): the most an adapter need let one upload request carry, besides its overhead.
    pub fn max_file_size(&self) -> u64 {
        self.engine.max_file_size()
    }

    /// The files of a chat the agent is in, not deleted, in upload order.
    pub async fn files(&self, agent: &AgentId, chat: &ChatId) -> Result<Vec<FileInfo>, CoreError> {
        self.engine.agent_list_files(agent, chat).await
    }

    /// Uploads a file into a chat the agent is in and announces it.
    pub async fn upload(
        &self,
        agent: &AgentId,
        chat: &ChatId,
        file: FileBody<'_>,
        description: Option<String>,
        data: UserData,
    ) -> Result<FileInfo, CoreError> {
        self.engine
            .agent_upload(agent, chat, file, description, data)
            .await
    }

    /// Opens a file of a chat the agent is in (not counted).
    pub async fn download(
        &self,
        agent: &AgentId,
        chat: &ChatId,
        id: &BlobId,
    ) -> Result<(FileInfo, BlobRead), CoreError> {
        self.engine.agent_download(agent, chat, id).await
    }

    /// Deletes any file of a chat the agent is in.
    pub async fn delete_file(
        &self,
        agent: &AgentId,
        chat: &ChatId,
        id: &BlobId,
    ) -> Result<FileInfo, CoreError> {
        self.engine.agent_delete_file(agent, chat, id).await
    }
}
