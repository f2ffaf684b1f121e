//! Saved searches and `GET /v1/api-keys/me`: what the console builds its tabs
//! and its role-aware page from.

use axum::http::StatusCode;
use ordersearch::http::auth::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn save(app: &TestApp, key: &str, body: Value) -> Value {
    let response = app.post("/v1/saved-searches", &body).key(key).send().await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let location = response.header("location").expect("a Location header");
    assert_eq!(
        location,
        format!(
            "/v1/saved-searches/{}",
            response.body["id"].as_str().unwrap()
        )
    );
    response.body
}

async fn names_seen_by(app: &TestApp, key: &str) -> Vec<String> {
    let response = app.get("/v1/saved-searches").key(key).send().await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|saved| saved["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_key_reads_its_own_role_and_store() {
    let app = TestApp::spawn().await;
    app.store("eu", "EUR", "Europe/Warsaw").await;
    for (role, store) in [
        (Role::Support, Some("eu")),
        (Role::Analyst, None),
        (Role::Writer, None),
    ] {
        let key = app.key(role, store).await;
        let me = app.get("/v1/api-keys/me").key(&key).send().await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        assert_eq!(me.body["role"], role.as_str());
        assert_eq!(me.body["store"], json!(store));
        assert_eq!(me.body["name"], "test key");
        assert!(me.body.get("key").is_none(), "never the secret");
    }
    app.assert_get_problem("os_not-a-key", "/v1/api-keys/me", 401)
        .await;
}

#[tokio::test]
async fn private_searches_stay_with_their_owner_and_shared_ones_reach_their_store() {
    let app = TestApp::spawn().await;
    app.store("eu", "EUR", "Europe/Warsaw").await;
    let alice = app.key(Role::Support, Some("eu")).await;
    let bob = app.key(Role::Support, Some("eu")).await;
    let global = app.key(Role::Support, None).await;
    let private = save(&app, &alice, json!({"name": "Mine", "q": "status:pending"})).await;
    assert_eq!(private["shared"], false);
    assert_eq!(private["store"], "eu");
    save(&app, &alice, json!({"name": "To ship", "q": "status:processing", "sort": "created_at:asc", "shared": true})).await;
    save(
        &app,
        &global,
        json!({"name": "Everyone's", "q": "tag:vip", "shared": true}),
    )
    .await;

    assert_eq!(names_seen_by(&app, &alice).await, ["Mine", "To ship"]);
    assert_eq!(names_seen_by(&app, &bob).await, ["To ship"]);
    assert_eq!(
        names_seen_by(&app, &global).await,
        ["To ship", "Everyone's"],
        "an unscoped key sees every store"
    );
    let path = format!("/v1/saved-searches/{}", private["id"].as_str().unwrap());
    app.assert_get_problem(&bob, &path, 404).await;
    app.assert_get_problem(&global, &path, 404).await;
    let run = format!(
        "/v1/orders/search?saved={}",
        private["id"].as_str().unwrap()
    );
    app.assert_get_problem(&bob, &run, 404).await;
}

#[tokio::test]
async fn a_stale_if_match_or_a_taken_name_changes_nothing() {
    let app = TestApp::spawn().await;
    let first = save(&app, &app.admin, json!({"name": "First", "q": "jane"})).await;
    save(&app, &app.admin, json!({"name": "Second", "q": "john"})).await;
    let path = format!("/v1/saved-searches/{}", first["id"].as_str().unwrap());
    let fetched = app.get(&path).key(&app.admin).send().await;
    assert_eq!(fetched.header("etag"), Some("\"1\""));

    let taken = app
        .patch(&path, &json!({"name": "Second"}))
        .key(&app.admin)
        .send()
        .await;
    taken.assert_problem(409);
    let renamed = app
        .patch(&path, &json!({"name": "Renamed"}))
        .key(&app.admin)
        .header("if-match", "\"1\"")
        .send()
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.header("etag"), Some("\"2\""));
    let stale = app
        .patch(&path, &json!({"name": "Lost"}))
        .key(&app.admin)
        .header("if-match", "\"1\"")
        .send()
        .await;
    stale.assert_problem(412);
    let stale_delete = app
        .delete(&path)
        .key(&app.admin)
        .header("if-match", "\"1\"")
        .send()
        .await;
    stale_delete.assert_problem(412);
    let kept = app.get(&path).key(&app.admin).send().await;
    assert_eq!(kept.body["name"], "Renamed");
}

#[tokio::test]
async fn the_list_pages_and_a_search_that_cannot_be_counted_answers_null() {
    let app = TestApp::spawn().await;
    for name in ["A", "B", "C"] {
        save(&app, &app.admin, json!({"name": name, "q": "jane"})).await;
    }
    let first = app
        .get("/v1/saved-searches?limit=2")
        .key(&app.admin)
        .send()
        .await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = app
        .get(&format!("/v1/saved-searches?limit=2&cursor={cursor}"))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(second.body["data"][0]["name"], "C");
    assert_eq!(second.body["next_cursor"], Value::Null);

    // A query saved before a rule of the language changed no longer parses.
    sqlx::query("update saved_searches set q = 'status:lost' where name = 'B'")
        .execute(&app.pool)
        .await
        .unwrap();
    let counted = app
        .get("/v1/saved-searches?counts=true")
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(counted.status, StatusCode::OK, "{}", counted.body);
    let counts: Vec<&Value> = counted.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|saved| &saved["count"])
        .collect();
    assert_eq!(counts, [&json!(0), &Value::Null, &json!(0)]);
}

