//! Reading an upload's `multipart/form-data` body as it arrives, its parts in any order: text
//! fields go into a [`Form`] (their text bounded by the form limit); the file part
//! streams straight into [`Customers::upload`] when the fields before it already name the
//! chat, or else into an anonymous temporary file (bounded by the file size limit) that is
//! handed over once the whole form is read. [`finish`] then announces the stored file with
//! the form's `userData[file-description]` and other `userData`. A stored file whose request
//! fails afterwards is discarded, so nothing unannounced outlives its request.

use super::Owner;
use crate::body::{self, multipart_failed};
use crate::error::GmsError;
use crate::form::Form;
use axum::extract::Request;
use chinwag_core::CoreError;
use chinwag_core::files::{FileError, FileInfo};
use chinwag_core::roles::Customers;
use chinwag_core::roles::customers::ChatView;
use chinwag_core::roles::files::{FileBody, StagedFile};
use chinwag_http::multipart::Multipart;
use futures_util::StreamExt;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

/// `userData` key of the uploader's description, announced apart from the other data.
const DESCRIPTION: &str = "file-description";

/// When the owner of an upload is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The file part is arriving: `Ok(None)` if the fields so far do not name the chat yet.
    File,
    /// The whole form is read: the owner, or why there is none.
    Final,
}

/// Who an upload is for, from the form's fields.
pub(crate) type Resolve<'r> =
    dyn Fn(&Form, Stage) -> Result<Option<Owner>, GmsError> + Send + Sync + 'r;

/// The file of an upload request.
pub(crate) enum Received {
    /// Stored in the chat (not announced yet).
    Staged(Owner, StagedFile),
    /// Kept in a temporary file until the form named the chat.
    Spooled {
        /// The client's file name.
        name: String,
        /// The bytes, rewound.
        file: tokio::fs::File,
        /// How many.
        size: u64,
    },
}

/// A multipart request read whole: its fields and its file, if it had one.
pub(crate) struct Upload {
    /// Text fields.
    pub(crate) form: Form,
    /// The file part.
    pub(crate) file: Option<Received>,
}

/// Reads `req`'s multipart body: text within `text_limit` bytes in all, the file part (the
/// one named `file` with a file name; other file parts are skipped) into the chat or a
/// temporary file of at most `spool_limit` bytes.
pub(crate) async fn read(
    customers: &Customers,
    req: Request,
    text_limit: usize,
    spool_limit: u64,
    resolve: &Resolve<'_>,
) -> Result<Upload, GmsError> {
    let mut mp = body::multipart(req, text_limit)?;
    let mut up = Upload {
        form: Form::default(),
        file: None,
    };
    match read_parts(
        customers,
        &mut mp,
        &mut up,
        text_limit,
        spool_limit,
        resolve,
    )
    .await
    {
        Ok(()) => Ok(up),
        Err(e) => {
            discard(customers, up.file).await;
            Err(e)
        }
    }
}

/// Drops a file read for a request that failed.
pub(crate) async fn discard(customers: &Customers, file: Option<Received>) {
    if let Some(Received::Staged(_, staged)) = file {
        customers.discard(&staged).await;
    }
}

