//! `--map FILE`: a small JSON object naming, for each field of the import
//! model, where a source keeps it, so a feed with other names imports without
//! code: `{"external_id": "id", "created_at": "date", "items": "products",
//! "items[].quantity": "amount", "customer.email": "email"}`. Dotted names
//! reach into objects; `items[].x` names a member of every item.

use anyhow::{Context, bail};
use serde_json::{Map, Value};

/// The renames, top-level ones first, then those inside items.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    top: Vec<(String, String)>,
    item: Vec<(String, String)>,
}

impl Mapping {
    /// Parses a mapping document.
    pub fn parse(text: &str) -> anyhow::Result<Mapping> {
        let object: Map<String, Value> =
            serde_json::from_str(text).context("a mapping is a JSON object of names")?;
        let mut mapping = Mapping::default();
        for (target, source) in object {
            let Some(source) = source.as_str() else {
                bail!("mapping of `{target}`: the source must be a name (a string)");
            };
            match target.strip_prefix("items[].") {
                Some(member) => mapping.item.push((member.to_string(), source.to_string())),
                None => mapping.top.push((target, source.to_string())),
            }
        }
        Ok(mapping)
    }

    pub fn is_empty(&self) -> bool {
        self.top.is_empty() && self.item.is_empty()
    }

    /// The record with the mapped names in place (unmapped members stay).
    pub fn apply(&self, mut value: Value) -> Value {
        if self.is_empty() || !value.is_object() {
            return value;
        }
        let moved: Vec<(&str, Option<Value>)> = self
            .top
            .iter()
            .map(|(target, source)| (target.as_str(), take(&mut value, source)))
            .collect();
        for (target, found) in moved {
            if let Some(found) = found {
                put(&mut value, target, found);
            }
        }
        if let Some(Value::Array(items)) = value.get_mut("items") {
            for item in items {
                let moved: Vec<(&str, Option<Value>)> = self
                    .item
                    .iter()
                    .map(|(target, source)| (target.as_str(), take(item, source)))
                    .collect();
                for (target, found) in moved {
                    if let Some(found) = found {
                        put(item, target, found);
                    }
                }
            }
        }
        value
    }
}

/// Removes and returns the value at a dotted path.
fn take(value: &mut Value, path: &str) -> Option<Value> {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => (
            parent
                .split('.')
                .try_fold(&mut *value, |v, k| v.get_mut(k))?,
            last,
        ),
        None => (value, path),
    };
    parent.as_object_mut()?.remove(last)
}

/// Sets the value at a dotted path, making objects on the way.
fn put(value: &mut Value, path: &str, new: Value) {
    let mut target = value;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !target.is_object() {
            *target = Value::Object(Map::new());
        }
        let Some(object) = target.as_object_mut() else {
            return;
        };
        if parts.peek().is_none() {
            object.insert(part.to_string(), new);
            return;
        }
        target = object
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renames_top_level_nested_and_item_fields() {
        let mapping = Mapping::parse(
            r#"{"external_id": "id", "created_at": "date", "items": "products",
                "items[].quantity": "amount", "customer.email": "buyer.mail"}"#,
        )
        .unwrap();
        let mapped = mapping.apply(json!({
            "id": 7, "date": "2025-01-02T03:04:05Z", "buyer": {"mail": "a@example.com"},
            "products": [{"sku": "MUG", "amount": 2}]
        }));
        assert_eq!(
            mapped,
            json!({
                "external_id": 7, "created_at": "2025-01-02T03:04:05Z", "buyer": {},
                "customer": {"email": "a@example.com"},
                "items": [{"sku": "MUG", "quantity": 2}]
            })
        );
    }
}
