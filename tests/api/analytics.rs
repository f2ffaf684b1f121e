//! Analytics: every route against a straightforward recomputation from the order
//! rows, the rollups against a rebuild, and every route's errors.
//!
//! A `Shop` is stores in several time zones (DST ones included), products with
//! and without a cost in a few categories, and a random history of orders made
//! through the API. `naive` recomputes each figure with plain SQL over the
//! orders; `rollups` compares live rollups with a rebuild; `projection` kills
//! and restarts the projector that keeps them.

mod errors;
mod freshness;
mod kept;
mod naive;
mod projection;
mod property;
mod rollups;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ordersearch::http::auth::Role;
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// The stores of a shop: id, currency, time zone.
pub const STORES: [(&str, &str, &str); 5] = [
    ("default", "USD", "UTC"),
    ("eu", "EUR", "Europe/Warsaw"),
    ("us", "USD", "America/New_York"),
    ("in", "INR", "Asia/Kolkata"),
    ("lh", "AUD", "Australia/Lord_Howe"),
];

/// Categories products are spread over (one needs escaping in a path).
pub const CATEGORIES: [&str; 3] = ["Kitchen", "Home & Garden", "Books"];

/// Customer ids orders are spread over; `None` orders by email only.
pub const CUSTOMERS: [Option<&str>; 5] = [
    Some("cus_1"),
    Some("cus_2"),
    Some("cus_3"),
    Some("c/4 ü"),
    None,
];

/// A product of the shop.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub store: &'static str,
}

/// An app with stores, products and an unscoped analyst key.
pub struct Shop {
    pub app: TestApp,
    pub analyst: String,
    pub products: Vec<Product>,
}

impl Shop {
    /// Every store, and five products in each (two without a cost).
    pub async fn open() -> Shop {
        let app = TestApp::spawn().await;
        for (id, currency, timezone) in STORES.iter().skip(1) {
            app.store(id, currency, timezone).await;
        }
        let mut products = Vec::new();
        for (store, _, _) in STORES {
            for n in 0..5 {
                let mut body = json!({
                    "store": store, "sku": format!("P{n}"), "name": format!("Product {n}"),
                    "category": CATEGORIES[n % 3], "price": format!("{}.{:02}", 3 + n * 7, n * 13 % 100),
                    "stock": 1_000_000
                });
                if n % 3 != 1 {
                    body["cost"] = json!(format!("{}.25", 1 + n));
                }
                let created = app.post("/v1/products", &body).key(&app.admin).send().await;
                assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
                let id = created.body["id"].as_str().unwrap().to_string();
                products.push(Product { id, store });
            }
        }
        let analyst = app.key(Role::Analyst, None).await;
        Shop {
            app,
            analyst,
            products,
        }
    }

    pub fn products_of(&self, store: &str) -> Vec<&Product> {
        self.products.iter().filter(|p| p.store == store).collect()
    }

    /// Places a random order in a random store; returns its id.
    pub async fn place_random(&self, rng: &mut StdRng) -> String {
        let (store, _, _) = STORES[rng.random_range(0..STORES.len())];
        let products = self.products_of(store);
        let lines = rng.random_range(1..=4);
        let items: Vec<Value> = (0..lines)
            .map(|_| {
                let product = products[rng.random_range(0..products.len())];
                json!({"product_id": product.id, "quantity": rng.random_range(1..=4)})
            })
            .collect();
        let customer = match CUSTOMERS[rng.random_range(0..CUSTOMERS.len())] {
            Some(id) => json!({"id": id}),
            None => json!({"email": "guest@example.com"}),
        };
        let body = json!({"store": store, "customer": customer, "items": items});
        self.place(&body).await
    }

    /// Places the order `body` as the admin, asserting it is created; returns its id.
    pub async fn place(&self, body: &Value) -> String {
        let created = self
            .app
            .post("/v1/orders", body)
            .key(&self.app.admin)
            .send()
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        created.body["id"].as_str().unwrap().to_string()
    }

