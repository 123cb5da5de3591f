//! The JSON answers of the file operations: the envelope of every other answer (REST: the
//! chat's ids; chat-ntf: the CometD key with the deprecated ids' placeholders, as CometD
//! notifications carry them) with no events, plus what each operation returns:
//!
//! - limits: the limits and usage, as strings, in the top-level `userData` **and** in
//!   `messages[0].userData` (clients read one or the other); `messages[0]` carries nothing
//!   else (it is no transcript event: no `index`, no `type`);
//! - upload: `userData` with the new `file-id`;
//! - delete: the envelope alone.

use chinwag_core::event::UserData;
use chinwag_core::files::FileInfo;
use chinwag_core::roles::customers::ChatView;
use chinwag_gms_wire::envelope::Envelope;
use chinwag_gms_wire::notification::Notification;
use serde_json::{Value, json};

/// The envelope for `view`: REST, or chat-ntf when `wire` (the CometD key) is given.
fn base(view: &ChatView, wire: Option<&str>) -> Value {
    let v = match wire {
        Some(key) => serde_json::to_value(Notification::ok(
            [],
            Some(key),
            view.ended,
            view.monitored,
            None,
        )),
        None => serde_json::to_value(Envelope::of(view, true)),
    };
    v.unwrap_or_else(|_| json!({"statusCode": 1}))
}

/// The `fileGetLimits` answer.
pub(crate) fn limits(view: &ChatView, wire: Option<&str>, data: &UserData) -> String {
    let mut v = base(view, wire);
    v["messages"] = json!([{ "userData": data }]);
    v["userData"] = json!(data);
    v.to_string()
}

/// The upload answer.
pub(crate) fn uploaded(view: &ChatView, wire: Option<&str>, info: &FileInfo) -> String {
    let mut v = base(view, wire);
    v["userData"] = json!({ "file-id": info.id.as_str() });
    v.to_string()
}

/// The delete answer.
pub(crate) fn deleted(view: &ChatView, wire: Option<&str>) -> String {
    base(view, wire).to_string()
}
