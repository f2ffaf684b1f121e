//! The import's rules, one record each: what is rejected (with its line and
//! reason) while the rest go on; merged lines; snapshots as given; products
//! created inactive; a changed source order updating what it may.

use serde_json::{Value, json};

use super::{counts, history_order, import, import_as, ndjson, order_by_external_id, shop};

fn with(mut order: Value, path: &[&str], value: Value) -> Value {
    let mut target = &mut order;
    for step in &path[..path.len() - 1] {
        target = match step.parse::<usize>() {
            Ok(index) => &mut target[index],
            Err(_) => &mut target[*step],
        };
    }
    target[path[path.len() - 1]] = value;
    order
}

#[tokio::test]
async fn every_rule_rejects_its_order_with_the_line_and_the_reason_and_the_rest_go_on() {
    let app = shop().await;
    let good = || history_order("good", "2024-05-01T09:30:00Z", "completed");
    let named = |id: &str| with(good(), &["external_id"], json!(id));
    let body = [
        ndjson(&[named("ok-1")]),
        ndjson(&[with(
            named("future"),
            &["created_at"],
            json!("2999-01-01T00:00:00Z"),
        )]),
        ndjson(&[with(named("nowhere"), &["store"], json!("nowhere"))]),
        ndjson(&[with(
            named("negative-qty"),
            &["items", "0", "quantity"],
            json!(-1),
        )]),
        ndjson(&[with(
            named("negative-price"),
            &["items", "0", "unit_price"],
            json!("-1.00"),
        )]),
        ndjson(&[with(
            named("three-places"),
            &["items", "0", "unit_price"],
            json!("1.005"),
        )]),
        ndjson(&[with(named("odd-status"), &["status"], json!("lost"))]),
        ndjson(&[with(
            named("unknown-sku"),
            &["items", "0", "sku"],
            json!("NOPE"),
        )]),
        "this is not JSON\n".to_string(),
        ndjson(&[with(good(), &["external_id"], Value::Null)]),
        "\n".to_string(),
        ndjson(&[named("ok-2")]),
    ]
    .concat();

    let run = import(&app, &body).await;

    assert_eq!(counts(&run), [11, 2, 0, 0, 9], "{run}");
    let errors: Vec<(i64, String)> = run["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        (2, "created_at: is in the future"),
        (3, "store: unknown store `nowhere`"),
        (4, "items[0].quantity: must be positive"),
        (5, "items[0].unit_price: must not be negative"),
        (
            6,
            "items[0].unit_price: must have at most two decimal places",
        ),
        (7, "status: unknown status `lost`"),
        (8, "items[0].sku: unknown SKU `NOPE`"),
        (9, "not JSON"),
        (10, "external_id"),
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:?}");
    for ((line, error), (want_line, want)) in errors.iter().zip(expected) {
        assert_eq!(*line, want_line, "{error}");
        assert!(
            error.starts_with(want),
            "line {line}: `{error}` does not start with `{want}`"
        );
    }
    assert_eq!(run["errors"][0]["external_id"], "future");
}

