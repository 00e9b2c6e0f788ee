//! Capture integrations: a channel's webhook (provider, credentials, settings), the company's
//! own phone numbers (never matched as customers) and the background jobs capture runs.

use crate::auth::Auth;
use crate::capture::fetch;
use crate::capture::integration::{self, Credentials, Provider, Settings};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use commlog_domain::phone::normalize_e164;
use commlog_domain::records::Job;
use commlog_domain::{JobStatus, Permission};
use commlog_ingest::tz::PbxTimeZone;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// `generic`, `twilio`, `freeswitch`, `slack`, `whatsapp` or `teams`.
    pub provider: String,
    /// Stored sealed, never shown again. generic: the HMAC secret; twilio: the auth token;
    /// freeswitch: the basic-auth password; slack: the signing secret; whatsapp: the Meta app
    /// secret; teams: the subscription's `clientState`.
    pub secret: String,
    /// freeswitch: the basic-auth user name.
    #[serde(default)]
    pub username: Option<String>,
    /// whatsapp: the verify token of Meta's subscription handshake.
    #[serde(default)]
    pub verify_token: Option<String>,
    /// twilio: the base URL Twilio calls Commlog at (`https://crm.example.com`).
    #[serde(default)]
    pub public_url: Option<String>,
    /// The provider account this channel takes events from: twilio `AccountSid` (required),
    /// slack `team_id` (required), whatsapp `phone_number_id`, teams tenant id.
    #[serde(default)]
    pub account: Option<String>,
    /// Origins recordings may be fetched from besides the provider's own
    /// (`https://media.example.com`).
    #[serde(default)]
    pub recording_origins: Vec<String>,
    /// freeswitch: the PBX's IANA time zone, for CDR times without an epoch.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookConfigured {
    pub provider: String,
    /// Where the provider posts (the first of `endpoints`).
    pub webhook_url: String,
    /// Every path this channel's provider posts to.
    pub endpoints: Vec<String>,
}

fn check_len(
    field: &str,
    value: &str,
    range: std::ops::RangeInclusive<usize>,
) -> Result<(), ApiError> {
    if range.contains(&value.chars().count()) && !value.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(ApiError::field(
            field,
            "invalid_length",
            format!(
                "must be {} to {} characters, without control characters",
                range.start(),
                range.end()
            ),
        ))
    }
}

fn required<'a>(
    field: &str,
    value: &'a Option<String>,
    provider: Provider,
) -> Result<&'a str, ApiError> {
    value.as_deref().ok_or_else(|| {
        ApiError::field(
            field,
            "required",
            format!("the {} provider needs {field}", provider.as_str()),
        )
    })
}

/// Checks a request against what its provider needs and splits it into sealed credentials and
/// plain settings.
fn validate(req: WebhookSettings) -> Result<(Provider, Credentials, Settings), ApiError> {
    let provider = Provider::parse(&req.provider).ok_or_else(|| {
        ApiError::field(
            "provider",
            "unknown_provider",
            "supported: generic, twilio, freeswitch, slack, whatsapp, teams",
        )
    })?;
    let secret_range = if provider == Provider::Teams {
        16..=128
    } else {
        16..=256
    };
    check_len("secret", &req.secret, secret_range)?;
    match provider {
        Provider::Twilio => {
            let url = required("public_url", &req.public_url, provider)?;
            let parsed = url::Url::parse(url).ok().filter(|u| {
                matches!(u.scheme(), "https" | "http")
                    && u.host().is_some()
                    && u.query().is_none()
                    && u.fragment().is_none()
                    && u.username().is_empty()
            });
            if parsed.is_none() {
                return Err(ApiError::field(
                    "public_url",
                    "invalid_url",
                    "an http(s) base URL without query, fragment or user info",
                ));
            }
            let sid = required("account", &req.account, provider)?;
            let valid_sid = sid.len() == 34
                && sid.starts_with("AC")
                && sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
            if !valid_sid {
                return Err(ApiError::field(
                    "account",
                    "invalid_account",
                    "a Twilio AccountSid: AC and 32 hexadecimal digits",
                ));
            }
        }
        Provider::FreeSwitch => {
            let user = required("username", &req.username, provider)?;
            check_len("username", user, 1..=100)?;
            if user.contains(':') {
                return Err(ApiError::field(
                    "username",
                    "invalid_username",
                    "a basic-auth user name cannot contain ':'",
                ));
            }
            if let Some(tz) = &req.timezone {
                PbxTimeZone::iana(tz)
                    .map_err(|e| ApiError::field("timezone", "unknown_timezone", e.to_string()))?;
            }
        }
        Provider::Slack => {
            check_len(
                "account",
                required("account", &req.account, provider)?,
                1..=64,
            )?;
        }
        Provider::WhatsApp => {
            check_len(
                "verify_token",
                required("verify_token", &req.verify_token, provider)?,
                8..=256,
            )?;
        }
        Provider::Generic | Provider::Teams => {}
    }
    if let Some(a) = &req.account {
        check_len("account", a, 1..=128)?;
    }
    if req.recording_origins.len() > 10 {
        return Err(ApiError::field(
            "recording_origins",
            "too_many",
            "at most 10 origins",
        ));
    }
    let mut origins = Vec::new();
    for (i, o) in req.recording_origins.iter().enumerate() {
        let url = url::Url::parse(o).ok().filter(|u| {
            matches!(u.scheme(), "https" | "http") && u.path() == "/" && u.query().is_none()
        });
        let origin = url.as_ref().and_then(fetch::origin).ok_or_else(|| {
            ApiError::field(
                &format!("recording_origins[{i}]"),
                "invalid_origin",
                "an origin: scheme://host[:port]",
            )
        })?;
        origins.push(origin);
    }
    let credentials = Credentials {
        secret: req.secret,
        username: req.username,
        verify_token: req.verify_token,
    };
    let settings = Settings {
        public_url: req.public_url.map(|u| u.trim_end_matches('/').to_owned()),
        account: req.account,
        recording_origins: origins,
        timezone: req.timezone,
    };
    Ok((provider, credentials, settings))
}

