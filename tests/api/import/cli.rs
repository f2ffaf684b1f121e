//! `ordersearch import file` and `import status`, the real binary over the
//! test's database: a kill mid-run and a resume, the rejects file in each
//! input format, gzip, standard input, `--map`, `--max-errors`.

use std::io::Write;
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::{TempDir, command, history_order, ndjson, number, ordersearch, printed, shop};
use crate::helpers::eventually;

/// `count` orders `hist-0`.. spread over 2024, three lines each.
fn many_orders(count: usize) -> String {
    let mut text = String::new();
    for n in 0..count {
        let mut order = history_order(
            &format!("hist-{n}"),
            &format!("2024-{:02}-{:02}T10:00:00Z", n % 12 + 1, n % 28 + 1),
            "completed",
        );
        order["items"] = json!([
            {"sku": "MUG", "quantity": 1}, {"sku": "CUP", "quantity": 2}, {"sku": "BOWL", "quantity": 1}
        ]);
        text.push_str(&order.to_string());
        text.push('\n');
    }
    text
}

async fn run_row(app: &crate::helpers::TestApp) -> (String, i64, i64) {
    sqlx::query_as("select status, read, created from import_runs")
        .fetch_one(&app.pool)
        .await
        .expect("one import run")
}

#[tokio::test]
async fn an_import_killed_mid_run_resumes_without_duplicates_or_gaps() {
    let app = shop().await;
    app.product("default", "CUP", "3.00", 10).await;
    app.product("default", "BOWL", "4.00", 10).await;
    let dir = TempDir::new();
    let total = 20_000;
    std::fs::write(dir.0.join("history.ndjson"), many_orders(total)).unwrap();
    let args = ["import", "file", "history.ndjson", "--batch", "200"];

    let mut child = command(&app, &dir.0, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually("the first batches to commit", || async {
        let created: Option<i64> = sqlx::query_scalar("select created from import_runs")
            .fetch_optional(&app.pool)
            .await
            .unwrap();
        created.filter(|created| *created >= 1000).map(|_| ())
    })
    .await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let (status, _, created_before) = run_row(&app).await;
    assert_eq!(status, "running", "the run was killed before it finished");
    assert!(created_before < total as i64);

    let resumed = ordersearch(&app, &dir.0, &args).await;

    assert!(resumed.status.success(), "{}", printed(&resumed));
    assert!(
        String::from_utf8_lossy(&resumed.stderr).contains("resuming import run"),
        "{}",
        printed(&resumed)
    );
    let (status, read, created) = run_row(&app).await;
    assert_eq!(
        (status.as_str(), read, created),
        ("done", total as i64, total as i64)
    );
    let (orders, distinct, events): (i64, i64, i64) = sqlx::query_as(
        "select count(*), count(distinct external_id),
                (select count(*) from events where type = 'order.imported')
         from orders",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (orders, distinct, events),
        (total as i64, total as i64, total as i64)
    );
    let lines = number(&app, "select count(*) from order_items").await;
    assert_eq!(lines, 3 * total as i64);
}

#[tokio::test]
async fn the_rejects_file_is_the_input_format_plus_an_error() {
    let app = shop().await;
    let dir = TempDir::new();
    let csv = "external_id,created_at,status,customer.id,items[0].sku,items[0].quantity,tags\n\
               c-1,2024-05-01T09:30:00Z,completed,cus-1,MUG,2,vip|old\n\
               c-2,2024-05-01T09:30:00Z,completed,cus-2,MUG,-4,\n";
    std::fs::write(dir.0.join("orders.csv"), csv).unwrap();
    let mut bad = history_order("n-2", "2024-05-01T09:30:00Z", "lost");
    bad["extra"] = json!("kept");
    let lines = ndjson(&[
        history_order("n-1", "2024-05-01T09:30:00Z", "completed"),
        bad,
    ]);
    std::fs::write(dir.0.join("orders.ndjson"), &lines).unwrap();
    let array = json!([history_order("j-1", "2999-05-01T09:30:00Z", "completed")]);
    std::fs::write(dir.0.join("orders.json"), array.to_string()).unwrap();

    for file in ["orders.csv", "orders.ndjson", "orders.json"] {
        let output = ordersearch(&app, &dir.0, &["import", "file", file]).await;
        assert!(output.status.success(), "{}", printed(&output));
    }

    let csv_rejects = std::fs::read_to_string(dir.0.join("orders.rejects.csv")).unwrap();
    assert_eq!(
        csv_rejects,
        "external_id,created_at,status,customer.id,items[0].sku,items[0].quantity,tags,_error\n\
         c-2,2024-05-01T09:30:00Z,completed,cus-2,MUG,-4,,line 3: items[0].quantity: must be positive\n"
    );
    let ndjson_rejects = std::fs::read_to_string(dir.0.join("orders.rejects.ndjson")).unwrap();
    let rejected: Value = serde_json::from_str(ndjson_rejects.trim()).unwrap();
    assert_eq!(rejected["external_id"], "n-2");
    assert_eq!(rejected["extra"], "kept");
    assert_eq!(rejected["_error"], "line 2: status: unknown status `lost`");
    let json_rejects: Value =
        serde_json::from_slice(&std::fs::read(dir.0.join("orders.rejects.json")).unwrap()).unwrap();
    assert_eq!(json_rejects[0]["external_id"], "j-1");
    assert_eq!(
        json_rejects[0]["_error"],
        "line 1: created_at: is in the future"
    );
    let tags: Vec<String> = sqlx::query_scalar("select tags from orders where external_id = 'c-1'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(tags, ["vip", "old"]);
}

#[tokio::test]
async fn gzip_standard_input_and_a_field_mapping_are_read() {
    let app = shop().await;
    let dir = TempDir::new();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(ndjson(&[history_order("gz-1", "2024-05-01T09:30:00Z", "completed")]).as_bytes())
        .unwrap();
    std::fs::write(dir.0.join("old.ndjson.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(
        dir.0.join("map.json"),
        r#"{"external_id": "id", "created_at": "date", "items": "products", "items[].quantity": "amount",
            "customer.email": "email"}"#,
    )
    .unwrap();
    let foreign = json!({"id": 77, "date": "2024-06-01", "email": "legacy@example.com",
                         "products": [{"sku": "MUG", "amount": 4}]});

    let gzipped = ordersearch(&app, &dir.0, &["import", "file", "old.ndjson.gz"]).await;
    let mut piped = command(&app, &dir.0, &["import", "file", "-", "--map", "map.json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = piped.stdin.take().unwrap();
    stdin
        .write_all(format!("{foreign}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let piped = piped.wait_with_output().await.unwrap();

    assert!(gzipped.status.success(), "{}", printed(&gzipped));
    assert!(piped.status.success(), "{}", printed(&piped));
    let mapped: (i32, Option<String>, String) = sqlx::query_as(
        "select i.quantity, o.customer_email, to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD')
         from orders o join order_items i on i.order_id = o.id where o.external_id = '77'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        mapped,
        (4, Some("legacy@example.com".into()), "2024-06-01".into())
    );
    let gz = number(
        &app,
        "select count(*) from orders where external_id = 'gz-1'",
    )
    .await;
    assert_eq!(gz, 1);
}

#[tokio::test]
async fn max_errors_stops_the_run_and_status_shows_it() {
    let app = shop().await;
    let dir = TempDir::new();
    let bad = |n: usize| history_order(&format!("bad-{n}"), "2999-01-01T00:00:00Z", "completed");
    let orders: Vec<Value> = (0..6)
        .map(bad)
        .chain([history_order("late", "2024-01-01", "completed")])
        .collect();
    std::fs::write(dir.0.join("bad.ndjson"), ndjson(&orders)).unwrap();

    let stopped = ordersearch(
        &app,
        &dir.0,
        &[
            "import",
            "file",
            "bad.ndjson",
            "--max-errors",
            "2",
            "--batch",
            "3",
        ],
    )
    .await;
    let status = ordersearch(&app, &dir.0, &["import", "status"]).await;

    assert!(!stopped.status.success(), "{}", printed(&stopped));
    assert!(
        String::from_utf8_lossy(&stopped.stderr).contains("--max-errors 2"),
        "{}",
        printed(&stopped)
    );
    let (state, read): (String, i64) = sqlx::query_as("select status, read from import_runs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!((state.as_str(), read), ("failed", 3));
    let late = number(&app, "select count(*) from orders").await;
    assert_eq!(late, 0, "the run stopped before the last order");
    assert!(status.status.success(), "{}", printed(&status));
    let listed = String::from_utf8_lossy(&status.stdout);
    assert!(
        listed.contains("failed") && listed.contains("rejected 3"),
        "{listed}"
    );
}

#[tokio::test]
async fn reserve_stock_takes_stock_for_open_orders_only_and_rejects_a_short_one() {
    let app = shop().await;
    let dir = TempDir::new();
    let mut greedy = history_order("greedy", "2024-05-01T09:30:00Z", "pending");
    greedy["items"][0]["quantity"] = json!(50);
    let orders = [
        history_order("open", "2024-05-01T09:30:00Z", "processing"),
        history_order("closed", "2024-05-01T09:30:00Z", "completed"),
        greedy,
    ];
    std::fs::write(dir.0.join("open.ndjson"), ndjson(&orders)).unwrap();

    let output = ordersearch(
        &app,
        &dir.0,
        &["import", "file", "open.ndjson", "--reserve-stock"],
    )
    .await;

    assert!(output.status.success(), "{}", printed(&output));
    assert_eq!(
        super::mug_stock(&app).await,
        8,
        "only the open order took its 2"
    );
    let rejects = std::fs::read_to_string(dir.0.join("open.rejects.ndjson")).unwrap();
    assert!(rejects.contains("not enough stock of MUG"), "{rejects}");
    let open = super::order_by_external_id(&app, "default", "open").await;
    let cancel = app
        .patch(
            &format!("/v1/orders/{}", open["id"].as_str().unwrap()),
            &json!({"status": "cancelled"}),
        )
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    assert_eq!(
        super::mug_stock(&app).await,
        10,
        "what it reserved comes back on cancel"
    );
}
