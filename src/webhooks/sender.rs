//! One endpoint's sender: takes its due deliveries (at most one per subject,
//! the earliest pending, so a subject's events arrive in order), posts them
//! signed and concurrently, and records every outcome in one statement.
//!
//! A failed attempt is retried after [`Settings::backoff`] with jitter, until
//! the delivery's `give_up_at`, then it is marked failed. While the endpoint
//! fails every attempt it is probed with one delivery at a time, waiting
//! longer after each failure (at most [`MAX_PROBE_PAUSE`]), so a dead endpoint
//! is not flooded; the first success resumes full batches. An endpoint that
//! has failed everything for [`Settings::disable_after`] is disabled with
//! the reason on it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use rand::Rng;
use sqlx::PgPool;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use super::Settings;
use super::signature;
use crate::events::{Event, feed};

/// Deliveries taken at once while the endpoint is healthy.
const BATCH: usize = 64;
/// The oldest pending deliveries a sender looks through for due ones.
const WINDOW: i64 = 1024;
/// How often a sender marks failed what is past its retry window.
const EXPIRE_INTERVAL: Duration = Duration::from_secs(10);
/// The longest wait between two probes of an endpoint that keeps failing.
const MAX_PROBE_PAUSE: Duration = Duration::from_secs(300);
/// How long an idle sender waits before looking for due retries again.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Bytes of an answer kept as its error text.
const ERROR_TEXT: usize = 200;

/// The sender of one endpoint.
pub struct Sender {
    pub webhook: Uuid,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub client: reqwest::Client,
    /// Notified when new deliveries for the endpoint were recorded.
    pub wake: Arc<Notify>,
}

/// Where and how to deliver, as read before each batch.
#[derive(sqlx::FromRow)]
struct Endpoint {
    url: String,
    status: String,
    secret: String,
    /// The secret before a rotation, while it still signs.
    previous_secret: Option<String>,
}

/// A pending delivery of the window [`Sender::due`] reads.
#[derive(sqlx::FromRow)]
struct Pending {
    id: i64,
    event_id: i64,
    attempts: i32,
    subject_id: Uuid,
    due: bool,
}

struct Due {
    id: i64,
    event_id: i64,
    attempts: i32,
}

/// One attempt's result.
struct Outcome {
    delivery: i64,
    delivered: bool,
    status_code: Option<i32>,
    error: Option<String>,
    latency_ms: i32,
    /// Seconds until the next attempt if this one failed.
    retry_in: f64,
}

impl Sender {
    /// The HTTP client every sender shares: no redirects (a delivery goes to
    /// the URL its admin registered, nowhere else), the attempt timeout.
    pub fn client(settings: &Settings) -> anyhow::Result<reqwest::Client> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .user_agent(concat!("ordersearch-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the webhook HTTP client")
    }

    /// Delivers until the endpoint is no longer enabled or `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut failures_in_a_row: i32 = 0;
        let mut expired_at = None;
        while !*shutdown.borrow() {
            let pause = match self.round(failures_in_a_row, &mut expired_at).await {
                Ok(Round::Stop) => return,
                Ok(Round::Idle) => {
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(IDLE_POLL) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
                Ok(Round::Sent { any_delivered }) => {
                    failures_in_a_row = if any_delivered {
                        0
                    } else {
                        failures_in_a_row.saturating_add(1)
                    };
                    probe_pause(&self.settings, failures_in_a_row)
                }
                Err(error) => {
                    tracing::warn!(webhook = %self.webhook, error = format!("{error:#}"),
                        "webhook sender failed; retrying");
                    IDLE_POLL
                }
            };
            if !pause.is_zero() {
                let _ = tokio::time::timeout(pause, shutdown.changed()).await;
            }
        }
    }

