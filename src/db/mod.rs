//! The PostgreSQL connection: a configured server, or the private cluster.

pub mod cluster;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use self::cluster::PrivateCluster;

/// The database name used inside the private cluster.
const PRIVATE_DATABASE: &str = "ordersearch";

/// Where the service's data lives and how to reach PostgreSQL.
#[derive(clap::Args, Clone)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. When unset, a private cluster is started under `<data-dir>/postgres`.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory for the private PostgreSQL cluster and the embedded search index.
    #[arg(long, env = "ORDERSEARCH_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Largest number of pooled database connections.
    #[arg(long, env = "ORDERSEARCH_DB_MAX_CONNECTIONS", default_value_t = 32)]
    pub max_connections: u32,
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("data_dir", &self.data_dir)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// A URL with its password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// An open pool, and the private cluster behind it when there is one.
pub struct Database {
    pub pool: PgPool,
    cluster: Option<PrivateCluster>,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the private cluster and connects to it.
    pub async fn open(config: &DatabaseConfig) -> anyhow::Result<Self> {
        Self::open_with(config, |options| options).await
    }

    /// [`Database::open`] for the service, whose every statement answers a
    /// request: no parallel workers and no JIT. Both pay off only for scans
    /// far larger than a request makes, and cost milliseconds to start: a
    /// prepared statement's generic plan gathers parallel workers even for an
    /// index range that turns out empty (~6 ms of every analytics request).
    /// Bulk commands (`seed`, `rollups rebuild`, `reindex`) keep both.
    pub async fn open_for_requests(config: &DatabaseConfig) -> anyhow::Result<Self> {
        Self::open_with(config, |options| {
            options.options([("max_parallel_workers_per_gather", "0"), ("jit", "off")])
        })
        .await
    }

    async fn open_with(
        config: &DatabaseConfig,
        tune: impl Fn(PgConnectOptions) -> PgConnectOptions,
    ) -> anyhow::Result<Self> {
        // No ping before every acquire: it is a round trip per statement (a
        // request of four statements made eight). A connection that died idle
        // fails its next statement instead, and the pool drops it then.
        let pool_options = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false);
        if let Some(url) = &config.database_url {
            let options: PgConnectOptions = url.parse().context("parsing DATABASE_URL")?;
            let pool = pool_options
                .connect_with(tune(options))
                .await
                .with_context(|| format!("connecting to {}", redact_url(url)))?;
            return Ok(Self {
                pool,
                cluster: None,
            });
        }
        let cluster = PrivateCluster::start(&config.data_dir.join("postgres")).await?;
        ensure_database(&cluster).await?;
        let pool = pool_options
            .connect_with(tune(cluster.connect_options(PRIVATE_DATABASE)))
            .await
            .context("connecting to the private PostgreSQL cluster")?;
        Ok(Self {
            pool,
            cluster: Some(cluster),
        })
    }

    /// Applies the migrations in `migrations/` that have not run yet.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        migrate(&self.pool).await
    }

    /// Closes the pool and stops the private cluster if this process started it.
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close().await;
        match self.cluster {
            Some(cluster) if cluster.started_by_us() => cluster.stop().await,
            _ => Ok(()),
        }
    }
}

/// The migrations in `migrations/`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Applies the embedded migrations to a pool.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("running database migrations")
}

async fn ensure_database(cluster: &PrivateCluster) -> anyhow::Result<()> {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(cluster.connect_options("postgres"))
        .await
        .context("connecting to the private PostgreSQL cluster")?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(PRIVATE_DATABASE)
            .fetch_one(&admin)
            .await?;
    if !exists {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "create database {PRIVATE_DATABASE}"
        )))
        .execute(&admin)
        .await
        .context("creating the ordersearch database")?;
    }
    admin.close().await;
    Ok(())
}

/// A connection of its own holding the session advisory lock `key` (the lock
/// lives exactly as long as the connection): how one process of a deployment
/// becomes "the" relay or webhook dispatcher. `None` while another holds it.
pub async fn try_lead(pool: &PgPool, key: i64) -> anyhow::Result<Option<sqlx::PgConnection>> {
    let mut session = pool.acquire().await?.detach();
    let leader: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut session)
        .await?;
    Ok(leader.then_some(session))
}
