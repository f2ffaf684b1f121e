//! Creating an order: one transaction that resolves the items, snapshots the
//! products, reserves stock, writes the order, its items, the `created`
//! timeline entry and the `order.created` event (with `product.stock_low` for
//! each product the reservation takes below its threshold), and stamps the
//! order for the search outbox (invariant 1).
//!
//! The transaction is three statements, so the product locks are held for as
//! few round trips as possible: the first locks the products (in id order, so
//! two orders for the same products cannot deadlock) and reads the store's
//! currency, the transaction's time and the order's number with them; the
//! order is then known whole in Rust, and the second statement writes it,
//! its items, its timeline entry and the guarded stock decrement together;
//! the third appends its events. Stock can never be oversold: the locked rows
//! are checked before the write, and the decrement keeps `stock >= quantity`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{NewOrder, Order, OrderItem, Status};
use super::repo::{self, OrderRef};
use crate::domain::Money;
use crate::events::{self, EventType, NewEvent};
use crate::http::auth::{StoreScope, no_such_store, store_exists};
use crate::http::error::{ApiError, Conflict, FieldError};
use crate::products::{COLUMNS as PRODUCT_COLUMNS, Product};

/// Largest order total (fits `numeric(14, 2)`).
const MAX_TOTAL: i64 = 999_999_999_999;

/// A catalog row as locked for the order, with what the order takes from
/// outside the catalog in the same statement (the same on every row).
#[derive(Debug, sqlx::FromRow)]
struct LockedRow {
    #[sqlx(flatten)]
    product: Product,
    currency: String,
    now: DateTime<Utc>,
    number: i64,
    existing: Option<Uuid>,
}

/// What the order takes from its store and its transaction, and the order
/// the store already has under its `external_id`, if any.
struct Header {
    currency: String,
    now: DateTime<Utc>,
    number: i64,
    existing: Option<Uuid>,
}

/// A merged line: one product (as locked), and its summed quantity.
struct Line {
    product: Product,
    quantity: i32,
}

impl Line {
    fn total(&self) -> Money {
        self.product.price.times(self.quantity)
    }

    /// The line as the order shows it.
    fn item(&self, order_id: Uuid, line: i32) -> OrderItem {
        let product = &self.product;
        OrderItem {
            order_id,
            line,
            product_id: product.id,
            sku: product.sku.clone(),
            name: product.name.clone(),
            category: product.category.clone(),
            unit_price: product.price,
            quantity: self.quantity,
            line_total: self.total(),
        }
    }

    /// The product as the reservation leaves it.
    fn reserved(&self, now: DateTime<Utc>) -> Product {
        Product {
            stock: self.product.stock - self.quantity,
            updated_at: now,
            ..self.product.clone()
        }
    }
}

/// Creates the order in `store`; `actor` is the acting key's name. The
/// analytics rollups follow from its event (`analytics::projector`).
pub async fn create_order(
    conn: &mut PgConnection,
    store: &str,
    actor: &str,
    new: &NewOrder,
) -> Result<Order, ApiError> {
    let (lines, header) = resolve_lines(conn, store, new).await?;
    if let Some(existing) = header.existing {
        return Err(duplicate_external_id(store, new, Some(existing)));
    }
    check_stock(&lines)?;
    let total: Money = lines.iter().map(Line::total).sum();
    if total.decimal() > rust_decimal::Decimal::from(MAX_TOTAL) {
        return Err(ApiError::invalid(
            "items",
            "the order total is out of range",
        ));
    }
    let order_id = Uuid::now_v7();
    let order = Order {
        id: order_id,
        number: header.number,
        store: store.to_string(),
        external_id: new.external_id.clone(),
        status: Status::Pending,
        customer: new.customer.clone(),
        items: (1..)
            .zip(&lines)
            .map(|(n, line)| line.item(order_id, n))
            .collect(),
        total,
        currency: header.currency,
        shipping_address: new.shipping_address.clone(),
        tracking: None,
        tags: new.tags.clone(),
        note: new.note.clone(),
        created_at: header.now,
        updated_at: header.now,
        completed_at: None,
        cancelled_at: None,
        deleted_at: None,
        version: 1,
    };
    let timeline = json!({ "external_id": new.external_id, "lines": lines.len(), "total": total });
    let (created, reserved) = write_order(conn, &order, &lines, actor, timeline).await?;
    if !created {
        // Another order took the `external_id` after the first statement read.
        let existing =
            sqlx::query_scalar("select id from orders where store_id = $1 and external_id = $2")
                .bind(store)
                .bind(&new.external_id)
                .fetch_optional(&mut *conn)
                .await?;
        return Err(duplicate_external_id(store, new, existing));
    }
    if reserved != lines.len() {
        return Err(anyhow::anyhow!("stock changed under a row lock").into());
    }
    let mut changes = vec![NewEvent::order(EventType::OrderCreated, &order)?];
    for line in &lines {
        let after = line.reserved(header.now);
        if events::crosses_low_stock(line.product.stock, after.stock, after.low_stock_threshold) {
            changes.push(NewEvent::product(EventType::ProductStockLow, &after)?);
        }
    }
    events::append(conn, &changes).await?;
    Ok(order)
}

