//! The RabbitMQ relay (`ORDERSEARCH_AMQP_URL`): publishes every event of the
//! log, in commit order, to the durable topic exchange `ordersearch.events`
//! (routing key = type, persistent, `message_id` = event id, JSON body = the
//! event) with publisher confirms.
//!
//! Its position is the `relay` row of `event_readers`; it moves only after the
//! broker confirmed every message of a batch, so a crash or a broker outage
//! republishes at most that batch (at least once; consumers dedupe on
//! `message_id`) and loses nothing, and pruning never passes it. One relay per
//! deployment holds an advisory lock; other replicas stand by.

use std::time::Duration;

use anyhow::Context;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use sqlx::Connection as _;
use sqlx::PgPool;
use tokio::sync::watch;

use super::feed::{self, Filter, Position};
use crate::http::auth::StoreScope;

/// The exchange every event is published to.
pub const EXCHANGE: &str = "ordersearch.events";
/// The relay's row in `event_readers`.
pub const READER: &str = "relay";
/// The advisory lock key of "the relay".
const RELAY_LOCK: i64 = 0x6f72_6465_7276;
/// Events published between two position updates.
const BATCH: i64 = 200;
/// How often an idle relay looks for new events.
const IDLE_POLL: Duration = Duration::from_millis(50);
/// How often the relay's lag gauges are refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);
/// How long a standby or a relay that lost the broker waits before trying again.
const RETRY: Duration = Duration::from_secs(1);

/// Connects, enables publisher confirms and declares the exchange (durable,
/// topic), so consumers can bind to it as soon as the service is up.
pub async fn open_channel(url: &str) -> anyhow::Result<(Connection, Channel)> {
    let connection = Connection::connect(url, ConnectionProperties::default())
        .await
        .context("connecting to the AMQP broker")?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            EXCHANGE.into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await
        .context("declaring the exchange")?;
    Ok((connection, channel))
}

/// Runs the relay until `shutdown` turns true, standing by while another holds the lock.
pub async fn run(pool: PgPool, url: String, mut shutdown: watch::Receiver<bool>) {
    // Every replica declares the exchange at start, leader or not.
    match open_channel(&url).await {
        Ok((connection, _)) => {
            let _ = connection.close(0, "exchange declared".into()).await;
        }
        Err(error) => tracing::warn!(
            error = format!("{error:#}"),
            "could not declare the event exchange yet"
        ),
    }
    while !*shutdown.borrow() {
        if let Err(error) = lead(&pool, &url, &mut shutdown).await {
            metrics::counter!("events_relay_failures_total").increment(1);
            tracing::warn!(
                error = format!("{error:#}"),
                "event relay stopped; retrying"
            );
        }
        let _ = tokio::time::timeout(RETRY, shutdown.changed()).await;
    }
}

/// Takes the lock (or returns) and relays batches while holding it.
async fn lead(
    pool: &PgPool,
    url: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Some(mut lock) = crate::db::try_lead(pool, RELAY_LOCK).await? else {
        return Ok(());
    };
    let (connection, channel) = open_channel(url).await?;
    tracing::info!("this process is the event relay");
    let mut position = start(pool).await?;
    let mut gauges_at = tokio::time::Instant::now();
    while !*shutdown.borrow() {
        if gauges_at.elapsed() >= GAUGE_INTERVAL {
            gauges_at = tokio::time::Instant::now();
            record_lag(pool).await?;
        }
        let relayed = relay_batch(pool, &channel, position).await?;
        if relayed.count == 0 {
            lock.ping().await?;
            let _ = tokio::time::timeout(IDLE_POLL, shutdown.changed()).await;
        }
        position = relayed.next;
    }
    let _ = connection.close(0, "shutting down".into()).await;
    Ok(())
}

/// Sets the `events_relay_pending` and `events_relay_oldest_pending_age_ms` gauges.
async fn record_lag(pool: &PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let lag = feed::reader_lag(&mut conn, READER, &StoreScope::All)
        .await
        .map_err(|error| anyhow::anyhow!("reading the relay's lag: {error}"))?;
    if let Some(lag) = lag {
        metrics::gauge!("events_relay_pending").set(lag.events_behind as f64);
        metrics::gauge!("events_relay_oldest_pending_age_ms").set(lag.oldest_pending_age_ms as f64);
    }
    Ok(())
}

/// The relay's position; a first start begins where pruning has reached.
async fn start(pool: &PgPool) -> anyhow::Result<Position> {
    let (xact, id): (i64, i64) = sqlx::query_as(
        "with added as (
             insert into event_readers (name, xact_id, id)
             select $1, xact_id, id from events_pruned
             on conflict (name) do nothing
             returning xact_id, id)
         select xact_id::text::bigint, id from added
         union all
         select xact_id::text::bigint, id from event_readers where name = $1
         limit 1",
    )
    .bind(READER)
    .fetch_one(pool)
    .await?;
    Ok(Position(xact, id))
}

/// What one batch did.
struct Relayed {
    count: usize,
    next: Position,
}

/// Publishes the events after `position`, waits for every confirm, then
/// stores the new position.
async fn relay_batch(
    pool: &PgPool,
    channel: &Channel,
    position: Position,
) -> anyhow::Result<Relayed> {
    let filter = Filter {
        types: None,
        scope: StoreScope::All,
    };
    let page = {
        let mut conn = pool.acquire().await?;
        feed::page(&mut conn, Some(position), &filter, BATCH)
            .await
            .map_err(|error| anyhow::anyhow!("reading the log: {error}"))?
    };
    let mut confirms = Vec::with_capacity(page.events.len());
    for event in &page.events {
        let body = serde_json::to_vec(event)?;
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_message_id(event.id.as_str().into());
        let confirm = channel
            .basic_publish(
                EXCHANGE.into(),
                event.kind.as_str().into(),
                BasicPublishOptions::default(),
                &body,
                properties,
            )
            .await
            .context("publishing an event")?;
        confirms.push(confirm);
    }
    for confirm in confirms {
        let confirmation = confirm.await.context("waiting for the broker's confirm")?;
        anyhow::ensure!(confirmation.is_ack(), "the broker refused an event (nack)");
    }
    if page.next != position {
        let mut conn = pool.acquire().await?;
        feed::advance_reader(&mut conn, READER, page.next).await?;
    }
    metrics::counter!("events_relayed_total").increment(page.events.len() as u64);
    Ok(Relayed {
        count: page.events.len(),
        next: page.next,
    })
}
