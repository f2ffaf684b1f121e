//! One product's sales figures as the rollups sum them, and how they are
//! read from PostgreSQL.

use rust_decimal::Decimal;
use uuid::Uuid;

/// One product's sums over some rollup rows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProductFigures {
    pub quantity: i64,
    pub revenue: Decimal,
    pub orders: i64,
    pub lines: i64,
    pub lines_without_cost: i64,
    pub costed_revenue: Decimal,
    pub cost: Decimal,
}

impl std::ops::AddAssign<&ProductFigures> for ProductFigures {
    fn add_assign(&mut self, other: &ProductFigures) {
        self.quantity += other.quantity;
        self.revenue += other.revenue;
        self.orders += other.orders;
        self.lines += other.lines;
        self.lines_without_cost += other.lines_without_cost;
        self.costed_revenue += other.costed_revenue;
        self.cost += other.cost;
    }
}

/// The columns of a [`ProductFigures`]: each name, and whether it is an amount.
const COLUMNS: [(&str, bool); 7] = [
    ("quantity", false),
    ("revenue", true),
    ("orders", false),
    ("lines", false),
    ("lines_without_cost", false),
    ("costed_revenue", true),
    ("cost", true),
];

/// The select list a [`ProductFigures`] is read from (`summed`: each column's
/// sum), amounts in whole cents (every amount is a sum of two-place amounts):
/// a `bigint` decodes in a fraction of the time a `numeric` does, and a year's
/// top-N decodes thousands of them.
pub fn figure_columns(summed: bool) -> String {
    COLUMNS
        .iter()
        .map(|(column, amount)| {
            let value = if summed {
                format!("sum({column})")
            } else {
                column.to_string()
            };
            if *amount {
                format!("({value} * 100)::bigint as {column}_cents")
            } else {
                format!("{value}::bigint as {column}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for ProductFigures {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
        use sqlx::Row;
        let cents =
            |column: &str| -> sqlx::Result<Decimal> { Ok(Decimal::new(row.try_get(column)?, 2)) };
        Ok(ProductFigures {
            quantity: row.try_get("quantity")?,
            revenue: cents("revenue_cents")?,
            orders: row.try_get("orders")?,
            lines: row.try_get("lines")?,
            lines_without_cost: row.try_get("lines_without_cost")?,
            costed_revenue: cents("costed_revenue_cents")?,
            cost: cents("cost_cents")?,
        })
    }
}

impl ProductFigures {
    /// Revenue minus cost of the lines with a cost, if any line has one.
    pub fn profit(&self) -> Option<Decimal> {
        (self.lines > self.lines_without_cost).then(|| self.costed_revenue - self.cost)
    }
}

/// A product's figures in some rollup row, or summed over some.
#[derive(sqlx::FromRow)]
pub struct ProductRow {
    product_id: Uuid,
    #[sqlx(flatten)]
    figures: ProductFigures,
}

impl ProductRow {
    pub fn into_pair(self) -> (Uuid, ProductFigures) {
        (self.product_id, self.figures)
    }
}