/// Finds every requested product in the store, locked in id order, and merges
/// lines naming the same product. Unknown or inactive products are 422s naming
/// the line; an unknown store is a 422 naming `store`.
async fn resolve_lines(
    conn: &mut PgConnection,
    store: &str,
    new: &NewOrder,
) -> Result<(Vec<Line>, Header), ApiError> {
    let items = &new.items;
    let mut errors = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if item.product_id.is_some() == item.sku.is_some() {
            errors.push(FieldError::new(
                format!("items[{index}]"),
                "give exactly one of product_id or sku",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let ids: Vec<Uuid> = items.iter().filter_map(|item| item.product_id).collect();
    let skus: Vec<&str> = items
        .iter()
        .filter_map(|item| item.sku.as_deref())
        .collect();
    // The scalar subqueries run once per statement, not once per row.
    let locked: Vec<LockedRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {PRODUCT_COLUMNS},
                (select currency from stores where id = $1) as currency, now() as now,
                (select nextval('order_number_seq')) as number,
                (select id from orders where store_id = $1 and external_id = $4) as existing
         from products
         where store_id = $1 and (id = any($2) or sku = any($3))
         order by id for update"
    )))
    .bind(store)
    .bind(&ids)
    .bind(&skus)
    .bind(&new.external_id)
    .fetch_all(&mut *conn)
    .await?;
    // A product row implies its store; with none, ask.
    if locked.is_empty() && !store_exists(&mut *conn, store).await? {
        return Err(no_such_store());
    }
    let header = locked.first().map(|row| Header {
        currency: row.currency.clone(),
        now: row.now,
        number: row.number,
        existing: row.existing,
    });
    let catalog: Vec<Product> = locked.into_iter().map(|row| row.product).collect();

    let mut merged: BTreeMap<Uuid, i32> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        let found = catalog
            .iter()
            .find(|product| match (&item.product_id, &item.sku) {
                (Some(id), _) => product.id == *id,
                (None, Some(sku)) => product.sku == *sku,
                (None, None) => false,
            });
        match found {
            None => {
                let field = if item.product_id.is_some() {
                    "product_id"
                } else {
                    "sku"
                };
                errors.push(FieldError::new(
                    format!("items[{index}].{field}"),
                    "no such product in this store",
                ));
            }
            Some(product) if !product.active => {
                errors.push(FieldError::new(
                    format!("items[{index}]"),
                    "the product is not active",
                ));
            }
            Some(product) => *merged.entry(product.id).or_default() += item.quantity,
        }
    }
    let Some(header) = header.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let mut catalog: BTreeMap<Uuid, Product> =
        catalog.into_iter().map(|row| (row.id, row)).collect();
    // Lines keep the order in which the request first named each product.
    let mut lines = Vec::new();
    for item in items {
        let id = match (&item.product_id, &item.sku) {
            (Some(id), _) => Some(*id),
            (None, Some(sku)) => catalog
                .values()
                .find(|row| row.sku == *sku)
                .map(|row| row.id),
            (None, None) => None,
        };
        if let Some(product) = id.and_then(|id| catalog.remove(&id)) {
            let quantity = merged[&product.id];
            lines.push(Line { product, quantity });
        }
    }
    Ok((lines, header))
}

/// The 409 naming each line the locked stock cannot cover, if any.
fn check_stock(lines: &[Line]) -> Result<(), ApiError> {
    let short: Vec<serde_json::Value> = lines
        .iter()
        .filter(|line| line.product.stock < line.quantity)
        .map(|line| {
            json!({
                "product_id": line.product.id, "sku": line.product.sku,
                "requested": line.quantity, "available": line.product.stock,
            })
        })
        .collect();
    if short.is_empty() {
        return Ok(());
    }
    Err(ApiError::conflict(
        Conflict::InsufficientStock,
        format!("{} item(s) do not have enough stock", short.len()),
        json!({ "items": short }),
    ))
}

