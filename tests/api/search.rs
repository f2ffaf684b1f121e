//! The search relevance suite: a fixed fixture of orders, indexed for real, and
//! query → expected hits cases over it, on the embedded engine (and on
//! Meilisearch when `MEILI_URL` is set).

use std::collections::BTreeSet;

use axum::http::StatusCode;
use ordersearch::http::auth::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// The fixture: orders by label, each with its customer, items and place.
pub struct Fixture {
    app: TestApp,
    labels: Vec<(String, String)>,
}

impl Fixture {
    fn label_of(&self, id: &str) -> String {
        self.labels
            .iter()
            .find(|(_, order_id)| order_id == id)
            .map(|(label, _)| label.clone())
            .unwrap_or_else(|| format!("unknown:{id}"))
    }

    fn id_of(&self, label: &str) -> String {
        self.labels
            .iter()
            .find(|(name, _)| name == label)
            .map(|(_, id)| id.clone())
            .unwrap()
    }

    async fn search(&self, key: &str, query: &str) -> Value {
        let path = format!("/v1/orders/search?{query}");
        let response = self.app.get(&path).key(key).send().await;
        assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
        response.body
    }

    async fn hits(&self, query: &str) -> BTreeSet<String> {
        let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let body = self
            .search(&self.app.admin, &format!("limit=100&q={encoded}"))
            .await;
        self.labels_hit(&body)
    }

    /// The labels of the orders a search answer hit.
    fn labels_hit(&self, body: &Value) -> BTreeSet<String> {
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| self.label_of(hit["id"].as_str().unwrap()))
            .collect()
    }
}

fn set(labels: &[&str]) -> BTreeSet<String> {
    labels.iter().map(|label| label.to_string()).collect()
}

/// One order of the fixture, placed through the API.
struct FixtureOrder {
    label: &'static str,
    /// The order number it is given; `None` takes the next one.
    number: Option<i64>,
    store: &'static str,
    /// Id, email, name (also the name it ships to) and phone.
    customer: [&'static str; 4],
    /// City, postal code and country it ships to.
    ships_to: [&'static str; 3],
    /// SKU and quantity of each line.
    items: &'static [(&'static str, i64)],
    tags: &'static [&'static str],
    note: &'static str,
}

/// The fixture's orders, placed in this order.
const ORDERS: [FixtureOrder; 8] = [
    FixtureOrder {
        label: "jane",
        number: Some(1042),
        store: "default",
        customer: [
            "cus_jane",
            "jane@example.com",
            "Jane Doe",
            "+48 600 100 200",
        ],
        ships_to: ["Kraków", "30-001", "PL"],
        items: &[("KETTLE-STEEL", 1), ("MUG-BLUE", 2)],
        tags: &["vip"],
        note: "leave at the door",
    },
    FixtureOrder {
        label: "john",
        number: Some(10421),
        store: "default",
        customer: [
            "cus_john",
            "john.smith@shop.co.uk",
            "John Smith",
            "(555) 010-0200",
        ],
        ships_to: ["London", "SW1A 1AA", "GB"],
        items: &[("LAMP-DESK", 1)],
        tags: &[],
        note: "asked about a blue mug",
    },
    FixtureOrder {
        label: "zoe",
        number: Some(20001),
        store: "default",
        customer: [
            "cus_zoe",
            "zoe@example.org",
            "Zoë Łukasiewicz",
            "600.555.777",
        ],
        ships_to: ["Łódź", "90-001", "PL"],
        items: &[("TSHIRT-RED-M", 3)],
        tags: &[],
        note: "",
    },
    FixtureOrder {
        label: "mary",
        number: None,
        store: "default",
        customer: ["cus_mary", "mary@corp.com", "Mary Major", "+1-555-010-0999"],
        ships_to: ["New York", "10001", "US"],
        items: &[("BOOK-RUST", 2), ("PLANT-FICUS", 1)],
        tags: &["gift"],
        note: "birthday present",
    },
    FixtureOrder {
        label: "roe",
        number: None,
        store: "default",
        customer: [
            "cus_roe",
            "jane.roe@example.com",
            "Jane Roe",
            "030 1234 5678",
        ],
        ships_to: ["Berlin", "10115", "DE"],
        items: &[("MUG-BLUE", 1)],
        tags: &["wholesale"],
        note: "",
    },
    FixtureOrder {
        label: "bob",
        number: None,
        store: "default",
        customer: ["cus_bob", "bob@example.com", "Bob Gone", "+44 20 7946 0000"],
        ships_to: ["Leeds", "LS1 1AA", "GB"],
        items: &[("PLANT-FICUS", 1)],
        tags: &[],
        note: "",
    },
    FixtureOrder {
        label: "anna",
        number: None,
        store: "eu",
        customer: [
            "cus_anna",
            "anna@example.pl",
            "Anna Nowak",
            "+48 501 222 333",
        ],
        ships_to: ["Warszawa", "00-001", "PL"],
        items: &[("MUG-BLUE", 1)],
        tags: &[],
        note: "",
    },
    FixtureOrder {
        label: "old",
        number: None,
        store: "default",
        customer: [
            "cus_old",
            "old@example.com",
            "Olga Timer",
            "+48 700 800 900",
        ],
        ships_to: ["Gdańsk", "80-001", "PL"],
        items: &[("LAMP-DESK", 2)],
        tags: &[],
        note: "",
    },
];

