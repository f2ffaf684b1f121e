//! Creating an order: one transaction that resolves the items, snapshots the
//! products, reserves stock, writes the order, its items, the `created`
//! timeline entry and the `order.created` event (with `product.stock_low` for
//! each product the reservation takes below its threshold), and stamps the
//! order for the search outbox (invariant 1).
//!
//! Stock can never be oversold: the products are locked in id order (so two
//! orders for the same products cannot deadlock), checked, then decremented.

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{NewItem, NewOrder, Order, OrderItem, Status};
use super::repo::{self, ORDER_COLUMNS, OrderRef, OrderRow};
use crate::domain::Money;
use crate::events::{self, EventType, NewEvent};
use crate::http::auth::StoreScope;
use crate::http::error::{ApiError, FieldError};
use crate::products::{COLUMNS as PRODUCT_COLUMNS, Product};

/// Largest order total (fits `numeric(14, 2)`).
const MAX_TOTAL: i64 = 999_999_999_999;

/// A catalog row as locked for the order.
#[derive(Debug, sqlx::FromRow)]
struct CatalogRow {
    id: Uuid,
    sku: String,
    name: String,
    category: String,
    price: Money,
    cost: Option<Money>,
    stock: i32,
    active: bool,
}

/// A merged line: one product, summed quantity, and the request lines it came from.
struct Line {
    product: CatalogRow,
    quantity: i32,
}

impl Line {
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
            line_total: product.price.times(self.quantity),
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
    let currency: String = sqlx::query_scalar("select currency from stores where id = $1")
        .bind(store)
        .fetch_one(&mut *conn)
        .await?;
    let lines = resolve_lines(conn, store, &new.items).await?;
    let total: Money = lines
        .iter()
        .map(|line| line.product.price.times(line.quantity))
        .sum();
    if total.decimal() > rust_decimal::Decimal::from(MAX_TOTAL) {
        return Err(ApiError::invalid(
            "items",
            "the order total is out of range",
        ));
    }
    let order_id = Uuid::now_v7();
    let inserted: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into orders (id, store_id, external_id, status, customer_id, customer_email, customer_name,
                             customer_phone, shipping_address, tags, note, total, currency)
         values ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $12)
         on conflict (store_id, external_id) do nothing
         returning {ORDER_COLUMNS}"
    )))
    .bind(order_id)
    .bind(store)
    .bind(&new.external_id)
    .bind(&new.customer.id)
    .bind(&new.customer.email)
    .bind(&new.customer.name)
    .bind(&new.customer.phone)
    .bind(new.shipping_address.as_ref().map(sqlx::types::Json))
    .bind(&new.tags)
    .bind(&new.note)
    .bind(total)
    .bind(&currency)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = inserted else {
        return Err(duplicate_external_id(conn, store, new.external_id.as_deref()).await);
    };
    let reserved = reserve_stock(conn, &lines).await?;
    insert_items(conn, order_id, &lines).await?;
    let data = json!({ "external_id": new.external_id, "lines": lines.len(), "total": total });
    repo::record_event(
        conn,
        order_id,
        "created",
        actor,
        (None, Some(Status::Pending)),
        data,
    )
    .await?;
    // The order as committed, from what this transaction wrote (no re-read).
    let items = (1..).zip(&lines).map(|(n, line)| line.item(order_id, n));
    let order = row.into_order(items.collect());
    let mut changes = vec![NewEvent::order(EventType::OrderCreated, &order)?];
    for product in &reserved {
        let before = lines
            .iter()
            .find(|line| line.product.id == product.id)
            .map_or(product.stock, |line| line.product.stock);
        if events::crosses_low_stock(before, product.stock, product.low_stock_threshold) {
            changes.push(NewEvent::product(EventType::ProductStockLow, product)?);
        }
    }
    events::append(conn, &changes).await?;
    Ok(order)
}