/// Writes the order row (nothing, when the store has its `external_id`
/// already), its items, its timeline entry and the stock decrement, in one
/// statement. Returns whether the order was written and how many products
/// the decrement reserved.
async fn write_order(
    conn: &mut PgConnection,
    order: &Order,
    lines: &[Line],
    actor: &str,
    timeline: serde_json::Value,
) -> Result<(bool, usize), ApiError> {
    let items = &order.items;
    let numbers: Vec<i32> = items.iter().map(|item| item.line).collect();
    let product_ids: Vec<Uuid> = items.iter().map(|item| item.product_id).collect();
    let skus: Vec<&str> = items.iter().map(|item| item.sku.as_str()).collect();
    let names: Vec<&str> = items.iter().map(|item| item.name.as_str()).collect();
    let categories: Vec<&str> = items.iter().map(|item| item.category.as_str()).collect();
    let prices: Vec<Money> = items.iter().map(|item| item.unit_price).collect();
    let costs: Vec<Option<Money>> = lines.iter().map(|line| line.product.cost).collect();
    let quantities: Vec<i32> = items.iter().map(|item| item.quantity).collect();
    let totals: Vec<Money> = items.iter().map(|item| item.line_total).collect();
    let customer = &order.customer;
    let (created, reserved): (i64, i64) = sqlx::query_as(
        "with new_order as (
             insert into orders (id, number, store_id, external_id, status, customer_id, customer_email,
                                 customer_name, customer_phone, shipping_address, tags, note, total,
                                 currency)
             values ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $12, $13)
             on conflict (store_id, external_id) do nothing
             returning id
         ), reserved as (
             update products p set stock = p.stock - r.quantity, updated_at = now()
             from unnest($14::uuid[], $15::int[]) as r(product_id, quantity)
             where p.id = r.product_id and p.stock >= r.quantity
               and exists (select 1 from new_order)
             returning p.id
         ), items as (
             insert into order_items (order_id, line, product_id, sku, name, category, unit_price,
                                      unit_cost, quantity, line_total)
             select o.id, l.* from new_order o,
                  unnest($16::int[], $14::uuid[], $17::text[], $18::text[], $19::text[],
                         $20::numeric[], $21::numeric[], $15::int[], $22::numeric[]) as l
         ), timeline as (
             insert into order_events (order_id, kind, actor, from_status, to_status, data)
             select id, 'created', $23, null, 'pending', $24 from new_order
         )
         select (select count(*) from new_order), (select count(*) from reserved)",
    )
    .bind(order.id)
    .bind(order.number)
    .bind(&order.store)
    .bind(&order.external_id)
    .bind(&customer.id)
    .bind(&customer.email)
    .bind(&customer.name)
    .bind(&customer.phone)
    .bind(order.shipping_address.as_ref().map(sqlx::types::Json))
    .bind(&order.tags)
    .bind(&order.note)
    .bind(order.total)
    .bind(&order.currency)
    .bind(&product_ids)
    .bind(&quantities)
    .bind(&numbers)
    .bind(&skus)
    .bind(&names)
    .bind(&categories)
    .bind(&prices)
    .bind(&costs)
    .bind(&totals)
    .bind(actor)
    .bind(timeline)
    .fetch_one(conn)
    .await?;
    Ok((created == 1, reserved as usize))
}

/// The 409 for an `external_id` the store already has, naming the existing order.
fn duplicate_external_id(store: &str, new: &NewOrder, existing: Option<Uuid>) -> ApiError {
    ApiError::conflict(
        Conflict::ExternalIdExists,
        format!(
            "store `{store}` already has an order with external_id `{}`",
            new.external_id.as_deref().unwrap_or_default()
        ),
        json!({ "existing_order_id": existing }),
    )
}

/// Re-reads an order inside the transaction (used after updates).
pub async fn reload(
    conn: &mut PgConnection,
    scope: &StoreScope,
    id: Uuid,
) -> Result<Order, ApiError> {
    let row = repo::find_row(conn, scope, OrderRef::Id(id), false).await?;
    let mut orders = repo::with_items(conn, vec![row]).await?;
    orders.pop().ok_or(ApiError::NotFound("order"))
}
