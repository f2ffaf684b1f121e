//! API keys created and revoked through the API, as a client would.

use axum::http::StatusCode;
use serde_json::Value;

use super::TestApp;

impl TestApp {
    /// Creates an API key through the API as the admin, asserting a 201; returns
    /// its secret and its id.
    pub async fn create_api_key(&self, body: &Value) -> (String, String) {
        let created = self
            .post("/v1/api-keys", body)
            .key(&self.admin)
            .send()
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let secret = created.body["key"].as_str().unwrap().to_string();
        let id = created.body["id"].as_str().unwrap().to_string();
        (secret, id)
    }

    /// Revokes the API key `id` through the API as the admin, asserting a 204.
    pub async fn revoke_api_key(&self, id: &str) {
        let revoked = self
            .delete(&format!("/v1/api-keys/{id}"))
            .key(&self.admin)
            .send()
            .await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.body);
    }
}