/// Configure the capture webhook of a channel (managers and admins).
#[utoipa::path(put, path = "/api/channel-configurations/{id}/webhook/", tag = "capture", params(("id" = Uuid, Path)),
    request_body = WebhookSettings, responses((status = 200, body = WebhookConfigured), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn configure_channel_webhook(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<WebhookSettings>,
) -> ApiResult<Json<WebhookConfigured>> {
    auth.require(Permission::ManageChannels)?;
    let (provider, credentials, settings) = validate(req)?;
    let sealed = integration::seal(&app.cipher, id, &credentials);
    let settings_json = serde_json::to_value(&settings).map_err(ApiError::internal)?;
    app.store
        .set_channel_webhook(&auth.scope, id, provider.as_str(), &sealed, &settings_json)
        .await?;
    let endpoints = provider.endpoints(id);
    Ok(Json(WebhookConfigured {
        provider: provider.as_str().into(),
        webhook_url: endpoints[0].clone(),
        endpoints,
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnNumbers {
    /// The company's own phone numbers (E.164, or national in the company's country).
    pub numbers: Vec<String>,
}

/// The company's own phone numbers: calls are never matched to a customer through them.
#[utoipa::path(get, path = "/api/company/own-numbers/", tag = "capture",
    responses((status = 200, body = OwnNumbers)), security(("bearer" = [])))]
pub async fn get_own_numbers(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<OwnNumbers>> {
    auth.require(Permission::ReadReferenceData)?;
    Ok(Json(OwnNumbers {
        numbers: app.store.own_numbers(&auth.scope).await?,
    }))
}

/// Replace the company's own phone numbers (managers and admins).
#[utoipa::path(put, path = "/api/company/own-numbers/", tag = "capture", request_body = OwnNumbers,
    responses((status = 200, body = OwnNumbers)), security(("bearer" = [])))]
pub async fn set_own_numbers(
    State(app): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<OwnNumbers>,
) -> ApiResult<Json<OwnNumbers>> {
    auth.require(Permission::ManageChannels)?;
    let country = app
        .store
        .get_company(&auth.scope)
        .await?
        .default_country_code;
    let mut numbers = Vec::with_capacity(req.numbers.len());
    for (i, n) in req.numbers.iter().enumerate() {
        let e164 = normalize_e164(n, country.as_deref())
            .map_err(|m| ApiError::field(&format!("numbers[{i}]"), "invalid_phone", m))?;
        numbers.push(e164);
    }
    Ok(Json(OwnNumbers {
        numbers: app.store.set_own_numbers(&auth.scope, &numbers).await?,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Only jobs in this state (`dead` lists what needs a person).
    pub status: Option<JobStatus>,
    /// At most this many, newest first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// The company's background jobs (admins).
#[utoipa::path(get, path = "/api/jobs/", tag = "capture", params(JobQuery),
    responses((status = 200, body = Vec<Job>)), security(("bearer" = [])))]
pub async fn list_jobs(
    State(app): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> ApiResult<Json<Vec<Job>>> {
    auth.require(Permission::ManageIntegrations)?;
    let limit = crate::extract::list_limit(q.limit)?;
    Ok(Json(
        app.store.list_jobs(&auth.scope, q.status, limit).await?,
    ))
}

/// Queue a dead job again (admins).
#[utoipa::path(post, path = "/api/jobs/{id}/retry/", tag = "capture", params(("id" = Uuid, Path)),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn retry_job(
    State(app): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Job>> {
    auth.require(Permission::ManageIntegrations)?;
    let job = app.store.retry_job(&auth.scope, id).await?;
    app.jobs.notify_one();
    Ok(Json(job))
}
