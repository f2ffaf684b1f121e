//! Who may call what: every `/v1` route × every role × every key scope, from one table.
//!
//! `ROUTES` is the whole authorization contract. Adding a route is one line:
//! `Route::new("GET", "/v1/orders/{id}", &[Admin, Writer, Support])`, plus `.body(..)`
//! when it takes a JSON body, `.status(..)` when success is not 201 (POST) / 200,
//! and `.unscoped_only()` when a store-scoped key may never use it. A path with a
//! `{placeholder}` gets a fresh resource per call from `fixture`, keyed on the
//! segment before the placeholder (`/v1/analytics/products/{id}/sales` → a
//! product): add a branch there for a new kind. When another store's value in
//! the placeholder is not a hidden resource (a category name, say), say what it
//! answers with `.other_store(200)`. `prepare` gives every store a well-stocked `STOCKED_SKU` product
//! for bodies and fixtures that order something.
//!
//! The statuses expected follow the contract: a role not allowed → 403; a store-scoped
//! key on an unscoped-only route → 403; a store-scoped key reaching another store's
//! resource by id → 404, naming it in a body → 422 (`store`), listing → never sees it.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::Method;
use ordersearch::http::auth::Role::{self, Admin, Analyst, Support, Writer};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, eventually};

/// Every role, in the order the tables print them.
pub(crate) const ALL_ROLES: [Role; 4] = [Admin, Writer, Support, Analyst];

/// Every `/v1` route and who may use it.
pub(crate) const ROUTES: &[Route] = &[
    // Stores: anyone may read; only an unscoped admin creates.
    Route::new("POST", "/v1/stores", &[Admin])
        .unscoped_only()
        .body(new_store),
    Route::new("GET", "/v1/stores", &ALL_ROLES),
    Route::new("GET", "/v1/stores/{id}", &ALL_ROLES),
    // API keys: unscoped admin only.
    Route::new("POST", "/v1/api-keys", &[Admin])
        .unscoped_only()
        .body(new_api_key),
    Route::new("GET", "/v1/api-keys", &[Admin]).unscoped_only(),
    Route::new("DELETE", "/v1/api-keys/{id}", &[Admin])
        .unscoped_only()
        .status(204),
    Route::new("GET", "/v1/api-keys/me", &ALL_ROLES),
    // Saved searches: a key's own and those shared in its store. The fixture is shared
    // by a support key of the resource's store, so only an admin changes it; a support
    // key passes the route's gate and meets the other store's 404 first (its own
    // searches' changes are in saved.rs).
    Route::new("POST", "/v1/saved-searches", &[Admin, Support])
        .body(new_saved_search)
        .other_store(201),
    Route::new("GET", "/v1/saved-searches", &[Admin, Support]),
    Route::new("GET", "/v1/saved-searches/{id}", &[Admin, Support]),
    Route::new("PATCH", "/v1/saved-searches/{id}", &[Admin])
        .gate(&[Support])
        .body(saved_search_patch),
    Route::new("DELETE", "/v1/saved-searches/{id}", &[Admin])
        .gate(&[Support])
        .status(204),
    // Products: every role reads; admin writes.
    Route::new("POST", "/v1/products", &[Admin]).body(new_product),
    Route::new("GET", "/v1/products", &ALL_ROLES),
    Route::new("GET", "/v1/products/{id}", &ALL_ROLES),
    Route::new("PATCH", "/v1/products/{id}", &[Admin]).body(product_patch),
    Route::new("DELETE", "/v1/products/{id}", &[Admin]),
    // Orders: writers create and delete; support also reads and patches (notes, tags, cancel).
    Route::new("POST", "/v1/orders", &[Admin, Writer]).body(new_order),
    Route::new("GET", "/v1/orders", &[Admin, Writer, Support]),
    Route::new("GET", "/v1/orders/{id}", &[Admin, Writer, Support]),
    Route::new("GET", "/v1/orders/{id}/status", &[Admin, Writer, Support]),
    Route::new("GET", "/v1/orders/{id}/events", &[Admin, Writer, Support]),
    Route::new("PATCH", "/v1/orders/{id}", &[Admin, Writer, Support]).body(order_note),
    Route::new("DELETE", "/v1/orders/{id}", &[Admin, Writer]),
    // Search: support staff and admins; the index is managed by an unscoped admin.
    Route::new("GET", "/v1/orders/search", &[Admin, Support]),
    Route::new("GET", "/v1/orders/export", &[Admin, Support]),
    Route::new("GET", "/v1/search/status", &[Admin, Support]),
    Route::new("POST", "/v1/search/reindex", &[Admin])
        .unscoped_only()
        .status(202),
    Route::new("POST", "/v1/search/reconcile", &[Admin])
        .unscoped_only()
        .status(200),
    // Analytics: analysts and admins. Categories and customers are not entities: another
    // store's are simply without sales in the key's store.
    Route::new("GET", "/v1/analytics/products/top", &[Admin, Analyst]),
    Route::new(
        "GET",
        "/v1/analytics/products/top-bought-yesterday",
        &[Admin, Analyst],
    ),
    Route::new(
        "GET",
        "/v1/analytics/products/{id}/sales",
        &[Admin, Analyst],
    ),
    Route::new("GET", "/v1/analytics/categories", &[Admin, Analyst]),
    Route::new(
        "GET",
        "/v1/analytics/categories/{category}/revenue",
        &[Admin, Analyst],
    )
    .other_store(200),
    Route::new(
        "GET",
        "/v1/analytics/customers/{customer_id}/lifetime-value",
        &[Admin, Analyst],
    )
    .other_store(200),
    Route::new("GET", "/v1/analytics/sales/hourly", &[Admin, Analyst]),
    Route::new("GET", "/v1/analytics/orders/summary", &[Admin, Analyst]),
    Route::new("GET", "/v1/analytics/status", &[Admin, Analyst]),
    // The event feed: admins; a store-scoped admin reads its store's events. The
    // list looks for its fixture among the few `product.stock_low` events.
    Route::new("GET", "/v1/events", &[Admin]).query("types=product.stock_low"),
    Route::new("GET", "/v1/events/{id}", &[Admin]),
    Route::new("GET", "/v1/events/status", &[Admin]),
    // Webhooks: an unscoped admin's alone.
    Route::new("POST", "/v1/webhooks", &[Admin])
        .unscoped_only()
        .body(new_webhook),
    Route::new("GET", "/v1/webhooks", &[Admin]).unscoped_only(),
    Route::new("GET", "/v1/webhooks/{id}", &[Admin]).unscoped_only(),
    Route::new("PATCH", "/v1/webhooks/{id}", &[Admin])
        .unscoped_only()
        .body(webhook_patch),
    Route::new("DELETE", "/v1/webhooks/{id}", &[Admin])
        .unscoped_only()
        .status(204),
    Route::new("POST", "/v1/webhooks/{id}/rotate-secret", &[Admin])
        .unscoped_only()
        .status(200),
    Route::new("GET", "/v1/webhooks/{id}/deliveries", &[Admin]).unscoped_only(),
    Route::new(
        "POST",
        "/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
        &[Admin],
    )
    .unscoped_only()
    .status(202),
    // Imports: admins; a store-scoped admin imports into its own store. The run
    // is accepted and an order naming another store is rejected inside it (its
    // `errors` say so; import.rs checks nothing reaches that store).
    Route::new("POST", "/v1/imports", &[Admin])
        .ndjson(new_import)
        .status(202)
        .other_store(202),
    Route::new("GET", "/v1/imports/{id}", &[Admin]),
];

