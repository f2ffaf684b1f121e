//! The property: for random histories (made through the API, then backdated
//! across DST changes, month and year ends, and yesterday) and many random
//! ranges, every analytics route answers exactly what a plain recomputation
//! from the order rows gives: after a rebuild, and after live changes on top.

use chrono::{DateTime, Days, FixedOffset, NaiveDate, SecondsFormat, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::naive::{self, Window};
use super::rollups::assert_live_equals_rebuild;
use super::{CATEGORIES, CUSTOMERS, STORES, Shop, random_instant, rebuild, segment};

/// Where backdated orders land: month and year ends, DST changes in Warsaw,
/// New York and Lord Howe (a 30-minute one), and the last three days.
fn windows() -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
    let now = Utc::now();
    vec![
        (at("2024-12-20T00:00:00Z"), at("2025-01-10T00:00:00Z")),
        (at("2025-03-05T00:00:00Z"), at("2025-04-10T00:00:00Z")),
        (at("2025-09-28T00:00:00Z"), at("2025-11-05T00:00:00Z")),
        (at("2025-03-08T20:00:00Z"), at("2025-03-10T10:00:00Z")),
        (at("2025-03-29T20:00:00Z"), at("2025-03-31T04:00:00Z")),
        (at("2025-04-05T10:00:00Z"), at("2025-04-06T20:00:00Z")),
        (at("2025-10-25T20:00:00Z"), at("2025-10-27T04:00:00Z")),
        (at("2025-11-01T20:00:00Z"), at("2025-11-03T10:00:00Z")),
        (now - TimeDelta::days(3), now - TimeDelta::minutes(1)),
        (now - TimeDelta::days(3), now - TimeDelta::minutes(1)),
    ]
}

/// Moves every order's creation (and completion, keeping a random processing
/// time) into the windows, behind the rollups' back.
async fn backdate(shop: &Shop, rng: &mut StdRng, orders: &[String]) {
    let windows = windows();
    for order in orders {
        let (lo, hi) = windows[rng.random_range(0..windows.len())];
        let created = random_instant(rng, lo, hi);
        let processing_micros: i64 = rng.random_range(1_000_000..864_000_000_000);
        sqlx::query(
            "update orders set created_at = $2,
                completed_at = case when completed_at is not null
                               then $2 + $3 * interval '1 microsecond' end
             where id = $1::uuid",
        )
        .bind(order)
        .bind(created)
        .bind(processing_micros as f64)
        .execute(&shop.app.pool)
        .await
        .unwrap();
    }
}

/// The first instant of a local day (chrono-tz: independent of the server).
fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut local = date.and_hms_opt(0, 0, 0).unwrap();
    loop {
        if let Some(start) = tz.from_local_datetime(&local).earliest() {
            return start.with_timezone(&Utc);
        }
        local += TimeDelta::minutes(1);
    }
}

/// A random `from` or `to`: absent, a local date near a window, or a time
/// (sometimes exactly on a local midnight or a UTC hour) with a random offset.
fn random_bound(
    rng: &mut StdRng,
    zone: Tz,
    is_to: bool,
) -> Option<(String, DateTime<Utc>, Option<NaiveDate>)> {
    let windows = windows();
    let (lo, hi) = windows[rng.random_range(0..windows.len())];
    let anchor = random_instant(rng, lo, hi);
    match rng.random_range(0..10) {
        0..=2 => None,
        3..=6 => {
            let date = anchor.with_timezone(&zone).date_naive();
            let date = date
                .checked_add_days(Days::new(rng.random_range(0..2)))
                .unwrap();
            let end = if is_to {
                date.succ_opt().unwrap()
            } else {
                date
            };
            Some((
                date.format("%Y-%m-%d").to_string(),
                day_start(zone, end),
                Some(date),
            ))
        }
        choice => {
            let instant = match choice {
                7 => day_start(zone, anchor.with_timezone(&zone).date_naive()),
                8 => DateTime::from_timestamp(anchor.timestamp() / 3600 * 3600, 0).unwrap(),
                _ => anchor,
            };
            let offsets = [
                0,
                2 * 3600,
                -5 * 3600,
                5 * 3600 + 1800,
                13 * 3600 + 2700,
                -(9 * 3600 + 1800),
            ];
            let offset =
                FixedOffset::east_opt(offsets[rng.random_range(0..offsets.len())]).unwrap();
            let text = instant
                .with_timezone(&offset)
                .to_rfc3339_opts(SecondsFormat::AutoSi, true);
            Some((text, instant, None))
        }
    }
}

