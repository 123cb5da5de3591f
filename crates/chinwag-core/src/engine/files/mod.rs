//! File transfer in a chat (Chat Server's file management): the limits and what the customer
//! used of them, uploads (staged: stored and scanned first, then announced with a
//! `FileUploaded` event), downloads (the customer's counted against `download-attempts`)
//! and deletes (a `FileDeleted` event, then the bytes). The same rules serve customers and
//! agents, with the differences of [`Uploader`]; each role's handle reaches them.
//!
//! Every file belongs to one chat: the blob store keeps it under the chat's id, and a file id
//! is looked up only in the transcript of the chat the caller was authorized for, so another
//! chat's file id finds nothing.

mod entry;
mod retention;
mod stage;

pub use stage::{FileBody, SCAN_TIMEOUT, StagedFile};

use super::{ChatEngine, Slot, lock};
use crate::error::CoreError;
use crate::event::{EventKind, UserData};
use crate::files::limits::{self, KEY_DESCRIPTION, KEY_ID, KEY_NAME, KEY_SIZE, KEY_TYPE};
use crate::files::{FileError, FileInfo, FileSettings};
use crate::ids::{AgentId, BlobId, ParticipantId};
use crate::ports::{BlobRead, BlobStore, FileScanner};
use crate::session::{CLIENT, Change, Session};
use crate::settings::ServiceSettings;
use stage::Bound;
use std::sync::Arc;

/// Who acts on a chat's files.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Uploader<'a> {
    /// The customer: bound by every limit; deletes only its own files.
    Customer,
    /// An agent in the chat: bound by the file size and type only; deletes any file.
    Agent(&'a AgentId),
}

impl ChatEngine {
    /// Sets where uploaded files are kept (once, before serving): without it every file
    /// operation is refused as disabled.
    pub fn set_blobs(&self, blobs: Arc<dyn BlobStore>) {
        let _ = self.blobs.set(blobs);
    }

    /// Sets the scan every upload passes before it is announced (once, before serving).
    pub fn set_scanner(&self, scanner: Arc<dyn FileScanner>) {
        let _ = self.scanner.set(scanner);
    }

    /// The largest `upload-max-file-size` of the services with file transfer on (0 if none).
    pub(crate) fn max_file_size(&self) -> u64 {
        self.services
            .values()
            .filter(|s| s.settings.files.enabled)
            .map(|s| s.settings.files.max_file_size)
            .max()
            .unwrap_or(0)
    }

