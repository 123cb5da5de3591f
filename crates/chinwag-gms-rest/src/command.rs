//! Each REST operation parsed from its form into a typed command for the engine.

use crate::error::GmsError;
use crate::form::Form;
use chinwag_core::ids::ServiceName;
use chinwag_core::roles::customers::{CustomerOp, NewChat, Selection};
use chinwag_gms_wire::position;

/// What a per-chat request asks of the engine.
#[derive(Debug)]
pub enum Action {
    /// GMS `refresh`: a read, with the customer's typing preview (`message`) when sent.
    Refresh {
        /// Typing preview.
        preview: Option<String>,
    },
    /// Any other operation.
    Op(CustomerOp),
}

/// A parsed per-chat request: the action and which events the answer carries.
#[derive(Debug)]
pub struct ChatCommand {
    /// The action.
    pub action: Action,
    /// Events to return.
    pub selection: Selection,
}

fn position(form: &Form) -> Result<Option<i64>, GmsError> {
    match form
        .get("transcriptPosition")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| GmsError::invalid("transcriptPosition must be an integer")),
    }
}

/// Which events the answer carries (`chinwag_gms_wire::position`).
fn selection(form: &Form) -> Result<Selection, GmsError> {
    position::selection(position(form)?).map_err(|e| GmsError::invalid(e.to_string()))
}

fn required(form: &Form, key: &str) -> Result<String, GmsError> {
    form.get(key)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| GmsError::missing(key))
}

fn optional(form: &Form, key: &str) -> Option<String> {
    form.get(key).map(str::to_owned)
}

fn attributes(form: &Form) -> Result<Option<serde_json::Value>, GmsError> {
    match form.get("eventAttributes").filter(|s| !s.trim().is_empty()) {
        None => Ok(None),
        Some(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(v @ serde_json::Value::Object(_)) => Ok(Some(v)),
            _ => Err(GmsError::invalid("eventAttributes must be a JSON object")),
        },
    }
}

/// Parses request-chat fields.
pub fn new_chat(service: ServiceName, mut form: Form) -> NewChat {
    let mut take = |k: &str| form.fields.remove(k);
    NewChat {
        service,
        nickname: take("nickname"),
        first_name: take("firstName"),
        last_name: take("lastName"),
        subject: take("subject"),
        email: take("emailAddress"),
        text: take("text"),
        user_data: std::mem::take(&mut form.user_data),
        origin: None,
    }
}

/// Parses a per-chat operation by its path name.
pub fn parse(op: &str, form: &mut Form) -> Result<ChatCommand, GmsError> {
    let sel = selection(form)?;
    if op == "refresh" {
        let preview = optional(form, "message");
        return Ok(ChatCommand {
            action: Action::Refresh { preview },
            selection: sel,
        });
    }
    let (op, selection) = match op {
        "send" => (
            CustomerOp::Send {
                text: required(form, "message")?,
                message_type: optional(form, "messageType").filter(|s| !s.is_empty()),
                attributes: attributes(form)?,
            },
            sel,
        ),
        "startTyping" => (
            CustomerOp::StartTyping {
                text: optional(form, "message"),
            },
            sel,
        ),
        "stopTyping" => (
            CustomerOp::StopTyping {
                text: optional(form, "message"),
            },
            sel,
        ),
        "disconnect" => (CustomerOp::Disconnect, Selection::Nothing),
        "pushUrl" => (
            CustomerOp::PushUrl {
                url: required(form, "pushUrl")?,
            },
            sel,
        ),
        "updateNickname" => {
            let nickname = form
                .get("nickname")
                .map(str::trim)
                .filter(|s| !s.is_empty());
            let nickname =
                nickname.ok_or_else(|| GmsError::bad_request(161, "nickname required"))?;
            (
                CustomerOp::UpdateNickname {
                    nickname: nickname.to_owned(),
                },
                sel,
            )
        }
        "customNotice" => (
            CustomerOp::CustomNotice {
                text: optional(form, "message"),
                attributes: attributes(form)?,
            },
            sel,
        ),
        "updateData" => (
            CustomerOp::UpdateData {
                data: std::mem::take(&mut form.user_data),
            },
            sel,
        ),
        "readReceipt" => {
            let index =
                position::receipt(position(form)?).map_err(|e| GmsError::invalid(e.to_string()))?;
            (CustomerOp::ReadReceipt { index }, Selection::Nothing)
        }
        other => return Err(GmsError::not_found(format!("unknown operation '{other}'"))),
    };
    Ok(ChatCommand {
        action: Action::Op(op),
        selection,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Form {
        Form::parse_urlencoded(body.as_bytes())
    }

    #[test]
    fn positions() -> Result<(), String> {
        let sel = |b: &str| {
            parse("refresh", &mut form(b))
                .map(|c| c.selection)
                .map_err(|e| e.advice)
        };
        assert_eq!(sel("")?, Selection::Nothing);
        assert_eq!(sel("transcriptPosition=0")?, Selection::Nothing);
        assert_eq!(sel("transcriptPosition=-1")?, Selection::Last);
        assert_eq!(
            sel("transcriptPosition=5")?,
            Selection::From(chinwag_core::ids::EventIndex(5))
        );
        assert!(sel("transcriptPosition=abc").is_err());
        assert!(sel("transcriptPosition=-7").is_err());
        Ok(())
    }

    #[test]
    fn required_fields() {
        assert_eq!(
            parse("send", &mut form("")).map(|_| ()).map_err(|e| e.code),
            Err(400)
        );
        assert_eq!(
            parse("pushUrl", &mut form(""))
                .map(|_| ())
                .map_err(|e| e.code),
            Err(400)
        );
        assert_eq!(
            parse("updateNickname", &mut form("nickname=+"))
                .map(|_| ())
                .map_err(|e| e.code),
            Err(161)
        );
        assert_eq!(
            parse("readReceipt", &mut form(""))
                .map(|_| ())
                .map_err(|e| e.code),
            Err(400)
        );
        assert_eq!(
            parse("nope", &mut form("")).map(|_| ()).map_err(|e| e.code),
            Err(404)
        );
        assert_eq!(
            parse("send", &mut form("message=x&eventAttributes=%5B1%5D"))
                .map(|_| ())
                .map_err(|e| e.code),
            Err(400)
        );
    }
}
