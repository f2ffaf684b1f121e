//! The HTTP surface: every route in one place, with its OpenAPI entry, and the
//! middleware stack that wraps them all.

pub mod answers;
pub mod auth;
pub mod conditional;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod middleware;
pub mod ops;
pub mod pagination;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ordersearch",
        description = include_str!("openapi_description.md"),
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "stores", description = "Storefronts, each with a currency and time zone"),
        (name = "api-keys", description = "Keys, roles and store scopes"),
        (name = "products", description = "The catalog orders are made from"),
        (name = "orders", description = "Create, read, update and soft-delete orders"),
        (name = "search", description = "Staff search, export and index administration"),
        (name = "saved-searches", description = "Named staff queries, private or shared with the store's team"),
        (name = "analytics", description = "Sales figures from rollups"),
        (name = "events", description = "The event log: a gap-free pull feed of every change"),
        (name = "webhooks", description = "Signed deliveries of the event log to registered endpoints"),
        (name = "imports", description = "Order history brought in from other systems"),
        (name = "operations", description = "Health, readiness and metrics; no key needed"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document and the routes it describes. Each request holds a
/// database permit (`middleware::limit_database_work`), except on the event
/// feed, whose long polls take one per read instead of one for the wait.
pub fn api(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let limit =
        axum::middleware::from_fn_with_state(state.clone(), middleware::limit_database_work);
    let (routes, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::stores::routes::router())
        .merge(crate::keys::routes::router())
        .merge(crate::products::routes::router())
        .merge(crate::search::routes::router())
        .merge(crate::saved::routes::router())
        .merge(crate::orders::routes::router())
        .merge(crate::analytics::routes::router())
        .merge(crate::webhooks::routes::router())
        .merge(crate::import::routes::router())
        .merge(ops::router())
        .route_layer(limit)
        .merge(crate::events::routes::router())
        .split_for_parts();
    answers::document(&mut openapi);
    (routes, openapi)
}

/// The whole application: routes, docs, fallbacks and middleware.
pub fn router(state: AppState) -> Router {
    let (routes, openapi) = api(&state);
    routes
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .merge(crate::console::router())
        .fallback(middleware::route_not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::middleware::from_fn(middleware::record_metrics))
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn(middleware::reject_nul_bytes))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id)
            }),
        )
        .layer(SetSensitiveRequestHeadersLayer::new([
            axum::http::header::AUTHORIZATION,
        ]))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
