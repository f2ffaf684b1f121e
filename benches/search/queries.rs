//! The mixed staff query set, drawn from real seeded orders, and running it
//! against the service over HTTP.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

use crate::QUERIES;
use crate::support::{ADMIN_KEY, Stats};

/// One staff query: the `q` text and the SQL predicate doing the same matching.
pub struct StaffQuery {
    pub q: String,
    pub words: Vec<String>,
    pub filter_sql: String,
}

#[derive(sqlx::FromRow)]
struct Sample {
    number: i64,
    customer_name: Option<String>,
    customer_email: Option<String>,
    customer_phone: Option<String>,
    city: Option<String>,
    sku: String,
    item_name: String,
    category: String,
}

/// The ten kinds of staff query, in the order `staff_queries` cycles through them.
const KINDS: [&str; 10] = [
    "last name",
    "first name with a typo + last name",
    "email",
    "phone last four",
    "SKU with separators",
    "SKU without separators",
    "number prefix",
    "city + status",
    "status + total + created range",
    "word + category",
];

fn swap_two(word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() > 3 {
        chars.swap(1, 2);
    }
    chars.into_iter().collect()
}

/// A mixed set drawn from real seeded orders: names (with typos), emails, phone
/// digits, SKUs with and without separators, number prefixes, qualifiers.
pub async fn staff_queries(pool: &PgPool) -> Vec<StaffQuery> {
    let samples: Vec<Sample> = sqlx::query_as(
        "select o.number, o.customer_name, o.customer_email, o.customer_phone, o.shipping_address->>'city' as city,
                i.sku, i.name as item_name, i.category
         from orders o join order_items i on i.order_id = o.id and i.line = 1
         where o.deleted_at is null and o.customer_name is not null
           and o.customer_email is not null and o.customer_phone is not null
         order by md5(o.id::text) limit $1",
    )
    .bind(QUERIES as i64)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let text = |q: String, words: Vec<String>| StaffQuery {
        q,
        words,
        filter_sql: String::new(),
    };
    samples
        .into_iter()
        .enumerate()
        .map(|(index, sample)| {
            let name = sample.customer_name.unwrap_or_default();
            let mut parts = name.split_whitespace();
            let first = parts.next().unwrap_or("x").to_string();
            let last = parts.last().unwrap_or("x").to_string();
            let email = sample.customer_email.unwrap_or_default();
            let digits: String = sample.customer_phone.unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
            match index % 10 {
                0 => text(last.clone(), vec![last]),
                1 => text(format!("{} {last}", swap_two(&first)), vec![last]),
                2 => text(email.clone(), vec![email]),
                3 => {
                    let tail = digits[digits.len().saturating_sub(4)..].to_string();
                    text(tail.clone(), vec![tail])
                }
                4 => text(sample.sku.clone(), vec![sample.sku]),
                5 => {
                    let compact: String = sample.sku.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
                    text(compact, vec![sample.sku])
                }
                6 => {
                    let number = sample.number.to_string();
                    let prefix = number[..number.len().min(5)].to_string();
                    text(prefix.clone(), vec![prefix])
                }
                7 => StaffQuery {
                    q: format!("city:\"{}\" status:shipped", sample.city.clone().unwrap_or_default()),
                    words: vec![],
                    filter_sql: format!(
                        "o.shipping_address->>'city' = '{}' and o.status = 'shipped'",
                        sample.city.unwrap_or_default().replace('\'', "''")
                    ),
                },
                8 => {
                    let days = rng.random_range(7..90);
                    StaffQuery {
                        q: format!("status:completed total:>100 created:-{days}d"),
                        words: vec![],
                        filter_sql: format!(
                            "o.status = 'completed' and o.total > 100 and o.created_at >= now() - interval '{days} days'"
                        ),
                    }
                }
                _ => {
                    let word = sample.item_name.split_whitespace().last().unwrap_or("x").to_lowercase();
                    StaffQuery {
                        q: format!("{word} category:\"{}\"", sample.category),
                        words: vec![word],
                        filter_sql: format!(
                            "exists (select 1 from order_items c where c.order_id = o.id and c.category = '{}')",
                            sample.category.replace('\'', "''")
                        ),
                    }
                }
            }
        })
        .collect()
}

/// One search through the service (totals, two facets, 20 hits): how long it
/// took and whether it succeeded.
pub async fn search_once(
    http: &reqwest::Client,
    base: &str,
    query: &StaffQuery,
) -> (std::time::Duration, bool) {
    let encoded: String = form_urlencoded::byte_serialize(query.q.as_bytes()).collect();
    let url = format!("{base}/v1/orders/search?q={encoded}&facets=status,category&limit=20");
    let begun = Instant::now();
    let response = http.get(&url).bearer_auth(ADMIN_KEY).send().await.unwrap();
    let ok = response.status().is_success();
    let _ = response.bytes().await;
    (begun.elapsed(), ok)
}

/// Runs the queries 4 rounds (the first warms up) and prints p50/p99 by kind.
pub async fn run_queries(http: &reqwest::Client, base: &str, queries: &[StaffQuery]) -> Stats {
    let mut latencies = Vec::new();
    let mut by_kind = vec![Vec::new(); KINDS.len()];
    let mut errors = 0;
    let started = Instant::now();
    for round in 0..4 {
        for (index, query) in queries.iter().enumerate() {
            let (took, ok) = search_once(http, base, query).await;
            if round > 0 {
                latencies.push(took);
                by_kind[index % KINDS.len()].push(took);
                errors += usize::from(!ok);
            }
        }
    }
    for (kind, samples) in KINDS.iter().zip(by_kind) {
        let stats = Stats::from_latencies(samples, 0, 1.0);
        println!(
            "  {kind:<36} p50 {:>7.2} ms  p99 {:>7.2} ms",
            stats.p50_ms, stats.p99_ms
        );
    }
    Stats::from_latencies(latencies, errors, started.elapsed().as_secs_f64() * 0.75)
}
