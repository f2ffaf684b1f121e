//! Items against the catalog: each store's products are read once per run;
//! an item names its product by `sku` or `product_id`, and its snapshot is
//! what the item gives (`name`, `category`, `unit_price`, `unit_cost`), the
//! catalog filling the rest. Lines for the same product are merged (summed
//! quantity) when their prices agree. With `create_products`, an unknown SKU
//! given fully inline is added to the catalog, inactive and without stock.

use std::collections::HashMap;

use anyhow::Context;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use super::order::{ImportItem, ValidOrder};
use crate::domain::Money;
use crate::products::NewProduct;

/// Largest order total (fits `numeric(14, 2)`).
const MAX_TOTAL: i64 = 999_999_999_999;

/// The columns of [`CatalogProduct`].
const SNAPSHOT_COLUMNS: &str = "id, sku, name, category, price, cost";

/// A product as snapshots need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CatalogProduct {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub price: Money,
    pub cost: Option<Money>,
}

/// One store: its currency and its products.
#[derive(Debug, Default)]
pub struct StoreCatalog {
    pub currency: String,
    products: Vec<CatalogProduct>,
    by_sku: HashMap<String, usize>,
    by_id: HashMap<Uuid, usize>,
}

impl StoreCatalog {
    fn add(&mut self, product: CatalogProduct) {
        let index = self.products.len();
        self.by_sku.insert(product.sku.clone(), index);
        self.by_id.insert(product.id, index);
        self.products.push(product);
    }

    fn find(&self, item: &ImportItem) -> Option<&CatalogProduct> {
        let index = match (&item.product_id, &item.sku) {
            (Some(id), _) => self.by_id.get(id),
            (None, Some(sku)) => self.by_sku.get(sku),
            (None, None) => None,
        };
        index.map(|&index| &self.products[index])
    }
}

/// A line as it will be written.
#[derive(Debug, Clone)]
pub struct Line {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub unit_price: Money,
    pub unit_cost: Option<Money>,
    pub quantity: i32,
}

impl Line {
    pub fn total(&self) -> Money {
        self.unit_price.times(self.quantity)
    }
}

/// The catalogs of the stores a run has met; `None` for an unknown store.
#[derive(Debug, Default)]
pub struct Catalogs {
    stores: HashMap<String, Option<StoreCatalog>>,
}

impl Catalogs {
    /// The store's catalog, read on first use; `None` if there is no such store.
    pub async fn store(
        &mut self,
        pool: &PgPool,
        id: &str,
    ) -> anyhow::Result<Option<&StoreCatalog>> {
        if !self.stores.contains_key(id) {
            let loaded = load(pool, id).await?;
            self.stores.insert(id.to_string(), loaded);
        }
        Ok(self.stores.get(id).and_then(Option::as_ref))
    }

    /// Adds the unknown SKUs `order` gives fully inline as inactive products
    /// (or, in a dry run, only to this run's view of the catalog).
    pub async fn create_missing(
        &mut self,
        pool: &PgPool,
        store: &str,
        order: &ValidOrder,
        dry_run: bool,
    ) -> anyhow::Result<()> {
        let Some(Some(catalog)) = self.stores.get(store) else {
            return Ok(());
        };
        let missing: Vec<NewProduct> = order
            .items
            .iter()
            .filter(|item| item.product_id.is_none() && catalog.find(item).is_none())
            .filter_map(inline_product)
            .collect();
        for new in missing {
            let product = if dry_run {
                CatalogProduct {
                    id: Uuid::now_v7(),
                    sku: new.sku.clone(),
                    name: new.name.clone(),
                    category: new.category.clone(),
                    price: new.price,
                    cost: new.cost,
                }
            } else {
                create_product(pool, store, &new).await?
            };
            if let Some(Some(catalog)) = self.stores.get_mut(store) {
                catalog.add(product);
            }
        }
        Ok(())
    }
}