/// One row of the table.
#[derive(Clone, Copy)]
pub(crate) struct Route {
    pub method: &'static str,
    /// The template as registered, e.g. `/v1/products/{id}`.
    pub path: &'static str,
    /// The roles that may use it.
    pub allowed: &'static [Role],
    /// Only keys without a store scope may use it (stores and keys management).
    pub unscoped_only: bool,
    /// A valid JSON body for a call acting in a store.
    pub body: Option<fn(&Target) -> Value>,
    /// A valid NDJSON body (`application/x-ndjson`) instead, for imports; the
    /// JSON-body tables of bad_input.rs and body_bounds.rs leave these out.
    pub ndjson: Option<fn(&Target) -> Value>,
    /// The success status when not the usual one (201 for POST, else 200).
    pub success: Option<u16>,
    /// What a `default`-scoped key gets for an `eu` value when not the usual
    /// (404 through a placeholder, 422 for a body naming the store, else success).
    pub other_store: Option<u16>,
    /// Roles not in `allowed` that still pass the route's role check (they may act
    /// on resources of their own): another store's resource is a 404 for them too.
    pub gate: &'static [Role],
    /// Query parameters a list is called with besides `limit=200`.
    pub query: Option<&'static str>,
}

impl Route {
    pub(crate) const fn new(
        method: &'static str,
        path: &'static str,
        allowed: &'static [Role],
    ) -> Route {
        Route {
            method,
            path,
            allowed,
            unscoped_only: false,
            body: None,
            ndjson: None,
            success: None,
            other_store: None,
            gate: &[],
            query: None,
        }
    }

    pub(crate) const fn gate(mut self, roles: &'static [Role]) -> Route {
        self.gate = roles;
        self
    }

