//! Webhooks (API.md "Events", way out 3): admin-registered endpoints that
//! receive the events they subscribe to as signed HTTP POSTs.
//!
//! The [`dispatch`]er follows the event log in commit order and records one
//! delivery per (endpoint, event) as it moves its position, in one statement;
//! each enabled endpoint then has a [`sender`] task of its own, so a slow or
//! dead endpoint never delays another, and the order write never waits on any.
//! Deliveries follow Standard Webhooks ([`signature`]); a failed attempt is
//! retried with exponential backoff and jitter until its delivery is a day
//! old, then marked failed; an endpoint failing for three days is disabled,
//! with the reason on the endpoint. [`store`] keeps endpoints and deliveries;
//! [`routes`] serves `/v1/webhooks`.

pub mod dispatch;
pub mod routes;
pub mod sender;
pub mod signature;
pub mod store;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::events::EventType;
use crate::http::error::ApiError;

/// How deliveries are paced; [`Settings::from_env`] for a deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The wait before the first retry; each later wait is [`BACKOFF_FACTOR`]
    /// times the one before (each shortened by up to a quarter, at random).
    pub first_retry: Duration,
    /// The longest wait between two attempts.
    pub max_retry: Duration,
    /// A delivery not delivered this long after its event is marked failed.
    pub give_up_after: Duration,
    /// An endpoint whose every attempt failed for this long is disabled.
    pub disable_after: Duration,
    /// An attempt that has no answer by then has failed.
    pub timeout: Duration,
    /// Attempts in flight to one endpoint at once.
    pub concurrency: usize,
    /// Hosts deliveries may go to (`*.example.com` matches its subdomains);
    /// `None` allows any. Production deployments should set it, so a webhook
    /// cannot reach internal addresses.
    pub allowed_hosts: Option<Vec<String>>,
}

/// Each retry waits this many times longer than the one before.
pub const BACKOFF_FACTOR: u32 = 6;

impl Default for Settings {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(5),
            max_retry: Duration::from_secs(4 * 3600),
            give_up_after: Duration::from_secs(24 * 3600),
            disable_after: Duration::from_secs(3 * 24 * 3600),
            timeout: Duration::from_secs(10),
            concurrency: 16,
            allowed_hosts: None,
        }
    }
}

impl Settings {
    /// The defaults, with `ORDERSEARCH_WEBHOOK_ALLOWED_HOSTS` (comma-separated)
    /// as the allow-list when set.
    pub fn from_env() -> Self {
        let allowed_hosts = std::env::var("ORDERSEARCH_WEBHOOK_ALLOWED_HOSTS")
            .ok()
            .map(|hosts| {
                hosts
                    .split(',')
                    .map(|host| host.trim().to_ascii_lowercase())
                    .filter(|host| !host.is_empty())
                    .collect()
            });
        Self {
            allowed_hosts,
            ..Self::default()
        }
    }

    /// The wait after the `attempts`-th failed attempt, before jitter.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(0);
        self.first_retry
            .saturating_mul(BACKOFF_FACTOR.saturating_pow(exponent))
            .min(self.max_retry)
    }
}

/// The types an endpoint receives: every type, or the ones listed.
pub const EVERY_TYPE: &str = "*";

/// An endpoint as the API shows it (never with its secret).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    /// Event types delivered; `["*"]` for every type.
    pub types: Vec<String>,
    /// Only this store's events; `null` for every store.
    pub store: Option<String>,
    pub description: Option<String>,
    /// `enabled`, `paused` (deliveries wait, sent on resume) or `disabled`
    /// (nothing is collected; see `disabled_reason`).
    #[schema(example = "enabled")]
    pub status: String,
    /// Why the service disabled it.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; `null` while it is healthy.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; the `ETag` an `If-Match` names.
    pub version: i32,
}

/// An endpoint with its signing secret: the answer to creation and rotation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_…`: shown only now. The receiver verifies `webhook-signature`
    /// with the base64-decoded part after `whsec_`.
    pub secret: String,
}

/// `POST /v1/webhooks`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// An `http` or `https` URL without credentials.
    #[validate(length(max = 2048))]
    #[schema(max_length = 2048)]
    pub url: String,
    /// Event types to deliver (`order.created`, …; a repeated one counts once),
    /// or `["*"]` for every type.
    #[validate(length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20)]
    pub types: Vec<String>,
    /// Only this store's events (an existing store); every store's when absent.
    pub store: Option<String>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// `PATCH /v1/webhooks/{id}`: absent fields are kept.
#[derive(Debug, Default, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[validate(length(max = 2048))]
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[validate(length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20)]
    pub types: Option<Vec<String>>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// `paused` holds deliveries; `enabled` resumes (and re-enables a
    /// disabled endpoint); `disabled` stops collecting them.
    pub status: Option<WebhookStatus>,
}

/// What an admin may set an endpoint's status to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    Enabled,
    Paused,
    Disabled,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Enabled => "enabled",
            WebhookStatus::Paused => "paused",
            WebhookStatus::Disabled => "disabled",
        }
    }
}

