//! The naive answers the routes are compared with: for each route, the
//! shared recomputation ([`crate::naive`], the tests' own reference) asking
//! the same question, timed.

use std::time::Instant;

use chrono::DateTime;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::naive::{self, Window};
use crate::support::Stats;

/// Timed runs of each naive query, after one warm-up run.
pub const RUNS: usize = 3;

/// What a route asks, as the naive recomputation takes it.
pub enum Question {
    /// Top 10 products, ranked by `quantity`, `revenue` or `profit`.
    Top(&'static str),
    Product(String),
    Categories,
    Category(String),
    Customer(String),
    Hourly,
    Summary,
}

impl Question {
    /// The naive answer, shaped like the route's.
    async fn ask(&self, pool: &PgPool, window: Window) -> Value {
        let store = crate::routes::STORE;
        match self {
            Question::Top(by) => naive::top_products(pool, store, window, by, 10).await,
            Question::Product(id) => naive::product_sales(pool, store, window, id).await,
            Question::Categories => naive::categories(pool, store, window).await,
            Question::Category(name) => naive::category(pool, store, window, name).await,
            Question::Customer(id) => naive::customer(pool, store, window, id).await,
            Question::Hourly => naive::hourly(pool, store, window).await,
            Question::Summary => {
                let (mut answer, average) = naive::summary(pool, store, window).await;
                answer["average_processing_seconds"] = json!(average);
                answer
            }
        }
    }
}

/// Runs a naive query `RUNS` times after a warm-up: its timings and answer.
pub async fn time_naive(pool: &PgPool, question: &Question, window: Window) -> (Stats, Value) {
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut answer = Value::Null;
    for run in 0..=RUNS {
        let begun = Instant::now();
        answer = question.ask(pool, window).await;
        if run > 0 {
            latencies.push(begun.elapsed());
        }
    }
    let stats = Stats::from_latencies(latencies, 0, started.elapsed().as_secs_f64());
    (stats, answer)
}

/// An answer with times as instants and fractions at two places, so the
/// service's and the recomputation's renderings of the same figures compare
/// equal.
pub fn normalized(value: &Value) -> Value {
    match value {
        Value::String(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(time) => json!(time.timestamp_micros()),
            Err(_) => value.clone(),
        },
        Value::Number(number) if number.is_f64() => {
            json!(format!("{:.2}", number.as_f64().unwrap_or_default()))
        }
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(fields) => fields
            .iter()
            .map(|(key, field)| (key.clone(), normalized(field)))
            .collect(),
        other => other.clone(),
    }
}
