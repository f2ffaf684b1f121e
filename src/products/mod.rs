//! Products: the catalog orders are made from. Stock is only ever changed by
//! single conditional statements, so it cannot go below zero.

pub mod routes;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{Money, rules};
use crate::events::{self, EventType, NewEvent};
use crate::http::auth::StoreScope;
use crate::http::error::{ApiError, Conflict, ResultExt};

/// The largest stock level or adjustment accepted.
pub const MAX_STOCK: i32 = 1_000_000_000;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Product {
    pub id: Uuid,
    pub store: String,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Money,
    /// Unit cost, for margin analytics; null when unknown.
    pub cost: Option<Money>,
    pub stock: i32,
    /// Stock falling below this emits `product.stock_low`.
    pub low_stock_threshold: i32,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    /// Defaults to the key's store, else `default`.
    pub store: Option<String>,
    #[validate(custom(function = "rules::sku"))]
    #[schema(example = "MUG-BLUE", pattern = r"^[!-~]{1,64}$")]
    pub sku: String,
    #[validate(length(min = 1, max = 200), custom(function = "rules::not_blank"))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    #[serde(default)]
    pub description: String,
    #[validate(length(min = 1, max = 100), custom(function = "rules::not_blank"))]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub category: String,
    #[validate(custom(function = "rules::non_negative_money"))]
    pub price: Money,
    #[validate(custom(function = "rules::non_negative_money"))]
    pub cost: Option<Money>,
    #[validate(range(min = 0, max = MAX_STOCK))]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub stock: i32,
    /// Stock falling below this emits `product.stock_low`.
    #[serde(default = "default_low_stock_threshold")]
    #[validate(range(min = 0, max = MAX_STOCK))]
    #[schema(minimum = 0, maximum = 1000000000, default = 5)]
    pub low_stock_threshold: i32,
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

/// The threshold a product gets when none is given (as the column's default).
const DEFAULT_LOW_STOCK_THRESHOLD: i32 = 5;

fn default_low_stock_threshold() -> i32 {
    DEFAULT_LOW_STOCK_THRESHOLD
}

/// A partial update; absent fields are kept. `cost: null` clears the cost.
#[derive(Debug, Default, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    #[validate(length(min = 1, max = 200), custom(function = "rules::not_blank"))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[validate(length(min = 1, max = 100), custom(function = "rules::not_blank"))]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub category: Option<String>,
    #[validate(custom(function = "rules::non_negative_money"))]
    pub price: Option<Money>,
    #[serde(default, deserialize_with = "present_or_null")]
    #[validate(custom(function = "rules::non_negative_money"))]
    #[schema(value_type = Option<Money>)]
    pub cost: Option<Option<Money>>,
    /// Sets the stock level.
    #[validate(range(min = 0, max = MAX_STOCK))]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub stock: Option<i32>,
    /// Adjusts the stock level; the result may not go below zero (409).
    #[validate(range(min = -MAX_STOCK, max = MAX_STOCK))]
    #[schema(minimum = -1000000000, maximum = 1000000000)]
    pub stock_delta: Option<i32>,
    #[validate(range(min = 0, max = MAX_STOCK))]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub low_stock_threshold: Option<i32>,
    pub active: Option<bool>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
pub(crate) fn present_or_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The columns of `Product`, in order.
pub(crate) const COLUMNS: &str = "id, store_id as store, sku, name, description, category, price, cost, stock, \
    low_stock_threshold, active, version, created_at, updated_at";

/// Creates a product and its `product.created` event, in the caller's transaction.
pub async fn insert(
    conn: &mut PgConnection,
    store: &str,
    new: &NewProduct,
) -> Result<Product, ApiError> {
    let product: Product = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into products (id, store_id, sku, name, description, category, price, cost, stock,
                               active, low_stock_threshold)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         returning {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(store)
    .bind(&new.sku)
    .bind(new.name.trim())
    .bind(&new.description)
    .bind(new.category.trim())
    .bind(new.price)
    .bind(new.cost)
    .bind(new.stock)
    .bind(new.active)
    .bind(new.low_stock_threshold)
    .fetch_one(&mut *conn)
    .await
    .on_constraint("products_store_sku_key", || {
        ApiError::conflict(
            Conflict::SkuExists,
            format!("sku `{}` already exists in store `{store}`", new.sku),
            serde_json::json!({ "errors": [{ "field": "sku", "message": "already exists in this store" }] }),
        )
    })?;
    events::append(
        conn,
        &[NewEvent::product(EventType::ProductCreated, &product)?],
    )
    .await?;
    Ok(product)
}

/// Filters of the product list.
#[derive(Debug, Default)]
pub struct ProductFilter<'a> {
    pub category: Option<&'a str>,
    pub active: Option<bool>,
}

/// Products in `scope` matching `filter`, oldest first, after the cursor id.
pub async fn list(
    pool: &PgPool,
    scope: &StoreScope,
    filter: &ProductFilter<'_>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Product>, ApiError> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from products
         where ($1::text is null or store_id = $1) and ($2::text is null or category = $2)
           and ($3::bool is null or active = $3) and ($4::uuid is null or id > $4)
         order by id limit $5"
    )))
    .bind(scope.filter())
    .bind(filter.category)
    .bind(filter.active)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub async fn get(pool: &PgPool, scope: &StoreScope, id: Uuid) -> Result<Product, ApiError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from products where id = $1 and ($2::text is null or store_id = $2)"
    )))
    .bind(id)
    .bind(scope.filter())
    .fetch_optional(pool)
    .await?
    .ok_or(ApiError::NotFound("product"))
}

