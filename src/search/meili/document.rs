//! The Meilisearch document of an order: the whole [`OrderDocument`] (so a hit
//! rebuilds it exactly) plus the derived fields the embedded schema computes —
//! identifier forms staff type, filter keys and facet values.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::search::document::OrderDocument;
use crate::search::embedded::schema::key;
use crate::search::engine::UNREADABLE_STAMP;
use crate::search::normalize;

/// The fields of [`OrderDocument`], retrieved with every hit.
pub const ORDER_FIELDS: [&str; 15] = [
    "id",
    "number",
    "store",
    "status",
    "deleted",
    "customer",
    "items",
    "shipping",
    "tags",
    "note",
    "total",
    "currency",
    "created_at",
    "version",
    "change_stamp",
];

/// One order as Meilisearch indexes it.
#[derive(Debug, Serialize)]
pub struct MeiliDocument<'a> {
    #[serde(flatten)]
    pub order: &'a OrderDocument,
    /// Every prefix of the order number (`1042` finds 10421).
    pub number_prefixes: Vec<String>,
    /// The phone's digits and each suffix of four digits or more.
    pub phone_suffixes: Vec<String>,
    /// SKUs without case or separators (`MUG-BLUE` → `mugblue`).
    pub sku: Vec<String>,
    /// Words with inner punctuation written without it (`jane@example.com` →
    /// `janeexamplecom`), the form a query word with punctuation is searched by.
    pub joined: Vec<String>,
    /// Free text with its diacritics folded where folding changed it
    /// (`Łódź` → `lodz`; Meilisearch itself keeps `ł`).
    pub folded: Vec<String>,
    /// The whole email, lower-cased (for `email:` with an `@`).
    pub email: Option<String>,
    /// The email's local part and domain, lower-cased (for `email:` without `@`).
    pub email_part: Vec<String>,
    pub customer_id: Option<&'a str>,
    /// Distinct item categories as written (the `category` facet).
    pub category: Vec<&'a str>,
    /// Distinct item categories folded (for `category:`).
    pub category_key: Vec<String>,
    /// Shipping country, upper-cased (filter and facet).
    pub country: Option<String>,
    /// Shipping city folded (for `city:`).
    pub city_key: Option<String>,
    /// Tags folded (filter and facet).
    pub tag: Vec<String>,
    pub total_cents: i64,
    /// Creation time in microseconds since the epoch (exact in an f64 until 2255).
    pub created: i64,
}

impl<'a> MeiliDocument<'a> {
    pub fn new(order: &'a OrderDocument) -> Self {
        let mut categories: Vec<&str> = Vec::new();
        for item in &order.items {
            if !categories.contains(&item.category.as_str()) {
                categories.push(&item.category);
            }
        }
        let email_parts = order
            .customer
            .email
            .as_deref()
            .and_then(normalize::email_parts);
        let mut joined = Vec::new();
        let mut folded = Vec::new();
        for text in free_text(order) {
            for word in joined_words(text) {
                push_unique(&mut joined, word);
            }
            let fold = normalize::fold(text);
            if fold != text.to_lowercase() {
                push_unique(&mut folded, fold);
            }
        }
        if let Some((local, domain)) = &email_parts {
            for part in [local, domain] {
                for word in joined_words(part) {
                    push_unique(&mut joined, word);
                }
            }
        }
        let mut sku = Vec::new();
        for item in &order.items {
            push_unique(&mut sku, normalize::sku(&item.sku));
        }
        Self {
            number_prefixes: order.number_prefixes(),
            phone_suffixes: order.phone_suffixes(),
            sku,
            joined,
            folded,
            email: order
                .customer
                .email
                .as_ref()
                .map(|email| email.to_lowercase()),
            email_part: email_parts
                .map(|(local, domain)| vec![local, domain])
                .unwrap_or_default(),
            customer_id: order.customer.id.as_deref(),
            category_key: categories.iter().map(|category| key(category)).collect(),
            category: categories,
            country: order
                .shipping
                .country
                .as_ref()
                .map(|country| country.to_uppercase()),
            city_key: order.shipping.city.as_deref().map(key),
            tag: order.tags.iter().map(|tag| key(tag)).collect(),
            total_cents: order.total_cents(),
            created: order.created_at.timestamp_micros(),
            order,
        }
    }
}

