//! The search document: one order, denormalized, as both engines index it.
//!
//! Built from PostgreSQL in batches by the indexer, reindex and reconcile, always
//! with the order's `change_stamp` read in the same snapshot as its data, so the
//! stamp delivered is exactly the state delivered (invariant 2).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::normalize;

/// One line item as searched and shown in hits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentItem {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub quantity: i32,
}

/// Customer fields as shown in hits.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DocumentCustomer {
    pub id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// Shipping fields that are searched.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DocumentShipping {
    pub name: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// An order as indexed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDocument {
    pub id: Uuid,
    pub number: i64,
    pub store: String,
    pub status: String,
    pub deleted: bool,
    pub customer: DocumentCustomer,
    pub items: Vec<DocumentItem>,
    pub shipping: DocumentShipping,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub total: Decimal,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub version: i32,
    /// The outbox change stamp this document is the state of.
    pub change_stamp: i64,
}

impl OrderDocument {
    /// Total in cents, for range filters and sorting.
    pub fn total_cents(&self) -> i64 {
        (self.total * Decimal::from(100))
            .trunc()
            .try_into()
            .unwrap_or(i64::MAX)
    }

    /// Digits of the phone number, and each of its suffixes of four digits or more:
    /// a phone is found by all its digits or by its last ones, whatever the format.
    pub fn phone_suffixes(&self) -> Vec<String> {
        let digits = self
            .customer
            .phone
            .as_deref()
            .map(normalize::phone_digits)
            .unwrap_or_default();
        (0..digits.len().saturating_sub(3))
            .map(|start| digits[start..].to_string())
            .collect()
    }

    /// Every prefix of the order number, for as-you-type lookup (`1042` finds 10421).
    pub fn number_prefixes(&self) -> Vec<String> {
        let number = self.number.to_string();
        (1..=number.len())
            .map(|end| number[..end].to_string())
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: Uuid,
    number: i64,
    store_id: String,
    status: String,
    deleted: bool,
    customer_id: Option<String>,
    customer_email: Option<String>,
    customer_name: Option<String>,
    customer_phone: Option<String>,
    shipping_name: Option<String>,
    shipping_city: Option<String>,
    shipping_postal_code: Option<String>,
    shipping_country: Option<String>,
    tags: Vec<String>,
    note: Option<String>,
    total: Decimal,
    currency: String,
    created_at: DateTime<Utc>,
    version: i32,
    change_stamp: i64,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    order_id: Uuid,
    sku: String,
    name: String,
    category: String,
    quantity: i32,
}

const DOCUMENT_COLUMNS: &str = "id, number, store_id, status, deleted_at is not null as deleted, customer_id, \
    customer_email, customer_name, customer_phone, shipping_address->>'name' as shipping_name, \
    shipping_address->>'city' as shipping_city, shipping_address->>'postal_code' as shipping_postal_code, \
    shipping_address->>'country' as shipping_country, tags, note, total, currency, created_at, version, change_stamp";

/// Documents for these orders (those that exist), read on `conn`. Call inside one
/// transaction with the rest of the batch so stamps and data agree.
pub async fn load(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<OrderDocument>> {
    let rows: Vec<DocumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {DOCUMENT_COLUMNS} from orders where id = any($1)"
    )))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    assemble(conn, rows).await
}

/// Documents of orders with `id > after`, in id order, `limit` at most (for full scans).
pub async fn load_page(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<OrderDocument>> {
    let rows: Vec<DocumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {DOCUMENT_COLUMNS} from orders where ($1::uuid is null or id > $1) order by id limit $2"
    )))
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    assemble(conn, rows).await
}

async fn assemble(
    conn: &mut PgConnection,
    rows: Vec<DocumentRow>,
) -> sqlx::Result<Vec<OrderDocument>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let items: Vec<ItemRow> = sqlx::query_as(
        "select order_id, sku, name, category, quantity from order_items
         where order_id = any($1) order by order_id, line",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_order: HashMap<Uuid, Vec<DocumentItem>> = HashMap::with_capacity(rows.len());
    for item in items {
        by_order
            .entry(item.order_id)
            .or_default()
            .push(DocumentItem {
                sku: item.sku,
                name: item.name,
                category: item.category,
                quantity: item.quantity,
            });
    }
    Ok(rows
        .into_iter()
        .map(|row| OrderDocument {
            items: by_order.remove(&row.id).unwrap_or_default(),
            id: row.id,
            number: row.number,
            store: row.store_id,
            status: row.status,
            deleted: row.deleted,
            customer: DocumentCustomer {
                id: row.customer_id,
                email: row.customer_email,
                name: row.customer_name,
                phone: row.customer_phone,
            },
            shipping: DocumentShipping {
                name: row.shipping_name,
                city: row.shipping_city,
                postal_code: row.shipping_postal_code,
                country: row.shipping_country,
            },
            tags: row.tags,
            note: row.note,
            total: row.total,
            currency: row.currency,
            created_at: row.created_at,
            version: row.version,
            change_stamp: row.change_stamp,
        })
        .collect())
}
