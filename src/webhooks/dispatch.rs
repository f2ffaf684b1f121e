//! The webhook dispatcher: one per deployment (an advisory lock; other
//! replicas stand by). It follows the event log in commit order and, in one
//! statement per batch, records a delivery for every endpoint an event is for
//! and moves its position (`event_readers`), so every event is recorded once
//! per endpoint, none is skipped, and pruning never passes an unread one. It
//! keeps one [`sender`](super::sender) task per enabled endpoint and wakes it
//! when its deliveries arrive.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::PgPool;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::Settings;
use super::sender::Sender;
use super::store::READER;

/// The advisory lock key of "the webhook dispatcher".
const DISPATCH_LOCK: i64 = 0x7768_6469_7370;
/// Events read per batch.
const BATCH: i64 = 500;
/// How often an idle dispatcher looks for new events.
const IDLE_POLL: Duration = Duration::from_millis(50);
/// How often the set of enabled endpoints and the gauges are refreshed.
const REFRESH: Duration = Duration::from_secs(1);
/// How long a standby, or a dispatcher that lost the database, waits.
const RETRY: Duration = Duration::from_secs(1);

/// Runs the dispatcher until `shutdown` turns true, standing by while another holds the lock.
pub async fn run(pool: PgPool, settings: Settings, mut shutdown: watch::Receiver<bool>) {
    let settings = Arc::new(settings);
    while !*shutdown.borrow() {
        if let Err(error) = lead(&pool, &settings, &mut shutdown).await {
            metrics::counter!("webhook_dispatch_failures_total").increment(1);
            tracing::warn!(
                error = format!("{error:#}"),
                "webhook dispatcher stopped; retrying"
            );
        }
        let _ = tokio::time::timeout(RETRY, shutdown.changed()).await;
    }
}

/// A running sender and the handle that wakes it.
struct Running {
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

/// Takes the lock (or returns) and dispatches while holding it.
async fn lead(
    pool: &PgPool,
    settings: &Arc<Settings>,
    shutdown: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Some(mut lock) = crate::db::try_lead(pool, DISPATCH_LOCK).await? else {
        return Ok(());
    };
    tracing::info!("this process is the webhook dispatcher");
    let client = Sender::client(settings)?;
    let mut senders: HashMap<Uuid, Running> = HashMap::new();
    let mut refreshed_at: Option<tokio::time::Instant> = None;
    let outcome = async {
        while !*shutdown.borrow() {
            if refreshed_at.is_none_or(|at| at.elapsed() >= REFRESH) {
                refreshed_at = Some(tokio::time::Instant::now());
                refresh_senders(pool, settings, &client, &mut senders, shutdown).await?;
                record_backlog(pool).await?;
                lock.ping().await?;
            }
            let batch = fan_out(pool, settings).await?;
            for webhook in &batch.webhooks {
                if let Some(running) = senders.get(webhook) {
                    running.wake.notify_one();
                }
            }
            if batch.events < BATCH {
                let _ = tokio::time::timeout(IDLE_POLL, shutdown.changed()).await;
            }
        }
        Ok(())
    }
    .await;
    for (_, running) in senders {
        running.wake.notify_one();
        let _ = running.task.await;
    }
    outcome
}

/// Starts a sender for every enabled endpoint that has none running; a sender
/// stops by itself once its endpoint is no longer enabled.
async fn refresh_senders(
    pool: &PgPool,
    settings: &Arc<Settings>,
    client: &reqwest::Client,
    senders: &mut HashMap<Uuid, Running>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    senders.retain(|_, running| !running.task.is_finished());
    let enabled: Vec<Uuid> = sqlx::query_scalar("select id from webhooks where status = 'enabled'")
        .fetch_all(pool)
        .await?;
    for webhook in enabled {
        senders.entry(webhook).or_insert_with(|| {
            let wake = Arc::new(Notify::new());
            let sender = Sender {
                webhook,
                pool: pool.clone(),
                settings: settings.clone(),
                client: client.clone(),
                wake: wake.clone(),
            };
            Running {
                wake,
                task: tokio::spawn(sender.run(shutdown.clone())),
            }
        });
    }
    Ok(())
}

/// Sets the `webhook_deliveries_pending` and `webhook_oldest_pending_age_ms` gauges.
async fn record_backlog(pool: &PgPool) -> anyhow::Result<()> {
    let (pending, oldest_ms): (i64, i64) = sqlx::query_as(
        "select count(*),
                coalesce((extract(epoch from now() - min(created_at)) * 1000)::bigint, 0)
         from webhook_deliveries where status = 'pending'",
    )
    .fetch_one(pool)
    .await?;
    metrics::gauge!("webhook_deliveries_pending").set(pending as f64);
    metrics::gauge!("webhook_oldest_pending_age_ms").set(oldest_ms as f64);
    Ok(())
}

/// What one batch of the log did.
struct FannedOut {
    /// Events read.
    events: i64,
    /// Endpoints that got deliveries.
    webhooks: Vec<Uuid>,
}

/// Reads the next batch of the log after the dispatcher's position and, in
/// the same statement, records the deliveries and moves the position.
async fn fan_out(pool: &PgPool, settings: &Settings) -> anyhow::Result<FannedOut> {
    let (events, webhooks): (i64, Vec<Uuid>) = sqlx::query_as(
        "with batch as (
             select e.id, e.type, e.store_id, e.subject_id, e.created_at, e.xact_id
             from events e, event_readers r
             where r.name = $1 and (e.xact_id, e.id) > (r.xact_id, r.id)
               and e.xact_id < pg_snapshot_xmin(pg_current_snapshot())
             order by e.xact_id, e.id limit $2
         ), added as (
             insert into webhook_deliveries (webhook_id, event_id, event_type, subject_id, give_up_at)
             select w.id, b.id, b.type, b.subject_id, now() + make_interval(secs => $3)
             from batch b join webhooks w
               on w.status <> 'disabled'
              and (w.types = '{*}' or b.type = any (w.types))
              and (w.store_id is null or w.store_id = b.store_id)
              and b.created_at >= w.created_at
             order by b.xact_id, b.id
             on conflict (webhook_id, event_id) do nothing
             returning webhook_id
         ), moved as (
             update event_readers r set xact_id = l.xact_id, id = l.id, updated_at = now()
             from (select xact_id, id from batch order by xact_id desc, id desc limit 1) l
             where r.name = $1
             returning 1
         )
         select (select count(*) from batch),
                coalesce((select array_agg(distinct webhook_id) from added), '{}')",
    )
    .bind(READER)
    .bind(BATCH)
    .bind(settings.give_up_after.as_secs_f64())
    .fetch_one(pool)
    .await?;
    metrics::counter!("webhook_events_dispatched_total").increment(events.unsigned_abs());
    Ok(FannedOut { events, webhooks })
}