    /// One batch: expire what is past its window (every [`EXPIRE_INTERVAL`]),
    /// take what is due, send it.
    async fn round(
        &self,
        failures_in_a_row: i32,
        expired_at: &mut Option<Instant>,
    ) -> anyhow::Result<Round> {
        let endpoint: Option<Endpoint> = sqlx::query_as(
            "select url, status, secret,
                    case when previous_secret_expires_at > now() then previous_secret end
                        as previous_secret
             from webhooks where id = $1",
        )
        .bind(self.webhook)
        .fetch_optional(&self.pool)
        .await?;
        let Some(endpoint) = endpoint.filter(|endpoint| endpoint.status == "enabled") else {
            return Ok(Round::Stop);
        };
        if expired_at.is_none_or(|at| at.elapsed() >= EXPIRE_INTERVAL) {
            *expired_at = Some(Instant::now());
            self.expire().await?;
        }
        let limit = if failures_in_a_row > 0 { 1 } else { BATCH };
        let due = self.due(limit).await?;
        if due.is_empty() {
            return Ok(Round::Idle);
        }
        let ids: Vec<i64> = due.iter().map(|due| due.event_id).collect();
        let mut events: HashMap<i64, Event> = {
            let mut conn = self.pool.acquire().await?;
            feed::by_ids(&mut conn, &ids)
                .await
                .map_err(|error| anyhow::anyhow!("reading events: {error}"))?
                .into_iter()
                .filter_map(|event| Some((crate::events::parse_id(&event.id)?, event)))
                .collect()
        };
        let attempts = due.into_iter().map(|due| {
            let event = events.remove(&due.event_id);
            self.attempt(&endpoint, due, event)
        });
        let outcomes: Vec<Outcome> = futures::stream::iter(attempts)
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let any_delivered = outcomes.iter().any(|outcome| outcome.delivered);
        self.record(&outcomes).await?;
        Ok(Round::Sent { any_delivered })
    }

    /// Up to `limit` due deliveries, each the earliest pending of its subject:
    /// the window of the oldest pending deliveries, in event order, holds every
    /// earlier one of a subject it holds, so the check needs nothing else.
    async fn due(&self, limit: usize) -> anyhow::Result<Vec<Due>> {
        let window: Vec<Pending> = sqlx::query_as(
            "select id, event_id, attempts, subject_id, next_attempt_at <= now() as due
             from webhook_deliveries
             where webhook_id = $1 and status = 'pending'
             order by event_id limit $2",
        )
        .bind(self.webhook)
        .bind(WINDOW)
        .fetch_all(&self.pool)
        .await?;
        let mut waiting_subjects = HashSet::new();
        let mut due = Vec::new();
        for pending in window {
            if waiting_subjects.insert(pending.subject_id) && pending.due {
                due.push(Due {
                    id: pending.id,
                    event_id: pending.event_id,
                    attempts: pending.attempts,
                });
                if due.len() == limit {
                    break;
                }
            }
        }
        Ok(due)
    }

    /// Marks failed the pending deliveries whose retry window has closed.
    async fn expire(&self) -> anyhow::Result<()> {
        let expired = sqlx::query(
            "update webhook_deliveries set status = 'failed',
                 last_error = coalesce(last_error || '; ', '') || 'retry window closed'
             where webhook_id = $1 and status = 'pending' and give_up_at <= now()",
        )
        .bind(self.webhook)
        .execute(&self.pool)
        .await?
        .rows_affected();
        metrics::counter!("webhook_deliveries_failed_total").increment(expired);
        Ok(())
    }

    /// Posts one event, signed; `event` is `None` when it has been pruned.
    async fn attempt(&self, endpoint: &Endpoint, due: Due, event: Option<Event>) -> Outcome {
        let retry_in = jittered(self.settings.backoff(due.attempts + 1));
        let started = Instant::now();
        let result = match event {
            Some(event) => self.post(endpoint, &event).await,
            None => Err((None, "the event is past retention".to_string())),
        };
        let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let (delivered, status_code, error) = match result {
            Ok(code) => (true, Some(code), None),
            Err((code, error)) => (false, code, Some(error)),
        };
        Outcome {
            delivery: due.id,
            delivered,
            status_code,
            error,
            latency_ms,
            retry_in,
        }
    }