    /// Moves an order along a random path: stays, advances, completes, is
    /// cancelled or is deleted.
    pub async fn advance_random(&self, rng: &mut StdRng, order: &str) {
        let path = format!("/v1/orders/{order}");
        let current = self.app.get(&path).key(&self.app.admin).send().await;
        if !current.body["deleted_at"].is_null() {
            return;
        }
        let status = current.body["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let route: &[&str] = match (status.as_str(), rng.random_range(0..6)) {
            ("pending", 0) => &["processing"],
            ("pending", 1) => &["processing", "shipped"],
            ("pending", 2) => &["processing", "shipped", "completed"],
            ("pending" | "processing", 3) => &["cancelled"],
            ("processing", 0 | 1) => &["shipped"],
            ("shipped", 0..=2) => &["completed"],
            (_, 4) => &["delete"],
            _ => &[],
        };
        self.walk(order, route).await;
    }

    /// Walks an order through `steps` as the admin: statuses, or `delete`.
    pub async fn walk(&self, order: &str, steps: &[&str]) {
        let path = format!("/v1/orders/{order}");
        for step in steps {
            let response = if *step == "delete" {
                self.app.delete(&path).key(&self.app.admin).send().await
            } else {
                let body = json!({"status": step});
                self.app
                    .patch(&path, &body)
                    .key(&self.app.admin)
                    .send()
                    .await
            };
            assert_eq!(response.status, StatusCode::OK, "{step}: {}", response.body);
        }
    }

    /// Places `orders` random orders, eight at a time, and moves each along.
    pub async fn random_history(&self, rng: &mut StdRng, orders: usize) -> Vec<String> {
        let mut ids = Vec::new();
        while ids.len() < orders {
            let batch = (orders - ids.len()).min(8);
            let mut rngs: Vec<StdRng> = (0..batch)
                .map(|_| rand::SeedableRng::seed_from_u64(rng.random()))
                .collect();
            let placed = futures::future::join_all(rngs.iter_mut().map(|rng| async move {
                let id = self.place_random(rng).await;
                self.advance_random(rng, &id).await;
                id
            }))
            .await;
            ids.extend(placed);
        }
        ids
    }

    /// A GET as the unscoped analyst, once the projector has caught up;
    /// `params` become the query string. An answer's `as_of` and `lag_ms`
    /// are checked and taken out, leaving the figures.
    pub async fn figures(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> crate::helpers::TestResponse {
        let mut response = self.get_as(&self.analyst, path, params).await;
        if response.status == StatusCode::OK {
            let answer = response.body.as_object_mut().expect("an object");
            let as_of = answer.remove("as_of");
            assert!(as_of.is_some_and(|at| at.is_string()), "{path}: as_of");
            assert_eq!(answer.remove("lag_ms"), Some(json!(0)), "{path}: lag_ms");
        }
        response
    }

    pub async fn get_as(
        &self,
        key: &str,
        path: &str,
        params: &[(&str, String)],
    ) -> crate::helpers::TestResponse {
        self.app.project_all().await;
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in params {
            query.append_pair(name, value);
        }
        let query = query.finish();
        let uri = if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query}")
        };
        self.app.get(&uri).key(key).send().await
    }
}

/// `text` as one path segment.
pub fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Recomputes the rollups from the orders.
pub async fn rebuild(app: &TestApp) {
    ordersearch::analytics::rebuild(&app.pool, &indicatif::ProgressBar::hidden())
        .await
        .expect("rebuilding the rollups");
}

/// A uniformly random instant in `[lo, hi)`, to the microsecond.
pub fn random_instant(rng: &mut StdRng, lo: DateTime<Utc>, hi: DateTime<Utc>) -> DateTime<Utc> {
    let micros = rng.random_range(lo.timestamp_micros()..hi.timestamp_micros());
    DateTime::from_timestamp_micros(micros).unwrap()
}

/// A seed for a property test: `ANALYTICS_SEED` to replay one, else fresh.
pub fn seed() -> u64 {
    std::env::var("ANALYTICS_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random)
}
