//! Writing one batch of orders in the caller's transaction: orders new to
//! their store are inserted together (orders, items, timeline, one
//! `order.imported` event each, the outbox stamp from the column default),
//! `on conflict (store_id, external_id) do nothing`, so two runs at once never
//! create an order twice; orders the store already has go to [`update`].
//!
//! Imported orders record that they reserved nothing (`stock_reserved =
//! false`); with `reserve_stock`, open ones take their stock like API orders,
//! and a short product fails the batch (the engine then writes the batch
//! order by order and rejects the short ones).

use std::collections::{HashMap, HashSet};

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::catalog::Line;
use super::order::ValidOrder;
use super::update;
use crate::domain::Money;
use crate::events::{self, EventType, NewEvent};
use crate::orders::model::OrderItem;
use crate::orders::repo::{ORDER_COLUMNS, OrderRow};

/// An order ready to write: checked, its store known, its lines resolved.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub order: ValidOrder,
    pub store: String,
    pub currency: String,
    pub lines: Vec<Line>,
}

impl Prepared {
    fn key(&self) -> (&str, &str) {
        (self.store.as_str(), self.order.external_id.as_str())
    }

    fn total(&self) -> Money {
        self.lines.iter().map(Line::total).sum()
    }
}

/// What became of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created,
    /// What changed, e.g. `status pending → completed, tags`.
    Updated(String),
    Unchanged,
    Rejected(String),
}

/// Writes `orders` (or, with `dry_run`, only finds out what would happen).
/// Outcomes come back in the order of `orders`.
pub async fn write_batch(
    conn: &mut PgConnection,
    orders: &[Prepared],
    run: Uuid,
    reserve_stock: bool,
    dry_run: bool,
) -> anyhow::Result<Vec<Outcome>> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; orders.len()];
    let existing = existing(conn, orders, !dry_run).await?;
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut fresh = Vec::new();
    let mut later = Vec::new();
    for (index, order) in orders.iter().enumerate() {
        if existing.contains_key(&owned(order.key())) || !seen.insert(order.key()) {
            later.push(index);
        } else {
            fresh.push(index);
        }
    }
    if dry_run {
        for index in fresh {
            outcomes[index] = Some(Outcome::Created);
        }
        for index in later {
            outcomes[index] = Some(match existing.get(&owned(orders[index].key())) {
                Some(row) => update::compare(row, &orders[index])
                    .map_or(Outcome::Unchanged, |change| {
                        change.map_or_else(Outcome::Rejected, Outcome::Updated)
                    }),
                None => Outcome::Unchanged,
            });
        }
        return Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Unchanged))
            .collect());
    }
    let inserted = insert(conn, orders, &fresh, run, reserve_stock).await?;
    for index in fresh {
        if inserted.contains(&owned(orders[index].key())) {
            outcomes[index] = Some(Outcome::Created);
        } else {
            // Another run inserted it meanwhile: now it exists.
            later.push(index);
        }
    }
    later.sort_unstable();
    for index in later {
        outcomes[index] = Some(update::apply(conn, &orders[index]).await?);
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Unchanged))
        .collect())
}

fn owned((store, external_id): (&str, &str)) -> (String, String) {
    (store.to_string(), external_id.to_string())
}

/// The batch's orders their stores already have, locked when writing.
async fn existing(
    conn: &mut PgConnection,
    orders: &[Prepared],
    lock: bool,
) -> anyhow::Result<HashMap<(String, String), OrderRow>> {
    let stores: Vec<&str> = orders.iter().map(|o| o.store.as_str()).collect();
    let ids: Vec<&str> = orders
        .iter()
        .map(|o| o.order.external_id.as_str())
        .collect();
    let lock = if lock { "order by id for update" } else { "" };
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ORDER_COLUMNS} from orders
         where (store_id, external_id) in (select * from unnest($1::text[], $2::text[]))
         {lock}"
    )))
    .bind(&stores)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .context("finding orders imported before")?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                (
                    row.store_id.clone(),
                    row.external_id.clone().unwrap_or_default(),
                ),
                row,
            )
        })
        .collect())
}

