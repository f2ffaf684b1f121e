//! Order search: the staff query language, the engines behind one seam, and the
//! outbox indexer that feeds them.

pub mod normalize;
pub mod query;