async fn read_parts(
    customers: &Customers,
    mp: &mut Multipart,
    up: &mut Upload,
    text_limit: usize,
    spool_limit: u64,
    resolve: &Resolve<'_>,
) -> Result<(), GmsError> {
    let mut budget = text_limit;
    loop {
        let part = match mp.next_part().await {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(()),
            Err(e) => return Err(multipart_failed(&e, text_limit)),
        };
        let Some(name) = part.name else {
            continue;
        };
        let Some(file_name) = part.file_name else {
            let text = body::text_field(mp, &mut budget, text_limit).await?;
            up.form.insert(name, text);
            continue;
        };
        if name != "file" {
            continue;
        }
        if up.file.is_some() {
            return Err(GmsError::invalid("one file per upload"));
        }
        up.file = Some(match resolve(&up.form, Stage::File)? {
            Some(owner) => {
                // The body's own failure (late, too large) is answered as such, not as the
                // engine's "did not arrive whole".
                let failure = std::sync::Mutex::new(None);
                let body = Box::pin(mp.data().map(|r| {
                    r.map_err(|e| {
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert_with(|| multipart_failed(&e, text_limit));
                        }
                        std::io::Error::other(e)
                    })
                }));
                let file = FileBody {
                    name: file_name,
                    length: None,
                    body,
                };
                let staged = customers.upload(owner.creds(), file).await;
                let failed = failure.lock().ok().and_then(|mut f| f.take());
                match (staged, failed) {
                    (Ok(staged), _) => Received::Staged(owner, staged),
                    // Past the file's cap is the client's doing whatever the body did next
                    // (the engine may read a chunk past the cap before it refuses).
                    (Err(e @ CoreError::File(FileError::FileTooLarge { .. })), _)
                    | (Err(e @ CoreError::File(FileError::TotalTooLarge { .. })), _) => {
                        return Err(e.into());
                    }
                    (Err(_), Some(body_error)) => return Err(body_error),
                    (Err(e), None) => return Err(e.into()),
                }
            }
            None => spool(mp, file_name, spool_limit).await?,
        });
    }
}

/// Writes the file part to an anonymous temporary file (gone when closed), refused past
/// `limit` bytes.
async fn spool(mp: &mut Multipart, name: String, limit: u64) -> Result<Received, GmsError> {
    let failed = |e: std::io::Error| {
        tracing::warn!(%e, "cannot keep an upload in a temporary file");
        GmsError::from(CoreError::Unavailable)
    };
    let std_file = tokio::task::spawn_blocking(tempfile::tempfile)
        .await
        .map_err(|e| failed(std::io::Error::other(e)))?
        .map_err(failed)?;
    let mut file = tokio::fs::File::from_std(std_file);
    let mut size: u64 = 0;
    while let Some(chunk) = mp
        .chunk()
        .await
        .map_err(|e| multipart_failed(&e, usize::try_from(limit).unwrap_or(usize::MAX)))?
    {
        size = size.saturating_add(chunk.len() as u64);
        if size > limit {
            return Err(CoreError::File(FileError::FileTooLarge { max: limit }).into());
        }
        file.write_all(&chunk).await.map_err(failed)?;
    }
    file.flush().await.map_err(failed)?;
    file.rewind().await.map_err(failed)?;
    Ok(Received::Spooled { name, file, size })
}

/// Stores (if it was spooled) and announces the file of `up`: the owner, the file and the
/// chat as it is now. Without a file: missing parameter `file`.
pub(crate) async fn finish(
    customers: &Customers,
    mut up: Upload,
    resolve: &Resolve<'_>,
) -> Result<(Owner, FileInfo, ChatView), GmsError> {
    let (owner, staged) = match up.file.take() {
        None => return Err(GmsError::missing("file")),
        Some(Received::Staged(owner, staged)) => (owner, staged),
        Some(Received::Spooled { name, file, size }) => {
            let owner =
                resolve(&up.form, Stage::Final)?.ok_or_else(|| GmsError::missing("secureKey"))?;
            let stream = tokio_util::io::ReaderStream::new(file);
            let file = FileBody {
                name,
                length: Some(size),
                body: Box::pin(stream),
            };
            let staged = customers.upload(owner.creds(), file).await?;
            (owner, staged)
        }
    };
    let description = up.form.user_data.remove(DESCRIPTION);
    let data = std::mem::take(&mut up.form.user_data);
    match customers
        .announce(owner.creds(), staged.clone(), description, data)
        .await
    {
        Ok((info, view)) => Ok((owner, info, view)),
        Err(e) => {
            customers.discard(&staged).await;
            Err(e.into())
        }
    }
}