/// Asserts one route's answer equals the recomputation.
#[track_caller]
fn same(route: &str, context: &str, response: &crate::helpers::TestResponse, expected: &Value) {
    assert_eq!(response.status, 200, "{route} {context}: {}", response.body);
    assert_eq!(&response.body, expected, "{route} {context}");
}

/// Checks every route over `rounds` random stores and ranges.
async fn check_ranges(shop: &Shop, rng: &mut StdRng, rounds: usize, seed: u64) {
    let zones = [
        "UTC",
        "Europe/Warsaw",
        "America/New_York",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
    ];
    let pool = &shop.app.pool;
    let mut with_sales = 0;
    for round in 0..rounds {
        let (store, _, store_zone) = STORES[rng.random_range(0..STORES.len())];
        let tz_param = rng
            .random_bool(0.3)
            .then(|| zones[rng.random_range(0..zones.len())]);
        let zone: Tz = tz_param.unwrap_or(store_zone).parse().unwrap();
        let from = random_bound(rng, zone, false);
        // Half the time `to` is a date up to six weeks after a `from` date: ranges
        // of whole days and 8-day blocks around month ends, without whole months.
        let to = match &from {
            Some((_, _, Some(from_date))) if rng.random_bool(0.5) => {
                let date = *from_date + Days::new(rng.random_range(0..42));
                let end = date.succ_opt().unwrap();
                Some((
                    date.format("%Y-%m-%d").to_string(),
                    day_start(zone, end),
                    Some(date),
                ))
            }
            _ => random_bound(rng, zone, true),
        };
        let mut params = vec![("store", store.to_string())];
        for (name, bound) in [("from", &from), ("to", &to)] {
            if let Some((text, _, _)) = bound {
                params.push((name, text.clone()));
            }
        }
        if let Some(tz) = tz_param {
            params.push(("tz", tz.to_string()));
        }
        let context = format!("(seed {seed}, round {round}, {params:?})");
        let window = Window {
            lo: from.as_ref().map(|(_, at, _)| *at),
            hi: to.as_ref().map(|(_, at, _)| *at),
        };
        // Two dates compare as dates (`to` is inclusive); otherwise as instants.
        let reversed = match (&from, &to) {
            (Some((_, _, Some(from))), Some((_, _, Some(to)))) => from > to,
            _ => matches!((window.lo, window.hi), (Some(lo), Some(hi)) if lo > hi),
        };
        if reversed {
            let refused = shop.figures("/v1/analytics/orders/summary", &params).await;
            refused.assert_problem(422);
            assert_eq!(refused.error_fields(), ["from"], "{context}");
            continue;
        }

        let by = ["quantity", "revenue", "profit"][rng.random_range(0..3)];
        let limit = rng.random_range(1..=6_i64);
        let mut top_params = params.clone();
        top_params.extend([("by", by.to_string()), ("limit", limit.to_string())]);
        let top = shop
            .figures("/v1/analytics/products/top", &top_params)
            .await;
        same(
            "top",
            &context,
            &top,
            &naive::top_products(pool, store, window, by, limit).await,
        );

        let products = shop.products_of(store);
        let product = &products[rng.random_range(0..products.len())].id;
        let sales = shop
            .figures(&format!("/v1/analytics/products/{product}/sales"), &params)
            .await;
        same(
            "product sales",
            &context,
            &sales,
            &naive::product_sales(pool, store, window, product).await,
        );

        let categories = shop.figures("/v1/analytics/categories", &params).await;
        let expected = naive::categories(pool, store, window).await;
        same("categories", &context, &categories, &expected);

        let category = *[CATEGORIES[0], CATEGORIES[1], CATEGORIES[2], "Nope"]
            .get(rng.random_range(0..4))
            .unwrap();
        let path = format!("/v1/analytics/categories/{}/revenue", segment(category));
        let revenue = shop.figures(&path, &params).await;
        same(
            "category",
            &context,
            &revenue,
            &naive::category(pool, store, window, category).await,
        );

        let customer = CUSTOMERS[rng.random_range(0..CUSTOMERS.len())].unwrap_or("nobody");
        let path = format!(
            "/v1/analytics/customers/{}/lifetime-value",
            segment(customer)
        );
        let value = shop.figures(&path, &params).await;
        same(
            "customer",
            &context,
            &value,
            &naive::customer(pool, store, window, customer).await,
        );

        let hourly = shop.figures("/v1/analytics/sales/hourly", &params).await;
        same(
            "hourly",
            &context,
            &hourly,
            &naive::hourly(pool, store, window).await,
        );

        let mut summary = shop.figures("/v1/analytics/orders/summary", &params).await;
        let (expected, average) = naive::summary(pool, store, window).await;
        let answered = summary
            .body
            .as_object_mut()
            .unwrap()
            .remove("average_processing_seconds");
        let answered = answered.and_then(|value| value.as_f64());
        match (answered, average) {
            (Some(a), Some(b)) => assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{context}: {a} vs {b}"
            ),
            (a, b) => assert_eq!(a, b, "average processing {context}"),
        }
        same("summary", &context, &summary, &expected);
        if summary.body["total_orders"].as_i64() > Some(0) {
            with_sales += 1;
        }
    }
    eprintln!("seed {seed}: {with_sales} of {rounds} ranges held orders");
    assert!(
        with_sales * 3 >= rounds,
        "seed {seed}: only {with_sales} of {rounds} ranges held orders; the property says little"
    );
}

