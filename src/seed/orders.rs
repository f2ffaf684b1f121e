//! One seeded order: who bought what, where, when, and how its status moved,
//! shaped exactly like an order the API would have written and then patched.

use rand::Rng;
use rand::rngs::StdRng;
use uuid::Uuid;

use super::catalog::{FRAGILE, Product};
use super::clock::{DAY_MS, HOUR_MS, MINUTE_MS, StoreClock, Window, log_uniform, pick_weighted};
use super::names::NOTES;
use super::people::{self, Address, Customer};
use crate::orders::model::Status;

/// Lines per order: 1 to 8, mostly few.
const LINE_WEIGHTS: [u32; 8] = [34, 24, 15, 10, 7, 5, 3, 2];
/// Quantities 1 to 5, mostly 1.
const QUANTITY_WEIGHTS: [u32; 5] = [78, 13, 5, 2, 2];

/// A store being seeded: its currency, calendar and catalog.
pub struct StoreData {
    pub id: String,
    pub currency: String,
    pub clock: StoreClock,
    pub catalog: Vec<Product>,
}

/// Everything order generation reads; shared by the generating threads.
pub struct Generator {
    pub seed: u64,
    pub window: Window,
    pub stores: Vec<StoreData>,
}

/// One timeline entry (the `data` is derived from the order when encoding).
pub struct Event {
    pub at: i64,
    pub kind: &'static str,
    pub from: Option<Status>,
    pub to: Option<Status>,
}

/// An order ready to encode. Times are ms since the epoch, money is cents.
pub struct SeedOrder<'a> {
    pub id: Uuid,
    pub ordinal: u64,
    pub store: &'a StoreData,
    pub customer: Customer,
    pub ship_to_name: String,
    pub ship_to: Address,
    pub status: Status,
    pub tracking: Option<(&'static str, String)>,
    pub tags: Vec<&'static str>,
    pub note: Option<&'static str>,
    pub lines: Vec<(&'a Product, i32)>,
    pub total: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub version: i32,
    pub events: Vec<Event>,
}

/// The first draws of an order: who buys, in which store, when.
struct Placement {
    rng: StdRng,
    customer: u64,
    store: usize,
    created_at: i64,
}

impl Generator {
    /// When order `ordinal` was placed, without generating the rest of it.
    pub fn created_at(&self, ordinal: u64) -> i64 {
        self.place(ordinal).created_at
    }

    fn place(&self, ordinal: u64) -> Placement {
        let mut rng = super::rng_for(self.seed, super::Domain::Order, ordinal);
        // Repeat buyers: early customers keep coming back, about N/4 in all.
        let customer = rng.random_range(0..=ordinal * 2 / 7);
        let home = people::country_of(self.seed, customer).store;
        let store = match self.stores.iter().position(|s| s.id == home) {
            Some(index) if rng.random_ratio(92, 100) => index,
            _ => rng.random_range(0..self.stores.len()),
        };
        let created_at = self.stores[store].clock.created_at(&self.window, &mut rng);
        Placement {
            rng,
            customer,
            store,
            created_at,
        }
    }

    /// Order `ordinal` of the seed; depends on nothing else.
    pub fn order(&self, ordinal: u64) -> SeedOrder<'_> {
        let Placement {
            mut rng,
            customer,
            store,
            created_at,
        } = self.place(ordinal);
        let customer = people::customer(self.seed, customer);
        let store = &self.stores[store];
        let random: [u8; 10] = rng.random();
        let id = uuid::Builder::from_unix_timestamp_millis(created_at as u64, &random).into_uuid();

        let wholesale = rng.random_ratio(3, 200);
        let lines = pick_lines(&mut rng, &store.catalog, wholesale);
        let total = lines.iter().map(|(p, q)| p.price * i64::from(*q)).sum();

        let gift = rng.random_ratio(1, 25);
        let mut tags: Vec<&str> = [
            (customer.vip, "vip"),
            (gift, "gift"),
            (wholesale, "wholesale"),
        ]
        .into_iter()
        .filter_map(|(tagged, tag)| tagged.then_some(tag))
        .collect();
        let breakable = lines
            .iter()
            .any(|(p, _)| FRAGILE.contains(&p.category.as_str()));
        if breakable && rng.random_ratio(1, 4) {
            tags.push("fragile");
        }
        let note = if gift && rng.random_bool(0.5) {
            Some("Gift wrap, please")
        } else {
            rng.random_ratio(9, 100)
                .then(|| NOTES[rng.random_range(0..NOTES.len())])
        };
        let (ship_to_name, ship_to) = if gift {
            let (first, last) = people::person_name(&mut rng, customer.country);
            let address = people::address(&mut rng, customer.country);
            (format!("{first} {last}"), address)
        } else {
            (customer.name.clone(), clone_address(&customer.address))
        };

        let timeline = timeline(&mut rng, created_at, self.window.end_ms);
        let reached = |status| timeline.changes.iter().find(|c| c.1 == status).map(|c| c.2);
        let tracking =
            reached(Status::Shipped).map(|_| people::tracking(&mut rng, customer.country));
        let (events, version) = events(created_at, &timeline);
        SeedOrder {
            id,
            ordinal,
            store,
            customer,
            ship_to_name,
            ship_to,
            status: timeline.status,
            tracking,
            tags,
            note,
            lines,
            total,
            created_at,
            updated_at: events.last().map_or(created_at, |event| event.at),
            completed_at: reached(Status::Completed),
            cancelled_at: reached(Status::Cancelled),
            deleted_at: timeline.deleted.map(|(at, _)| at),
            version,
            events,
        }
    }
}

