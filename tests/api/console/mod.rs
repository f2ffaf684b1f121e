//! The staff console: its files and headers over HTTP, and what a staff member
//! sees and does in a real browser.

mod browser;
mod pages;
mod serving;
mod work;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use browser::Console;

/// The orders the browser tests work on, by name.
pub struct Shop {
    pub app: TestApp,
    /// Jane's order in `default`: a mug and a kettle, and a note that is HTML.
    pub jane: Value,
    /// John's order in `default`: one kettle.
    pub john: Value,
    /// Anna's order in `eu`.
    pub anna: Value,
}

/// The note that must show as text, never run.
pub const HOSTILE_NOTE: &str = "<img src=x onerror=alert(1)>";

impl Shop {
    /// Two stores, three products, three orders, all indexed.
    pub async fn open() -> Shop {
        let app = TestApp::spawn().await;
        app.store("eu", "EUR", "Europe/Warsaw").await;
        for (store, sku, name, category, price) in [
            ("default", "MUG-BLUE", "Blue Mug", "Kitchen", "12.50"),
            ("default", "KETTLE-1", "Steel Kettle", "Kitchen", "40.00"),
            ("eu", "LAMP-1", "Desk Lamp", "Home", "30.00"),
        ] {
            let body = json!({"store": store, "sku": sku, "name": name, "category": category,
                "price": price, "cost": "5.00", "stock": 100});
            let created = app.post("/v1/products", &body).key(&app.admin).send().await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        }
        let jane = order(&app, json!({"store": "default",
            "customer": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+48 600 100 200"},
            "items": [{"sku": "MUG-BLUE", "quantity": 2}, {"sku": "KETTLE-1", "quantity": 1}],
            "shipping_address": {"name": "Jane Doe", "line1": "Main St 1", "city": "Kraków",
                "postal_code": "30-001", "country": "PL"},
            "tags": ["vip"], "note": HOSTILE_NOTE}))
        .await;
        let john = order(
            &app,
            json!({"store": "default",
            "customer": {"name": "John Smith", "email": "john@shop.test"},
            "items": [{"sku": "KETTLE-1", "quantity": 1}]}),
        )
        .await;
        let anna = order(
            &app,
            json!({"store": "eu",
            "customer": {"name": "Anna Nowak", "email": "anna@example.eu"},
            "items": [{"sku": "LAMP-1", "quantity": 1}]}),
        )
        .await;
        app.index_all().await;
        app.project_all().await;
        Shop {
            app,
            jane,
            john,
            anna,
        }
    }

    /// The shop and a signed-out browser on its console; `None` (the test is
    /// skipped) without a browser.
    pub async fn in_browser() -> Option<(Shop, Console)> {
        if let Some(why) = browser::browser_missing() {
            crate::helpers::skipped(&why);
            return None;
        }
        let shop = Shop::open().await;
        let page = Console::open(serve(&shop.app).await).await;
        Some((shop, page))
    }

    /// The console path of an order.
    pub fn page_of(order: &Value) -> String {
        format!("/orders/{}", order["number"])
    }
}

/// Serves `app` on a free loopback port for as long as the test runs.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a port for the console");
    let address = listener.local_addr().expect("bound address");
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

async fn order(app: &TestApp, body: Value) -> Value {
    let created = app.post("/v1/orders", &body).key(&app.admin).send().await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body
}