    pub(crate) const fn unscoped_only(mut self) -> Route {
        self.unscoped_only = true;
        self
    }

    pub(crate) const fn body(mut self, body: fn(&Target) -> Value) -> Route {
        self.body = Some(body);
        self
    }

    pub(crate) const fn ndjson(mut self, line: fn(&Target) -> Value) -> Route {
        self.ndjson = Some(line);
        self
    }

    pub(crate) const fn status(mut self, success: u16) -> Route {
        self.success = Some(success);
        self
    }

    pub(crate) const fn query(mut self, query: &'static str) -> Route {
        self.query = Some(query);
        self
    }

    pub(crate) const fn other_store(mut self, status: u16) -> Route {
        self.other_store = Some(status);
        self
    }

    pub(crate) fn method(&self) -> Method {
        Method::from_bytes(self.method.as_bytes()).expect("a valid method")
    }

    /// The status of a call that is allowed.
    pub(crate) fn success_status(&self) -> u16 {
        self.success
            .unwrap_or(if self.method == "POST" { 201 } else { 200 })
    }

    /// Whether the path addresses one resource (`{…}`).
    pub(crate) fn has_id(&self) -> bool {
        self.path.contains('{')
    }

    /// A collection's list: `GET /v1/<collection>`.
    fn is_list(&self) -> bool {
        self.method == "GET" && !self.has_id() && self.path.matches('/').count() == 2
    }

    /// The status the contract gives a `role` key in `scope`.
    pub(crate) fn expected(&self, role: Role, scope: Scope) -> u16 {
        if scope == Scope::OtherStore && self.gate.contains(&role) {
            return 404;
        }
        if !self.allowed.contains(&role) || (self.unscoped_only && scope != Scope::Unscoped) {
            return 403;
        }
        match (scope, self.other_store) {
            (Scope::OtherStore, Some(status)) => status,
            (Scope::OtherStore, None) if self.has_id() => 404,
            (Scope::OtherStore, None) if self.body.is_some() && self.method == "POST" => 422,
            _ => self.success_status(),
        }
    }

    /// `METHOD /path` as the table and the OpenAPI document spell it.
    pub(crate) fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// What a request body may depend on.
pub(crate) struct Target<'a> {
    /// The store the call acts in (`default`, or `eu` for another store).
    pub store: &'a str,
    /// A value no other call of the test uses: for ids, SKUs, names.
    pub unique: &'a str,
}

fn new_store(target: &Target) -> Value {
    json!({"id": format!("s-{}", target.unique), "name": "Store", "currency": "EUR", "timezone": "Europe/Warsaw"})
}

fn new_api_key(target: &Target) -> Value {
    json!({"name": format!("key {}", target.unique), "role": "analyst", "store": target.store})
}

fn new_product(target: &Target) -> Value {
    json!({
        "store": target.store, "sku": format!("SKU-{}", target.unique), "name": "Widget",
        "category": "Tools", "price": "4.99", "stock": 3
    })
}

fn product_patch(_: &Target) -> Value {
    json!({"name": "Renamed widget", "stock_delta": 1})
}

fn new_order(target: &Target) -> Value {
    json!({
        "store": target.store, "external_id": format!("ext-{}", target.unique),
        "customer": {"id": "cus_1", "email": "jane@example.com", "name": "Jane Doe"},
        "items": [{"sku": STOCKED_SKU, "quantity": 1}]
    })
}

fn new_import(target: &Target) -> Value {
    json!({
        "store": target.store, "external_id": format!("imp-{}", target.unique),
        "created_at": "2024-05-01T10:00:00Z", "status": "completed",
        "customer": {"id": "cus_1"}, "items": [{"sku": STOCKED_SKU, "quantity": 1}]
    })
}

fn order_note(target: &Target) -> Value {
    json!({"note": format!("called the customer ({})", target.unique), "tags": ["vip"]})
}

fn new_saved_search(target: &Target) -> Value {
    json!({"name": format!("Saved {}", target.unique), "q": "status:pending", "shared": true})
}

fn new_webhook(target: &Target) -> Value {
    json!({"url": format!("https://hooks.example.com/{}", target.unique), "types": ["order.created"],
           "store": target.store})
}

fn webhook_patch(target: &Target) -> Value {
    json!({"description": format!("changed {}", target.unique)})
}

fn saved_search_patch(target: &Target) -> Value {
    json!({"name": format!("Renamed {}", target.unique)})
}

/// Which key acts on which store's resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// An unscoped key, on a resource of `default`.
    Unscoped,
    /// A key scoped to `default`, on a resource of `default`.
    OwnStore,
    /// A key scoped to `default`, on a resource of `eu`.
    OtherStore,
}

