//! The test harness: a real PostgreSQL, a fresh database per test, the app driven
//! in-process, and one helper per thing a test does.
//!
//! PostgreSQL is `DATABASE_URL` when set, otherwise a throwaway cluster started
//! from the local binaries under `target/test-postgres` (kept between runs, so
//! only the first run pays for `initdb`). Migrations run once into a template
//! database; each test clones it, so tests run in parallel and share nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use ordersearch::http::auth::Role;
use ordersearch::search::embedded::EmbeddedEngine;
use ordersearch::search::engine::SearchEngine;
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use tokio::sync::OnceCell;
use tower::ServiceExt;

mod api_keys;
mod served;

pub use served::Served;

/// How long `eventually` waits before failing a test.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The server every test database lives on, and the migrated template's name.
struct Server {
    options: PgConnectOptions,
    template: String,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();

async fn server() -> &'static Server {
    SERVER
        .get_or_init(|| async {
            let options = match std::env::var("DATABASE_URL") {
                Ok(url) => url.parse().expect("DATABASE_URL parses"),
                Err(_) => throwaway_cluster().await,
            };
            let template = prepare_template(&options).await;
            Server { options, template }
        })
        .await
}

async fn throwaway_cluster() -> PgConnectOptions {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-postgres");
    std::fs::create_dir_all(&dir).expect("creating target/test-postgres");
    // Several test processes may start at once: one of them initializes the cluster.
    let lock = std::fs::File::create(dir.with_extension("lock")).expect("lock file");
    lock.lock().expect("locking the test cluster");
    let cluster = ordersearch::db::cluster::PrivateCluster::start(&dir)
        .await
        .expect("starting a throwaway PostgreSQL cluster from the local binaries");
    drop(lock);
    cluster.connect_options("postgres")
}

/// Migrates a template database once per migration set (named by their hash).
async fn prepare_template(options: &PgConnectOptions) -> String {
    // Named by the checksums of the migrations this binary embeds.
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    for migration in ordersearch::db::MIGRATOR.iter() {
        sha2::Digest::update(&mut hasher, &migration.checksum);
    }
    let digest = sha2::Digest::finalize(hasher);
    let template: String = format!(
        "ostpl_{}",
        digest
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone().database("postgres"))
        .await
        .expect("connecting to the test server");
    let mut lock = admin.acquire().await.expect("connection");
    sqlx::query("select pg_advisory_lock(72707)")
        .execute(&mut *lock)
        .await
        .unwrap();
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&template)
            .fetch_one(&mut *lock)
            .await
            .unwrap();
    if !exists {
        let building = format!("{template}_building");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop database if exists {building}"
        )))
        .execute(&mut *lock)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {building}")))
            .execute(&mut *lock)
            .await
            .unwrap();
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().database(&building))
            .await
            .unwrap();
        ordersearch::db::migrate(&pool)
            .await
            .expect("migrating the template");
        pool.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "alter database {building} rename to {template}"
        )))
        .execute(&mut *lock)
        .await
        .unwrap();
    }
    drop_stale_test_databases(&mut lock).await;
    sqlx::query("select pg_advisory_unlock(72707)")
        .execute(&mut *lock)
        .await
        .unwrap();
    template
}

/// Test databases of runs more than an hour old are dropped (names carry their time).
async fn drop_stale_test_databases(conn: &mut sqlx::PgConnection) {
    let cutoff = chrono::Utc::now().timestamp() - 3600;
    let names: Vec<String> =
        sqlx::query_scalar("select datname from pg_database where datname like 'ostest_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for name in names {
        let born = name
            .split('_')
            .nth(1)
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(0);
        if born < cutoff {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "drop database if exists {name} with (force)"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}

/// A fresh, migrated database of its own.
pub async fn fresh_database(max_connections: u32) -> PgPool {
    let server = server().await;
    let name = format!(
        "ostest_{}_{}",
        chrono::Utc::now().timestamp(),
        uuid::Uuid::new_v4().simple()
    );
    let admin = server
        .options
        .clone()
        .database("postgres")
        .connect()
        .await
        .expect("connecting to the test server");
    let mut admin = admin;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create database {name} template {}",
        server.template
    )))
    .execute(&mut admin)
    .await
    .expect("cloning the template database");
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(server.options.clone().database(&name))
        .await
        .expect("connecting to the test database")
}

/// A running app over its own database and its own embedded search index, with
/// an unscoped admin key. The indexer does not run on its own: tests deliver
/// changes with `index_all` (or start an indexer) so what they see is decided.
#[derive(Clone)]
pub struct TestApp {
    pub router: Router,
    pub pool: PgPool,
    pub admin: String,
    pub search: SearchEngine,
    /// The embedded index's directory, removed with the last clone of the app.
    index_dir: Option<Arc<IndexDir>>,
}

/// A test index directory under the system's temporary directory; removed on drop.
pub struct IndexDir(std::path::PathBuf);

/// A new, empty embedded index, and its directory's guard.
pub fn empty_index() -> (SearchEngine, Arc<IndexDir>) {
    let index_dir = std::env::temp_dir().join(format!(
        "ordersearch-test-index-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let engine = EmbeddedEngine::open(&index_dir).expect("opening a test index");
    (
        SearchEngine::Embedded(Arc::new(engine)),
        Arc::new(IndexDir(index_dir)),
    )
}

impl Drop for IndexDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a request answered.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub body: Value,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status; returns its body.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:ordersearch:problem:"))
        );
        &self.body
    }

    /// The fields named in a problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|error| error["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A request being built.
