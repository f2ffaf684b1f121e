//! The index settings, applied before any document is written: what is
//! searched (in ranking order), filtered, faceted and sorted, and typo rules that
//! mirror the embedded engine's (one typo from four letters, two from eight, none
//! in numbers or identifiers).

use meilisearch_sdk::settings::{
    FacetingSettings, MinWordSizeForTypos, PaginationSetting, Settings, TypoToleranceSettings,
};

/// Searched attributes, best first (the `attribute` ranking rule): identifiers
/// as staff type them, then the free text of the embedded `text` field.
pub const SEARCHABLE: [&str; 15] = [
    "number_prefixes",
    "phone_suffixes",
    "sku",
    "joined",
    "customer.name",
    "customer.email",
    "items.name",
    "items.sku",
    "shipping.name",
    "shipping.city",
    "shipping.postal_code",
    "customer.phone",
    "tags",
    "note",
    "folded",
];

pub const FILTERABLE: [&str; 15] = [
    "store",
    "status",
    "deleted",
    "email",
    "email_part",
    "sku",
    "category",
    "category_key",
    "country",
    "city_key",
    "tag",
    "customer_id",
    "number",
    "total_cents",
    "created",
];

pub const SORTABLE: [&str; 3] = ["created", "total_cents", "number"];

/// `sort` first, so an explicit sort orders by its field alone as the embedded
/// engine does; then Meilisearch's default relevance rules; newest first breaks
/// the remaining ties.
pub const RANKING_RULES: [&str; 7] = [
    "sort",
    "words",
    "typo",
    "proximity",
    "attribute",
    "exactness",
    "created:desc",
];

/// Hits counted exactly (`totalHits`) and reachable by paging. The API caps
/// `offset + limit` at 10 000; counting has no cost that grows with this.
pub const MAX_TOTAL_HITS: usize = 1_000_000_000;

/// Values counted per facet.
pub const MAX_VALUES_PER_FACET: usize = 1000;

/// A Meilisearch server version, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion(pub u32, pub u32);

impl ServerVersion {
    /// Parses `pkgVersion` (`1.12.8`, `1.50.0-rc.1`).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(['.', '-']);
        let major = parts.next()?.trim_start_matches('v').parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(Self(major, minor))
    }

    /// `typoTolerance.disableOnNumbers` exists from 1.15.
    pub fn has_disable_on_numbers(self) -> bool {
        self >= ServerVersion(1, 15)
    }
}

/// The settings for a server of this version.
pub fn settings(version: ServerVersion) -> Settings {
    // Identifiers never match with a typo (a digit off is another order or
    // phone). Before 1.15 numbers in free-text fields cannot be exempted by
    // kind, so the fields that hold mostly numbers are exempted whole.
    let mut exact = vec!["number_prefixes", "phone_suffixes", "sku", "joined"];
    if !version.has_disable_on_numbers() {
        exact.extend(["customer.phone", "shipping.postal_code"]);
    }
    let typo_tolerance = TypoToleranceSettings {
        enabled: Some(true),
        disable_on_attributes: Some(exact.into_iter().map(String::from).collect()),
        disable_on_words: Some(Vec::new()),
        min_word_size_for_typos: Some(MinWordSizeForTypos {
            one_typo: Some(4),
            two_typos: Some(8),
        }),
        disable_on_numbers: version.has_disable_on_numbers().then_some(true),
    };
    Settings::new()
        .with_searchable_attributes(SEARCHABLE)
        .with_filterable_attributes(FILTERABLE)
        .with_sortable_attributes(SORTABLE)
        .with_ranking_rules(RANKING_RULES)
        .with_typo_tolerance(typo_tolerance)
        .with_pagination(PaginationSetting {
            max_total_hits: MAX_TOTAL_HITS,
        })
        .with_faceting(FacetingSettings {
            max_values_per_facet: MAX_VALUES_PER_FACET,
            sort_facet_values_by: None,
        })
        .with_stop_words(Vec::<String>::new())
        .with_synonyms(std::collections::HashMap::<String, Vec<String>>::new())
}

