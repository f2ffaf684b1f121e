//! Stores, API keys and products: happy paths and each error status they return.

use axum::http::StatusCode;
use ordersearch::http::auth::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn an_admin_creates_and_reads_a_store() {
    let app = TestApp::spawn().await;
    let created = app
        .post(
            "/v1/stores",
            &json!({"id": "eu", "name": "Europe", "currency": "EUR", "timezone": "Europe/Warsaw"}),
        )
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.header("location"), Some("/v1/stores/eu"));
    let fetched = app.get("/v1/stores/eu").key(&app.admin).send().await;
    assert_eq!(fetched.body["currency"], "EUR");
    assert_eq!(fetched.body["timezone"], "Europe/Warsaw");
    let listed = app.get("/v1/stores").key(&app.admin).send().await;
    let ids: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["default", "eu"]);
}

#[tokio::test]
async fn a_duplicate_store_is_a_conflict_and_bad_fields_are_each_named() {
    let app = TestApp::spawn().await;
    let duplicate = app
        .post(
            "/v1/stores",
            &json!({"id": "default", "name": "Again", "currency": "USD", "timezone": "UTC"}),
        )
        .key(&app.admin)
        .send()
        .await;
    duplicate.assert_problem(409);
    let invalid = app
        .post(
            "/v1/stores",
            &json!({"id": "Bad Id", "name": " ", "currency": "eur", "timezone": "Mars/Base"}),
        )
        .key(&app.admin)
        .send()
        .await;
    invalid.assert_problem(422);
    assert_eq!(
        invalid.error_fields(),
        ["currency", "id", "name", "timezone"]
    );
    app.assert_admin_get_problem("/v1/stores/nope", 404).await;
}

#[tokio::test]
async fn a_created_key_works_until_it_is_revoked() {
    let app = TestApp::spawn().await;
    let (secret, id) = app
        .create_api_key(&json!({"name": "shop backend", "role": "writer"}))
        .await;
    assert_eq!(
        app.get("/v1/products").key(&secret).send().await.status,
        StatusCode::OK
    );
    let listed = app.get("/v1/api-keys").key(&app.admin).send().await;
    assert!(
        !listed
            .bytes
            .windows(secret.len())
            .any(|w| w == secret.as_bytes()),
        "a list never shows secrets"
    );
    app.revoke_api_key(&id).await;
    app.assert_get_problem(&secret, "/v1/products", 401).await;
    app.delete(&format!("/v1/api-keys/{id}"))
        .key(&app.admin)
        .send()
        .await
        .assert_problem(404);
    let stored: Vec<u8> = sqlx::query_scalar("select key_hash from api_keys where id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(secret.as_bytes()).to_vec();
    assert_eq!(stored, digest, "the key's SHA-256 is stored");
    let anywhere: bool = sqlx::query_scalar(
        "select exists (select 1 from api_keys k where strpos(k::text, $1) > 0)",
    )
    .bind(&secret)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(!anywhere, "the secret itself is in no column");
}

#[tokio::test]
async fn a_key_for_an_unknown_store_or_role_is_rejected() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/v1/api-keys",
            &json!({"name": "x", "role": "wizard", "store": "nowhere"}),
        )
        .key(&app.admin)
        .send()
        .await;
    response.assert_problem(422);
    assert_eq!(response.error_fields(), ["role"]);
    let response = app
        .post(
            "/v1/api-keys",
            &json!({"name": "x", "role": "support", "store": "nowhere"}),
        )
        .key(&app.admin)
        .send()
        .await;
    response.assert_problem(422);
    assert_eq!(response.error_fields(), ["store"]);
}