pub struct Call<'a> {
    app: &'a TestApp,
    request: axum::http::request::Builder,
    body: Body,
}

impl Call<'_> {
    pub fn key(mut self, key: &str) -> Self {
        self.request = self
            .request
            .header("authorization", format!("Bearer {key}"));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.request = self.request.header("content-type", "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.request = self.request.header("content-type", content_type);
        self.body = Body::from(body.into());
        self
    }

    pub async fn send(self) -> TestResponse {
        let request = self.request.body(self.body).expect("a valid request");
        self.app.send(request).await
    }
}

impl TestApp {
    /// A new app with its own database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with_pool(20).await
    }

    pub async fn spawn_with_pool(max_connections: u32) -> TestApp {
        let (engine, index_dir) = empty_index();
        let mut app = Self::spawn_with_engine(engine, max_connections).await;
        app.index_dir = Some(index_dir);
        app
    }

    /// A new app with its own database, searching with `search`.
    pub async fn spawn_with_engine(search: SearchEngine, max_connections: u32) -> TestApp {
        if std::env::var_os("TEST_LOG").is_some() {
            ordersearch::telemetry::init_logging(false);
        }
        let pool = fresh_database(max_connections).await;
        let admin = create_key(&pool, "test admin", Role::Admin, None).await;
        TestApp {
            router: ordersearch::startup::app(pool.clone(), search.clone()),
            pool,
            admin,
            search,
            index_dir: None,
        }
    }

    /// Delivers every pending change to the search index, as the indexer would.
    pub async fn index_all(&self) {
        let started = Instant::now();
        while ordersearch::search::indexer::deliver_batch(&self.pool, &self.search, 1000)
            .await
            .expect("indexing a batch")
            > 0
        {
            assert!(started.elapsed() < DEADLINE, "indexing did not finish");
        }
    }

    /// Applies every committed order event to the analytics rollups, as the
    /// projector would. Events committed behind a transaction still running
    /// anywhere on the server (other tests') become readable once it ends,
    /// so this waits until none is pending.
    pub async fn project_all(&self) {
        eventually("the projector to pass every committed event", || async {
            ordersearch::analytics::projector::catch_up(&self.pool)
                .await
                .expect("projecting the event log");
            let status = ordersearch::analytics::freshness::status(&self.pool)
                .await
                .expect("reading the projector's status");
            (status.pending_events == 0).then_some(())
        })
        .await;
    }

    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            request: Request::builder().method(method).uri(path),
            body: Body::empty(),
        }
    }

    /// Sends a request exactly as built; reads the whole answer.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            bytes,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str, body: &Value) -> Call<'_> {
        self.call(Method::POST, path).json(body)
    }

    pub fn patch(&self, path: &str, body: &Value) -> Call<'_> {
        self.call(Method::PATCH, path).json(body)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    /// Asserts a GET of `path` with `key` answers a problem with `status`; returns its body.
    pub async fn assert_get_problem(&self, key: &str, path: &str, status: u16) -> Value {
        let response = self.get(path).key(key).send().await;
        assert_eq!(response.status, status, "GET {path}: {}", response.body);
        response.assert_problem(status).clone()
    }

    /// Asserts a GET of `path` with the admin key answers a problem with `status`.
    pub async fn assert_admin_get_problem(&self, path: &str, status: u16) -> Value {
        self.assert_get_problem(&self.admin, path, status).await
    }

    /// A new key with this role and scope.
    pub async fn key(&self, role: Role, store: Option<&str>) -> String {
        create_key(&self.pool, "test key", role, store).await
    }

    /// Creates a store as admin.
    pub async fn store(&self, id: &str, currency: &str, timezone: &str) {
        let body =
            serde_json::json!({"id": id, "name": id, "currency": currency, "timezone": timezone});
        let response = self.post("/v1/stores", &body).key(&self.admin).send().await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    }

    /// Creates a product as admin; returns its body.
    pub async fn product(&self, store: &str, sku: &str, price: &str, stock: i32) -> Value {
        let body = serde_json::json!({
            "store": store, "sku": sku, "name": format!("Product {sku}"),
            "category": "Kitchen", "price": price, "cost": "1.00", "stock": stock
        });
        let response = self
            .post("/v1/products", &body)
            .key(&self.admin)
            .send()
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        response.body
    }
}

async fn create_key(pool: &PgPool, name: &str, role: Role, store: Option<&str>) -> String {
    let new = ordersearch::keys::NewApiKey {
        name: name.into(),
        role,
        store: store.map(str::to_string),
    };
    let mut conn = pool.acquire().await.expect("connection");
    ordersearch::keys::insert(&mut conn, &new, None)
        .await
        .expect("creating a key")
        .key
}

/// Says why the running test did not run its checks: on standard output, and
/// as a line of the file `ORDERSEARCH_SKIP_LOG` names, which CI prints at the
/// end of its run (the test still passes: `cargo test` has no skip).
pub fn skipped(reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    println!("skipped {test}: {reason}");
    if let Some(path) = std::env::var_os("ORDERSEARCH_SKIP_LOG") {
        use std::io::Write;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        if let Ok(mut file) = file {
            let _ = writeln!(file, "{test}: {reason}");
        }
    }
}

/// Polls `check` until it returns `Some`, failing the test after `DEADLINE`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