/// 1 to 8 distinct products, popular ones (early in the catalog) most often.
fn pick_lines<'a>(
    rng: &mut StdRng,
    catalog: &'a [Product],
    wholesale: bool,
) -> Vec<(&'a Product, i32)> {
    let count = (1 + pick_weighted(rng, &LINE_WEIGHTS)).min(catalog.len());
    let mut lines: Vec<(&Product, i32)> = Vec::with_capacity(count);
    while lines.len() < count {
        let index = (catalog.len() as f64 * rng.random::<f64>().powf(2.2)) as usize;
        let product = &catalog[index.min(catalog.len() - 1)];
        if lines.iter().all(|(line, _)| line.id != product.id) {
            let quantity = if wholesale {
                rng.random_range(3..=5)
            } else {
                1 + pick_weighted(rng, &QUANTITY_WEIGHTS) as i32
            };
            lines.push((product, quantity));
        }
    }
    lines
}

/// The timeline the API would have written, and the order's resulting version
/// (one per write: creation, each PATCH, the DELETE).
fn events(created_at: i64, timeline: &Timeline) -> (Vec<Event>, i32) {
    let event = |at, kind, from, to| Event { at, kind, from, to };
    let mut events = vec![event(created_at, "created", None, Some(Status::Pending))];
    for &(from, to, at) in &timeline.changes {
        events.push(event(at, "status_changed", Some(from), Some(to)));
        if to == Status::Shipped {
            // The PATCH that ships an order also sets its tracking.
            events.push(event(at, "edited", None, None));
        }
    }
    let mut version = 1 + timeline.changes.len() as i32;
    if let Some((at, cancelled_by_delete)) = timeline.deleted {
        events.push(event(at, "deleted", None, None));
        // DELETE of an open order cancels it in the same write: one version.
        version += i32::from(!cancelled_by_delete);
    }
    (events, version)
}

fn clone_address(address: &Address) -> Address {
    Address {
        line1: address.line1.clone(),
        line2: address.line2.clone(),
        city: address.city,
        region: address.region,
        postal_code: address.postal_code.clone(),
        country: address.country,
    }
}

/// Where an order got to by the end of the window.
struct Timeline {
    status: Status,
    /// (from, to, at) per status change.
    changes: Vec<(Status, Status, i64)>,
    /// When it was soft-deleted, and whether that delete did the cancelling.
    deleted: Option<(i64, bool)>,
}

/// ~10% are cancelled (a tenth of those deleted too); of the rest, about a
/// quarter stall at an open status, many more of the recent ones; the others
/// complete. Steps take realistic, long-tailed times, and a step due after the
/// window ends has not happened yet, so the newest orders are mostly open.
fn timeline(rng: &mut StdRng, created_at: i64, end: i64) -> Timeline {
    let cancel_from = rng.random_ratio(21, 200).then(|| {
        if rng.random_ratio(9, 20) {
            Status::Pending
        } else {
            Status::Processing
        }
    });
    let age_days = (end - created_at) as f64 / DAY_MS as f64;
    let stall = 0.24 + 0.55 * (-age_days / 45.0).exp();
    let stall_at = match (cancel_from, rng.random_bool(stall.min(0.9))) {
        (None, true) => Some(
            [Status::Pending, Status::Processing, Status::Shipped]
                [pick_weighted(rng, &[25, 30, 45])],
        ),
        _ => None,
    };
    let delete = cancel_from.is_some() && rng.random_ratio(1, 10);
    let (mut status, mut at, mut changes) = (Status::Pending, created_at, Vec::with_capacity(3));
    loop {
        let (next, wait) = match status {
            _ if Some(status) == stall_at => break,
            Status::Pending | Status::Processing if Some(status) == cancel_from => (
                Status::Cancelled,
                log_uniform(rng, 5 * MINUTE_MS, 3 * DAY_MS),
            ),
            Status::Pending => (
                Status::Processing,
                log_uniform(rng, 10 * MINUTE_MS, 36 * HOUR_MS),
            ),
            Status::Processing => (Status::Shipped, log_uniform(rng, 2 * HOUR_MS, 4 * DAY_MS)),
            Status::Shipped => (Status::Completed, log_uniform(rng, DAY_MS, 12 * DAY_MS)),
            Status::Completed | Status::Cancelled => break,
        };
        if at + wait >= end {
            break;
        }
        changes.push((status, next, at + wait));
        (status, at) = (next, at + wait);
    }
    let deleted = (delete && status == Status::Cancelled).then(|| {
        if rng.random_bool(0.5) {
            (at, true)
        } else {
            let later = at + log_uniform(rng, HOUR_MS, 30 * DAY_MS);
            let deleted_at = if later < end {
                later
            } else {
                at + rng.random_range(0..(end - at))
            };
            (deleted_at, false)
        }
    });
    Timeline {
        status,
        changes,
        deleted,
    }
}