/// One delivery of one event to one endpoint.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Delivery {
    /// `whd_<n>`.
    #[schema(example = "whd_17")]
    pub id: String,
    /// The event delivered, `evt_…` (also its `webhook-id` header).
    pub event_id: String,
    pub event_type: String,
    /// `pending` (waiting for its next attempt), `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    /// The HTTP status of the last answer; `null` when none came.
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// How long the last attempt took.
    pub last_latency_ms: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The public form of a delivery's id.
pub fn delivery_public_id(id: i64) -> String {
    format!("whd_{id}")
}

/// The row id in a public delivery id; `None` for anything never issued.
pub fn parse_delivery_id(text: &str) -> Option<i64> {
    let digits = text.strip_prefix("whd_")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0)
}

/// Checks `types`: `["*"]`, or known event types; a bad one is a 422 naming it.
pub fn check_types(types: &[String]) -> Result<Vec<String>, ApiError> {
    if types.iter().any(|kind| kind == EVERY_TYPE) {
        if types.len() > 1 {
            return Err(ApiError::invalid(
                "types",
                "`*` means every type and stands alone",
            ));
        }
        return Ok(vec![EVERY_TYPE.to_string()]);
    }
    let mut checked = Vec::with_capacity(types.len());
    for (index, name) in types.iter().enumerate() {
        let kind = EventType::parse(name).ok_or_else(|| {
            ApiError::invalid(
                format!("types[{index}]"),
                format!("`{name}` is not an event type"),
            )
        })?;
        if !checked.contains(&kind.as_str().to_string()) {
            checked.push(kind.as_str().to_string());
        }
    }
    Ok(checked)
}

/// Checks a delivery URL: `http`/`https`, a host, no credentials, and the
/// allow-list when one is set; a bad one is a 422 naming `url`.
pub fn check_url(text: &str, settings: &Settings) -> Result<String, ApiError> {
    let bad = |message: &str| ApiError::invalid("url", message);
    let url = url::Url::parse(text.trim()).map_err(|_| bad("must be an absolute http(s) URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must use http or https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "must not carry credentials; deliveries are signed instead",
        ));
    }
    let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
        return Err(bad("must name a host"));
    };
    if let Some(allowed) = &settings.allowed_hosts
        && !allowed.iter().any(|pattern| host_matches(pattern, &host))
    {
        return Err(bad("names a host this deployment does not deliver to"));
    }
    Ok(url.to_string())
}

/// Whether `host` is `pattern`, or a subdomain of `*.<domain>`.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(domain) => host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.')),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_a_web_scheme_a_host_and_no_credentials() {
        let settings = Settings::default();
        assert!(check_url("https://example.com/hooks", &settings).is_ok());
        assert!(check_url("http://127.0.0.1:9000/x", &settings).is_ok());
        for bad in [
            "ftp://example.com/x",
            "https://user:pw@example.com/x",
            "https://user@example.com/x",
            "file:///etc/passwd",
            "not a url",
            "javascript:alert(1)",
        ] {
            assert!(check_url(bad, &settings).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn the_allow_list_admits_its_hosts_and_their_subdomains_only() {
        let settings = Settings {
            allowed_hosts: Some(vec!["hooks.example.com".into(), "*.partner.io".into()]),
            ..Settings::default()
        };
        assert!(check_url("https://hooks.example.com/a", &settings).is_ok());
        assert!(check_url("https://eu.partner.io/a", &settings).is_ok());
        assert!(check_url("https://partner.io/a", &settings).is_err());
        assert!(check_url("https://evilpartner.io/a", &settings).is_err());
        assert!(check_url("http://127.0.0.1/a", &settings).is_err());
    }

    #[test]
    fn types_are_known_names_or_a_lone_star() {
        assert_eq!(check_types(&["*".into()]).unwrap(), vec!["*"]);
        assert!(check_types(&["*".into(), "order.created".into()]).is_err());
        assert!(check_types(&["order.made".into()]).is_err());
        let deduped = check_types(&["order.created".into(), "order.created".into()]).unwrap();
        assert_eq!(deduped, vec!["order.created"]);
    }

    #[test]
    fn retries_back_off_sixfold_up_to_the_cap() {
        let settings = Settings::default();
        assert_eq!(settings.backoff(1), Duration::from_secs(5));
        assert_eq!(settings.backoff(2), Duration::from_secs(30));
        assert_eq!(settings.backoff(3), Duration::from_secs(180));
        assert_eq!(settings.backoff(30), settings.max_retry);
    }

    #[test]
    fn delivery_ids_round_trip_and_reject_strangers() {
        assert_eq!(parse_delivery_id(&delivery_public_id(42)), Some(42));
        for bad in ["42", "whd_", "whd_-1", "whd_0", "whd_1x", "evt_1"] {
            assert_eq!(parse_delivery_id(bad), None, "{bad}");
        }
    }
}
