//! One input order, parsed and checked on its own (the catalog comes later):
//! names and shapes, dates not in the future, a known status, quantities and
//! prices not negative and with at most two decimal places. A failure is one
//! line of text naming the field (`items[1].quantity: must be positive`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use validator::Validate;

use crate::domain::{Money, rules};
use crate::http::extract::flatten_validation;
use crate::orders::model::{Address, MAX_LINES, MAX_QUANTITY, Status};

/// A customer as sources give it (other members are ignored).
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate)]
pub struct ImportCustomer {
    #[serde(default, deserialize_with = "text_or_number")]
    #[validate(length(min = 1, max = 100))]
    pub id: Option<String>,
    #[validate(email, length(max = 254))]
    pub email: Option<String>,
    #[validate(length(min = 1, max = 200))]
    pub name: Option<String>,
    #[validate(length(min = 4, max = 40))]
    pub phone: Option<String>,
}

/// An item: a product by `sku` or `product_id`, a quantity, and optionally
/// the product as sold.
#[derive(Debug, Clone, Serialize, Deserialize, Validate)]
pub struct ImportItem {
    pub product_id: Option<Uuid>,
    #[serde(default, deserialize_with = "text_or_number")]
    #[validate(custom(function = "rules::sku"))]
    pub sku: Option<String>,
    #[serde(deserialize_with = "whole_number")]
    pub quantity: i64,
    pub unit_price: Option<Money>,
    pub unit_cost: Option<Money>,
    #[validate(length(min = 1, max = 200))]
    pub name: Option<String>,
    #[validate(length(min = 1, max = 100))]
    pub category: Option<String>,
}

#[derive(Debug, Deserialize, Validate)]
struct Input {
    #[serde(deserialize_with = "required_text_or_number")]
    #[validate(length(min = 1, max = 100))]
    external_id: String,
    store: Option<String>,
    created_at: String,
    status: Option<String>,
    completed_at: Option<String>,
    cancelled_at: Option<String>,
    #[serde(default)]
    #[validate(nested)]
    customer: ImportCustomer,
    #[validate(nested)]
    shipping_address: Option<Address>,
    tags: Option<Vec<String>>,
    #[validate(length(max = 2000))]
    note: Option<String>,
    #[validate(length(min = 1, max = MAX_LINES), nested)]
    items: Vec<ImportItem>,
}

/// An order that passed every check that needs no database.
#[derive(Debug, Clone)]
pub struct ValidOrder {
    pub line: u64,
    pub external_id: String,
    /// As given; the run's store when absent.
    pub store: Option<String>,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub customer: ImportCustomer,
    pub shipping_address: Option<Address>,
    /// `None` when the source does not give tags (a re-import keeps them).
    pub tags: Option<Vec<String>>,
    pub note: Option<String>,
    pub items: Vec<ImportItem>,
}

/// The `external_id` of a record, if it has a usable one (for error reports).
pub fn external_id_of(value: &Value) -> Option<String> {
    match value.get("external_id")? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Parses and checks one record as of `now`.
pub fn parse(line: u64, value: Value, now: DateTime<Utc>) -> Result<ValidOrder, String> {
    if !value.is_object() {
        return Err("must be a JSON object".into());
    }
    let input: Input = serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })?;
    if let Err(invalid) = input.validate() {
        let first = flatten_validation(&invalid)
            .into_iter()
            .map(|error| format!("{}: {}", error.field, error.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(first);
    }
    let created_at = instant("created_at", &input.created_at, now)?;
    let completed_at = input
        .completed_at
        .as_deref()
        .map(|text| instant("completed_at", text, now))
        .transpose()?;
    let cancelled_at = input
        .cancelled_at
        .as_deref()
        .map(|text| instant("cancelled_at", text, now))
        .transpose()?;
    for (field, at) in [
        ("completed_at", completed_at),
        ("cancelled_at", cancelled_at),
    ] {
        if at.is_some_and(|at| at < created_at) {
            return Err(format!("{field}: is before created_at"));
        }
    }
    let status = match input.status.as_deref() {
        None => Status::Pending,
        Some(text) => Status::parse(&text.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("status: unknown status `{text}`"))?,
    };
    if input.customer.id.is_none() && input.customer.email.is_none() {
        return Err("customer: give at least an id or an email".into());
    }
    check_tags(input.tags.as_deref().unwrap_or_default())?;
    for (index, item) in input.items.iter().enumerate() {
        check_item(index, item)?;
    }
    Ok(ValidOrder {
        line,
        external_id: input.external_id,
        store: input.store,
        status,
        created_at,
        completed_at: completed_at.or((status == Status::Completed).then_some(created_at)),
        cancelled_at: cancelled_at.or((status == Status::Cancelled).then_some(created_at)),
        customer: input.customer,
        shipping_address: input.shipping_address,
        tags: input.tags,
        note: input.note,
        items: input.items,
    })
}

fn check_item(index: usize, item: &ImportItem) -> Result<(), String> {
    if item.product_id.is_none() && item.sku.is_none() {
        return Err(format!("items[{index}]: give a sku or a product_id"));
    }
    if item.quantity <= 0 {
        return Err(format!("items[{index}].quantity: must be positive"));
    }
    if item.quantity > i64::from(MAX_QUANTITY) {
        return Err(format!(
            "items[{index}].quantity: must be at most {MAX_QUANTITY}"
        ));
    }
    for (field, money) in [
        ("unit_price", item.unit_price),
        ("unit_cost", item.unit_cost),
    ] {
        if money.is_some_and(Money::is_negative) {
            return Err(format!("items[{index}].{field}: must not be negative"));
        }
    }
    Ok(())
}

fn check_tags(tags: &[String]) -> Result<(), String> {
    let valid = tags.len() <= 20
        && tags
            .iter()
            .all(|tag| (1..=50).contains(&tag.chars().count()) && !tag.trim().is_empty());
    if valid {
        Ok(())
    } else {
        Err("tags: at most 20 tags of 1-50 characters".into())
    }
}

/// An RFC 3339 time, or a date (midnight UTC); never in the future.
fn instant(field: &str, text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let at = DateTime::parse_from_rfc3339(text.trim())
        .map(|at| at.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map(|date| date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| format!("{field}: must be an RFC 3339 time such as 2025-03-01T10:00:00Z"))?;
    if at > now {
        return Err(format!("{field}: is in the future"));
    }
    Ok(at)
}

fn text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        Some(_) => Err(de::Error::custom("must be a string or a number")),
    }
}

fn required_text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    text_or_number(deserializer)?.ok_or_else(|| de::Error::custom("is required"))
}

fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let value = Value::deserialize(deserializer)?;
    let number = match &value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    number.ok_or_else(|| de::Error::custom("must be a whole number"))
}