#[tokio::test]
async fn products_are_created_listed_updated_and_deactivated() {
    let app = TestApp::spawn().await;
    let product = app.product("default", "MUG-BLUE", "12.50", 10).await;
    assert_eq!(product["price"], "12.50");
    let id = product["id"].as_str().unwrap();
    let path = format!("/v1/products/{id}");

    let fetched = app.get(&path).key(&app.admin).send().await;
    assert_eq!(fetched.header("etag"), Some("\"1\""));

    let updated = app
        .patch(
            &path,
            &json!({"price": "13", "stock_delta": -4, "cost": null}),
        )
        .key(&app.admin)
        .header("if-match", "\"1\"")
        .send()
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["price"], "13.00");
    assert_eq!(updated.body["stock"], 6);
    assert_eq!(updated.body["cost"], serde_json::Value::Null);

    let stale = app
        .patch(&path, &json!({"stock": 1}))
        .key(&app.admin)
        .header("if-match", "\"1\"")
        .send()
        .await;
    stale.assert_problem(412);
    let below_zero = app
        .patch(&path, &json!({"stock_delta": -7}))
        .key(&app.admin)
        .send()
        .await;
    below_zero.assert_problem(409);
    let both = app
        .patch(&path, &json!({"stock": 1, "stock_delta": 1}))
        .key(&app.admin)
        .send()
        .await;
    both.assert_problem(422);

    let deleted = app.delete(&path).key(&app.admin).send().await;
    assert_eq!(deleted.body["active"], false);
    let active = app
        .get("/v1/products?active=true")
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(active.body["data"].as_array().unwrap().len(), 0);
    let all = app.get("/v1/products").key(&app.admin).send().await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_sku_is_unique_per_store_only() {
    let app = TestApp::spawn().await;
    app.store("eu", "EUR", "Europe/Warsaw").await;
    app.product("default", "MUG", "1.00", 1).await;
    app.product("eu", "MUG", "1.00", 1).await;
    let again = app
        .post(
            "/v1/products",
            &json!({"sku": "MUG", "name": "x", "category": "c", "price": 1, "stock": 1}),
        )
        .key(&app.admin)
        .send()
        .await;
    again.assert_problem(409);
    assert_eq!(again.error_fields(), ["sku"]);
}

#[tokio::test]
async fn product_lists_paginate_with_a_cursor() {
    let app = TestApp::spawn().await;
    for n in 0..5 {
        app.product("default", &format!("SKU-{n}"), "1.00", 1).await;
    }
    let skus_of = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["sku"].as_str().unwrap().to_string())
            .collect()
    };
    let first = app.get("/v1/products?limit=2").key(&app.admin).send().await;
    assert_eq!(first.body["data"].as_array().unwrap().len(), 2);
    let mut seen = skus_of(&first.body);
    let mut cursor = first.body["next_cursor"].as_str().map(str::to_string);
    while let Some(next) = cursor {
        let page = app
            .get(&format!("/v1/products?limit=2&cursor={next}"))
            .key(&app.admin)
            .send()
            .await;
        seen.extend(skus_of(&page.body));
        cursor = page.body["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, ["SKU-0", "SKU-1", "SKU-2", "SKU-3", "SKU-4"]);
    for path in [
        "/v1/products?cursor=garbage",
        "/v1/products?limit=0",
        "/v1/products?limit=201",
    ] {
        app.assert_admin_get_problem(path, 400).await;
    }
}

#[tokio::test]
async fn a_store_scoped_key_never_sees_another_stores_product() {
    let app = TestApp::spawn().await;
    app.store("eu", "EUR", "Europe/Warsaw").await;
    let theirs = app.product("eu", "EU-ONLY", "1.00", 1).await;
    app.product("default", "MINE", "1.00", 1).await;
    let scoped = app.key(Role::Support, Some("default")).await;
    let id = theirs["id"].as_str().unwrap();
    for path in [format!("/v1/products/{id}"), "/v1/products?store=eu".into()] {
        app.assert_get_problem(&scoped, &path, 404).await;
    }
    let listed = app.get("/v1/products").key(&scoped).send().await;
    let skus: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["MINE"]);
}
