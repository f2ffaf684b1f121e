//! Reading orders: by id or number, lists with filters, and timelines. Every
//! function takes the caller's `StoreScope`, so another store's order is
//! simply not found.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::model::{Address, Customer, Order, OrderEvent, OrderItem, Status, Tracking};
use crate::domain::Money;
use crate::http::auth::StoreScope;
use crate::http::error::ApiError;

/// How a path names an order: its UUID or its number.
#[derive(Debug, Clone, Copy)]
pub enum OrderRef {
    Id(Uuid),
    Number(i64),
}

impl OrderRef {
    /// Parses a path segment; anything that is neither is a 404.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        if let Ok(id) = Uuid::parse_str(text) {
            return Ok(Self::Id(id));
        }
        match text.parse::<i64>() {
            Ok(number) if number > 0 => Ok(Self::Number(number)),
            _ => Err(ApiError::NotFound("order")),
        }
    }

    fn id(self) -> Option<Uuid> {
        match self {
            Self::Id(id) => Some(id),
            Self::Number(_) => None,
        }
    }

    fn number(self) -> Option<i64> {
        match self {
            Self::Number(number) => Some(number),
            Self::Id(_) => None,
        }
    }
}

/// The columns of `OrderRow`, in order.
pub const ORDER_COLUMNS: &str = "id, number, store_id, external_id, status, customer_id, customer_email, \
    customer_name, customer_phone, shipping_address, tracking, tags, note, total, currency, created_at, \
    updated_at, completed_at, cancelled_at, deleted_at, version";

/// An `orders` row, before its items are attached.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: Uuid,
    pub number: i64,
    pub store_id: String,
    pub external_id: Option<String>,
    pub status: String,
    pub customer_id: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub shipping_address: Option<Json<Address>>,
    pub tracking: Option<Json<Tracking>>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub total: Money,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl OrderRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Pending)
    }

    pub fn into_order(self, items: Vec<OrderItem>) -> Order {
        let status = self.status();
        Order {
            id: self.id,
            number: self.number,
            store: self.store_id,
            external_id: self.external_id,
            status,
            customer: Customer {
                id: self.customer_id,
                email: self.customer_email,
                name: self.customer_name,
                phone: self.customer_phone,
            },
            items,
            total: self.total,
            currency: self.currency,
            shipping_address: self.shipping_address.map(|json| json.0),
            tracking: self.tracking.map(|json| json.0),
            tags: self.tags,
            note: self.note,
            created_at: self.created_at,
            updated_at: self.updated_at,
            completed_at: self.completed_at,
            cancelled_at: self.cancelled_at,
            deleted_at: self.deleted_at,
            version: self.version,
        }
    }
}

/// The order row named by `order`, locked for update when `lock` is set.
pub async fn find_row(
    conn: &mut PgConnection,
    scope: &StoreScope,
    order: OrderRef,
    lock: bool,
) -> Result<OrderRow, ApiError> {
    let suffix = if lock { " for update" } else { "" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ORDER_COLUMNS} from orders
         where ($1::uuid is null or id = $1) and ($2::bigint is null or number = $2)
           and ($3::text is null or store_id = $3){suffix}"
    )))
    .bind(order.id())
    .bind(order.number())
    .bind(scope.filter())
    .fetch_optional(conn)
    .await?
    .ok_or(ApiError::NotFound("order"))
}

/// Attaches items to rows, keeping the rows' order.
pub async fn with_items(
    conn: &mut PgConnection,
    rows: Vec<OrderRow>,
) -> Result<Vec<Order>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let items: Vec<OrderItem> = sqlx::query_as(
        "select order_id, line, product_id, sku, name, category, unit_price, quantity, line_total
         from order_items where order_id = any($1) order by order_id, line",
    )
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    let mut by_order: HashMap<Uuid, Vec<OrderItem>> = HashMap::new();
    for item in items {
        by_order.entry(item.order_id).or_default().push(item);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let items = by_order.remove(&row.id).unwrap_or_default();
            row.into_order(items)
        })
        .collect())
}

/// One whole order.
pub async fn get(pool: &PgPool, scope: &StoreScope, order: OrderRef) -> Result<Order, ApiError> {
    let mut conn = pool.acquire().await?;
    let row = find_row(&mut conn, scope, order, false).await?;
    let mut orders = with_items(&mut conn, vec![row]).await?;
    orders.pop().ok_or(ApiError::NotFound("order"))
}

/// Filters of the order list.
#[derive(Debug, Default)]
pub struct OrderFilter {
    pub status: Option<Status>,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub include_deleted: bool,
}

/// The sort key of the list (newest first) and so its cursor.
pub type ListCursor = (DateTime<Utc>, Uuid);

/// Orders matching `filter`, newest first, after `cursor`; `limit + 1` rows at most.
pub async fn list(
    pool: &PgPool,
    scope: &StoreScope,
    filter: &OrderFilter,
    cursor: Option<ListCursor>,
    limit: i64,
) -> Result<Vec<Order>, ApiError> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ORDER_COLUMNS} from orders
         where ($1::text is null or store_id = $1)
           and ($2::text is null or status = $2)
           and ($3::text is null or customer_id = $3)
           and ($4::text is null or lower(customer_email) = lower($4))
           and ($5::timestamptz is null or created_at >= $5)
           and ($6::timestamptz is null or created_at < $6)
           and ($7 or deleted_at is null)
           and ($8::timestamptz is null or (created_at, id) < ($8, $9))
         order by created_at desc, id desc
         limit $10"
    )))
    .bind(scope.filter())
    .bind(filter.status.map(Status::as_str))
    .bind(filter.customer_id.as_deref())
    .bind(filter.email.as_deref())
    .bind(filter.created_from)
    .bind(filter.created_to)
    .bind(filter.include_deleted)
    .bind(cursor.map(|(at, _)| at))
    .bind(cursor.map(|(_, id)| id))
    .bind(limit + 1)
    .fetch_all(&mut *conn)
    .await?;
    with_items(&mut conn, rows).await
}

/// The timeline of an order, oldest first.
pub async fn events(
    pool: &PgPool,
    scope: &StoreScope,
    order: OrderRef,
) -> Result<Vec<OrderEvent>, ApiError> {
    let mut conn = pool.acquire().await?;
    let row = find_row(&mut conn, scope, order, false).await?;
    let events = sqlx::query_as(
        "select at, kind, actor, from_status, to_status, data from order_events
         where order_id = $1 order by id",
    )
    .bind(row.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(events)
}

/// Appends a timeline event.
pub async fn record_event(
    conn: &mut PgConnection,
    order_id: Uuid,
    kind: &str,
    actor: &str,
    (from, to): (Option<Status>, Option<Status>),
    data: serde_json::Value,
) -> Result<(), ApiError> {
    sqlx::query(
        "insert into order_events (order_id, kind, actor, from_status, to_status, data)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(order_id)
    .bind(kind)
    .bind(actor)
    .bind(from.map(Status::as_str))
    .bind(to.map(Status::as_str))
    .bind(data)
    .execute(conn)
    .await?;
    Ok(())
}
