//! `validator` rules for identifiers and text, shared by every request type.

use std::borrow::Cow;

use validator::ValidationError;

fn fail(code: &'static str, message: &'static str) -> ValidationError {
    ValidationError::new(code).with_message(Cow::Borrowed(message))
}

/// Text that is not only white space.
pub fn not_blank(text: &str) -> Result<(), ValidationError> {
    if text.trim().is_empty() {
        return Err(fail("blank", "must not be blank"));
    }
    Ok(())
}

/// A store id: 1–32 of `a-z`, `0-9`, `-`, `_`.
pub fn store_id(text: &str) -> Result<(), ValidationError> {
    let valid = (1..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid {
        return Err(fail(
            "store_id",
            "must be 1-32 characters of a-z, 0-9, '-' or '_'",
        ));
    }
    Ok(())
}

/// An ISO 4217 currency code: three upper-case letters.
pub fn currency(text: &str) -> Result<(), ValidationError> {
    if text.len() != 3 || !text.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(fail("currency", "must be an ISO 4217 code such as \"EUR\""));
    }
    Ok(())
}

/// An IANA time zone name known to the tz database.
pub fn timezone(text: &str) -> Result<(), ValidationError> {
    if text.parse::<chrono_tz::Tz>().is_err() {
        return Err(fail(
            "timezone",
            "must be an IANA time zone such as \"Europe/Warsaw\"",
        ));
    }
    Ok(())
}

/// A SKU: 1–64 printable ASCII characters without spaces.
pub fn sku(text: &str) -> Result<(), ValidationError> {
    let valid = (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
    if !valid {
        return Err(fail(
            "sku",
            "must be 1-64 printable characters without spaces",
        ));
    }
    Ok(())
}

/// A money amount that is zero or more.
pub fn non_negative_money(amount: &super::Money) -> Result<(), ValidationError> {
    if amount.is_negative() {
        return Err(fail("range", "must be ≥ 0"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_their_rules() {
        assert!(store_id("eu-1").is_ok());
        assert!(store_id("EU").is_err());
        assert!(currency("EUR").is_ok());
        assert!(currency("eur").is_err());
        assert!(timezone("Europe/Warsaw").is_ok());
        assert!(timezone("Mars/Base").is_err());
        assert!(sku("MUG-BLUE").is_ok());
        assert!(sku("MUG BLUE").is_err());
    }
}
