//! Endpoints and their deliveries in PostgreSQL (migration 0014).
//!
//! The dispatcher's position (the `webhooks` row of `event_readers`) exists
//! while any endpoint does: it is placed at the head of the log with the first
//! endpoint, so an endpoint receives what commits after it was made, and it is
//! removed with the last, so an unused feature never holds back pruning.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::signature::new_secret;
use super::{Delivery, Webhook, WebhookStatus, WebhookWithSecret};
use crate::http::error::{ApiError, Conflict, ResultExt};

/// The dispatcher's row in `event_readers`.
pub const READER: &str = "webhooks";
/// Serialises adding the first and removing the last endpoint with the reader row.
const ENDPOINTS_LOCK: i64 = 0x7768_6f6f_6b73;

const COLUMNS: &str = "id, url, types, store_id as store, description, status, disabled_reason, \
    failing_since, created_at, updated_at, version";

const DELIVERY_COLUMNS: &str = "'whd_' || id as id, 'evt_' || event_id as event_id, event_type, \
    status, attempts, last_status_code, last_error, last_latency_ms, created_at, last_attempt_at, \
    case when status = 'pending' then next_attempt_at end as next_attempt_at, delivered_at";

/// A new endpoint's checked fields.
#[derive(Debug)]
pub struct Registration {
    pub url: String,
    pub types: Vec<String>,
    pub store: Option<String>,
    pub description: Option<String>,
}

/// A patch's checked fields; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct Change {
    pub url: Option<String>,
    pub types: Option<Vec<String>>,
    pub description: Option<String>,
    pub status: Option<WebhookStatus>,
}

fn unknown_store() -> ApiError {
    ApiError::invalid("store", "is not a known store")
}

async fn lock_endpoints(conn: &mut PgConnection) -> Result<(), ApiError> {
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(ENDPOINTS_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds an endpoint with a fresh secret, in the caller's transaction.
pub async fn insert(
    conn: &mut PgConnection,
    new: &Registration,
) -> Result<WebhookWithSecret, ApiError> {
    let secret = new_secret();
    lock_endpoints(conn).await?;
    let webhook: Webhook = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into webhooks (id, url, types, store_id, description, secret)
         values ($1, $2, $3, $4, $5, $6) returning {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(&new.url)
    .bind(&new.types)
    .bind(new.store.as_deref())
    .bind(new.description.as_deref())
    .bind(&secret)
    .fetch_one(&mut *conn)
    .await
    .on_constraint("webhooks_store_id_fkey", unknown_store)?;
    sqlx::query(
        "insert into event_readers (name, xact_id, id)
         select $1, coalesce(h.xact_id, p.xact_id), coalesce(h.id, p.id)
         from events_pruned p left join lateral (
             select xact_id, id from events
             where xact_id < pg_snapshot_xmin(pg_current_snapshot())
             order by xact_id desc, id desc limit 1
         ) h on true
         on conflict (name) do nothing",
    )
    .bind(READER)
    .execute(conn)
    .await?;
    Ok(WebhookWithSecret { webhook, secret })
}

/// Endpoints in creation order, after `after`.
pub async fn list(
    pool: &PgPool,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Webhook>, ApiError> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from webhooks where ($1::uuid is null or id > $1) order by id limit $2"
    )))
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Webhook, ApiError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from webhooks where id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(ApiError::NotFound("webhook"))
}

/// Applies a change; `expected_version` is the `If-Match` check (412 on a
/// mismatch). Enabling clears a disablement and its failure streak.
pub async fn update(
    pool: &PgPool,
    id: Uuid,
    change: &Change,
    expected_version: Option<i32>,
) -> Result<Webhook, ApiError> {
    get(pool, id).await?;
    let enabling = change.status == Some(WebhookStatus::Enabled);
    let updated: Option<Webhook> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update webhooks set url = coalesce($2, url), types = coalesce($3, types),
            description = coalesce($4, description), status = coalesce($5, status),
            disabled_reason = case when $6 then null else disabled_reason end,
            failing_since = case when $6 then null else failing_since end,
            version = version + 1, updated_at = now()
         where id = $1 and ($7::int is null or version = $7) returning {COLUMNS}"
    )))
    .bind(id)
    .bind(change.url.as_deref())
    .bind(change.types.as_deref())
    .bind(change.description.as_deref())
    .bind(change.status.map(WebhookStatus::as_str))
    .bind(enabling)
    .bind(expected_version)
    .fetch_optional(pool)
    .await?;
    updated.ok_or(ApiError::PreconditionFailed)
}

