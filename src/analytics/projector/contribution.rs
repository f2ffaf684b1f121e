//! What one order contributes to the rollups, and the sum of the changes a
//! batch makes, per rollup row, in memory.
//!
//! An order's contribution is a function of its state (status, deleted) and
//! of facts that never change once it exists: its store, lines, total,
//! customer, creation time (hence local day and UTC hour) and completion time
//! (set once, on the move to `completed`, before which it adds no processing
//! time). A change moves the order from one state to another: the batch adds
//! the new state's contribution and takes away the old one's.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::analytics::figures::ProductFigures;
use crate::analytics::period::Period;
use crate::orders::model::Status;

/// What an order contributes to, in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderState {
    pub status: Status,
    pub deleted: bool,
    /// Whether the order counts as a sale in this state, as PostgreSQL's
    /// `analytics_sells` (migration 0017), the one rule, answers it.
    pub sells: bool,
}

impl OrderState {
    /// The status the order is counted under; deleted orders are not counted.
    fn counted(self) -> Option<Status> {
        (!self.deleted).then_some(self.status)
    }
}

/// The facts of an order that no change alters, as the order rows hold them.
#[derive(Debug, Clone)]
pub struct OrderFacts {
    pub store: String,
    pub customer: Option<String>,
    pub total: Decimal,
    pub created_at: DateTime<Utc>,
    pub day: NaiveDate,
    pub hour: DateTime<Utc>,
    pub processing_seconds: Decimal,
    pub lines: Vec<Line>,
}

/// One order line.
#[derive(Debug, Clone)]
pub struct Line {
    pub product_id: Uuid,
    pub category: String,
    pub quantity: i64,
    pub line_total: Decimal,
    pub unit_cost: Option<Decimal>,
}

/// A store's rollup period: the key of a period-keyed rollup row, before the
/// row's own subject.
pub type StorePeriod = (String, Period);

#[derive(Debug, Default, Clone, PartialEq)]
pub struct CategorySums {
    pub revenue: Decimal,
    pub quantity: i64,
    pub orders: i64,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct StatusSums {
    pub orders: i64,
    pub revenue: Decimal,
    pub processing_seconds: Decimal,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct HourSums {
    pub orders: i64,
    pub revenue: Decimal,
}

/// A customer day's change. First and last order times of added orders are
/// exact; a removal makes the writer recompute both from what remains.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerSums {
    pub orders: i64,
    pub revenue: Decimal,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub added: bool,
    pub removed: bool,
}

/// The changes of a batch, per rollup row, in primary-key order.
#[derive(Debug, Default)]
pub struct Deltas {
    pub products: BTreeMap<(StorePeriod, Uuid), ProductFigures>,
    pub categories: BTreeMap<(StorePeriod, String), CategorySums>,
    pub customers: BTreeMap<(String, String, NaiveDate), CustomerSums>,
    pub hours: BTreeMap<(String, DateTime<Utc>), HourSums>,
    pub statuses: BTreeMap<(StorePeriod, &'static str), StatusSums>,
}

impl Deltas {
    /// Moves an order from `before` (`None`: not counted yet) to `after`.
    pub fn transition(
        &mut self,
        facts: &OrderFacts,
        before: Option<OrderState>,
        after: OrderState,
    ) {
        let sign = i64::from(after.sells) - i64::from(before.is_some_and(|state| state.sells));
        if sign != 0 {
            self.sales(facts, sign);
        }
        let counted_before = before.and_then(OrderState::counted);
        if counted_before != after.counted() {
            for (status, sign) in [(counted_before, -1), (after.counted(), 1)] {
                if let Some(status) = status {
                    self.status(facts, status, sign);
                }
            }
        }
    }

    /// Whether a transition changes any rollup.
    pub fn moves(before: Option<OrderState>, after: OrderState) -> bool {
        before.is_some_and(|state| state.sells) != after.sells
            || before.and_then(OrderState::counted) != after.counted()
    }

