//! Top products and hourly sales, whose figures the service keeps in memory
//! per period: a cancel or delete of one of their orders, a new order, and a
//! rebuild show in the very next answer.

use chrono::{Days, NaiveTime, TimeZone, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

use super::naive::{self, Window};
use super::{Shop, rebuild};

/// Places `count` random orders in the default store (UTC), each moved to
/// noon of the day `ago(i)` days before today; rollups rebuilt.
async fn default_store_orders(
    shop: &Shop,
    seed: u64,
    count: usize,
    ago: impl Fn(usize) -> u64,
) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut orders = Vec::new();
    while orders.len() < count {
        let order = shop.place_random(&mut rng).await;
        let store: String = sqlx::query_scalar("select store_id from orders where id = $1::uuid")
            .bind(&order)
            .fetch_one(&shop.app.pool)
            .await
            .unwrap();
        if store == "default" {
            orders.push(order);
        }
    }
    let today = Utc::now().date_naive();
    for (i, order) in orders.iter().enumerate() {
        let day = today - Days::new(ago(i));
        let noon = Utc.from_utc_datetime(&day.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap()));
        sqlx::query("update orders set created_at = $2 where id = $1::uuid")
            .bind(order)
            .bind(noon)
            .execute(&shop.app.pool)
            .await
            .unwrap();
    }
    rebuild(&shop.app).await;
    orders
}

#[tokio::test]
async fn kept_figures_follow_cancels_deletes_and_rebuilds() {
    let shop = Shop::open().await;
    // Days 51 to 40 ago (UTC, the default store's zone): days, blocks and
    // UTC months long closed.
    let orders = default_store_orders(&shop, 5, 12, |i| 40 + i as u64).await;
    let today = Utc::now().date_naive();

    let from = today - Days::new(70);
    let to = today - Days::new(3);
    let window = Window {
        lo: Some(Utc.from_utc_datetime(&from.and_time(NaiveTime::MIN))),
        hi: Some(Utc.from_utc_datetime(&(to + Days::new(1)).and_time(NaiveTime::MIN))),
    };
    let params = |by: &str| {
        vec![
            ("store", "default".to_string()),
            ("from", from.to_string()),
            ("to", to.to_string()),
            ("by", by.to_string()),
            ("limit", "5".to_string()),
        ]
    };
    let answers = async |context: &str| {
        let mut answers = Vec::new();
        for by in ["quantity", "revenue", "profit"] {
            let top = shop
                .figures("/v1/analytics/products/top", &params(by))
                .await;
            assert_eq!(top.status, 200, "{context}: {}", top.body);
            let expected = naive::top_products(&shop.app.pool, "default", window, by, 5).await;
            assert_eq!(top.body, expected, "{context}, by {by}");
            answers.push(top.body);
        }
        let hourly = shop
            .figures("/v1/analytics/sales/hourly", &params("quantity")[..3])
            .await;
        assert_eq!(hourly.status, 200, "{context}: {}", hourly.body);
        let expected = naive::hourly(&shop.app.pool, "default", window).await;
        assert_eq!(hourly.body, expected, "{context}, hourly sales");
        answers.push(hourly.body);
        let all_hours = shop
            .figures("/v1/analytics/sales/hourly", &params("quantity")[..1])
            .await;
        let all_time = Window { lo: None, hi: None };
        let expected = naive::hourly(&shop.app.pool, "default", all_time).await;
        assert_eq!(
            all_hours.body, expected,
            "{context}, hourly sales of all time"
        );
        answers.push(all_hours.body);
        answers
    };

    let first = answers("after the rebuild").await;
    // Asked again: from the kept figures, the same answer.
    assert_eq!(answers("asked again").await, first);

    let cancelled = &orders[0];
    let response = shop
        .app
        .patch(
            &format!("/v1/orders/{cancelled}"),
            &json!({"status": "cancelled"}),
        )
        .key(&shop.app.admin)
        .send()
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let after_cancel = answers("after a cancel").await;
    assert_ne!(
        after_cancel, first,
        "the cancelled order's lines left the figures"
    );

    let response = shop
        .app
        .delete(&format!("/v1/orders/{}", orders[1]))
        .key(&shop.app.admin)
        .send()
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let after_delete = answers("after a delete").await;
    assert_ne!(
        after_delete, after_cancel,
        "the deleted order's lines left the figures"
    );

    // Behind the rollups' back, then rebuilt: the kept figures are dropped.
    sqlx::query("update orders set status = 'pending', cancelled_at = null where id = $1::uuid")
        .bind(cancelled)
        .execute(&shop.app.pool)
        .await
        .unwrap();
    rebuild(&shop.app).await;
    let after_rebuild = answers("after a rebuild").await;
    assert_ne!(
        after_rebuild, after_delete,
        "the restored order counts again"
    );
}

/// A period still taking orders is kept too: each order the projector
/// applies moves the stamp of its day, block and month, so it shows in the
/// very next answer.
#[tokio::test]
async fn todays_figures_are_kept_and_every_new_order_shows_at_once() {
    let shop = Shop::open().await;
    default_store_orders(&shop, 11, 6, |_| 0).await;
    let today = Utc::now().date_naive();
    let window = Window {
        lo: Some(Utc.from_utc_datetime(&today.and_time(NaiveTime::MIN))),
        hi: Some(Utc.from_utc_datetime(&(today + Days::new(1)).and_time(NaiveTime::MIN))),
    };
    let params = [
        ("store", "default".to_string()),
        ("from", today.to_string()),
        ("to", today.to_string()),
        ("limit", "5".to_string()),
    ];
    let answer = async || {
        let top = shop.figures("/v1/analytics/products/top", &params).await;
        assert_eq!(top.status, 200, "{}", top.body);
        top.body
    };
    let expected = naive::top_products(&shop.app.pool, "default", window, "quantity", 5).await;
    assert_eq!(answer().await, expected, "after the rebuild");
    assert_eq!(
        answer().await,
        expected,
        "asked again, from the kept figures"
    );

    let mut rng = StdRng::seed_from_u64(12);
    for round in 0..3 {
        let order = shop.place_random(&mut rng).await;
        let expected = naive::top_products(&shop.app.pool, "default", window, "quantity", 5).await;
        assert_eq!(
            answer().await,
            expected,
            "after order {order} (round {round})"
        );
    }
}
