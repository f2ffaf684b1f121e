//! The staff query language (placeholder; being written).
