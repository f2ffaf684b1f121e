//! Order types: what clients send, what they get back, and the status lifecycle.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::domain::{Money, rules};

/// Most lines one order may have.
pub const MAX_LINES: u64 = 500;
/// Largest quantity on one line.
pub const MAX_QUANTITY: i32 = 10_000;

/// Where an order is in its life. `completed` and `cancelled` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Processing,
    Shipped,
    Completed,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Pending,
        Status::Processing,
        Status::Shipped,
        Status::Completed,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Processing => "processing",
            Status::Shipped => "shipped",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// The statuses this one may move to.
    pub fn next(self) -> &'static [Status] {
        match self {
            Status::Pending => &[Status::Processing, Status::Cancelled],
            Status::Processing => &[Status::Shipped, Status::Cancelled],
            Status::Shipped => &[Status::Completed],
            Status::Completed | Status::Cancelled => &[],
        }
    }

    /// Whether stock is still reserved and the order can be cancelled.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Pending | Status::Processing)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// The storefront's own customer id.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub id: Option<String>,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Any common format: `+48 600 100 200`, `(555) 010-0200`, ...
    #[validate(custom(function = "valid_phone"))]
    #[schema(max_length = 40, pattern = r"^[0-9 +\-().]+$")]
    pub phone: Option<String>,
}

fn valid_phone(text: &str) -> Result<(), ValidationError> {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let allowed = text
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !(4..=20).contains(&digits) || !allowed || text.len() > 40 {
        return Err(ValidationError::new("phone").with_message(
            "must be a phone number of 4-20 digits (spaces, +, -, ., parentheses allowed)".into(),
        ));
    }
    Ok(())
}

fn valid_country(text: &str) -> Result<(), ValidationError> {
    if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ValidationError::new("country")
            .with_message("must be an ISO 3166-1 alpha-2 code such as \"PL\"".into()));
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub line1: String,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub line2: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub city: String,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub region: Option<String>,
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub postal_code: String,
    #[validate(custom(function = "valid_country"))]
    #[schema(pattern = r"^[A-Z]{2}$")]
    pub country: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tracking {
    #[validate(length(min = 1, max = 50), custom(function = "rules::not_blank"))]
    #[schema(min_length = 1, max_length = 50, pattern = r"\S")]
    pub carrier: String,
    #[validate(length(min = 1, max = 100), custom(function = "rules::not_blank"))]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub number: String,
}

/// One requested line: a product by id or by SKU, and a quantity.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub product_id: Option<Uuid>,
    #[validate(custom(function = "rules::sku"))]
    #[schema(pattern = r"^[!-~]{1,64}$")]
    pub sku: Option<String>,
    #[validate(range(min = 1, max = MAX_QUANTITY))]
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: i32,
}

/// Most tags one order may carry.
const MAX_TAGS: usize = 20;
/// Longest tag, in characters.
const MAX_TAG_CHARS: usize = 50;

fn valid_tags(tags: &[String]) -> Result<(), ValidationError> {
    let valid = tags.len() <= MAX_TAGS
        && tags.iter().all(|tag| {
            (1..=MAX_TAG_CHARS).contains(&tag.chars().count()) && !tag.trim().is_empty()
        });
    if !valid {
        return Err(
            ValidationError::new("tags").with_message("at most 20 tags of 1-50 characters".into())
        );
    }
    Ok(())
}

/// One tag as the OpenAPI document describes it (the field holds `String`s):
/// what `valid_tags` takes of each.
pub struct TagText;

impl utoipa::PartialSchema for TagText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A label of 1-50 characters, not blank"))
            .min_length(Some(1))
            .max_length(Some(MAX_TAG_CHARS))
            .pattern(Some(r"\S"))
            .into()
    }
}

impl utoipa::ToSchema for TagText {}

#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// Defaults to the key's store, else `default`.
    pub store: Option<String>,
    /// The storefront's own order id, unique per store.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub external_id: Option<String>,
    #[validate(nested)]
    pub customer: Customer,
    #[validate(length(min = 1, max = MAX_LINES), nested)]
    #[schema(min_items = 1, max_items = 500)]
    pub items: Vec<NewItem>,
    #[validate(nested)]
    pub shipping_address: Option<Address>,
    #[serde(default)]
    #[validate(custom(function = "valid_tags"))]
    #[schema(max_items = 20, value_type = Vec<TagText>)]
    pub tags: Vec<String>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// A partial update. Items cannot be edited.
#[derive(Debug, Clone, Default, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderPatch {
    pub status: Option<Status>,
    #[validate(nested)]
    pub shipping_address: Option<Address>,
    #[validate(nested)]
    pub tracking: Option<Tracking>,
    #[validate(custom(function = "valid_tags"))]
    #[schema(max_items = 20, value_type = Option<Vec<TagText>>)]
    pub tags: Option<Vec<String>>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// A line as sold: the product's snapshot at order time.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OrderItem {
    #[serde(skip)]
    pub order_id: Uuid,
    pub line: i32,
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub unit_price: Money,
    pub quantity: i32,
    pub line_total: Money,
}

/// An order as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Order {
    pub id: Uuid,
    pub number: i64,
    pub store: String,
    pub external_id: Option<String>,
    pub status: Status,
    pub customer: Customer,
    pub items: Vec<OrderItem>,
    pub total: Money,
    pub currency: String,
    pub shipping_address: Option<Address>,
    pub tracking: Option<Tracking>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// One entry of an order's timeline.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OrderEvent {
    pub at: DateTime<Utc>,
    /// `created`, `status_changed`, `edited`, `note_changed` or `deleted`.
    pub kind: String,
    /// The name of the API key that acted.
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_status: Option<String>,
    pub data: serde_json::Value,
}
