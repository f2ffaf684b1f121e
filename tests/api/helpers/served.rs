//! `serve` in-process on a real port: the `Application` a deployment runs
//! (indexer, housekeeping, graceful shutdown), over a test's database.

use ordersearch::search::engine::SearchEngine;
use ordersearch::startup::Application;
use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running `Application`; [`Served::shut_down`] stops it gracefully.
pub struct Served {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    stop: oneshot::Sender<()>,
    running: JoinHandle<anyhow::Result<()>>,
}

impl Served {
    /// Starts the application over `pool` and `search` on a free port, with or
    /// without its search indexer.
    pub async fn start(pool: &PgPool, search: &SearchEngine, run_indexer: bool) -> Served {
        let application = Application::build(
            pool.clone(),
            search.clone(),
            "127.0.0.1:0".parse().expect("an address"),
            run_indexer,
        )
        .await
        .expect("building the application");
        let base = format!("http://{}", application.local_addr().expect("bound"));
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(application.run_until(async {
            let _ = stopped.await;
        }));
        Served {
            base,
            stop,
            running,
        }
    }

    /// Signals shutdown and waits until serving and the background work ended.
    pub async fn shut_down(self) {
        let _ = self.stop.send(());
        self.running
            .await
            .expect("the application did not panic")
            .expect("the application stopped cleanly");
    }
}