/// A product as an update left it, and whether its stock crossed below its threshold.
#[derive(sqlx::FromRow)]
struct Updated {
    #[sqlx(flatten)]
    product: Product,
    crossed_low: bool,
}

/// Applies a patch in one transaction with its `product.updated` event (and
/// `product.stock_low` when the stock crosses below the threshold);
/// `expected_version` is the `If-Match` check.
pub async fn update(
    pool: &PgPool,
    scope: &StoreScope,
    id: Uuid,
    patch: &ProductPatch,
    expected_version: Option<i32>,
) -> Result<Product, ApiError> {
    if patch.stock.is_some() && patch.stock_delta.is_some() {
        return Err(ApiError::invalid(
            "stock_delta",
            "give either stock or stock_delta, not both",
        ));
    }
    let mut tx = pool.begin().await?;
    // `old` reads the row under the update's own lock, for the stock before.
    let updated: Option<Updated> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update products p set
            name = coalesce($4, name), description = coalesce($5, description),
            category = coalesce($6, category), price = coalesce($7, price),
            cost = case when $8 then $9 else cost end,
            stock = coalesce($10, p.stock + coalesce($11, 0)),
            low_stock_threshold = coalesce($13, p.low_stock_threshold),
            active = coalesce($12, active),
            version = version + 1, updated_at = now()
         from (select id, stock from products where id = $1 for update) old
         where p.id = old.id and ($2::text is null or store_id = $2) and ($3::int is null or version = $3)
         returning {}, old.stock >= p.low_stock_threshold and p.stock < p.low_stock_threshold as crossed_low",
        qualified_columns()
    )))
    .bind(id)
    .bind(scope.filter())
    .bind(expected_version)
    .bind(patch.name.as_deref().map(str::trim))
    .bind(patch.description.as_deref())
    .bind(patch.category.as_deref().map(str::trim))
    .bind(patch.price)
    .bind(patch.cost.is_some())
    .bind(patch.cost.flatten())
    .bind(patch.stock)
    .bind(patch.stock_delta)
    .bind(patch.active)
    .bind(patch.low_stock_threshold)
    .fetch_optional(&mut *tx)
    .await
    .on_constraint("products_stock_check", || {
        ApiError::conflict(
            Conflict::StockOutOfRange,
            format!("the stock adjustment would take stock below 0 or above {MAX_STOCK}"),
            serde_json::Value::Null,
        )
    })?;
    let Some(Updated {
        product,
        crossed_low,
    }) = updated
    else {
        drop(tx);
        // Tell "changed since" from "not there" only after the atomic attempt failed.
        get(pool, scope, id).await?;
        return Err(ApiError::PreconditionFailed);
    };
    let mut changes = vec![NewEvent::product(EventType::ProductUpdated, &product)?];
    if crossed_low {
        changes.push(NewEvent::product(EventType::ProductStockLow, &product)?);
    }
    events::append(&mut tx, &changes).await?;
    tx.commit().await?;
    Ok(product)
}

/// `COLUMNS` qualified by the updated row's alias `p` (`old` has an `id` too).
fn qualified_columns() -> String {
    COLUMNS
        .split(", ")
        .map(|column| format!("p.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