/// Places `spec` as the admin; returns the created order.
async fn place_spec(app: &TestApp, spec: &FixtureOrder) -> Value {
    let [id, email, name, phone] = spec.customer;
    let [city, postal_code, country] = spec.ships_to;
    let items: Vec<Value> = spec
        .items
        .iter()
        .map(|(sku, quantity)| json!({"sku": sku, "quantity": quantity}))
        .collect();
    order(
        app,
        spec.store,
        json!({"id": id, "email": email, "name": name, "phone": phone}),
        address(name, city, postal_code, country),
        json!(items),
        json!(spec.tags),
        spec.note,
    )
    .await
}

/// Places an order as the admin; returns it.
async fn order(
    app: &TestApp,
    store: &str,
    customer: Value,
    address: Value,
    items: Value,
    tags: Value,
    note: &str,
) -> Value {
    let body = json!({
        "store": store, "customer": customer, "items": items,
        "shipping_address": address, "tags": tags, "note": note
    });
    let response = app.post("/v1/orders", &body).key(&app.admin).send().await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.body
}

async fn set_next_number(app: &TestApp, next: i64) {
    sqlx::query("select setval('order_number_seq', $1)")
        .bind(next - 1)
        .execute(&app.pool)
        .await
        .unwrap();
}

async fn move_to(app: &TestApp, id: &str, statuses: &[&str]) {
    for status in statuses {
        let response = app
            .patch(&format!("/v1/orders/{id}"), &json!({"status": status}))
            .key(&app.admin)
            .send()
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }
}

fn address(name: &str, city: &str, postal_code: &str, country: &str) -> Value {
    json!({"name": name, "line1": "Main Street 1", "city": city, "postal_code": postal_code, "country": country})
}

/// Builds the fixture through the API on the embedded engine and indexes it.
async fn fixture() -> Fixture {
    fixture_on(TestApp::spawn().await).await
}

