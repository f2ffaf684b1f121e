//! Domain values checked at the edge: money and the text rules of identifiers.

pub mod money;
pub mod rfc3339;
pub mod rules;

pub use money::Money;