/// The free-text values whose words are searched (the embedded `text` field,
/// less the phone, which is searched by its digits).
fn free_text(order: &OrderDocument) -> impl Iterator<Item = &str> {
    let single = [
        order.customer.name.as_deref(),
        order.customer.email.as_deref(),
        order.shipping.name.as_deref(),
        order.shipping.city.as_deref(),
        order.shipping.postal_code.as_deref(),
        order.note.as_deref(),
    ];
    single
        .into_iter()
        .flatten()
        .chain(order.items.iter().map(|item| item.name.as_str()))
        .chain(order.tags.iter().map(String::as_str))
}

/// The joined forms of the words of `text` that have punctuation inside:
/// `"Kettle 1.7L"` → `["17l"]`. Words with letters outside Latin are left to
/// Meilisearch's own tokens, since [`normalize::sku`] would drop those letters.
pub fn joined_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(trim_punctuation)
        .filter(|word| !word.chars().all(char::is_alphanumeric))
        .filter_map(joined)
        .collect()
}

/// `word` without the punctuation around it: `"(555)"` → `"555"`.
pub fn trim_punctuation(word: &str) -> &str {
    word.trim_matches(|c: char| !c.is_alphanumeric())
}

/// The joined form of one word, if all its letters survive folding to ASCII.
pub fn joined(word: &str) -> Option<String> {
    let folded = normalize::fold(word);
    if folded
        .chars()
        .any(|c| c.is_alphanumeric() && !c.is_ascii_alphanumeric())
    {
        return None;
    }
    let joined = normalize::sku(word);
    (!joined.is_empty()).then_some(joined)
}

fn push_unique(values: &mut Vec<String>, value: String) {
    if !value.is_empty() && !values.contains(&value) {
        values.push(value);
    }
}

/// A listed document's order id and change stamp ([`UNREADABLE_STAMP`] when it
/// has none), or, when its id is no order id, that id as Meilisearch holds it.
pub fn read_stamp(document: &Value) -> Result<(Uuid, i64), String> {
    let id = match &document["id"] {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let order = Uuid::parse_str(&id).map_err(|_| id)?;
    let stamp = document["change_stamp"]
        .as_i64()
        .unwrap_or(UNREADABLE_STAMP);
    Ok((order, stamp))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn words_with_inner_punctuation_are_joined() {
        assert_eq!(joined_words("Stainless Kettle 1.7L"), ["17l"]);
        assert_eq!(joined_words("jane.roe@example.com"), ["janeroeexamplecom"]);
        assert_eq!(joined_words("Anne-Marie (Dupont)"), ["annemarie"]);
        assert!(joined_words("Jane Doe, Kraków").is_empty());
        assert!(joined_words("Москва-Сити").is_empty());
    }

    #[test]
    fn a_listed_document_is_an_order_stamp_or_a_foreign_id() {
        let order = Uuid::now_v7();
        let ours = json!({"id": order.to_string(), "change_stamp": 42});
        assert_eq!(read_stamp(&ours), Ok((order, 42)));
        let older_shape = json!({"id": order.to_string()});
        assert_eq!(read_stamp(&older_shape), Ok((order, UNREADABLE_STAMP)));
        let odd_stamp = json!({"id": order.to_string(), "change_stamp": "7"});
        assert_eq!(read_stamp(&odd_stamp), Ok((order, UNREADABLE_STAMP)));
        assert_eq!(
            read_stamp(&json!({"id": "sku-1"})),
            Err("sku-1".to_string())
        );
        assert_eq!(read_stamp(&json!({"id": 17})), Err("17".to_string()));
    }
}