/// Builds the fixture through the API on `app`'s engine and indexes it.
pub async fn fixture_on(app: TestApp) -> Fixture {
    app.store("eu", "EUR", "Europe/Warsaw").await;
    for (sku, name, category, price) in [
        ("KETTLE-STEEL", "Stainless Kettle 1.7L", "Kitchen", "40.99"),
        ("MUG-BLUE", "Blue Ceramic Mug", "Kitchen", "12.50"),
        ("LAMP-DESK", "Desk Lamp LED", "Lighting", "35.00"),
        ("TSHIRT-RED-M", "Red T-Shirt M", "Apparel", "19.99"),
        ("BOOK-RUST", "Rust Programming Book", "Books", "59.00"),
        ("PLANT-FICUS", "Ficus Plant", "Garden", "25.00"),
    ] {
        let body =
            json!({"sku": sku, "name": name, "category": category, "price": price, "stock": 1000});
        assert_eq!(
            app.post("/v1/products", &body)
                .key(&app.admin)
                .send()
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let eu_mug = json!({"store": "eu", "sku": "MUG-BLUE", "name": "Kubek Niebieski", "category": "Kitchen", "price": "10.00", "stock": 100});
    assert_eq!(
        app.post("/v1/products", &eu_mug)
            .key(&app.admin)
            .send()
            .await
            .status,
        StatusCode::CREATED
    );

    let mut labels = Vec::new();
    for spec in &ORDERS {
        if let Some(number) = spec.number {
            set_next_number(&app, number).await;
        }
        let created = place_spec(&app, spec).await;
        labels.push((
            spec.label.to_string(),
            created["id"].as_str().unwrap().to_string(),
        ));
    }
    let fixture = Fixture { app, labels };
    let app = &fixture.app;
    move_to(app, &fixture.id_of("jane"), &["processing", "shipped"]).await;
    move_to(
        app,
        &fixture.id_of("zoe"),
        &["processing", "shipped", "completed"],
    )
    .await;
    move_to(app, &fixture.id_of("mary"), &["cancelled"]).await;
    move_to(app, &fixture.id_of("roe"), &["processing"]).await;
    let deleted = app
        .delete(&format!("/v1/orders/{}", fixture.id_of("bob")))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    // Backdate one order by 400 days (and stamp it so the change is indexed).
    sqlx::query(
        "update orders set created_at = now() - interval '400 days', change_stamp = nextval('order_change_seq')
         where id = $1::uuid",
    )
    .bind(fixture.id_of("old"))
    .execute(&app.pool)
    .await
    .unwrap();
    app.index_all().await;
    fixture
}

#[tokio::test]
async fn the_relevance_suite_finds_what_staff_look_for() {
    assert_relevance(&fixture().await).await;
}

/// Runs every relevance case against a fixture; fails listing each miss.
pub async fn assert_relevance(fixture: &Fixture) {
    let everyone_live = ["jane", "john", "zoe", "mary", "roe", "anna", "old"];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // Free text, typos and prefixes.
        ("jane", vec!["jane", "roe"]),
        ("jnae", vec!["jane", "roe"]),
        ("doe", vec!["jane"]),
        ("kettle", vec!["jane"]),
        ("ketle", vec!["jane"]),
        ("kett", vec!["jane"]),
        ("jane kettle", vec!["jane"]),
        ("smith london", vec!["john"]),
        ("rust book", vec!["mary"]),
        ("Łukasiewicz", vec!["zoe"]),
        ("lukasiewicz", vec!["zoe"]),
        ("zoe", vec!["zoe"]),
        ("krakow", vec!["jane"]),
        ("lodz", vec!["zoe"]),
        ("\"leave at the door\"", vec!["jane"]),
        ("birthday", vec!["mary"]),
        // Identifiers as staff type them.
        ("1042", vec!["jane", "john"]),
        ("10421", vec!["john"]),
        ("number:1042", vec!["jane"]),
        ("jane@example.com", vec!["jane"]),
        ("48600100200", vec!["jane"]),
        ("600100200", vec!["jane"]),
        ("555.010.0200", vec!["john"]),
        ("0999", vec!["mary"]),
        ("\"+48 600 100 200\"", vec!["jane"]),
        // A SKU typed with its separators means that SKU, not every order
        // whose text has its words (John's note mentions a blue mug).
        ("MUG-BLUE", vec!["jane", "roe", "anna"]),
        ("mugblue", vec!["jane", "roe", "anna"]),
        ("mugbl", vec!["jane", "roe", "anna"]),
        ("mug blue", vec!["jane", "john", "roe", "anna"]),
        // Qualifiers.
        ("email:jane@example.com", vec!["jane"]),
        ("email:example.com", vec!["jane", "roe", "old"]),
        ("email:jane.roe", vec!["roe"]),
        ("sku:MUG-BLUE", vec!["jane", "roe", "anna"]),
        ("sku:mug_blue store:default", vec!["jane", "roe"]),
        ("status:shipped", vec!["jane"]),
        (
            "status:shipped,pending",
            vec!["jane", "john", "anna", "old"],
        ),
        (
            "-status:cancelled -status:pending",
            vec!["jane", "zoe", "roe"],
        ),
        ("category:kitchen", vec!["jane", "roe", "anna"]),
        ("category:Garden", vec!["mary"]),
        ("country:pl", vec!["jane", "zoe", "anna", "old"]),
        ("city:\"New York\"", vec!["mary"]),
        ("city:krakow", vec!["jane"]),
        ("tag:vip", vec!["jane"]),
        ("tag:gift", vec!["mary"]),
        ("store:eu", vec!["anna"]),
        ("customer:cus_zoe", vec!["zoe"]),
        ("total:>100", vec!["mary"]),
        ("total:50..100", vec!["jane", "zoe", "old"]),
        ("total:<20", vec!["roe", "anna"]),
        ("total:12.50", vec!["roe"]),
        (
            "created:-7d",
            vec!["jane", "john", "zoe", "mary", "roe", "anna"],
        ),
        ("created:<-30d", vec!["old"]),
        ("created:>=2000-01-01", everyone_live.to_vec()),
        // Negation and combinations.
        ("jane -kettle", vec!["roe"]),
        ("mug -\"blue ceramic mug\"", vec!["john", "anna"]),
        ("mug -country:PL", vec!["john", "roe"]),
        ("lamp status:pending created:-7d", vec!["john"]),
        // Deleted orders are hidden.
        ("bob", vec![]),
        ("", everyone_live.to_vec()),
    ];
    let mut failures = Vec::new();
    for (query, expected) in &cases {
        let found = fixture.hits(query).await;
        if found != set(expected) {
            failures.push(format!("{query:?}: expected {expected:?}, found {found:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() >= 40);
}

#[tokio::test]
async fn deleted_orders_appear_only_when_asked_and_other_stores_never() {
    let fixture = fixture().await;
    let body = fixture
        .search(&fixture.app.admin, "q=bob&include_deleted=true")
        .await;
    assert_eq!(
        body["hits"][0]["id"].as_str().unwrap(),
        fixture.id_of("bob")
    );
    assert_eq!(body["hits"][0]["deleted"], true);
    let scoped = fixture.app.key(Role::Support, Some("default")).await;
    let body = fixture.search(&scoped, "q=mugblue").await;
    assert_eq!(fixture.labels_hit(&body), set(&["jane", "roe"]));
    let body = fixture.search(&scoped, "q=store:eu").await;
    assert_eq!(body["total"], 0);
    let writer = fixture.app.key(Role::Writer, None).await;
    fixture
        .app
        .get("/v1/orders/search?q=jane")
        .key(&writer)
        .send()
        .await
        .assert_problem(403);
}

#[tokio::test]
async fn facets_sorts_highlights_and_paging_work() {
    let fixture = fixture().await;
    let body = fixture
        .search(&fixture.app.admin, "q=&facets=status,category,country")
        .await;
    assert_eq!(
        body["facets"]["status"],
        json!({"pending": 3, "shipped": 1, "completed": 1, "cancelled": 1, "processing": 1})
    );
    assert_eq!(body["facets"]["category"]["Kitchen"], 3);
    assert_eq!(body["facets"]["country"]["PL"], 4);
    assert_eq!(body["index"]["backend"], "embedded");
    assert_eq!(body["index"]["pending_changes"], 0);

    let by_total = fixture
        .search(&fixture.app.admin, "q=&sort=total:asc")
        .await;
    let totals: Vec<&str> = by_total["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["total"].as_str().unwrap())
        .collect();
    assert_eq!(
        totals,
        [
            "10.00", "12.50", "35.00", "59.97", "65.99", "70.00", "143.00"
        ]
    );
    let by_number = fixture
        .search(&fixture.app.admin, "q=&sort=number:desc&limit=2&offset=1")
        .await;
    assert_eq!(by_number["hits"].as_array().unwrap().len(), 2);
    assert_eq!(by_number["total"], 7);
    assert_eq!(by_number["offset"], 1);

    let body = fixture.search(&fixture.app.admin, "q=jnae%20kettle").await;
    let hit = &body["hits"][0];
    assert_eq!(hit["highlights"]["customer.name"], "<em>Jane</em> Doe");
    assert_eq!(
        hit["highlights"]["items.name"],
        "Stainless <em>Kettle</em> 1.7L"
    );
    assert_eq!(hit["stale"], false);
    assert!(hit["version"].as_i64().unwrap() >= 1);
}

#[tokio::test]
async fn bad_queries_are_400s_naming_the_qualifier_and_position() {
    let fixture = fixture().await;
    for (query, position) in [
        ("status:lost", 7),
        ("jane foo:bar", 5),
        ("total:abc", 6),
        ("created:2026-02-30", 8),
    ] {
        let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let response = fixture
            .app
            .get(&format!("/v1/orders/search?q={encoded}"))
            .key(&fixture.app.admin)
            .send()
            .await;
        let problem = response.assert_problem(400);
        assert_eq!(problem["position"], position, "{query}: {problem}");
        assert_eq!(response.error_fields(), ["q"]);
    }
    for params in [
        "sort=color",
        "facets=size",
        "limit=101",
        "offset=9950&limit=100",
        "fresh=maybe",
    ] {
        let response = fixture
            .app
            .get(&format!("/v1/orders/search?q=x&{params}"))
            .key(&fixture.app.admin)
            .send()
            .await;
        response.assert_problem(400);
    }
}

#[tokio::test]
async fn changes_not_yet_indexed_are_flagged_stale_or_found_by_identifier() {
    let fixture = fixture().await;
    let app = &fixture.app;
    let jane = fixture.id_of("jane");
    let note = app
        .patch(
            &format!("/v1/orders/{jane}"),
            &json!({"note": "ring twice"}),
        )
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(note.status, StatusCode::OK);
    let body = fixture.search(&app.admin, "q=doe").await;
    assert_eq!(body["hits"][0]["stale"], true);
    assert_eq!(body["index"]["pending_changes"], 1);

    let fresh = order(
        app,
        "default",
        json!({"email": "new.customer@example.net"}),
        address("N", "Poznań", "60-001", "PL"),
        json!([{"sku": "LAMP-DESK", "quantity": 1}]),
        json!([]),
        "",
    )
    .await;
    for query in [
        fresh["number"].to_string(),
        fresh["id"].as_str().unwrap().to_string(),
        "new.customer@example.net".to_string(),
    ] {
        let body = fixture.search(&app.admin, &format!("q={query}")).await;
        let ids: Vec<&str> = body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&fresh["id"].as_str().unwrap()),
            "{query} finds the unindexed order: {body}"
        );
    }
    app.index_all().await;
    let body = fixture.search(&app.admin, "q=doe").await;
    assert_eq!(body["hits"][0]["stale"], false);
    assert_eq!(body["index"]["pending_changes"], 0);
}

#[tokio::test]
async fn the_backlog_lists_flagged_versions_only_when_it_is_short_enough() {
    let fixture = fixture().await;
    let app = &fixture.app;
    let jane = fixture.id_of("jane");
    let edited = app
        .patch(&format!("/v1/orders/{jane}"), &json!({"tags": ["vip"]}))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    let version = edited.body["version"].as_i64().unwrap() as i32;
    let jane: uuid::Uuid = jane.parse().unwrap();

    let (backlog, listed) = ordersearch::search::status::backlog_with_versions(&app.pool, 5)
        .await
        .unwrap();
    assert_eq!(backlog.pending_changes, 1);
    assert_eq!(listed, Some([(jane, version)].into_iter().collect()));
    // Longer than the list may be: nothing listed, so the hits are looked up.
    let (backlog, listed) = ordersearch::search::status::backlog_with_versions(&app.pool, 0)
        .await
        .unwrap();
    assert_eq!(backlog.pending_changes, 1);
    assert_eq!(listed, None);
}