    fn sales(&mut self, facts: &OrderFacts, sign: i64) {
        let signed = Decimal::from(sign);
        let mut products: BTreeMap<Uuid, ProductFigures> = BTreeMap::new();
        let mut categories: BTreeMap<&str, CategorySums> = BTreeMap::new();
        for line in &facts.lines {
            let product = products.entry(line.product_id).or_default();
            product.quantity += sign * line.quantity;
            product.revenue += signed * line.line_total;
            product.orders = sign;
            product.lines += sign;
            match line.unit_cost {
                Some(cost) => {
                    product.costed_revenue += signed * line.line_total;
                    product.cost += signed * cost * Decimal::from(line.quantity);
                }
                None => product.lines_without_cost += sign,
            }
            let category = categories.entry(&line.category).or_default();
            category.revenue += signed * line.line_total;
            category.quantity += sign * line.quantity;
            category.orders = sign;
        }
        for period in Period::local_periods_of(facts.day) {
            let key: StorePeriod = (facts.store.clone(), period);
            for (product, sums) in &products {
                *self.products.entry((key.clone(), *product)).or_default() += sums;
            }
            for (category, sums) in &categories {
                let row = self
                    .categories
                    .entry((key.clone(), category.to_string()))
                    .or_default();
                row.revenue += sums.revenue;
                row.quantity += sums.quantity;
                row.orders += sums.orders;
            }
        }
        if let Some(customer) = &facts.customer {
            let key = (facts.store.clone(), customer.clone(), facts.day);
            let at = facts.created_at;
            let row = self.customers.entry(key).or_insert(CustomerSums {
                orders: 0,
                revenue: Decimal::ZERO,
                first_at: at,
                last_at: at,
                added: false,
                removed: false,
            });
            row.orders += sign;
            row.revenue += signed * facts.total;
            if sign > 0 {
                (row.first_at, row.last_at) = if row.added {
                    (row.first_at.min(at), row.last_at.max(at))
                } else {
                    (at, at)
                };
                row.added = true;
            } else {
                row.removed = true;
            }
        }
        let hour = self
            .hours
            .entry((facts.store.clone(), facts.hour))
            .or_default();
        hour.orders += sign;
        hour.revenue += signed * facts.total;
    }

    fn status(&mut self, facts: &OrderFacts, status: Status, sign: i64) {
        let signed = Decimal::from(sign);
        for period in Period::local_periods_of(facts.day) {
            let key = ((facts.store.clone(), period), status.as_str());
            let row = self.statuses.entry(key).or_default();
            row.orders += sign;
            row.revenue += signed * facts.total;
            if status == Status::Completed {
                row.processing_seconds += signed * facts.processing_seconds;
            }
        }
    }

    /// Drops the rows whose changes cancelled out (a customer day that lost
    /// an order stays: its first and last order times need recomputing).
    pub fn without_no_ops(mut self) -> Self {
        self.products
            .retain(|_, sums| *sums != ProductFigures::default());
        self.categories
            .retain(|_, sums| *sums != CategorySums::default());
        self.hours.retain(|_, sums| *sums != HourSums::default());
        self.statuses
            .retain(|_, sums| *sums != StatusSums::default());
        self.customers
            .retain(|_, sums| sums.removed || sums.orders != 0 || sums.revenue != Decimal::ZERO);
        self
    }

    /// The product periods and UTC months of hourly sales whose rows
    /// change: what the batch stamps (migration 0017).
    pub fn changed_periods(&self) -> BTreeSet<StorePeriod> {
        let local = self.products.keys().map(|(period, _)| period.clone());
        let hours = self
            .hours
            .keys()
            .map(|(store, hour)| (store.clone(), Period::utc_month_of(*hour)));
        local.chain(hours).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> OrderFacts {
        let at = "2026-03-17T10:30:00Z".parse().unwrap();
        OrderFacts {
            store: "eu".into(),
            customer: Some("cus_1".into()),
            total: Decimal::new(1500, 2),
            created_at: at,
            day: NaiveDate::from_ymd_opt(2026, 3, 17).unwrap(),
            hour: "2026-03-17T10:00:00Z".parse().unwrap(),
            processing_seconds: Decimal::ZERO,
            lines: vec![Line {
                product_id: Uuid::nil(),
                category: "Kitchen".into(),
                quantity: 3,
                line_total: Decimal::new(1500, 2),
                unit_cost: None,
            }],
        }
    }

    /// A state, with the rule `analytics_sells` holds.
    fn state(status: Status, deleted: bool) -> OrderState {
        let sells = status != Status::Cancelled && !deleted;
        OrderState {
            status,
            deleted,
            sells,
        }
    }

    #[test]
    fn a_created_then_cancelled_order_leaves_only_its_status_count() {
        let mut deltas = Deltas::default();
        let facts = facts();
        deltas.transition(&facts, None, state(Status::Pending, false));
        deltas.transition(
            &facts,
            Some(state(Status::Pending, false)),
            state(Status::Cancelled, false),
        );
        let deltas = deltas.without_no_ops();
        assert!(deltas.products.is_empty() && deltas.hours.is_empty());
        // The customer day lost an order: kept, for its first/last times.
        assert!(deltas.customers.values().all(|row| row.removed));
        let cancelled: Vec<_> = deltas
            .statuses
            .iter()
            .map(|(k, v)| (k.1, v.orders))
            .collect();
        assert_eq!(cancelled, vec![("cancelled", 1); 4]);
    }
}