    /// The blob store and the service's rules, if file transfer is on for it.
    fn file_rules<'s>(
        &'s self,
        service: &'s ServiceSettings,
    ) -> Result<(&'s Arc<dyn BlobStore>, &'s FileSettings), CoreError> {
        match self.blobs.get() {
            Some(b) if service.files.enabled => Ok((b, &service.files)),
            _ => Err(FileError::Disabled.into()),
        }
    }

    /// The `fileGetLimits` answer for the chat in `slot`: limits and usage, as strings.
    pub(crate) fn file_limits(
        &self,
        slot: &Slot,
        service: &ServiceSettings,
    ) -> Result<UserData, CoreError> {
        let (_, rules) = self.file_rules(service)?;
        let s = lock(&slot.state);
        Ok(limits::limits_data(rules, limits::usage(&s, rules)))
    }

    /// Stores an upload for the chat in `slot` (not announced yet; see [`StagedFile`]).
    pub(crate) async fn stage_file(
        &self,
        slot: &Slot,
        service: &ServiceSettings,
        who: Uploader<'_>,
        file: FileBody<'_>,
    ) -> Result<StagedFile, CoreError> {
        self.check_serving()?;
        let (blobs, rules) = self.file_rules(service)?;
        let (chat, cap) = {
            let s = lock(&slot.state);
            (s.record.chat_id.clone(), upload_cap(&s, rules, who)?)
        };
        // The chat's files are deleted with it, whatever happens next (even to this upload).
        self.keep_files_until_retention(&chat).await?;
        let scanner = self.scanner.get();
        let staged = stage::stage(blobs, scanner, &chat, file, cap, &rules.file_types).await?;
        metrics::counter!("chinwag_files_uploaded_bytes_total").increment(staged.size);
        Ok(staged)
    }

    /// Announces a staged file in its chat with a `FileUploaded` event carrying its details
    /// and the uploader's `data`; the limits are checked again (another upload may have
    /// finished meanwhile). A file refused here is deleted.
    pub(crate) async fn announce_file(
        &self,
        slot: &Slot,
        service: &ServiceSettings,
        who: Uploader<'_>,
        staged: StagedFile,
        description: Option<String>,
        data: UserData,
    ) -> Result<FileInfo, CoreError> {
        let (blobs, rules) = self.file_rules(service)?;
        crate::validate::user_data(&data, &service.limits)?;
        if let Some(d) = &description {
            crate::validate::text_len(d, service.max_message_length)?;
        }
        let now = self.now_ms();
        let announced = self
            .write(
                slot,
                |s| {
                    let from = participant(s, who)?;
                    let (cap, bound) = upload_cap(s, rules, who)?;
                    if staged.size > cap {
                        return Err(bound.error().into());
                    }
                    let mut details = data.clone();
                    details.insert(KEY_ID.into(), staged.id.to_string());
                    details.insert(KEY_NAME.into(), staged.name.clone());
                    details.insert(KEY_SIZE.into(), staged.size.to_string());
                    details.insert(KEY_TYPE.into(), staged.mime.into());
                    details.insert(
                        KEY_DESCRIPTION.into(),
                        description.clone().unwrap_or_default(),
                    );
                    let mut event = s
                        .event_from(from, EventKind::FileUploaded, None, now)
                        .ok_or(CoreError::NotInChat)?;
                    event.user_data = Some(Box::new(details));
                    Ok(Change {
                        events: vec![event],
                        record: None,
                    })
                },
                |s| s.events.last().and_then(FileInfo::of),
            )
            .await;
        match announced {
            Ok(Some(info)) => Ok(info),
            Ok(None) => Err(CoreError::Unavailable),
            Err(e) => {
                if let Err(del) = blobs.delete(&staged.chat, &staged.id).await {
                    tracing::warn!(%del, "a refused upload was not deleted; it goes with the chat's files");
                }
                Err(e)
            }
        }
    }

    /// Opens file `id` of the chat in `slot` for download; a customer's download is counted
    /// (in the chat's header) and refused past `download-attempts`.
    pub(crate) async fn download_file(
        &self,
        slot: &Slot,
        service: &ServiceSettings,
        who: Uploader<'_>,
        id: &BlobId,
    ) -> Result<(FileInfo, BlobRead), CoreError> {
        self.check_serving()?;
        let (blobs, rules) = self.file_rules(service)?;
        let (chat, info) = {
            let s = lock(&slot.state);
            participant(&s, who)?;
            let info = limits::find(&s, id).ok_or(FileError::NotFound)?;
            (s.record.chat_id.clone(), info)
        };
        let read = blobs.get(&chat, id).await.map_err(stage::blob_failure)?;
        if matches!(who, Uploader::Customer) {
            let max = rules.download_attempts;
            self.write(
                slot,
                |s| {
                    let mut record = s.record.clone();
                    let n = record.downloads.entry(id.to_string()).or_insert(0);
                    if *n >= max {
                        return Err(FileError::DownloadsUsed { max }.into());
                    }
                    *n += 1;
                    Ok(Change {
                        events: Vec::new(),
                        record: Some(record),
                    })
                },
                |_| (),
            )
            .await?;
        }
        Ok((info, read))
    }

    /// Deletes file `id` of the chat in `slot`: a `FileDeleted` event, then its bytes.
    pub(crate) async fn delete_file(
        &self,
        slot: &Slot,
        service: &ServiceSettings,
        who: Uploader<'_>,
        id: &BlobId,
    ) -> Result<FileInfo, CoreError> {
        self.check_serving()?;
        let (blobs, _) = self.file_rules(service)?;
        let now = self.now_ms();
        let mut found = None;
        let chat = self
            .write(
                slot,
                |s| {
                    if s.ended() {
                        return Err(CoreError::ChatEnded);
                    }
                    let from = participant(s, who)?;
                    let info = limits::find(s, id).ok_or(FileError::NotFound)?;
                    if matches!(who, Uploader::Customer) && !info.by_customer {
                        return Err(FileError::NotYours.into());
                    }
                    let mut event = s
                        .event_from(from, EventKind::FileDeleted, None, now)
                        .ok_or(CoreError::NotInChat)?;
                    let mut data = UserData::new();
                    data.insert(KEY_ID.into(), info.id.to_string());
                    data.insert(KEY_NAME.into(), info.name.clone());
                    event.user_data = Some(Box::new(data));
                    found = Some(info);
                    Ok(Change {
                        events: vec![event],
                        record: None,
                    })
                },
                |s| s.record.chat_id.clone(),
            )
            .await?;
        if let Err(e) = blobs.delete(&chat, id).await {
            tracing::warn!(chat = %chat.as_str(), %e, "a deleted file's bytes stay until the chat's files go");
        }
        found.ok_or_else(|| FileError::NotFound.into())
    }

    /// The files of the chat in `slot` not deleted, in upload order.
    pub(crate) fn list_files(&self, slot: &Slot) -> Vec<FileInfo> {
        limits::files(&lock(&slot.state))
    }
}

/// The participant `who` is in `s`, if present (the customer is, until the chat ends).
fn participant(s: &Session, who: Uploader<'_>) -> Result<ParticipantId, CoreError> {
    match who {
        Uploader::Customer => Ok(CLIENT),
        // A supervisor monitoring the chat reads its files, but adds or deletes none.
        Uploader::Agent(agent) => match s.agent_participant(agent) {
            Some(p) if p.party_type == crate::event::PartyType::Supervisor => {
                Err(CoreError::Monitoring)
            }
            Some(p) => Ok(p.id),
            None => Err(CoreError::NotInChat),
        },
    }
}

/// The cap on the next upload of `who` in `s` and the limit it comes from, or why none may
/// be made now.
fn upload_cap(
    s: &Session,
    rules: &FileSettings,
    who: Uploader<'_>,
) -> Result<(u64, Bound), CoreError> {
    if s.ended() {
        return Err(CoreError::ChatEnded);
    }
    participant(s, who)?;
    let file = (rules.max_file_size, Bound::File(rules.max_file_size));
    if matches!(who, Uploader::Agent(_)) {
        return Ok(file);
    }
    if rules.need_agent && s.present_agents().is_empty() {
        return Err(FileError::NeedAgent.into());
    }
    let used = limits::usage(s, rules);
    if used.files >= rules.max_files {
        return Err(FileError::TooManyFiles {
            max: rules.max_files,
        }
        .into());
    }
    let left = rules.max_total_size.saturating_sub(used.bytes);
    if left == 0 {
        return Err(FileError::TotalTooLarge {
            max: rules.max_total_size,
        }
        .into());
    }
    Ok(if left < rules.max_file_size {
        (left, Bound::Total(rules.max_total_size))
    } else {
        file
    })
}