#[tokio::test]
async fn only_the_owner_or_an_admin_changes_a_shared_search() {
    let app = TestApp::spawn().await;
    let owner = app.key(Role::Support, None).await;
    let colleague = app.key(Role::Support, None).await;
    let saved = save(
        &app,
        &owner,
        json!({"name": "VIP", "q": "tag:vip", "shared": true}),
    )
    .await;
    let path = format!("/v1/saved-searches/{}", saved["id"].as_str().unwrap());

    let refused = app
        .patch(&path, &json!({"name": "Mine now"}))
        .key(&colleague)
        .send()
        .await;
    refused.assert_problem(403);
    let renamed = app
        .patch(&path, &json!({"name": "VIP waiting", "sort": "total:desc"}))
        .key(&owner)
        .send()
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["name"], "VIP waiting");
    assert_eq!(renamed.body["sort"], "total:desc");
    let unsorted = app
        .patch(&path, &json!({"sort": null}))
        .key(&owner)
        .send()
        .await;
    assert_eq!(unsorted.body["sort"], Value::Null);
    assert_eq!(
        unsorted.body["name"], "VIP waiting",
        "absent fields are kept"
    );

    app.delete(&path)
        .key(&colleague)
        .send()
        .await
        .assert_problem(403);
    let deleted = app.delete(&path).key(&app.admin).send().await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.assert_get_problem(&owner, &path, 404).await;
}

#[tokio::test]
async fn bad_saved_searches_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let key = app.key(Role::Support, None).await;
    for (body, field) in [
        (json!({"name": "Bad", "q": "status:lost"}), "q"),
        (json!({"name": "Bad", "q": "total:>abc"}), "q"),
        (json!({"name": "Bad", "q": "jane", "sort": "price"}), "sort"),
        (json!({"name": " ", "q": "jane"}), "name"),
        (json!({"name": "Bad", "q": "jane", "owner": "x"}), "owner"),
    ] {
        let response = app.post("/v1/saved-searches", &body).key(&key).send().await;
        response.assert_problem(422);
        assert_eq!(response.error_fields(), [field], "{body}");
    }
    save(&app, &key, json!({"name": "Twice", "q": "jane"})).await;
    let again = app
        .post("/v1/saved-searches", &json!({"name": "Twice", "q": "john"}))
        .key(&key)
        .send()
        .await;
    again.assert_problem(409);
    let writer = app.key(Role::Writer, None).await;
    app.post("/v1/saved-searches", &json!({"name": "W", "q": ""}))
        .key(&writer)
        .send()
        .await
        .assert_problem(403);
    app.assert_get_problem(&writer, "/v1/saved-searches", 403)
        .await;
}

#[tokio::test]
async fn a_saved_search_runs_with_its_sort_and_counts_its_orders() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "10.00", 100).await;
    for (name, quantity, tags) in [
        ("Jane Doe", 1, json!(["vip"])),
        ("John Roe", 3, json!(["vip"])),
        ("Ann Poe", 2, json!([])),
    ] {
        let email = format!(
            "{}@example.com",
            name.split(' ').next().unwrap().to_lowercase()
        );
        let body = json!({"customer": {"name": name, "email": email}, "items": [{"sku": "MUG", "quantity": quantity}], "tags": tags});
        let created = app.post("/v1/orders", &body).key(&app.admin).send().await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    app.index_all().await;
    let saved = save(
        &app,
        &app.admin,
        json!({"name": "VIP", "q": "tag:vip", "sort": "total:asc"}),
    )
    .await;
    let id = saved["id"].as_str().unwrap();

    let run = app
        .get(&format!("/v1/orders/search?saved={id}"))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let totals: Vec<&str> = run.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["total"].as_str().unwrap())
        .collect();
    assert_eq!(totals, ["10.00", "30.00"], "the saved sort applies");
    let narrowed = app
        .get(&format!("/v1/orders/search?saved={id}&q=john"))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(narrowed.body["total"], 1, "the extra q is ANDed");

    let listed = app
        .get("/v1/saved-searches?counts=true")
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(listed.body["data"][0]["count"], 2, "{}", listed.body);
    let plain = app.get("/v1/saved-searches").key(&app.admin).send().await;
    assert!(plain.body["data"][0].get("count").is_none());

    app.assert_admin_get_problem("/v1/orders/search?saved=not-an-id", 404)
        .await;
    let exported = app
        .get(&format!("/v1/orders/export?saved={id}&format=ndjson"))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(exported.status, StatusCode::OK);
    assert_eq!(
        String::from_utf8(exported.bytes).unwrap().lines().count(),
        2
    );
}
