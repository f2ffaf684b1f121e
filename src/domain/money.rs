//! `Money`: an exact decimal amount with at most two places.
//!
//! Inputs accept a JSON number or a string (`29.99` or `"29.99"`); more than two
//! decimal places, non-numbers and absurd magnitudes are rejected. Outputs are
//! always strings with exactly two places, so no client meets a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount accepted anywhere (fits `numeric(14, 2)`).
const MAX_AMOUNT: i64 = 999_999_999_999;

/// An exact amount of money with two decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, sqlx::Type)]
#[sqlx(transparent)]
pub struct Money(Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Parses a decimal text, rejecting more than two places and out-of-range values.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        let value =
            Decimal::from_str(text).map_err(|_| "must be a decimal amount such as \"29.99\"")?;
        Self::from_decimal(value)
    }

    /// Checks scale and range of an exact decimal.
    pub fn from_decimal(value: Decimal) -> Result<Self, &'static str> {
        let value = value.normalize();
        if value.scale() > 2 {
            return Err("must have at most two decimal places");
        }
        if value.abs() > Decimal::from(MAX_AMOUNT) {
            return Err("is out of range");
        }
        Ok(Self(value.round_dp(2)))
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// `self × quantity`, exact.
    pub fn times(self, quantity: i32) -> Money {
        Money(self.0 * Decimal::from(quantity))
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl From<Decimal> for Money {
    /// Values read from the database are already exact with two places.
    fn from(value: Decimal) -> Self {
        Money(value)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MoneyVisitor)
    }
}

struct MoneyVisitor;

impl Visitor<'_> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal amount as a number or string, such as \"29.99\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Money, E> {
        Money::parse(text).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Money, E> {
        Money::from_decimal(Decimal::from(value)).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Money, E> {
        Money::from_decimal(Decimal::from(value)).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Money, E> {
        // The shortest text that round-trips is what the client wrote (29.99 → "29.99").
        if !value.is_finite() || value.abs() > MAX_AMOUNT as f64 {
            return Err(E::custom("is out of range"));
        }
        Money::parse(&value.to_string()).map_err(E::custom)
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "Decimal amount with two places, e.g. \"29.99\"; inputs also accept a JSON number",
            ))
            .pattern(Some(r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"))
            .examples(["29.99"])
            .into()
    }
}

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_strings_and_prints_two_places() {
        let from_number: Money = serde_json::from_str("29.9").unwrap();
        let from_string: Money = serde_json::from_str("\"29.90\"").unwrap();
        assert_eq!(from_number, from_string);
        assert_eq!(serde_json::to_string(&from_number).unwrap(), "\"29.90\"");
    }

    #[test]
    fn rejects_three_places_and_huge_values() {
        assert!(serde_json::from_str::<Money>("1.005").is_err());
        assert!(serde_json::from_str::<Money>("\"1.005\"").is_err());
        assert!(serde_json::from_str::<Money>("1e300").is_err());
        assert!(serde_json::from_str::<Money>("\"abc\"").is_err());
    }
}