/// The product an inline item describes, when it says enough.
fn inline_product(item: &ImportItem) -> Option<NewProduct> {
    Some(NewProduct {
        store: None,
        sku: item.sku.clone()?,
        name: item.name.clone()?,
        description: String::new(),
        category: item.category.clone()?,
        price: item.unit_price?,
        cost: item.unit_cost,
        stock: 0,
        low_stock_threshold: 0,
        active: false,
    })
}

async fn create_product(
    pool: &PgPool,
    store: &str,
    new: &NewProduct,
) -> anyhow::Result<CatalogProduct> {
    let mut tx = pool.begin().await?;
    // Another run may add the same SKU meanwhile: then that one is used.
    let created = crate::products::insert(&mut tx, store, new).await;
    let product = match created {
        Ok(product) => {
            tx.commit().await?;
            CatalogProduct {
                id: product.id,
                sku: product.sku,
                name: product.name,
                category: product.category,
                price: product.price,
                cost: product.cost,
            }
        }
        Err(_) => {
            drop(tx);
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {SNAPSHOT_COLUMNS} from products where store_id = $1 and sku = $2"
            )))
            .bind(store)
            .bind(&new.sku)
            .fetch_one(pool)
            .await
            .with_context(|| format!("creating product {}", new.sku))?
        }
    };
    Ok(product)
}

async fn load(pool: &PgPool, store: &str) -> anyhow::Result<Option<StoreCatalog>> {
    let currency: Option<String> = sqlx::query_scalar("select currency from stores where id = $1")
        .bind(store)
        .fetch_optional(pool)
        .await
        .context("reading the store")?;
    let Some(currency) = currency else {
        return Ok(None);
    };
    let rows: Vec<CatalogProduct> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {SNAPSHOT_COLUMNS} from products where store_id = $1"
    )))
    .bind(store)
    .fetch_all(pool)
    .await
    .context("reading the catalog")?;
    let mut catalog = StoreCatalog {
        currency: currency.trim().to_string(),
        ..StoreCatalog::default()
    };
    for product in rows {
        catalog.add(product);
    }
    Ok(Some(catalog))
}

/// The order's lines, merged per product, or why it cannot be imported.
pub fn resolve(order: &ValidOrder, catalog: &StoreCatalog) -> Result<Vec<Line>, String> {
    let mut lines: Vec<Line> = Vec::with_capacity(order.items.len());
    let mut first_index: HashMap<Uuid, usize> = HashMap::new();
    for (index, item) in order.items.iter().enumerate() {
        let product = catalog
            .find(item)
            .ok_or_else(|| match (&item.product_id, &item.sku) {
                (Some(id), _) => {
                    format!("items[{index}].product_id: no product {id} in this store")
                }
                (None, Some(sku)) => format!("items[{index}].sku: unknown SKU `{sku}`"),
                (None, None) => format!("items[{index}]: give a sku or a product_id"),
            })?;
        let quantity = item.quantity as i32;
        let line = Line {
            product_id: product.id,
            sku: product.sku.clone(),
            name: item.name.clone().unwrap_or_else(|| product.name.clone()),
            category: item
                .category
                .clone()
                .unwrap_or_else(|| product.category.clone()),
            unit_price: item.unit_price.unwrap_or(product.price),
            unit_cost: item.unit_cost.or(product.cost),
            quantity,
        };
        match first_index.get(&product.id) {
            Some(&at) => {
                let merged = &mut lines[at];
                if merged.unit_price != line.unit_price {
                    return Err(format!(
                        "items[{index}]: the same product as an earlier line at another unit_price ({} and {})",
                        merged.unit_price, line.unit_price
                    ));
                }
                merged.quantity = merged.quantity.saturating_add(quantity);
            }
            None => {
                first_index.insert(product.id, lines.len());
                lines.push(line);
            }
        }
    }
    let total: Money = lines.iter().map(Line::total).sum();
    if total.decimal() > Decimal::from(MAX_TOTAL) {
        return Err("items: the order total is out of range".into());
    }
    Ok(lines)
}
