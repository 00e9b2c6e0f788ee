//! A channel's capture integration: which provider posts to it, the credentials its webhooks
//! are verified with (sealed with the master key, never shown) and the non-secret settings.

use crate::crypto::SecretCipher;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The providers a channel can capture from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Commlog's signed call-event JSON, for any PBX or softphone.
    Generic,
    /// Twilio-compatible voice and recording status callbacks.
    Twilio,
    /// FreeSWITCH `mod_xml_cdr`.
    FreeSwitch,
    /// Slack Events API.
    Slack,
    /// WhatsApp Business Cloud API.
    WhatsApp,
    /// Microsoft Graph change notifications for Teams chats.
    Teams,
}

impl Provider {
    pub const ALL: [Provider; 6] = [
        Self::Generic,
        Self::Twilio,
        Self::FreeSwitch,
        Self::Slack,
        Self::WhatsApp,
        Self::Teams,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generic => "generic",
            Self::Twilio => "twilio",
            Self::FreeSwitch => "freeswitch",
            Self::Slack => "slack",
            Self::WhatsApp => "whatsapp",
            Self::Teams => "teams",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The webhook paths this provider posts to, for a channel.
    pub fn endpoints(self, channel: Uuid) -> Vec<String> {
        match self {
            Self::Generic => vec![format!("/api/webhooks/calls/{channel}")],
            Self::Twilio => vec![
                format!("/api/webhooks/twilio/{channel}/voice"),
                format!("/api/webhooks/twilio/{channel}/recording"),
            ],
            other => vec![format!("/api/webhooks/{}/{channel}", other.as_str())],
        }
    }

    /// Origins recordings are fetched from without being configured.
    pub fn default_recording_origins(self) -> &'static [&'static str] {
        match self {
            Self::Twilio => &["https://api.twilio.com"],
            _ => &[],
        }
    }
}

/// What a provider's webhooks are verified with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// Generic: HMAC secret; Twilio: auth token; FreeSWITCH: basic-auth password; Slack:
    /// signing secret; WhatsApp: Meta app secret; Teams: the subscription's `clientState`.
    pub secret: String,
    /// FreeSWITCH: the basic-auth user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// WhatsApp: the verify token of the subscription handshake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_token: Option<String>,
}

/// A channel's non-secret integration settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The base URL the provider reaches Commlog at (`https://crm.example.com`); Twilio signs
    /// the full URL, so it is rebuilt from this, never from request headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// The provider's account this channel takes events from: Twilio `AccountSid`, Slack
    /// `team_id`, WhatsApp `phone_number_id`, Microsoft tenant id. Events of others are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Origins (`https://media.example.com`) recordings may be fetched from, besides the
    /// provider's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recording_origins: Vec<String>,
    /// FreeSWITCH: the PBX's time zone, for CDR times without an epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl Settings {
    pub fn from_value(v: &serde_json::Value) -> Self {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    /// Every origin a recording of this provider may come from.
    pub fn allowed_origins(&self, provider: Provider) -> Vec<String> {
        provider
            .default_recording_origins()
            .iter()
            .map(|s| (*s).to_owned())
            .chain(self.recording_origins.iter().cloned())
            .collect()
    }
}

fn context(channel_id: Uuid) -> String {
    format!("channel:{channel_id}:webhook_secret")
}

pub fn seal(cipher: &SecretCipher, channel_id: Uuid, c: &Credentials) -> String {
    let json = serde_json::to_string(c).unwrap_or_default();
    cipher.seal(&json, &context(channel_id))
}

/// Opens a channel's credentials. A channel configured before credentials had several parts
/// holds the bare secret.
pub fn open(cipher: &SecretCipher, channel_id: Uuid, sealed: &str) -> anyhow::Result<Credentials> {
    let plain = cipher.open(sealed, &context(channel_id))?;
    let text = plain.expose();
    Ok(serde_json::from_str(text).unwrap_or_else(|_| Credentials {
        secret: text.to_owned(),
        username: None,
        verify_token: None,
    }))
}
