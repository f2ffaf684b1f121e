//! `/v1/webhooks`: registering, changing, pausing, rotating and deleting
//! endpoints, who may, and what a bad request is told. Deliveries to real
//! receivers on loopback are in [`delivery`].

mod delivery;
mod receiver;

use axum::http::StatusCode;
use ordersearch::http::auth::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Registers an endpoint for `types` at `url` and returns the answer's body.
pub async fn register(app: &TestApp, url: &str, types: Value) -> Value {
    let response = app
        .post("/v1/webhooks", &json!({ "url": url, "types": types }))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.body
}

#[tokio::test]
async fn an_endpoint_is_registered_with_a_secret_shown_once_then_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let created = app
        .post(
            "/v1/webhooks",
            &json!({"url": "https://hooks.example.com/orders", "types": ["order.created"],
                    "description": "fulfilment"}),
        )
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let path = format!("/v1/webhooks/{id}");
    assert_eq!(created.header("location"), Some(path.as_str()));
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert!(
        created.body["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    assert_eq!(created.body["status"], "enabled");
    assert_eq!(created.body["store"], Value::Null);

    let fetched = app.get(&path).key(&app.admin).send().await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert!(fetched.body.get("secret").is_none(), "{}", fetched.body);
    assert_eq!(fetched.body["types"], json!(["order.created"]));
    let listed = app.get("/v1/webhooks").key(&app.admin).send().await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    assert!(listed.body["data"][0].get("secret").is_none());

    let paused = app
        .patch(&path, &json!({"status": "paused", "types": ["*"]}))
        .key(&app.admin)
        .header("if-match", "\"1\"")
        .send()
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(paused.body["status"], "paused");
    assert_eq!(paused.body["types"], json!(["*"]));
    let stale = app
        .patch(&path, &json!({"description": "late"}))
        .key(&app.admin)
        .header("if-match", "\"1\"")
        .send()
        .await;
    stale.assert_problem(412);

    let rotated = app
        .post(&format!("{path}/rotate-secret"), &json!({}))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_ne!(rotated.body["secret"], created.body["secret"]);

    let deleted = app.delete(&path).key(&app.admin).send().await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.assert_admin_get_problem(&path, 404).await;
    let readers: i64 =
        sqlx::query_scalar("select count(*) from event_readers where name = 'webhooks'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(readers, 0, "the last endpoint's removal frees pruning");
}

#[tokio::test]
async fn bad_endpoints_are_422s_naming_the_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"url": "ftp://example.com/x", "types": ["*"]}), "url"),
        (
            json!({"url": "https://user:pw@example.com/x", "types": ["*"]}),
            "url",
        ),
        (json!({"url": "/relative", "types": ["*"]}), "url"),
        (
            json!({"url": "https://example.com", "types": ["order.made"]}),
            "types[0]",
        ),
        (json!({"url": "https://example.com", "types": []}), "types"),
        (
            json!({"url": "https://example.com", "types": ["*", "order.created"]}),
            "types",
        ),
        (
            json!({"url": "https://example.com", "types": ["*"], "store": "nowhere"}),
            "store",
        ),
        (
            json!({"url": "https://example.com", "types": ["*"], "secret": "mine"}),
            "secret",
        ),
    ];
    for (body, field) in cases {
        let response = app.post("/v1/webhooks", &body).key(&app.admin).send().await;
        response.assert_problem(422);
        assert!(
            response.error_fields().iter().any(|named| named == field),
            "{body} should name {field}: {}",
            response.body
        );
    }
    let listed = app.get("/v1/webhooks").key(&app.admin).send().await;
    assert_eq!(listed.body["data"], json!([]), "nothing half-made");
}

#[tokio::test]
async fn only_admins_without_a_store_scope_manage_webhooks() {
    let app = TestApp::spawn().await;
    let made = register(&app, "https://example.com/h", json!(["*"])).await;
    let path = format!("/v1/webhooks/{}", made["id"].as_str().unwrap());
    let scoped_admin = app.key(Role::Admin, Some("default")).await;
    for key in [
        scoped_admin,
        app.key(Role::Support, None).await,
        app.key(Role::Writer, None).await,
        app.key(Role::Analyst, None).await,
    ] {
        app.assert_get_problem(&key, "/v1/webhooks", 403).await;
        app.assert_get_problem(&key, &path, 403).await;
        let created = app
            .post(
                "/v1/webhooks",
                &json!({"url": "https://example.com/x", "types": ["*"]}),
            )
            .key(&key)
            .send()
            .await;
        created.assert_problem(403);
        let status = app.get("/v1/events/status").key(&key).send().await;
        assert!(
            status.status != StatusCode::OK || status.body["webhooks"].is_null(),
            "a scoped key sees no webhook lag: {}",
            status.body
        );
    }
}