/// Inserts the orders at `indexes` with their items, timelines and events;
/// returns the keys actually inserted.
async fn insert(
    conn: &mut PgConnection,
    orders: &[Prepared],
    indexes: &[usize],
    run: Uuid,
    reserve_stock: bool,
) -> anyhow::Result<HashSet<(String, String)>> {
    if indexes.is_empty() {
        return Ok(HashSet::new());
    }
    let chosen: Vec<&Prepared> = indexes.iter().map(|&i| &orders[i]).collect();
    let reserves = |p: &Prepared| reserve_stock && p.order.status.is_open();
    let ids: Vec<Uuid> = chosen.iter().map(|_| Uuid::now_v7()).collect();
    let column =
        |f: fn(&Prepared) -> Option<String>| chosen.iter().map(|p| f(p)).collect::<Vec<_>>();
    let stores = column(|p| Some(p.store.clone()));
    let external_ids = column(|p| Some(p.order.external_id.clone()));
    let statuses = column(|p| Some(p.order.status.as_str().to_string()));
    let customer_ids = column(|p| p.order.customer.id.clone());
    let emails = column(|p| p.order.customer.email.clone());
    let names = column(|p| p.order.customer.name.clone());
    let phones = column(|p| p.order.customer.phone.clone());
    let notes = column(|p| p.order.note.clone());
    let currencies = column(|p| Some(p.currency.clone()));
    let addresses: Vec<Option<Json<&crate::orders::model::Address>>> = chosen
        .iter()
        .map(|p| p.order.shipping_address.as_ref().map(Json))
        .collect();
    let tags: Vec<Json<&[String]>> = chosen
        .iter()
        .map(|p| Json(p.order.tags.as_deref().unwrap_or_default()))
        .collect();
    let totals: Vec<Money> = chosen.iter().map(|p| p.total()).collect();
    let times = |f: fn(&ValidOrder) -> Option<DateTime<Utc>>| {
        chosen.iter().map(|p| f(&p.order)).collect::<Vec<_>>()
    };
    let created = times(|o| Some(o.created_at));
    let completed = times(|o| o.completed_at);
    let cancelled = times(|o| o.cancelled_at);
    let reserved: Vec<bool> = chosen.iter().map(|p| reserves(p)).collect();
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into orders (id, store_id, external_id, status, customer_id, customer_email, customer_name,
                             customer_phone, shipping_address, tags, note, total, currency, created_at,
                             completed_at, cancelled_at, stock_reserved)
         select u.id, u.store_id, u.external_id, u.status, u.customer_id, u.email, u.name, u.phone, u.address,
                array(select jsonb_array_elements_text(u.tags)), u.note, u.total, u.currency, u.created_at,
                u.completed_at, u.cancelled_at, u.reserved
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::jsonb[], $10::jsonb[], $11::text[], $12::numeric[], $13::text[],
                     $14::timestamptz[], $15::timestamptz[], $16::timestamptz[], $17::bool[])
              with ordinality as u(id, store_id, external_id, status, customer_id, email, name, phone, address,
                                   tags, note, total, currency, created_at, completed_at, cancelled_at,
                                   reserved, n)
         order by u.n
         on conflict (store_id, external_id) do nothing
         returning {ORDER_COLUMNS}"
    )))
    .bind(&ids)
    .bind(&stores)
    .bind(&external_ids)
    .bind(&statuses)
    .bind(&customer_ids)
    .bind(&emails)
    .bind(&names)
    .bind(&phones)
    .bind(&addresses)
    .bind(&tags)
    .bind(&notes)
    .bind(&totals)
    .bind(&currencies)
    .bind(&created)
    .bind(&completed)
    .bind(&cancelled)
    .bind(&reserved)
    .fetch_all(&mut *conn)
    .await
    .context("inserting orders")?;

    let by_id: HashMap<Uuid, &Prepared> = ids.iter().copied().zip(chosen.iter().copied()).collect();
    let written: Vec<(OrderRow, &Prepared)> = rows
        .into_iter()
        .filter_map(|row| by_id.get(&row.id).map(|p| (row, *p)))
        .collect();
    if reserve_stock {
        reserve(
            conn,
            written.iter().filter(|(_, p)| reserves(p)).map(|(_, p)| *p),
        )
        .await?;
    }
    insert_items(conn, &written).await?;
    insert_timeline(conn, &written, run).await?;
    let mut changes = Vec::with_capacity(written.len());
    let mut keys = HashSet::with_capacity(written.len());
    for (row, prepared) in written {
        keys.insert(owned(prepared.key()));
        let items = order_items(row.id, &prepared.lines);
        let order = row.into_order(items);
        changes.push(
            NewEvent::order(EventType::OrderImported, &order)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    events::append(conn, &changes)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(keys)
}

/// The lines as the order shows them.
pub fn order_items(order_id: Uuid, lines: &[Line]) -> Vec<OrderItem> {
    (1..)
        .zip(lines)
        .map(|(number, line)| OrderItem {
            order_id,
            line: number,
            product_id: line.product_id,
            sku: line.sku.clone(),
            name: line.name.clone(),
            category: line.category.clone(),
            unit_price: line.unit_price,
            quantity: line.quantity,
            line_total: line.total(),
        })
        .collect()
}

async fn insert_items(
    conn: &mut PgConnection,
    written: &[(OrderRow, &Prepared)],
) -> anyhow::Result<()> {
    let count: usize = written.iter().map(|(_, p)| p.lines.len()).sum();
    let mut order_ids = Vec::with_capacity(count);
    let mut numbers = Vec::with_capacity(count);
    let mut product_ids = Vec::with_capacity(count);
    let mut skus = Vec::with_capacity(count);
    let mut names = Vec::with_capacity(count);
    let mut categories = Vec::with_capacity(count);
    let mut prices = Vec::with_capacity(count);
    let mut costs = Vec::with_capacity(count);
    let mut quantities = Vec::with_capacity(count);
    let mut totals = Vec::with_capacity(count);
    for (row, prepared) in written {
        for (number, line) in (1i32..).zip(&prepared.lines) {
            order_ids.push(row.id);
            numbers.push(number);
            product_ids.push(line.product_id);
            skus.push(line.sku.as_str());
            names.push(line.name.as_str());
            categories.push(line.category.as_str());
            prices.push(line.unit_price);
            costs.push(line.unit_cost);
            quantities.push(line.quantity);
            totals.push(line.total());
        }
    }
    sqlx::query(
        "insert into order_items (order_id, line, product_id, sku, name, category, unit_price, unit_cost,
                                  quantity, line_total)
         select * from unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                              $7::numeric[], $8::numeric[], $9::int[], $10::numeric[])",
    )
    .bind(&order_ids)
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
    .await
    .context("inserting order items")?;
    Ok(())
}

