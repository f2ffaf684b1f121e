//! The event log (API.md "Events", invariant 8): every committed change to an
//! order or a product appends its event in the change's own transaction, with
//! the resource as committed in `data`. Readers follow the log by position;
//! see `feed` for how a reader never skips an event that commits late.

pub mod feed;
pub mod relay;
pub mod routes;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::orders::model::{Order, Status};
use crate::products::Product;

/// What happened. The names are the wire names (`order.status_changed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum EventType {
    #[serde(rename = "order.created")]
    OrderCreated,
    /// An order brought in from history by an import (never `order.created`).
    #[serde(rename = "order.imported")]
    OrderImported,
    #[serde(rename = "order.updated")]
    OrderUpdated,
    #[serde(rename = "order.status_changed")]
    OrderStatusChanged,
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    #[serde(rename = "order.deleted")]
    OrderDeleted,
    #[serde(rename = "product.created")]
    ProductCreated,
    #[serde(rename = "product.updated")]
    ProductUpdated,
    #[serde(rename = "product.stock_low")]
    ProductStockLow,
}

impl EventType {
    pub const ALL: [EventType; 9] = [
        EventType::OrderCreated,
        EventType::OrderImported,
        EventType::OrderUpdated,
        EventType::OrderStatusChanged,
        EventType::OrderCancelled,
        EventType::OrderDeleted,
        EventType::ProductCreated,
        EventType::ProductUpdated,
        EventType::ProductStockLow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrderCreated => "order.created",
            EventType::OrderImported => "order.imported",
            EventType::OrderUpdated => "order.updated",
            EventType::OrderStatusChanged => "order.status_changed",
            EventType::OrderCancelled => "order.cancelled",
            EventType::OrderDeleted => "order.deleted",
            EventType::ProductCreated => "product.created",
            EventType::ProductUpdated => "product.updated",
            EventType::ProductStockLow => "product.stock_low",
        }
    }

    pub fn parse(text: &str) -> Option<EventType> {
        EventType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// An event as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    /// `evt_<n>`: stable and unique, the id consumers dedupe on. Not a position:
    /// page with `next_cursor`.
    #[schema(example = "evt_1042")]
    pub id: String,
    #[serde(rename = "type")]
    #[schema(value_type = EventType)]
    pub kind: String,
    /// When the change's transaction began (the resource's own times agree).
    pub created_at: DateTime<Utc>,
    pub store: String,
    /// The order's or the product's id.
    pub subject_id: Uuid,
    /// The subject's `version` as committed by this change. `product.stock_low`
    /// carries the product's version unchanged: stock moved by orders does not
    /// bump it.
    pub subject_version: i32,
    /// The resource as committed: the order with its items, or the product,
    /// exactly as `GET /v1/orders/{id}` or `GET /v1/products/{id}` shows it.
    #[schema(value_type = Object)]
    pub data: Value,
    /// `order.status_changed` only: the status before.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Status>)]
    pub from: Option<String>,
    /// `order.status_changed` only: the status after.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Status>)]
    pub to: Option<String>,
}

/// The public form of an event's id.
pub fn public_id(id: i64) -> String {
    format!("evt_{id}")
}

/// The row id in a public event id; `None` for anything this API never issued.
pub fn parse_id(text: &str) -> Option<i64> {
    let digits = text.strip_prefix("evt_")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0)
}

/// An event about to be written with its change.
#[derive(Debug, Clone)]
pub struct NewEvent {
    kind: EventType,
    store: String,
    subject_id: Uuid,
    subject_version: i32,
    data: Value,
    detail: Value,
}

impl NewEvent {
    /// An order event carrying the order as committed.
    pub fn order(kind: EventType, order: &Order) -> Result<Self, ApiError> {
        Ok(Self {
            kind,
            store: order.store.clone(),
            subject_id: order.id,
            subject_version: order.version,
            data: serde_json::to_value(order).map_err(anyhow::Error::from)?,
            detail: Value::Null,
        })
    }

    /// `order.status_changed` from `from` to the order's status.
    pub fn status_changed(order: &Order, from: Status) -> Result<Self, ApiError> {
        let mut event = Self::order(EventType::OrderStatusChanged, order)?;
        event.detail = json!({ "from": from.as_str(), "to": order.status.as_str() });
        Ok(event)
    }

    /// A product event carrying the product as committed.
    pub fn product(kind: EventType, product: &Product) -> Result<Self, ApiError> {
        Ok(Self {
            kind,
            store: product.store.clone(),
            subject_id: product.id,
            subject_version: product.version,
            data: serde_json::to_value(product).map_err(anyhow::Error::from)?,
            detail: Value::Null,
        })
    }
}

/// Whether a stock move takes a product from at or above its threshold to below it.
pub fn crosses_low_stock(before: i32, after: i32, threshold: i32) -> bool {
    before >= threshold && after < threshold
}

/// Appends `events`, in this order, in the caller's transaction (one statement).
///
/// Each event's position is the transaction's id, or its subject's previous
/// event's position when that is larger (migration 0013 says why). The caller
/// holds the subject's row lock, so that previous event has committed.
pub async fn append(conn: &mut PgConnection, events: &[NewEvent]) -> Result<(), ApiError> {
    if events.is_empty() {
        return Ok(());
    }
    let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
    let stores: Vec<&str> = events.iter().map(|event| event.store.as_str()).collect();
    let subjects: Vec<Uuid> = events.iter().map(|event| event.subject_id).collect();
    let versions: Vec<i32> = events.iter().map(|event| event.subject_version).collect();
    let data: Vec<Json<&Value>> = events.iter().map(|event| Json(&event.data)).collect();
    let details: Vec<Json<&Value>> = events.iter().map(|event| Json(&event.detail)).collect();
    sqlx::query(
        "insert into events (type, store_id, subject_id, subject_version, data, detail, xact_id)
         select e.type, e.store_id, e.subject_id, e.subject_version, e.data,
                nullif(e.detail, 'null'::jsonb),
                greatest(pg_current_xact_id(),
                         (select max(x.xact_id) from events x where x.subject_id = e.subject_id))
         from unnest($1::text[], $2::text[], $3::uuid[], $4::int[], $5::jsonb[], $6::jsonb[])
              with ordinality as e(type, store_id, subject_id, subject_version, data, detail, n)
         order by e.n",
    )
    .bind(&kinds)
    .bind(&stores)
    .bind(&subjects)
    .bind(&versions)
    .bind(&data)
    .bind(&details)
    .execute(conn)
    .await?;
    Ok(())
}