/// Settings whose lists are ordered: the others are sets, which Meilisearch
/// may hand back in another order.
const ORDERED: [&str; 2] = ["searchableAttributes", "rankingRules"];

/// Whether settings read from Meilisearch (`current`) already hold every value
/// of `wanted` (JSON as sent; a `null` there is left as the server has it).
pub fn covers(current: &serde_json::Value, wanted: &serde_json::Value) -> bool {
    covers_field("", current, wanted)
}

fn covers_field(name: &str, current: &serde_json::Value, wanted: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (current, wanted) {
        (_, Value::Null) => true,
        (Value::Object(current), Value::Object(wanted)) => wanted.iter().all(|(key, value)| {
            current
                .get(key)
                .is_some_and(|present| covers_field(key, present, value))
        }),
        (Value::Array(current), Value::Array(wanted)) if !ORDERED.contains(&name) => {
            let sorted = |values: &Vec<Value>| {
                let mut texts: Vec<String> = values.iter().map(Value::to_string).collect();
                texts.sort();
                texts
            };
            sorted(current) == sorted(wanted)
        }
        (current, wanted) => current == wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_already_in_place_are_recognised_up_to_the_order_of_sets() {
        let wanted = serde_json::to_value(settings(ServerVersion(1, 50))).unwrap();
        let mut current = wanted.clone();
        current["sortableAttributes"] = serde_json::json!(["created", "number", "total_cents"]);
        current["typoTolerance"]["disableOnAttributes"] =
            serde_json::json!(["joined", "number_prefixes", "phone_suffixes", "sku"]);
        current["faceting"]["sortFacetValuesBy"] = serde_json::json!({"*": "alpha"});
        current["prefixSearch"] = serde_json::json!("indexingTime");
        assert!(covers(&current, &wanted));

        let mut reordered = current.clone();
        reordered["rankingRules"].as_array_mut().unwrap().reverse();
        assert!(!covers(&reordered, &wanted), "ranking rules are ordered");
        let mut changed = current.clone();
        changed["pagination"]["maxTotalHits"] = serde_json::json!(1000);
        assert!(!covers(&changed, &wanted));
        let mut missing = current;
        missing["filterableAttributes"]
            .as_array_mut()
            .unwrap()
            .pop();
        assert!(!covers(&missing, &wanted));
    }

    #[test]
    fn versions_parse_and_gate_disable_on_numbers() {
        assert_eq!(ServerVersion::parse("1.12.8"), Some(ServerVersion(1, 12)));
        assert_eq!(
            ServerVersion::parse("v1.50.0-rc.1"),
            Some(ServerVersion(1, 50))
        );
        assert_eq!(ServerVersion::parse("nonsense"), None);
        assert!(!ServerVersion(1, 12).has_disable_on_numbers());
        assert!(ServerVersion(1, 15).has_disable_on_numbers());
        assert!(ServerVersion(2, 0).has_disable_on_numbers());
    }

    #[test]
    fn old_servers_exempt_numeric_fields_from_typos_instead() {
        let old = serde_json::to_value(settings(ServerVersion(1, 12))).unwrap();
        let typo = &old["typoTolerance"];
        assert!(typo.get("disableOnNumbers").is_none());
        assert!(
            typo["disableOnAttributes"]
                .as_array()
                .unwrap()
                .contains(&"customer.phone".into())
        );
        let new = serde_json::to_value(settings(ServerVersion(1, 50))).unwrap();
        assert_eq!(new["typoTolerance"]["disableOnNumbers"], true);
        assert_eq!(new["typoTolerance"]["minWordSizeForTypos"]["oneTypo"], 4);
        assert_eq!(new["rankingRules"][0], "sort");
        assert_eq!(new["pagination"]["maxTotalHits"], MAX_TOTAL_HITS);
    }
}