impl Scope {
    pub(crate) const ALL: [Scope; 3] = [Scope::Unscoped, Scope::OwnStore, Scope::OtherStore];

    fn key_store(self) -> Option<&'static str> {
        match self {
            Scope::Unscoped => None,
            Scope::OwnStore | Scope::OtherStore => Some("default"),
        }
    }

    fn resource_store(self) -> &'static str {
        match self {
            Scope::OtherStore => OTHER_STORE,
            Scope::Unscoped | Scope::OwnStore => "default",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Scope::Unscoped => "unscoped key on a `default` resource",
            Scope::OwnStore => "key scoped to `default` on a `default` resource",
            Scope::OtherStore => "key scoped to `default` on an `eu` resource",
        }
    }
}

/// The store a `default`-scoped key must never see.
const OTHER_STORE: &str = "eu";

/// A product every store of a prepared app has plenty of, for bodies that order it.
pub(crate) const STOCKED_SKU: &str = "STOCKED";

/// What the table's bodies and fixtures rely on: the store `eu`, and a
/// `STOCKED_SKU` product with plenty of stock in `default` and in `eu`.
pub(crate) async fn prepare(app: &TestApp) {
    app.store(OTHER_STORE, "EUR", "Europe/Warsaw").await;
    for store in ["default", OTHER_STORE] {
        app.product(store, STOCKED_SKU, "5.00", 1_000_000).await;
    }
}

