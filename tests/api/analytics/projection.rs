//! The rollups as a projection of the event log: with the projector task
//! killed and restarted at random points of a random history (and a rebuild
//! racing with writes), once it has caught up the rollups equal a rebuild and
//! every route equals the naive recomputation.

use std::time::Duration;

use ordersearch::analytics::{freshness, projector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::naive::{self, Window};
use super::rollups::{assert_live_equals_rebuild, snapshot};
use super::{CUSTOMERS, STORES, Shop, rebuild, segment};
use crate::helpers::eventually;

/// A projector task that can be killed (aborted mid-batch) and restarted.
pub struct Projector {
    pool: PgPool,
    running: Option<(JoinHandle<()>, watch::Sender<bool>)>,
}

impl Projector {
    pub fn start(pool: &PgPool) -> Projector {
        let mut projector = Projector {
            pool: pool.clone(),
            running: None,
        };
        projector.restart();
        projector
    }

    fn restart(&mut self) {
        if self.running.is_none() {
            let (stop, stopped) = watch::channel(false);
            let task = tokio::spawn(projector::run(self.pool.clone(), stopped));
            self.running = Some((task, stop));
        }
    }

    /// Aborts the task wherever it is, as a crash would.
    pub async fn kill(&mut self) {
        if let Some((task, _stop)) = self.running.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

/// Waits until the running projector has applied every committed order event.
async fn caught_up(pool: &PgPool) {
    eventually("the projector to catch up", || async {
        let status = freshness::status(pool).await.expect("reading the status");
        (status.pending_events == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn rollups_equal_a_recomputation_with_the_projector_killed_and_restarted() {
    let seed = super::seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let shop = Shop::open().await;
    let pool = shop.app.pool.clone();
    let mut projector = Projector::start(&pool);
    let mut orders = Vec::new();
    for round in 0..12 {
        let count = rng.random_range(4..=16);
        let placed = shop.random_history(&mut rng, count).await;
        orders.extend(placed);
        for _ in 0..rng.random_range(0..8) {
            let order = &orders[rng.random_range(0..orders.len())];
            shop.advance_random(&mut rng, order).await;
        }
        match rng.random_range(0..4) {
            0 => projector.kill().await,
            1 => {
                projector.kill().await;
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..40))).await;
                projector.restart();
            }
            2 if round % 3 == 0 => {
                // A rebuild racing with writes and the projector.
                let mut writer = StdRng::seed_from_u64(rng.random());
                let writes = shop.random_history(&mut writer, 8);
                let ((), placed) = tokio::join!(rebuild(&shop.app), writes);
                orders.extend(placed);
            }
            _ => projector.restart(),
        }
    }
    projector.restart();
    caught_up(&pool).await;
    let live = snapshot(&pool).await;
    projector.kill().await;
    assert_live_equals_rebuild(&shop, &format!("seed {seed}")).await;
    assert_eq!(
        snapshot(&pool).await,
        live,
        "seed {seed}: the projector's rollups are the rebuilt ones"
    );
    check_all_time(&shop, seed).await;
}

/// Every store's all-time figures equal the naive recomputation.
async fn check_all_time(shop: &Shop, seed: u64) {
    let all = Window { lo: None, hi: None };
    let pool = &shop.app.pool;
    for (store, _, _) in STORES {
        let params = [("store", store.to_string())];
        let context = format!("seed {seed}, store {store}");
        let mut top_params = params.to_vec();
        top_params.push(("limit", "6".to_string()));
        let top = shop
            .figures("/v1/analytics/products/top", &top_params)
            .await;
        let expected = naive::top_products(pool, store, all, "quantity", 6).await;
        assert_eq!(top.body, expected, "top, {context}");
        let categories = shop.figures("/v1/analytics/categories", &params).await;
        let expected = naive::categories(pool, store, all).await;
        assert_eq!(categories.body, expected, "categories, {context}");
        let hourly = shop.figures("/v1/analytics/sales/hourly", &params).await;
        assert_eq!(
            hourly.body,
            naive::hourly(pool, store, all).await,
            "hourly, {context}"
        );
        let mut summary = shop.figures("/v1/analytics/orders/summary", &params).await;
        summary
            .body
            .as_object_mut()
            .unwrap()
            .remove("average_processing_seconds");
        let (expected, _) = naive::summary(pool, store, all).await;
        assert_eq!(summary.body, expected, "summary, {context}");
        for customer in CUSTOMERS.into_iter().flatten() {
            let path = format!(
                "/v1/analytics/customers/{}/lifetime-value",
                segment(customer)
            );
            let value = shop.figures(&path, &params).await;
            let expected = naive::customer(pool, store, all, customer).await;
            assert_eq!(value.body, expected, "customer {customer}, {context}");
        }
    }
}

#[tokio::test]
async fn a_rebuild_sets_the_position_so_nothing_is_counted_twice() {
    let seed = super::seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let shop = Shop::open().await;
    // Events the projector never read: the rebuild counts their orders.
    shop.random_history(&mut rng, 30).await;
    rebuild(&shop.app).await;
    let rebuilt = snapshot(&shop.app.pool).await;
    shop.app.project_all().await;
    assert_eq!(
        snapshot(&shop.app.pool).await,
        rebuilt,
        "seed {seed}: re-read events were already counted"
    );
    let status = freshness::status(&shop.app.pool).await.unwrap();
    assert_eq!(status.pending_events, 0);
}