/// `top-bought-yesterday` of every store equals the top by quantity over the
/// store's local yesterday (retried if a local midnight passes meanwhile).
async fn check_yesterday(shop: &Shop, seed: u64) {
    for (store, _, zone) in STORES {
        let zone: Tz = zone.parse().unwrap();
        loop {
            let today = Utc::now().with_timezone(&zone).date_naive();
            let yesterday = today.pred_opt().unwrap();
            let window = Window {
                lo: Some(day_start(zone, yesterday)),
                hi: Some(day_start(zone, today)),
            };
            let params = [("store", store.to_string())];
            let answered = shop
                .figures("/v1/analytics/products/top-bought-yesterday", &params)
                .await;
            let expected = naive::top_products(&shop.app.pool, store, window, "quantity", 10).await;
            if Utc::now().with_timezone(&zone).date_naive() != today {
                continue;
            }
            same(
                "yesterday",
                &format!("(seed {seed}, {store})"),
                &answered,
                &expected,
            );
            break;
        }
    }
}

#[tokio::test]
async fn every_route_equals_a_recomputation_from_the_orders_over_random_ranges() {
    let seed = super::seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let shop = Shop::open().await;
    let orders = shop.random_history(&mut rng, 160).await;
    backdate(&shop, &mut rng, &orders).await;
    rebuild(&shop.app).await;
    check_ranges(&shop, &mut rng, 80, seed).await;
    check_yesterday(&shop, seed).await;

    // Live changes to backdated orders (cancel, complete, delete) keep every figure exact.
    for order in orders.iter().take(60) {
        shop.advance_random(&mut rng, order).await;
    }
    check_ranges(&shop, &mut rng, 30, seed).await;
    check_yesterday(&shop, seed).await;

    // Folding closed periods' shard rows, as `serve` does, changes no figure
    // either (the projector writes shard 0 only, so there is little to fold).
    ordersearch::analytics::compact::compact(&shop.app.pool, Utc::now())
        .await
        .expect("folding closed periods");
    check_ranges(&shop, &mut rng, 30, seed).await;
    assert_live_equals_rebuild(&shop, &format!("seed {seed}, after backdating")).await;
}