/// A value unique within the test process.
pub(crate) fn unique() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("{:06}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A fresh resource of the kind `path` addresses, belonging to `store`; returns the
/// value for its `{…}` placeholder (and the id its list rows carry).
pub(crate) async fn fixture(app: &TestApp, path: &str, store: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    // The kind is named by the segment before the placeholder; for a list, its own.
    let kind = match segments.iter().position(|s| s.starts_with('{')) {
        Some(at) => segments[at - 1],
        None => segments.last().copied().unwrap_or_default(),
    };
    match kind {
        "stores" => store.to_string(),
        "api-keys" => {
            let created = app
                .post(
                    "/v1/api-keys",
                    &json!({"name": format!("fixture {}", unique()), "role": "support", "store": store}),
                )
                .key(&app.admin)
                .send()
                .await;
            assert_eq!(created.status, 201, "fixture key: {}", created.body);
            created.body["id"].as_str().unwrap().to_string()
        }
        "products" => {
            let product = app
                .product(store, &format!("FIX-{}", unique()), "2.50", 10)
                .await;
            product["id"].as_str().unwrap().to_string()
        }
        "orders" => {
            let body = new_order(&Target {
                store,
                unique: &unique(),
            });
            let created = app.post("/v1/orders", &body).key(&app.admin).send().await;
            assert_eq!(created.status, 201, "fixture order: {}", created.body);
            created.body["id"].as_str().unwrap().to_string()
        }
        "categories" => {
            let category = format!("Cat-{}", unique());
            let created = app
                .post(
                    "/v1/products",
                    &json!({"store": store, "sku": format!("CAT-{}", unique()), "name": "Pan",
                            "category": category, "price": "3.00", "stock": 10}),
                )
                .key(&app.admin)
                .send()
                .await;
            assert_eq!(created.status, 201, "fixture category: {}", created.body);
            category
        }
        "customers" => {
            let customer = format!("cus-{}", unique());
            let mut body = new_order(&Target {
                store,
                unique: &unique(),
            });
            body["customer"]["id"] = json!(customer);
            let created = app.post("/v1/orders", &body).key(&app.admin).send().await;
            assert_eq!(created.status, 201, "fixture customer: {}", created.body);
            customer
        }
        "saved-searches" => {
            let owner = app.key(Support, Some(store)).await;
            let body = new_saved_search(&Target {
                store,
                unique: &unique(),
            });
            let created = app
                .post("/v1/saved-searches", &body)
                .key(&owner)
                .send()
                .await;
            assert_eq!(
                created.status, 201,
                "fixture saved search: {}",
                created.body
            );
            created.body["id"].as_str().unwrap().to_string()
        }
        "events" => stock_low_event(app, store).await,
        "imports" => {
            let body = new_import(&Target {
                store,
                unique: &unique(),
            });
            let path = format!("/v1/imports?store={store}");
            let created = app
                .call(Method::POST, &path)
                .key(&app.admin)
                .raw("application/x-ndjson", format!("{body}\n"))
                .send()
                .await;
            assert_eq!(created.status, 202, "fixture import: {}", created.body);
            created.body["id"].as_str().unwrap().to_string()
        }
        "webhooks" => webhook(app, path, store).await,
        other => panic!("no fixture for `{other}` (in {path}): add one to authz::fixture"),
    }
}

/// A fresh webhook of `store`; for a delivery's path, `<webhook>/<delivery>`
/// with a delivery of the newest event recorded for it (as the dispatcher would).
async fn webhook(app: &TestApp, path: &str, store: &str) -> String {
    let created = app
        .post(
            "/v1/webhooks",
            &json!({"url": format!("https://hooks.example.com/{}", unique()), "types": ["*"], "store": store}),
        )
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(created.status, 201, "fixture webhook: {}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    if !path.contains("{delivery_id}") {
        return id;
    }
    let delivery: i64 = sqlx::query_scalar(
        "insert into webhook_deliveries (webhook_id, event_id, event_type, subject_id, give_up_at)
         select $1::uuid, id, type, subject_id, now() + interval '1 day'
         from events order by id desc limit 1
         returning id",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .expect("a delivery of the newest event");
    format!("{id}/whd_{delivery}")
}

/// A fresh `product.stock_low` event of `store` (an order takes a product from its
/// threshold to below it), once the feed can read it; returns its id.
async fn stock_low_event(app: &TestApp, store: &str) -> String {
    let sku = format!("LOW-{}", unique());
    let product = app.product(store, &sku, "2.50", 5).await;
    let order = json!({"store": store, "customer": {"id": "cus_low"}, "items": [{"sku": sku, "quantity": 1}]});
    let created = app.post("/v1/orders", &order).key(&app.admin).send().await;
    assert_eq!(created.status, 201, "fixture order: {}", created.body);
    let query = format!("/v1/events?types=product.stock_low&store={store}&limit=200");
    eventually("the fixture's stock_low event", || async {
        let listed = app.get(&query).key(&app.admin).send().await;
        rows(&listed.body)
            .iter()
            .find(|event| event["subject_id"] == product["id"])
            .and_then(|event| event["id"].as_str().map(str::to_string))
    })
    .await
}

/// The collection a path belongs to: `/v1/products/{id}` → `/v1/products`.
fn collection(path: &str) -> String {
    path.split('/').take(3).collect::<Vec<_>>().join("/")
}

/// Whether a refused call to `route` can be seen to change nothing: it acts on one
/// resource, or creates one in a collection that lists.
fn observable(route: &Route) -> bool {
    route.has_id() || route.path.matches('/').count() == 2
}

/// What an unscoped admin sees of the resource a call acts on (or of its
/// collection, for a create), to tell whether a refused call changed anything.
async fn snapshot(app: &TestApp, path: &str, id: Option<&str>) -> Value {
    let collection = collection(path);
    let response = match id {
        // Keys have no `GET` by id: their row in the list.
        Some(id) if collection == "/v1/api-keys" => {
            let listed = app
                .get("/v1/api-keys?limit=200")
                .key(&app.admin)
                .send()
                .await;
            return rows(&listed.body)
                .iter()
                .find(|row| row["id"].as_str() == Some(id))
                .cloned()
                .unwrap_or_else(|| panic!("key {id} is not in the first 200 keys"));
        }
        Some(id) => {
            let outer = id.split('/').next().unwrap_or(id);
            app.get(&format!("{collection}/{outer}"))
                .key(&app.admin)
                .send()
                .await
        }
        None => {
            let listed = app
                .get(&format!("{collection}?limit=200"))
                .key(&app.admin)
                .send()
                .await;
            return json!(rows(&listed.body).len());
        }
    };
    assert_eq!(response.status, 200, "{collection}: {}", response.body);
    response.body
}

/// `path` with its `{…}` placeholders replaced by `id`: by its `/`-separated
/// parts in order when it has several (a fixture for a nested resource), each
/// by all of `id` otherwise.
pub(crate) fn fill(path: &str, id: &str) -> String {
    let parts: Vec<&str> = id.split('/').collect();
    let mut filled = String::new();
    let mut rest = path;
    let mut index = 0;
    while let (Some(open), Some(close)) = (rest.find('{'), rest.find('}')) {
        let part = if parts.len() > 1 {
            parts.get(index).copied().unwrap_or(id)
        } else {
            id
        };
        filled.push_str(&rest[..open]);
        filled.push_str(part);
        rest = &rest[close + 1..];
        index += 1;
    }
    filled.push_str(rest);
    filled
}

/// An app with the other store and a key for every role × {unscoped, `default`}.
struct World {
    app: TestApp,
    keys: Vec<(Role, Option<&'static str>, String)>,
}

impl World {
    async fn new() -> World {
        let app = TestApp::spawn().await;
        prepare(&app).await;
        let mut keys = Vec::new();
        for role in ALL_ROLES {
            for store in [None, Some("default")] {
                keys.push((role, store, app.key(role, store).await));
            }
        }
        World { app, keys }
    }

    fn key(&self, role: Role, scope: Scope) -> &str {
        self.keys
            .iter()
            .find(|(r, s, _)| *r == role && *s == scope.key_store())
            .map(|(_, _, key)| key.as_str())
            .expect("a key for every role and scope")
    }
}

/// What one call of the matrix answered.
struct Checked {
    route: Route,
    role: Role,
    scope: Scope,
    expected: u16,
    status: u16,
    /// Every way the answer broke the contract.
    faults: Vec<String>,
}

/// Whether `response` is an RFC 9457 problem for its own status; the fault if not.
pub(crate) fn problem_fault(response: &TestResponse) -> Option<String> {
    let status = response.status.as_u16();
    if response.header("content-type") != Some("application/problem+json") {
        return Some(format!(
            "a {status} with content-type {:?}, not application/problem+json",
            response.header("content-type")
        ));
    }
    if response.body["status"] != status {
        return Some(format!(
            "problem `status` is {}, the response {status}",
            response.body["status"]
        ));
    }
    let typed = response.body["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("urn:ordersearch:problem:"));
    if !typed {
        return Some(format!("problem without a `type`: {}", response.body));
    }
    None
}

/// The rows of a list answer.
fn rows(body: &Value) -> &[Value] {
    body["data"]
        .as_array()
        .or_else(|| body["hits"].as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// One route, as one role, in one scope, on a fresh resource.
async fn check(world: &World, route: Route, role: Role, scope: Scope) -> Checked {
    let app = &world.app;
    let store = scope.resource_store();
    let expected = route.expected(role, scope);
    // By-id routes act on a fresh resource; lists look for a fresh one among their rows.
    let resource = if route.has_id() || route.is_list() {
        Some(fixture(app, route.path, store).await)
    } else {
        None
    };
    let path = fill(route.path, resource.as_deref().unwrap_or_default());
    let path = match (route.is_list(), route.query) {
        (true, Some(query)) => format!("{path}?limit=200&{query}"),
        (true, None) => format!("{path}?limit=200"),
        (false, _) => path,
    };
    // A call that must be refused must also change nothing.
    let refused_write = route.method != "GET" && expected >= 400 && observable(&route);
    let before = if refused_write {
        Some(
            snapshot(
                app,
                route.path,
                route
                    .has_id()
                    .then_some(resource.as_deref().unwrap_or_default()),
            )
            .await,
        )
    } else {
        None
    };
    let mut call = app.call(route.method(), &path).key(world.key(role, scope));
    if let Some(body) = route.body {
        let unique = unique();
        call = call.json(&body(&Target {
            store,
            unique: &unique,
        }));
    }
    if let Some(line) = route.ndjson {
        let unique = unique();
        let line = line(&Target {
            store,
            unique: &unique,
        });
        call = call.raw("application/x-ndjson", format!("{line}\n"));
    }
    let response = call.send().await;
    let status = response.status.as_u16();
    let mut faults = Vec::new();
    if status != expected {
        faults.push(format!(
            "answered {status}, the contract says {expected}: {}",
            String::from_utf8_lossy(&response.bytes)
        ));
    }
    if (400..500).contains(&status)
        && let Some(fault) = problem_fault(&response)
    {
        faults.push(fault);
    }
    if status == 422 && expected == 422 && !response.error_fields().iter().any(|f| f == "store") {
        faults.push(format!(
            "a 422 for another store's `store` that does not name `store`: {}",
            response.body
        ));
    }
    if let Some(before) = before {
        let after = snapshot(
            app,
            route.path,
            route
                .has_id()
                .then_some(resource.as_deref().unwrap_or_default()),
        )
        .await;
        if after != before {
            faults.push(format!(
                "a refused call changed what it acted on: {before} → {after}"
            ));
        }
    }
    if route.is_list() && response.status.is_success() {
        let resource = resource.as_deref().unwrap_or_default();
        let listed = rows(&response.body)
            .iter()
            .any(|row| row["id"].as_str() == Some(resource));
        let foreign: Vec<&Value> = rows(&response.body)
            .iter()
            .filter(|row| {
                row["store"].as_str() == Some(OTHER_STORE)
                    || row["id"].as_str() == Some(OTHER_STORE)
            })
            .collect();
        match scope {
            Scope::OtherStore if listed || !foreign.is_empty() => faults.push(format!(
                "a list for a `default` key shows rows of `{OTHER_STORE}`: {foreign:?}"
            )),
            Scope::Unscoped | Scope::OwnStore if !listed => faults.push(format!(
                "the list misses `{resource}`, a resource the key can see"
            )),
            _ => {}
        }
    }
    Checked {
        route,
        role,
        scope,
        expected,
        status,
        faults,
    }
}

/// Every route × every role in each of `scopes`.
async fn run_matrix(world: &World, scopes: &[Scope]) -> Vec<Checked> {
    let mut checked = Vec::new();
    for &scope in scopes {
        for route in ROUTES {
            for role in ALL_ROLES {
                checked.push(check(world, *route, role, scope).await);
            }
        }
    }
    checked
}

fn describe(checked: &Checked) -> String {
    format!(
        "{:<28} as {:<8} ({})",
        checked.route.label(),
        checked.role.as_str(),
        checked.scope.describe()
    )
}

#[track_caller]
fn assert_no_faults(checked: &[Checked]) {
    let faults: Vec<String> = checked
        .iter()
        .flat_map(|c| {
            c.faults
                .iter()
                .map(move |f| format!("{}: {f}", describe(c)))
        })
        .collect();
    assert!(
        faults.is_empty(),
        "{} of {} calls broke the contract:\n{}",
        faults.len(),
        checked.len(),
        faults.join("\n")
    );
}

#[tokio::test]
async fn unscoped_keys_reach_exactly_the_routes_their_role_allows() {
    let world = World::new().await;
    let checked = run_matrix(&world, &[Scope::Unscoped]).await;
    assert_eq!(checked.len(), ROUTES.len() * ALL_ROLES.len());
    assert_no_faults(&checked);
}

#[tokio::test]
async fn store_scoped_keys_reach_their_roles_routes_in_their_store_but_never_manage_stores_or_keys()
{
    let world = World::new().await;
    let checked = run_matrix(&world, &[Scope::OwnStore]).await;
    assert!(
        checked
            .iter()
            .any(|c| c.role == Admin && c.route.unscoped_only && c.expected == 403),
        "the table has unscoped-only routes a scoped admin is refused"
    );
    assert_no_faults(&checked);
}

#[tokio::test]
async fn a_store_scoped_key_gets_404_for_another_stores_resources_and_never_lists_them() {
    let world = World::new().await;
    let checked = run_matrix(&world, &[Scope::OtherStore]).await;
    assert!(checked.iter().any(|c| c.expected == 404));
    assert_no_faults(&checked);
}

#[tokio::test]
async fn no_route_is_reachable_without_the_right_role() {
    let world = World::new().await;
    let checked = run_matrix(&world, &Scope::ALL).await;
    let forbidden: Vec<&Checked> = checked
        .iter()
        .filter(|c| !c.route.allowed.contains(&c.role))
        .collect();
    assert!(
        forbidden.len() >= ROUTES.len(),
        "the table must refuse some role on most routes; only {} combinations are forbidden",
        forbidden.len()
    );
    let reachable: Vec<String> = forbidden
        .iter()
        .filter(|c| (200..300).contains(&c.status))
        .map(|c| format!("{} answered {}", describe(c), c.status))
        .collect();
    assert_eq!(
        reachable.len(),
        0,
        "{} routes reachable without the right role:\n{}",
        reachable.len(),
        reachable.join("\n")
    );
    let not_403: Vec<String> = forbidden
        .iter()
        // 403, or another store's 404 for a role the route's gate lets through.
        .filter(|c| c.status != c.expected)
        .map(|c| format!("{} answered {}", describe(c), c.status))
        .collect();
    assert!(
        not_403.is_empty(),
        "a role that may not use a route gets 403:\n{}",
        not_403.join("\n")
    );
}

/// Credentials that identify no active key.
const NO_KEY: &str = "no Authorization header";
const UNKNOWN: &str = "an unknown key";
const REVOKED: &str = "a revoked key";
const WRONG_SCHEME: &str = "a Basic credential";
const EMPTY_BEARER: &str = "an empty Bearer token";

#[tokio::test]
async fn every_route_answers_401_to_a_missing_unknown_or_revoked_key_and_does_nothing() {
    let app = TestApp::spawn().await;
    prepare(&app).await;
    let (revoked_secret, revoked_id) = app
        .create_api_key(&json!({"name": "soon revoked", "role": "admin"}))
        .await;
    app.revoke_api_key(&revoked_id).await;

    let mut faults = Vec::new();
    let mut calls = 0;
    for route in ROUTES {
        let resource = if route.has_id() {
            fixture(&app, route.path, "default").await
        } else {
            String::new()
        };
        let path = fill(route.path, &resource);
        let body = route.body.map(|body| {
            body(&Target {
                store: "default",
                unique: &unique(),
            })
        });
        let ndjson = route.ndjson.map(|line| {
            let line = line(&Target {
                store: "default",
                unique: &unique(),
            });
            format!("{line}\n")
        });
        for credential in [NO_KEY, UNKNOWN, REVOKED, WRONG_SCHEME, EMPTY_BEARER] {
            let mut call = app.call(route.method(), &path);
            call = match credential {
                NO_KEY => call,
                UNKNOWN => call.key("os_this-key-was-never-issued"),
                REVOKED => call.key(&revoked_secret),
                WRONG_SCHEME => call.header("authorization", "Basic YWRtaW46YWRtaW4="),
                _ => call.header("authorization", "Bearer "),
            };
            if let Some(body) = &body {
                call = call.json(body);
            }
            if let Some(lines) = &ndjson {
                call = call.raw("application/x-ndjson", lines.clone());
            }
            let response = call.send().await;
            calls += 1;
            let label = format!("{} with {credential}", route.label());
            if response.status != 401 {
                faults.push(format!(
                    "{label}: answered {}, expected 401: {}",
                    response.status, response.body
                ));
                continue;
            }
            if let Some(fault) = problem_fault(&response) {
                faults.push(format!("{label}: {fault}"));
            }
            if response.header("www-authenticate") != Some("Bearer") {
                faults.push(format!("{label}: a 401 without `WWW-Authenticate: Bearer`"));
            }
        }
        // None of those calls did anything: the real key still gets the first effect.
        let mut call = app.call(route.method(), &path).key(&app.admin);
        if let Some(body) = &body {
            call = call.json(body);
        }
        if let Some(lines) = &ndjson {
            call = call.raw("application/x-ndjson", lines.clone());
        }
        let response = call.send().await;
        if response.status.as_u16() != route.success_status() {
            faults.push(format!(
                "{}: after the refused calls, the admin got {} (expected {}): {}",
                route.label(),
                response.status,
                route.success_status(),
                response.body
            ));
        }
    }
    assert_eq!(calls, ROUTES.len() * 5);
    assert!(
        faults.is_empty(),
        "{} faults:\n{}",
        faults.len(),
        faults.join("\n")
    );
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once_on_every_route_it_could_use() {
    let app = TestApp::spawn().await;
    prepare(&app).await;
    let (secret, id) = app
        .create_api_key(&json!({"name": "reader", "role": "analyst"}))
        .await;
    let readable: Vec<&Route> = ROUTES
        .iter()
        .filter(|r| r.method == "GET" && r.allowed.contains(&Analyst))
        .collect();
    assert!(!readable.is_empty());
    let mut paths = Vec::new();
    for route in &readable {
        let resource = if route.has_id() {
            fixture(&app, route.path, "default").await
        } else {
            String::new()
        };
        let path = fill(route.path, &resource);
        let before = app.get(&path).key(&secret).send().await;
        assert_eq!(before.status, 200, "{path}: {}", before.body);
        paths.push(path);
    }
    app.revoke_api_key(&id).await;
    for path in &paths {
        app.assert_get_problem(&secret, path, 401).await;
    }
}

#[tokio::test]
async fn support_may_cancel_and_edit_notes_and_tags_of_an_order_but_nothing_else() {
    let app = TestApp::spawn().await;
    prepare(&app).await;
    let support = app.key(Support, None).await;
    let writer = app.key(Writer, None).await;
    let address = json!({"name": "Jane Doe", "line1": "1 Main St", "city": "Kraków", "postal_code": "30-001", "country": "PL"});
    let patches = [
        (json!({"note": "called her"}), 200, 200),
        (json!({"tags": ["vip"]}), 200, 200),
        (json!({"status": "cancelled"}), 200, 200),
        (json!({"status": "processing"}), 403, 200),
        (
            json!({"tracking": {"carrier": "DHL", "number": "123"}}),
            403,
            200,
        ),
        (json!({"shipping_address": address}), 403, 200),
        (
            json!({"note": "and ship it", "status": "processing"}),
            403,
            200,
        ),
    ];
    let mut faults = Vec::new();
    for (patch, as_support, as_writer) in patches {
        for (role, key, expected) in [
            ("support", &support, as_support),
            ("writer", &writer, as_writer),
        ] {
            let id = fixture(&app, "/v1/orders/{id}", "default").await;
            let path = format!("/v1/orders/{id}");
            let response = app.patch(&path, &patch).key(key).send().await;
            if response.status != expected {
                faults.push(format!(
                    "{role} {patch}: answered {}, expected {expected}: {}",
                    response.status, response.body
                ));
            } else if expected == 403 {
                if let Some(fault) = problem_fault(&response) {
                    faults.push(format!("{role} {patch}: {fault}"));
                }
                let after = app.get(&path).key(&app.admin).send().await;
                if after.body["version"] != 1 {
                    faults.push(format!(
                        "{role} {patch}: refused, yet changed: {}",
                        after.body
                    ));
                }
            }
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}