/// One `imported` timeline entry per order, dated when the order was placed.
async fn insert_timeline(
    conn: &mut PgConnection,
    written: &[(OrderRow, &Prepared)],
    run: Uuid,
) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = written.iter().map(|(row, _)| row.id).collect();
    let at: Vec<DateTime<Utc>> = written.iter().map(|(row, _)| row.created_at).collect();
    let statuses: Vec<&str> = written.iter().map(|(row, _)| row.status.as_str()).collect();
    let data: Vec<Value> = written
        .iter()
        .map(|(row, prepared)| {
            json!({ "external_id": row.external_id, "lines": prepared.lines.len(), "total": row.total, "run": run })
        })
        .collect();
    sqlx::query(
        "insert into order_events (order_id, at, kind, actor, to_status, data)
         select u.id, u.at, 'imported', $4, u.status, u.data
         from unnest($1::uuid[], $2::timestamptz[], $3::text[], $5::jsonb[]) as u(id, at, status, data)",
    )
    .bind(&ids)
    .bind(&at)
    .bind(&statuses)
    .bind(super::ACTOR)
    .bind(&data)
    .execute(conn)
    .await
    .context("writing order timelines")?;
    Ok(())
}

/// Takes stock for open orders, products locked in id order as order creation
/// does; fails naming a product that has too little.
async fn reserve<'a>(
    conn: &mut PgConnection,
    orders: impl Iterator<Item = &'a Prepared>,
) -> anyhow::Result<()> {
    let mut wanted: HashMap<Uuid, (i32, String)> = HashMap::new();
    for line in orders.flat_map(|p| &p.lines) {
        let entry = wanted
            .entry(line.product_id)
            .or_insert((0, line.sku.clone()));
        entry.0 = entry.0.saturating_add(line.quantity);
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<Uuid> = wanted.keys().copied().collect();
    ids.sort_unstable();
    let quantities: Vec<i32> = ids.iter().map(|id| wanted[id].0).collect();
    let taken: Vec<Uuid> = sqlx::query_scalar(
        "with locked as (select id from products where id = any($1) order by id for update)
         update products p set stock = p.stock - r.quantity, updated_at = now()
         from unnest($1::uuid[], $2::int[]) as r(product_id, quantity), locked
         where p.id = r.product_id and locked.id = p.id and p.stock >= r.quantity
         returning p.id",
    )
    .bind(&ids)
    .bind(&quantities)
    .fetch_all(conn)
    .await
    .context("reserving stock")?;
    let short: Vec<&str> = ids
        .iter()
        .filter(|id| !taken.contains(id))
        .map(|id| wanted[id].1.as_str())
        .collect();
    ensure!(short.is_empty(), "not enough stock of {}", short.join(", "));
    Ok(())
}
