//! COPY for seeded orders: orders, items and events encoded as PostgreSQL's
//! text format into memory, then written in one transaction per chunk that
//! also records the chunk as done.
//!
//! Columns left out take their defaults: `number` and `change_stamp` from
//! their sequences (in COPY order), `indexed_stamp` 0 (so the search indexer
//! picks every order up), `order_events.id` from its identity.

use std::io::Write;

use anyhow::Context;
use sqlx::{PgConnection, PgPool};

use super::clock::push_timestamp;
use super::orders::{Event, SeedOrder};
use crate::orders::model::Status;

const COPY_ORDERS: &str = "copy orders (id, store_id, external_id, status, customer_id, customer_email, \
    customer_name, customer_phone, shipping_address, tracking, tags, note, total, currency, created_at, \
    updated_at, completed_at, cancelled_at, deleted_at, version) from stdin";
const COPY_ITEMS: &str = "copy order_items (order_id, line, product_id, sku, name, category, unit_price, \
    unit_cost, quantity, line_total) from stdin";
const COPY_EVENTS: &str =
    "copy order_events (order_id, at, kind, actor, from_status, to_status, data) from stdin";

/// The actor named on every seeded event.
const ACTOR: &str = "seed";

/// One chunk of orders, encoded.
#[derive(Default)]
pub struct Chunk {
    pub count: u64,
    pub orders: Vec<u8>,
    pub items: Vec<u8>,
    pub events: Vec<u8>,
    /// Scratch space for JSON before it is escaped for COPY.
    json: Vec<u8>,
}

impl Chunk {
    /// An empty chunk with room for about `capacity` orders.
    pub fn new(capacity: usize) -> Self {
        let orders = capacity;
        Self {
            count: 0,
            orders: Vec::with_capacity(orders * 520),
            items: Vec::with_capacity(orders * 320),
            events: Vec::with_capacity(orders * 330),
            json: Vec::with_capacity(512),
        }
    }

    /// Appends the order's row, its item rows and its event rows.
    pub fn push(&mut self, seed: u64, order: &SeedOrder<'_>) {
        self.count += 1;
        let mut id_text = [0u8; 36];
        let id = order.id.hyphenated().encode_lower(&mut id_text).as_bytes();
        let external_id = format!("seed-{seed}-{}", order.ordinal);
        let customer = &order.customer;
        let out = &mut self.orders;
        field(out, id);
        text(out, &order.store.id);
        text(out, &external_id);
        text(out, order.status.as_str());
        text(out, &customer.id);
        optional(out, customer.email.as_deref());
        text(out, &customer.name);
        optional(out, customer.phone.as_deref());
        let address = &order.ship_to;
        self.json.clear();
        self.json.extend_from_slice(b"{\"name\":");
        json_string(&mut self.json, &order.ship_to_name);
        for (key, value) in [
            ("line1", Some(address.line1.as_str())),
            ("line2", address.line2.as_deref()),
            ("city", Some(address.city)),
            ("region", address.region),
            ("postal_code", Some(address.postal_code.as_str())),
            ("country", Some(address.country)),
        ] {
            let _ = write!(self.json, ",\"{key}\":");
            match value {
                Some(value) => json_string(&mut self.json, value),
                None => self.json.extend_from_slice(b"null"),
            }
        }
        self.json.push(b'}');
        text_bytes(out, &self.json);
        match &order.tracking {
            Some((carrier, number)) => {
                self.json.clear();
                self.json.extend_from_slice(b"{\"carrier\":");
                json_string(&mut self.json, carrier);
                self.json.extend_from_slice(b",\"number\":");
                json_string(&mut self.json, number);
                self.json.push(b'}');
                text_bytes(out, &self.json);
            }
            None => field(out, b"\\N"),
        }
        // Tags are plain lower-case words: no array quoting needed.
        field(out, format!("{{{}}}", order.tags.join(",")).as_bytes());
        optional(out, order.note);
        field(out, money(order.total).as_bytes());
        text(out, &order.store.currency);
        timestamp(out, Some(order.created_at));
        timestamp(out, Some(order.updated_at));
        timestamp(out, order.completed_at);
        timestamp(out, order.cancelled_at);
        timestamp(out, order.deleted_at);
        let _ = writeln!(out, "{}", order.version);

        for (index, (product, quantity)) in order.lines.iter().enumerate() {
            let out = &mut self.items;
            field(out, id);
            field(out, (index + 1).to_string().as_bytes());
            let mut product_id = [0u8; 36];
            field(
                out,
                product
                    .id
                    .hyphenated()
                    .encode_lower(&mut product_id)
                    .as_bytes(),
            );
            text(out, &product.sku);
            text(out, &product.name);
            text(out, &product.category);
            field(out, money(product.price).as_bytes());
            match product.cost {
                Some(cost) => field(out, money(cost).as_bytes()),
                None => field(out, b"\\N"),
            }
            field(out, quantity.to_string().as_bytes());
            let _ = writeln!(out, "{}", money(product.price * i64::from(*quantity)));
        }

        for event in &order.events {
            self.push_event(id, event, order, &external_id);
        }
    }

