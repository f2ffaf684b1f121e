//! Imports of order history (API.md "Imports"): what one `POST /v1/imports`
//! does, the CLI on files (including a kill and a resume), and paged HTTP
//! feeds served on loopback.

mod api;
mod cli;
mod feed;
mod rules;

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually};

/// An order of the import model: `MUG` × 2 in `default`, placed on `created_at`.
pub fn history_order(external_id: &str, created_at: &str, status: &str) -> Value {
    json!({
        "external_id": external_id, "created_at": created_at, "status": status,
        "customer": {"id": format!("cus-{external_id}"), "email": "old@example.com", "name": "Old Buyer"},
        "items": [{"sku": "MUG", "quantity": 2}]
    })
}

/// Lines of NDJSON.
pub fn ndjson(orders: &[Value]) -> String {
    orders.iter().map(|order| format!("{order}\n")).collect()
}

/// An app whose `default` store sells `MUG` (9.50, 10 in stock).
pub async fn shop() -> TestApp {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "9.50", 10).await;
    app
}

/// Posts an NDJSON import as `key` and waits until the run has ended.
pub async fn import_as(app: &TestApp, key: &str, query: &str, body: &str) -> Value {
    let response = app
        .call(axum::http::Method::POST, &format!("/v1/imports{query}"))
        .key(key)
        .raw("application/x-ndjson", body.to_string())
        .send()
        .await;
    assert_eq!(response.status, 202, "{}", response.body);
    let id = response.body["id"].as_str().expect("a run id").to_string();
    finished(app, key, &id).await
}

/// Posts an NDJSON import as the admin and waits until the run has ended.
pub async fn import(app: &TestApp, body: &str) -> Value {
    import_as(app, &app.admin, "", body).await
}

/// The run once it is `done` or `failed`.
pub async fn finished(app: &TestApp, key: &str, id: &str) -> Value {
    eventually("the import run to end", || async {
        let run = app.get(&format!("/v1/imports/{id}")).key(key).send().await;
        assert_eq!(run.status, 200, "{}", run.body);
        (run.body["status"] != "running").then_some(run.body)
    })
    .await
}

/// The counts of a run: `[read, created, updated, unchanged, rejected]`.
pub fn counts(run: &Value) -> [i64; 5] {
    ["read", "created", "updated", "unchanged", "rejected"]
        .map(|name| run[name].as_i64().unwrap_or(-1))
}

/// The order a store has under an external id, as `GET /v1/orders/{id}` shows it.
pub async fn order_by_external_id(app: &TestApp, store: &str, external_id: &str) -> Value {
    let id: uuid::Uuid =
        sqlx::query_scalar("select id from orders where store_id = $1 and external_id = $2")
            .bind(store)
            .bind(external_id)
            .fetch_one(&app.pool)
            .await
            .unwrap_or_else(|_| panic!("no order {external_id} in {store}"));
    let response = app
        .get(&format!("/v1/orders/{id}"))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.body
}

/// One number the database answers `sql` with (a count, a stock level).
pub async fn number(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("select ({sql})::bigint")))
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// The stock of the `MUG` product.
pub async fn mug_stock(app: &TestApp) -> i64 {
    number(app, "select stock from products where sku = 'MUG'").await
}

/// The `ordersearch` binary over the app's database, run to its end.
pub async fn ordersearch(app: &TestApp, dir: &Path, args: &[&str]) -> Output {
    command(app, dir, args)
        .output()
        .await
        .expect("running ordersearch")
}

/// The `ordersearch` binary over the app's database, not started yet.
pub fn command(app: &TestApp, dir: &Path, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ordersearch"));
    command
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", database_url(app))
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    command
}

/// A URL for the test's own database (TCP or a Unix socket directory).
fn database_url(app: &TestApp) -> String {
    let options = app.pool.connect_options();
    let host = options.get_host();
    format!(
        "postgres:///{}?host={}&port={}&user={}",
        options.get_database().unwrap_or("postgres"),
        host,
        options.get_port(),
        options.get_username()
    )
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "ordersearch-import-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).expect("a temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Standard output and error of a finished command, for assertion messages.
pub fn printed(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
