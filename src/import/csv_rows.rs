//! CSV rows as orders: the columns are the JSON names flattened
//! (`customer.email`, `shipping_address.city`, `items[0].sku` or
//! `items.0.sku`), empty cells are absent, `tags` holds `|`-separated tags,
//! and a `quantity` cell is a number.

use serde_json::{Map, Value};

/// One step of a flattened name: a member or an array index.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The steps of `items[0].sku` (or `items.0.sku`): `items`, `0`, `sku`.
fn steps(name: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in name.split('.') {
        let (key, rest) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            match key.parse::<usize>() {
                Ok(index) => out.push(Step::Index(index)),
                Err(_) => out.push(Step::Key(key)),
            }
        }
        for index in rest.split('[').filter(|s| !s.is_empty()) {
            match index.trim_end_matches(']').parse::<usize>() {
                Ok(index) => out.push(Step::Index(index)),
                Err(_) => out.push(Step::Key(index.trim_end_matches(']'))),
            }
        }
    }
    out
}

/// The object a row stands for.
pub fn unflatten(header: &[String], fields: &[String]) -> Result<Value, String> {
    let mut root = Value::Object(Map::new());
    for (name, cell) in header.iter().zip(fields) {
        let name = name.trim();
        if cell.is_empty() || name.is_empty() {
            continue;
        }
        let steps = steps(name);
        let last = match steps.last() {
            Some(Step::Key(key)) => *key,
            _ => "",
        };
        let value = cell_value(last, cell);
        insert(&mut root, &steps, value).map_err(|error| format!("column `{name}`: {error}"))?;
    }
    // Arrays filled by index may have holes (items[0], items[2]): drop them.
    if let Some(Value::Array(items)) = root.get_mut("items") {
        items.retain(|item| !item.is_null());
    }
    Ok(root)
}

fn cell_value(name: &str, cell: &str) -> Value {
    match name {
        "tags" => Value::Array(
            cell.split('|')
                .map(str::trim)
                .filter(|tag| !tag.is_empty())
                .map(|tag| Value::String(tag.to_string()))
                .collect(),
        ),
        "quantity" => cell
            .trim()
            .parse::<i64>()
            .map_or_else(|_| Value::String(cell.to_string()), Value::from),
        _ => Value::String(cell.to_string()),
    }
}

fn insert(target: &mut Value, steps: &[Step<'_>], value: Value) -> Result<(), &'static str> {
    let Some((first, rest)) = steps.split_first() else {
        *target = value;
        return Ok(());
    };
    let slot = match first {
        Step::Key(key) => {
            if target.is_null() {
                *target = Value::Object(Map::new());
            }
            let object = target.as_object_mut().ok_or("mixes a value and members")?;
            object.entry(key.to_string()).or_insert(Value::Null)
        }
        Step::Index(index) => {
            if *index >= 500 {
                return Err("index out of range");
            }
            if target.is_null() {
                *target = Value::Array(Vec::new());
            }
            let array = target.as_array_mut().ok_or("mixes members and indexes")?;
            if array.len() <= *index {
                array.resize(index + 1, Value::Null);
            }
            &mut array[*index]
        }
    };
    insert(slot, rest, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_nested_orders() {
        let header: Vec<String> = [
            "external_id",
            "customer.email",
            "tags",
            "items[0].sku",
            "items[0].quantity",
            "items.1.sku",
            "items.1.quantity",
            "note",
        ]
        .map(str::to_string)
        .to_vec();
        let fields: Vec<String> = [
            "A-1",
            "a@example.com",
            "vip|gift",
            "MUG",
            "2",
            "CUP",
            "x",
            "",
        ]
        .map(str::to_string)
        .to_vec();
        let value = unflatten(&header, &fields).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "external_id": "A-1", "customer": {"email": "a@example.com"},
                "tags": ["vip", "gift"],
                "items": [{"sku": "MUG", "quantity": 2}, {"sku": "CUP", "quantity": "x"}]
            })
        );
    }
}
