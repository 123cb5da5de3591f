//! The senders of every provider section, built once when the worker starts, and the
//! choice of sender for a subscription: its named provider's channel of its device type,
//! else the default section's.

use crate::apns::Apns;
use crate::config::{CustomHttpConfig, ProviderConfig, PushConfig};
use crate::fcm::Fcm;
use crate::template::Templates;
use chinwag_core::push::{DeviceType, Subscription};
use std::collections::HashMap;

/// One section's senders.
#[derive(Debug, Default)]
struct Section {
    customhttp: Option<CustomHttpConfig>,
    fcm: Option<Fcm>,
    apns: Option<Apns>,
    templates: Templates,
}

impl Section {
    fn new(c: &ProviderConfig) -> Self {
        Self {
            customhttp: c.customhttp.clone(),
            fcm: c.fcm.clone().map(Fcm::new),
            apns: c.ios.clone().map(Apns::new),
            templates: c.templates.clone(),
        }
    }

    fn route(&self, t: DeviceType) -> Option<Route<'_>> {
        match t {
            DeviceType::CustomHttp => self.customhttp.as_ref().map(Route::CustomHttp),
            DeviceType::Fcm => self.fcm.as_ref().map(Route::Fcm),
            DeviceType::Ios => self.apns.as_ref().map(Route::Apns),
        }
    }
}

/// Where one push goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Route<'a> {
    CustomHttp(&'a CustomHttpConfig),
    Fcm(&'a Fcm),
    Apns(&'a Apns),
}

/// Every section's senders.
#[derive(Debug, Default)]
pub(crate) struct Channels {
    default: Section,
    named: HashMap<String, Section>,
}

impl Channels {
    pub(crate) fn new(cfg: &PushConfig) -> Self {
        Self {
            default: Section::new(&cfg.default),
            named: cfg
                .providers
                .iter()
                .map(|(k, v)| (k.clone(), Section::new(v)))
                .collect(),
        }
    }

    fn named(&self, sub: &Subscription) -> Option<&Section> {
        sub.provider.as_deref().and_then(|p| self.named.get(p))
    }

    /// The sender for `sub`, if its channel is configured.
    pub(crate) fn route(&self, sub: &Subscription) -> Option<Route<'_>> {
        self.named(sub)
            .and_then(|s| s.route(sub.device_type))
            .or_else(|| self.default.route(sub.device_type))
    }

    /// The title/body overrides for `sub`: its provider's, then the default's.
    pub(crate) fn templates(&self, sub: &Subscription) -> (&Templates, &Templates) {
        let named = self.named(sub).unwrap_or(&self.default);
        (&named.templates, &self.default.templates)
    }
}