    fn push_event(&mut self, id: &[u8], event: &Event, order: &SeedOrder<'_>, external_id: &str) {
        let out = &mut self.events;
        field(out, id);
        timestamp(out, Some(event.at));
        text(out, event.kind);
        text(out, ACTOR);
        optional(out, event.from.map(Status::as_str));
        optional(out, event.to.map(Status::as_str));
        self.json.clear();
        match event.kind {
            // The same data the API records.
            "created" => {
                self.json.extend_from_slice(b"{\"external_id\":");
                json_string(&mut self.json, external_id);
                let total = money(order.total);
                let _ = write!(
                    self.json,
                    ",\"lines\":{},\"total\":\"{total}\"}}",
                    order.lines.len()
                );
            }
            "edited" => match &order.tracking {
                Some((carrier, number)) => {
                    self.json.extend_from_slice(b"{\"tracking\":{\"carrier\":");
                    json_string(&mut self.json, carrier);
                    self.json.extend_from_slice(b",\"number\":");
                    json_string(&mut self.json, number);
                    self.json.extend_from_slice(b"}}");
                }
                None => self.json.extend_from_slice(b"{}"),
            },
            _ => self.json.extend_from_slice(b"{}"),
        }
        let json = std::mem::take(&mut self.json);
        escape(out, &json);
        out.push(b'\n');
        self.json = json;
    }
}

/// Writes the chunk in one transaction: all its orders, or none.
///
/// With `trusted`, foreign keys are not checked row by row
/// (`session_replication_role = replica`, as `pg_restore --disable-triggers`
/// does): the chunk references only its own orders and products read back
/// from the database, and the checks cost 40% of the copy. [`super::verify`]
/// checks the references afterwards.
pub async fn write_chunk(pool: &PgPool, chunk: &Chunk, trusted: bool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("starting a chunk transaction")?;
    if trusted {
        sqlx::query("set local session_replication_role = replica")
            .execute(&mut *tx)
            .await?;
    }
    copy_in(&mut tx, COPY_ORDERS, &chunk.orders)
        .await
        .context("copying orders")?;
    copy_in(&mut tx, COPY_ITEMS, &chunk.items)
        .await
        .context("copying order items")?;
    copy_in(&mut tx, COPY_EVENTS, &chunk.events)
        .await
        .context("copying order events")?;
    tx.commit().await.context("committing a chunk")?;
    Ok(())
}

/// Whether row-by-row foreign key checks may be skipped: only a superuser may
/// (the setting is theirs), and only while the order tables have no triggers
/// but the foreign keys' own (replica mode would silently skip those too).
pub async fn may_skip_fk_checks(pool: &PgPool) -> anyhow::Result<bool> {
    let allowed: bool = sqlx::query_scalar(
        "select (select rolsuper from pg_roles where rolname = current_user)
            and not exists (select 1 from pg_trigger
                            where tgrelid in ('orders'::regclass, 'order_items'::regclass,
                                              'order_events'::regclass)
                              and not tgisinternal)",
    )
    .fetch_one(pool)
    .await
    .context("checking for triggers on the order tables")?;
    Ok(allowed)
}

async fn copy_in(conn: &mut PgConnection, statement: &str, data: &[u8]) -> anyhow::Result<()> {
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(data).await?;
    copy.finish().await?;
    Ok(())
}

/// `12345` cents as `123.45`.
fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A column separator, then raw bytes (already valid COPY text).
fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(bytes);
    out.push(b'\t');
}

fn text(out: &mut Vec<u8>, value: &str) {
    text_bytes(out, value.as_bytes());
}

fn text_bytes(out: &mut Vec<u8>, value: &[u8]) {
    escape(out, value);
    out.push(b'\t');
}

fn optional(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(value) => text(out, value),
        None => field(out, b"\\N"),
    }
}

fn timestamp(out: &mut Vec<u8>, ms: Option<i64>) {
    match ms {
        Some(ms) => {
            push_timestamp(out, ms);
            out.push(b'\t');
        }
        None => field(out, b"\\N"),
    }
}

/// COPY text escaping: backslash, tab, newline and carriage return.
fn escape(out: &mut Vec<u8>, value: &[u8]) {
    if !value
        .iter()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        out.extend_from_slice(value);
        return;
    }
    for &b in value {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// A JSON string literal (quotes, backslashes and control characters escaped).
fn json_string(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    // Byte-wise is exact: every byte of a multi-byte UTF-8 character is >= 0x80.
    for &b in value.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..0x20 => {
                let _ = write!(out, "\\u{b:04x}");
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}
