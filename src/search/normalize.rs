//! Identifier normalization (placeholder; being written).
