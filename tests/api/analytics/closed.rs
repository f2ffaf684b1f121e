//! Top products and hourly sales over closed periods, whose figures the
//! service keeps in memory: a cancel or delete of one of their orders, and a
//! rebuild, show in the very next answer.

use chrono::{Days, NaiveTime, TimeZone, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

use super::naive::{self, Window};
use super::{Shop, rebuild};

#[tokio::test]
async fn figures_of_closed_periods_follow_cancels_deletes_and_rebuilds() {
    let shop = Shop::open().await;
    let mut rng = StdRng::seed_from_u64(5);
    let mut orders = Vec::new();
    while orders.len() < 12 {
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
    // Days 51 to 40 ago (UTC, the default store's zone): days, blocks and
    // UTC months long closed.
    let today = Utc::now().date_naive();
    for (ago, order) in (40..).zip(&orders) {
        let day = today - Days::new(ago);
        let noon = Utc.from_utc_datetime(&day.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap()));
        sqlx::query("update orders set created_at = $2 where id = $1::uuid")
            .bind(order)
            .bind(noon)
            .execute(&shop.app.pool)
            .await
            .unwrap();
    }
    rebuild(&shop.app).await;

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
