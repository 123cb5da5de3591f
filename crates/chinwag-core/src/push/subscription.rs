//! A session's push subscription, read from its `userData`: the REST keys of the Chat
//! Server (`GCTI_Chat_PushSubscribe`, `GCTI_GMS_Push*`) or the CometD keys
//! (`push_notification_*`).

use crate::event::UserData;

/// Which API's keys created the subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// `GCTI_*` keys on a REST requestChat.
    Rest,
    /// `push_notification_*` keys on a CometD requestChat.
    Cometd,
}

/// A push channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceType {
    /// Firebase Cloud Messaging (HTTP v1).
    Fcm,
    /// Apple Push Notification service (HTTP/2 provider API).
    Ios,
    /// A POST of `{deviceId, message}` to a configured URL.
    CustomHttp,
}

impl DeviceType {
    /// The wire and configuration name (`fcm`, `ios`, `customhttp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fcm => "fcm",
            Self::Ios => "ios",
            Self::CustomHttp => "customhttp",
        }
    }

    /// Parses a name, ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fcm" => Some(Self::Fcm),
            "ios" => Some(Self::Ios),
            "customhttp" => Some(Self::CustomHttp),
            _ => None,
        }
    }
}

/// What a session asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Which keys created it.
    pub api: Api,
    /// Device id or provider token.
    pub device_id: String,
    /// Channel.
    pub device_type: DeviceType,
    /// Named provider section (`[push.provider.<name>]`), if any.
    pub provider: Option<String>,
    /// Use the provider's debug variant.
    pub debug: bool,
    /// Client language (reserved by GMS; kept for templates).
    pub language: Option<String>,
    /// REST `GCTI_GMS_PushIncludePayload`; CometD sessions follow the server option.
    pub include_payload: Option<bool>,
    /// Push the customer's own events too (`GCTI_GMS_NotifyRequestor`).
    pub notify_requestor: bool,
    /// Reliable delivery (`GCTI_GMS_PushResend`).
    pub resend: bool,
    /// `GCTI_GMS_ClientChannel`: the service name to fold into the pushed key.
    pub client_channel: Option<String>,
}

fn flag(data: &UserData, key: &str) -> bool {
    data.get(key)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn text(data: &UserData, key: &str) -> Option<String> {
    data.get(key)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl Subscription {
    /// Reads a subscription from `userData`. The CometD keys win when both sets are
    /// present; REST keys count only with `GCTI_Chat_PushSubscribe=true` and when the
    /// server allows subscribing on join (`flex-push-on-join`).
    pub fn from_user_data(data: &UserData, on_join: bool) -> Option<Self> {
        if let (Some(device_id), Some(kind)) = (
            text(data, "push_notification_deviceid"),
            text(data, "push_notification_type"),
        ) {
            return Some(Self {
                api: Api::Cometd,
                device_id,
                device_type: DeviceType::parse(&kind)?,
                provider: text(data, "push_notification_provider"),
                debug: flag(data, "push_notification_debug"),
                language: text(data, "push_notification_language"),
                include_payload: None,
                notify_requestor: false,
                resend: false,
                client_channel: None,
            });
        }
        if !on_join || !flag(data, "GCTI_Chat_PushSubscribe") {
            return None;
        }
        Some(Self {
            api: Api::Rest,
            device_id: text(data, "GCTI_GMS_PushDeviceId")?,
            device_type: DeviceType::parse(&text(data, "GCTI_GMS_PushDeviceType")?)?,
            provider: text(data, "GCTI_GMS_PushProvider"),
            debug: flag(data, "GCTI_GMS_PushDebug"),
            language: None,
            include_payload: Some(flag(data, "GCTI_GMS_PushIncludePayload")),
            notify_requestor: flag(data, "GCTI_GMS_NotifyRequestor"),
            resend: flag(data, "GCTI_GMS_PushResend"),
            client_channel: text(data, "GCTI_GMS_ClientChannel"),
        })
    }

    /// The ordering key: pushes to one device are delivered one after another.
    pub fn device_key(&self) -> String {
        format!("{}:{}", self.device_type.as_str(), self.device_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> UserData {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn rest_keys_need_subscribe_and_on_join() {
        let d = data(&[
            ("GCTI_Chat_PushSubscribe", "true"),
            ("GCTI_GMS_PushDeviceId", "dev1"),
            ("GCTI_GMS_PushDeviceType", "customhttp"),
            ("GCTI_GMS_PushResend", "TRUE"),
            ("GCTI_GMS_NotifyRequestor", "false"),
        ]);
        let s = Subscription::from_user_data(&d, true);
        assert!(s.as_ref().is_some_and(|s| s.resend && !s.notify_requestor));
        assert_eq!(
            s.map(|s| (s.api, s.device_key())),
            Some((Api::Rest, "customhttp:dev1".to_owned()))
        );
        assert_eq!(Subscription::from_user_data(&d, false), None);
        let mut off = d.clone();
        off.insert("GCTI_Chat_PushSubscribe".into(), "false".into());
        assert_eq!(Subscription::from_user_data(&off, true), None);
    }

    #[test]
    fn cometd_keys_need_a_known_type() {
        let d = data(&[
            ("push_notification_deviceid", "tok"),
            ("push_notification_type", "ios"),
            ("push_notification_debug", "true"),
            ("push_notification_provider", "acme"),
        ]);
        let s = Subscription::from_user_data(&d, false);
        assert_eq!(
            s.as_ref().map(|s| (s.api, s.device_type, s.debug)),
            Some((Api::Cometd, DeviceType::Ios, true))
        );
        assert_eq!(s.and_then(|s| s.provider), Some("acme".to_owned()));
        let bad = data(&[
            ("push_notification_deviceid", "tok"),
            ("push_notification_type", "pager"),
        ]);
        assert_eq!(Subscription::from_user_data(&bad, true), None);
    }
}
