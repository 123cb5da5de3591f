//! A service's file-transfer rules (Chat Server's file limits, as the `fileGetLimits`
//! answer names them) and what a chat has used of them, read from its transcript: each
//! `FileUploaded` event carries the file's details in its `userData` (the keys below), each
//! `FileDeleted` names the file it removed, and the chat's header counts the customer's
//! downloads per file. Nothing else is kept, so usage survives a restart with the chat.

use crate::event::{Event, EventKind, PartyType, UserData};
use crate::ids::{BlobId, ParticipantId};
use crate::session::Session;

/// `userData` key of a file's id.
pub const KEY_ID: &str = "file-id";
/// `userData` key of a file's (sanitised) name.
pub const KEY_NAME: &str = "file-name";
/// `userData` key of a file's size in bytes (decimal).
pub const KEY_SIZE: &str = "file-size";
/// `userData` key of a file's MIME type, as judged from its content.
pub const KEY_TYPE: &str = "file-type";
/// `userData` key of the uploader's description.
pub const KEY_DESCRIPTION: &str = "file-description";

/// A service's file-transfer rules.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// Off: every file operation is refused (and `fileGetLimits` says so).
    pub enabled: bool,
    /// `upload-max-file-size`: largest single file, in bytes.
    pub max_file_size: u64,
    /// `upload-max-files`: files the customer may upload in one chat.
    pub max_files: u32,
    /// `upload-max-total-size`: bytes the customer may upload in one chat, all files together.
    pub max_total_size: u64,
    /// `upload-file-types`: allowed extensions, colon-delimited (`jpg:png:pdf`).
    pub file_types: String,
    /// `download-attempts`: times the customer may download one file.
    pub download_attempts: u32,
    /// `upload-need-agent`: the customer may upload only while an agent is in the chat.
    pub need_agent: bool,
    /// `delete-file`: deleting a file gives its slot in `upload-max-files` back.
    pub delete_gives_slot: bool,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            max_file_size: 10 << 20,
            max_files: 10,
            max_total_size: 50 << 20,
            file_types: "jpg:jpeg:png:gif:webp:bmp:pdf:txt:docx:xlsx:pptx:doc:xls".into(),
            download_attempts: 10,
            need_agent: true,
            delete_gives_slot: true,
        }
    }
}

/// One file of a chat, as its `FileUploaded` event describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The file's id (its blob's).
    pub id: BlobId,
    /// Safe name to offer it under.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type, from its content.
    pub mime: String,
    /// The uploader's description (may be empty).
    pub description: String,
    /// Who uploaded it.
    pub owner: ParticipantId,
    /// Whether the uploader was the customer.
    pub by_customer: bool,
    /// The uploader's kind of party (an agent's upload may be a supervisor's).
    pub party_type: PartyType,
    /// Index of its `FileUploaded` event.
    pub index: crate::ids::EventIndex,
    /// Every `userData` key of the event (the details above and the uploader's own keys).
    pub user_data: UserData,
}

impl FileInfo {
    /// The file an event announces, if it is a well-formed `FileUploaded`.
    pub fn of(event: &Event) -> Option<Self> {
        if event.kind != EventKind::FileUploaded {
            return None;
        }
        let data = event.user_data.as_deref()?;
        let get = |k: &str| data.get(k).cloned().unwrap_or_default();
        Some(Self {
            id: BlobId::parse(data.get(KEY_ID)?)?,
            name: get(KEY_NAME),
            size: data.get(KEY_SIZE)?.parse().ok()?,
            mime: get(KEY_TYPE),
            description: get(KEY_DESCRIPTION),
            owner: event.from.participant_id,
            by_customer: event.from.party_type == PartyType::Client,
            party_type: event.from.party_type,
            index: event.index,
            user_data: data.clone(),
        })
    }
}

/// The id an event of `kind` `FileDeleted` removed.
fn deleted_id(event: &Event) -> Option<BlobId> {
    (event.kind == EventKind::FileDeleted)
        .then(|| {
            event
                .user_data
                .as_deref()?
                .get(KEY_ID)
                .and_then(|i| BlobId::parse(i))
        })
        .flatten()
}

/// What a chat's customer has used of its service's limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileUsage {
    /// `used-upload-max-files`: uploads counted against `upload-max-files` (a deleted one
    /// no longer counts when `delete-file` is on).
    pub files: u32,
    /// `used-upload-max-total-size`: bytes of every upload the customer made.
    pub bytes: u64,
    /// `used-download-attempts`: the customer's downloads, all files together.
    pub downloads: u32,
}

/// The files of `s` not deleted, in upload order.
pub fn files(s: &Session) -> Vec<FileInfo> {
    let mut out: Vec<FileInfo> = Vec::new();
    for e in &s.events {
        if let Some(f) = FileInfo::of(e) {
            out.push(f);
        } else if let Some(gone) = deleted_id(e) {
            out.retain(|f| f.id != gone);
        }
    }
    out
}

/// The file `id` of `s`, if it was uploaded there and not deleted.
pub fn find(s: &Session, id: &BlobId) -> Option<FileInfo> {
    files(s).into_iter().find(|f| &f.id == id)
}

/// What the customer of `s` has used, under `rules`.
pub fn usage(s: &Session, rules: &FileSettings) -> FileUsage {
    let mut u = FileUsage::default();
    let mut mine: Vec<BlobId> = Vec::new();
    for e in &s.events {
        if let Some(f) = FileInfo::of(e).filter(|f| f.by_customer) {
            u.files += 1;
            u.bytes = u.bytes.saturating_add(f.size);
            mine.push(f.id);
        } else if let Some(gone) = deleted_id(e)
            && rules.delete_gives_slot
            && mine.contains(&gone)
        {
            mine.retain(|m| *m != gone);
            u.files = u.files.saturating_sub(1);
        }
    }
    u.downloads = s.record.downloads.values().sum();
    u
}

/// The `fileGetLimits` keys and values (strings, as clients parse them), limits first.
pub fn limits_data(rules: &FileSettings, used: FileUsage) -> UserData {
    let flag = |b: bool| if b { "true" } else { "false" }.to_owned();
    [
        ("download-attempts", rules.download_attempts.to_string()),
        ("upload-max-files", rules.max_files.to_string()),
        ("upload-max-file-size", rules.max_file_size.to_string()),
        ("upload-max-total-size", rules.max_total_size.to_string()),
        ("upload-need-agent", flag(rules.need_agent)),
        ("upload-file-types", rules.file_types.clone()),
        ("used-upload-max-files", used.files.to_string()),
        ("used-upload-max-total-size", used.bytes.to_string()),
        ("used-download-attempts", used.downloads.to_string()),
        ("delete-file", flag(rules.delete_gives_slot)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