/// Finds every requested product in the store, locked in id order, and merges
/// lines naming the same product. Unknown or inactive products are 422s naming
/// the line.
async fn resolve_lines(
    conn: &mut PgConnection,
    store: &str,
    items: &[NewItem],
) -> Result<Vec<Line>, ApiError> {
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
    let catalog: Vec<CatalogRow> = sqlx::query_as(
        "select id, sku, name, category, price, cost, stock, active from products
         where store_id = $1 and (id = any($2) or sku = any($3))
         order by id for update",
    )
    .bind(store)
    .bind(&ids)
    .bind(&skus)
    .fetch_all(&mut *conn)
    .await?;

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
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut catalog: BTreeMap<Uuid, CatalogRow> =
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
    Ok(lines)
}

/// Decrements stock for every line, or answers 409 naming each short line.
/// Returns the products as the reservation left them.
async fn reserve_stock(conn: &mut PgConnection, lines: &[Line]) -> Result<Vec<Product>, ApiError> {
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
    if !short.is_empty() {
        return Err(ApiError::conflict(
            "insufficient-stock",
            format!("{} item(s) do not have enough stock", short.len()),
            json!({ "items": short }),
        ));
    }
    let ids: Vec<Uuid> = lines.iter().map(|line| line.product.id).collect();
    let quantities: Vec<i32> = lines.iter().map(|line| line.quantity).collect();
    // The rows are locked already; `stock >= qty` keeps the no-oversell rule local too.
    let updated: Vec<Product> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update products set stock = stock - r.quantity, updated_at = now()
         from unnest($1::uuid[], $2::int[]) as r(product_id, quantity)
         where id = r.product_id and stock >= r.quantity
         returning {PRODUCT_COLUMNS}"
    )))
    .bind(&ids)
    .bind(&quantities)
    .fetch_all(&mut *conn)
    .await?;
    if updated.len() != lines.len() {
        return Err(anyhow::anyhow!("stock changed under a row lock").into());
    }
    Ok(updated)
}

async fn insert_items(
    conn: &mut PgConnection,
    order_id: Uuid,
    lines: &[Line],
) -> Result<(), ApiError> {
    let numbers: Vec<i32> = (1..=lines.len() as i32).collect();
    let product_ids: Vec<Uuid> = lines.iter().map(|line| line.product.id).collect();
    let skus: Vec<&str> = lines.iter().map(|line| line.product.sku.as_str()).collect();
    let names: Vec<&str> = lines
        .iter()
        .map(|line| line.product.name.as_str())
        .collect();
    let categories: Vec<&str> = lines
        .iter()
        .map(|line| line.product.category.as_str())
        .collect();
    let prices: Vec<Money> = lines.iter().map(|line| line.product.price).collect();
    let costs: Vec<Option<Money>> = lines.iter().map(|line| line.product.cost).collect();
    let quantities: Vec<i32> = lines.iter().map(|line| line.quantity).collect();
    let totals: Vec<Money> = lines
        .iter()
        .map(|line| line.product.price.times(line.quantity))
        .collect();
    sqlx::query(
        "insert into order_items (order_id, line, product_id, sku, name, category, unit_price, unit_cost,
                                  quantity, line_total)
         select $1, * from unnest($2::int[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                                  $7::numeric[], $8::numeric[], $9::int[], $10::numeric[])",
    )
    .bind(order_id)
    .bind(&numbers)
    .bind(&product_ids)
    .bind(&skus)
    .bind(&names)
    .bind(&categories)
    .bind(&prices)
    .bind(&costs)
    .bind(&quantities)
    .bind(&totals)
    .execute(conn)
    .await?;
    Ok(())
}

/// The 409 for an `external_id` the store already has, naming the existing order.
async fn duplicate_external_id(
    conn: &mut PgConnection,
    store: &str,
    external_id: Option<&str>,
) -> ApiError {
    let existing: Option<Uuid> =
        sqlx::query_scalar("select id from orders where store_id = $1 and external_id = $2")
            .bind(store)
            .bind(external_id)
            .fetch_optional(conn)
            .await
            .ok()
            .flatten();
    ApiError::conflict(
        "external-id-exists",
        format!(
            "store `{store}` already has an order with external_id `{}`",
            external_id.unwrap_or_default()
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