#[tokio::test]
async fn lines_for_the_same_product_are_merged_unless_their_prices_differ() {
    let app = shop().await;
    let two_lines = with(
        history_order("merged", "2024-05-01T09:30:00Z", "completed"),
        &["items"],
        json!([{"sku": "MUG", "quantity": 2}, {"sku": "MUG", "quantity": 3}]),
    );
    let two_prices = with(
        history_order("two-prices", "2024-05-01T09:30:00Z", "completed"),
        &["items"],
        json!([{"sku": "MUG", "quantity": 2, "unit_price": "9.00"}, {"sku": "MUG", "quantity": 1, "unit_price": "8.00"}]),
    );

    let run = import(&app, &ndjson(&[two_lines, two_prices])).await;

    assert_eq!(counts(&run), [2, 1, 0, 0, 1], "{run}");
    assert!(
        run["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("another unit_price"),
        "{run}"
    );
    let merged = order_by_external_id(&app, "default", "merged").await;
    assert_eq!(merged["items"].as_array().unwrap().len(), 1);
    assert_eq!(merged["items"][0]["quantity"], 5);
    assert_eq!(merged["total"], "47.50");
}

#[tokio::test]
async fn an_item_given_inline_keeps_its_snapshot_and_may_create_an_inactive_product() {
    let app = shop().await;
    let inline = json!([
        {"sku": "MUG", "quantity": 1, "unit_price": "7.25", "name": "Mug (2019 edition)"},
        {"sku": "OLD-LAMP", "quantity": 1, "unit_price": "30.00", "unit_cost": "12.00",
         "name": "Old lamp", "category": "Lighting"}
    ]);
    let order = with(
        history_order("inline", "2024-05-01T09:30:00Z", "completed"),
        &["items"],
        inline,
    );

    let without = import(&app, &ndjson(std::slice::from_ref(&order))).await;
    let with_products =
        import_as(&app, &app.admin, "?create_products=true", &ndjson(&[order])).await;

    assert_eq!(counts(&without), [1, 0, 0, 0, 1], "{without}");
    assert_eq!(counts(&with_products), [1, 1, 0, 0, 0], "{with_products}");
    let imported = order_by_external_id(&app, "default", "inline").await;
    assert_eq!(imported["items"][0]["unit_price"], "7.25");
    assert_eq!(imported["items"][0]["name"], "Mug (2019 edition)");
    assert_eq!(imported["items"][0]["category"], "Kitchen");
    assert_eq!(imported["total"], "37.25");
    let (active, stock, price): (bool, i32, String) =
        sqlx::query_as("select active, stock, price::text from products where sku = 'OLD-LAMP'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((active, stock, price.as_str()), (false, 0, "30.00"));
}

#[tokio::test]
async fn a_changed_source_order_updates_status_address_and_tags_and_says_so() {
    let app = shop().await;
    import(
        &app,
        &ndjson(&[history_order("moving", "2024-05-01T09:30:00Z", "pending")]),
    )
    .await;
    let address = json!({"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"});
    let changed = with(
        with(
            history_order("moving", "2024-05-01T09:30:00Z", "shipped"),
            &["tags"],
            json!(["vip"]),
        ),
        &["shipping_address"],
        address,
    );
    // Items differ too: they are never changed by a re-import.
    let changed = with(changed, &["items", "0", "quantity"], json!(9));

    let run = import(&app, &ndjson(&[changed])).await;

    assert_eq!(counts(&run), [1, 0, 1, 0, 0], "{run}");
    let order = order_by_external_id(&app, "default", "moving").await;
    assert_eq!(order["status"], "shipped");
    assert_eq!(order["tags"], json!(["vip"]));
    assert_eq!(order["shipping_address"]["city"], "Springfield");
    assert_eq!(order["items"][0]["quantity"], 2);
    assert_eq!(order["version"], 2);
    let types: Vec<String> =
        sqlx::query_scalar("select type from events where type like 'order.%' order by id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(types, ["order.imported", "order.status_changed"]);
}

#[tokio::test]
async fn a_move_the_lifecycle_forbids_rejects_the_order() {
    let app = shop().await;
    import(
        &app,
        &ndjson(&[history_order("done", "2024-05-01T09:30:00Z", "completed")]),
    )
    .await;

    let run = import(
        &app,
        &ndjson(&[history_order("done", "2024-05-01T09:30:00Z", "pending")]),
    )
    .await;

    assert_eq!(counts(&run), [1, 0, 0, 0, 1], "{run}");
    assert_eq!(
        run["errors"][0]["error"],
        "status: an order that is completed cannot become pending"
    );
    let order = order_by_external_id(&app, "default", "done").await;
    assert_eq!(order["status"], "completed");
}