    /// The status code of a 2xx answer, or the code (if any) and why it failed.
    async fn post(&self, endpoint: &Endpoint, event: &Event) -> Result<i32, (Option<i32>, String)> {
        let body = serde_json::to_vec(event).map_err(|error| (None, error.to_string()))?;
        let timestamp = chrono::Utc::now().timestamp();
        let secrets: Vec<&str> = std::iter::once(endpoint.secret.as_str())
            .chain(endpoint.previous_secret.as_deref())
            .collect();
        let signature = signature::header(&secrets, &event.id, timestamp, &body);
        let response = self
            .client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|error| (None, describe(&error)))?;
        let status = response.status();
        let code = i32::from(status.as_u16());
        if status.is_success() {
            return Ok(code);
        }
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(ERROR_TEXT).collect();
        Err((Some(code), format!("answered {status}: {text}")))
    }

    /// Writes every outcome, then the endpoint's health, each in one statement.
    async fn record(&self, outcomes: &[Outcome]) -> anyhow::Result<()> {
        let ids: Vec<i64> = outcomes.iter().map(|outcome| outcome.delivery).collect();
        let delivered: Vec<bool> = outcomes.iter().map(|outcome| outcome.delivered).collect();
        let codes: Vec<Option<i32>> = outcomes.iter().map(|outcome| outcome.status_code).collect();
        let errors: Vec<Option<&str>> = outcomes
            .iter()
            .map(|outcome| outcome.error.as_deref())
            .collect();
        let latencies: Vec<i32> = outcomes.iter().map(|outcome| outcome.latency_ms).collect();
        let retries: Vec<f64> = outcomes.iter().map(|outcome| outcome.retry_in).collect();
        let failed: i64 = sqlx::query_scalar(
            "with recorded as (
                 update webhook_deliveries d set
                     attempts = d.attempts + 1, last_attempt_at = now(),
                     last_status_code = o.code, last_error = o.error, last_latency_ms = o.latency,
                     status = case when o.delivered then 'delivered'
                                   when now() + make_interval(secs => o.retry_in) >= d.give_up_at
                                       then 'failed'
                                   else 'pending' end,
                     next_attempt_at = case when o.delivered then d.next_attempt_at
                                            else now() + make_interval(secs => o.retry_in) end,
                     delivered_at = case when o.delivered then now() end
                 from unnest($1::bigint[], $2::bool[], $3::int[], $4::text[], $5::int[], $6::float8[])
                      as o(id, delivered, code, error, latency, retry_in)
                 where d.id = o.id
                 returning d.status)
             select count(*) from recorded where status = 'failed'",
        )
        .bind(&ids)
        .bind(&delivered)
        .bind(&codes)
        .bind(&errors)
        .bind(&latencies)
        .bind(&retries)
        .fetch_one(&self.pool)
        .await?;
        let any_delivered = delivered.iter().any(|ok| *ok);
        let last_error = outcomes
            .iter()
            .rev()
            .find_map(|outcome| outcome.error.as_deref());
        sqlx::query(
            "update webhooks set
                 failing_since = case when $2 then null else coalesce(failing_since, now()) end,
                 status = case when not $2 and failing_since < now() - make_interval(secs => $3)
                               then 'disabled' else status end,
                 disabled_reason = case when not $2 and failing_since < now() - make_interval(secs => $3)
                     then 'every delivery failed since ' || failing_since || ' (last: ' ||
                          coalesce($4, 'no answer') || '); fix the endpoint, then set status to enabled'
                     else disabled_reason end
             where id = $1 and (not $2 or failing_since is not null)",
        )
        .bind(self.webhook)
        .bind(any_delivered)
        .bind(self.settings.disable_after.as_secs_f64())
        .bind(last_error)
        .execute(&self.pool)
        .await?;
        let delivered_count = delivered.iter().filter(|ok| **ok).count() as u64;
        metrics::counter!("webhook_deliveries_delivered_total").increment(delivered_count);
        metrics::counter!("webhook_attempts_failed_total")
            .increment(outcomes.len() as u64 - delivered_count);
        metrics::counter!("webhook_deliveries_failed_total").increment(failed.unsigned_abs());
        Ok(())
    }
}

/// What a round did.
enum Round {
    /// The endpoint is gone or no longer enabled.
    Stop,
    /// Nothing was due.
    Idle,
    Sent {
        any_delivered: bool,
    },
}

/// The wait before the next probe of an endpoint that failed `failures` rounds in a row.
fn probe_pause(settings: &Settings, failures: i32) -> Duration {
    if failures == 0 {
        Duration::ZERO
    } else {
        settings.backoff(failures).min(MAX_PROBE_PAUSE)
    }
}

/// `wait` shortened by up to a quarter at random, in seconds, so retries of
/// many deliveries spread out instead of arriving together.
fn jittered(wait: Duration) -> f64 {
    wait.as_secs_f64() * rand::rng().random_range(0.75..=1.0)
}

/// A transport error in a line: timeout, refused connection, …
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer within the timeout".to_string()
    } else if error.is_connect() {
        format!("could not connect: {error}")
    } else {
        error.to_string()
    }
}