/// Deletes an endpoint and its deliveries; `expected_version` as in [`update`].
pub async fn delete(
    pool: &PgPool,
    id: Uuid,
    expected_version: Option<i32>,
) -> Result<(), ApiError> {
    get(pool, id).await?;
    let mut tx = pool.begin().await?;
    lock_endpoints(&mut tx).await?;
    let deleted =
        sqlx::query("delete from webhooks where id = $1 and ($2::int is null or version = $2)")
            .bind(id)
            .bind(expected_version)
            .execute(&mut *tx)
            .await?;
    if deleted.rows_affected() == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    sqlx::query(
        "delete from event_readers where name = $1 and not exists (select 1 from webhooks)",
    )
    .bind(READER)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new secret; the old one keeps signing for `overlap`, beside the new one.
pub async fn rotate_secret(
    pool: &PgPool,
    id: Uuid,
    overlap: Duration,
) -> Result<WebhookWithSecret, ApiError> {
    let secret = new_secret();
    let webhook: Webhook = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update webhooks set previous_secret = secret, secret = $2,
            previous_secret_expires_at = now() + make_interval(secs => $3),
            version = version + 1, updated_at = now()
         where id = $1 returning {COLUMNS}"
    )))
    .bind(id)
    .bind(&secret)
    .bind(overlap.as_secs_f64())
    .fetch_optional(pool)
    .await?
    .ok_or(ApiError::NotFound("webhook"))?;
    Ok(WebhookWithSecret { webhook, secret })
}

/// An endpoint's deliveries, newest event first, before the event `before`;
/// only those in `status` when given.
pub async fn deliveries(
    pool: &PgPool,
    webhook: Uuid,
    status: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Delivery>, ApiError> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {DELIVERY_COLUMNS} from webhook_deliveries
         where webhook_id = $1 and ($2::text is null or status = $2)
           and ($3::bigint is null or event_id < $3)
         order by event_id desc limit $4"
    )))
    .bind(webhook)
    .bind(status)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// Queues a delivery for an attempt now, with a fresh retry window; `409`
/// when its event has been pruned (nothing left to send).
pub async fn retry_delivery(
    pool: &PgPool,
    webhook: Uuid,
    delivery: i64,
    window: Duration,
) -> Result<Delivery, ApiError> {
    get(pool, webhook).await?;
    let retried: Option<Delivery> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update webhook_deliveries d set status = 'pending', next_attempt_at = now(),
             give_up_at = now() + make_interval(secs => $3)
         where d.webhook_id = $1 and d.id = $2
           and exists (select 1 from events e where e.id = d.event_id)
         returning {DELIVERY_COLUMNS}"
    )))
    .bind(webhook)
    .bind(delivery)
    .bind(window.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    if let Some(retried) = retried {
        return Ok(retried);
    }
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from webhook_deliveries where webhook_id = $1 and id = $2)",
    )
    .bind(webhook)
    .bind(delivery)
    .fetch_one(pool)
    .await?;
    if !exists {
        return Err(ApiError::NotFound("delivery"));
    }
    Err(ApiError::conflict(
        Conflict::EventPruned,
        "the delivery's event is past retention; there is nothing left to send",
        serde_json::json!({}),
    ))
}

/// How far webhook delivery is behind, for `GET /v1/events/status`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct WebhooksLag {
    /// The dispatcher's lag behind the log (recording deliveries); absent
    /// while no endpoint exists.
    pub dispatcher: Option<crate::events::feed::ReaderLag>,
    /// Each endpoint's deliveries still to make.
    pub endpoints: Vec<EndpointLag>,
}

/// One endpoint's backlog.
#[derive(Debug, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EndpointLag {
    pub id: Uuid,
    pub status: String,
    /// Deliveries pending (waiting for a first attempt or a retry).
    pub pending: i64,
    /// Age of the oldest pending delivery, in milliseconds (0 when none).
    pub oldest_pending_age_ms: i64,
    pub failing_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// Every endpoint's backlog, and the dispatcher's lag.
pub async fn lag(conn: &mut PgConnection) -> Result<WebhooksLag, ApiError> {
    let dispatcher =
        crate::events::feed::reader_lag(conn, READER, &crate::http::auth::StoreScope::All).await?;
    let endpoints = sqlx::query_as(
        "select w.id, w.status, count(d.id) as pending,
                coalesce((extract(epoch from now() - min(d.created_at)) * 1000)::bigint, 0)
                    as oldest_pending_age_ms,
                w.failing_since
         from webhooks w
         left join webhook_deliveries d on d.webhook_id = w.id and d.status = 'pending'
         group by w.id order by w.id",
    )
    .fetch_all(conn)
    .await?;
    Ok(WebhooksLag {
        dispatcher,
        endpoints,
    })
}
