//! The tantivy schema of an order document, and turning documents into its rows.
//!
//! Free text goes into one folded `text` field (names, emails, items, shipping,
//! tags, note), which typo and prefix queries search. Identifiers get raw
//! fields of their own, normalized the way staff type them: number prefixes,
//! phone digit suffixes, SKUs without separators, email local part and domain.
//! The order number is matched through its prefixes only (a typo in a number
//! finds other orders, not the one meant).

use tantivy::schema::{
    FAST, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, TantivyDocument, Term};

use crate::search::document::OrderDocument;
use crate::search::normalize;

/// The analyzer of the `text` field: words, lower-cased, diacritics folded.
pub const FOLD_TOKENIZER: &str = "fold";

/// Handles to every field.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: tantivy::schema::Field,
    pub number: tantivy::schema::Field,
    pub number_prefix: tantivy::schema::Field,
    pub store: tantivy::schema::Field,
    pub status: tantivy::schema::Field,
    pub deleted: tantivy::schema::Field,
    pub customer_id: tantivy::schema::Field,
    pub email: tantivy::schema::Field,
    pub email_part: tantivy::schema::Field,
    pub phone_suffix: tantivy::schema::Field,
    pub sku: tantivy::schema::Field,
    pub category: tantivy::schema::Field,
    pub category_key: tantivy::schema::Field,
    pub country: tantivy::schema::Field,
    pub city_key: tantivy::schema::Field,
    pub tag: tantivy::schema::Field,
    pub text: tantivy::schema::Field,
    pub total_cents: tantivy::schema::Field,
    pub created: tantivy::schema::Field,
    pub change_stamp: tantivy::schema::Field,
    pub source: tantivy::schema::Field,
}

/// The schema new indexes are created with.
///
/// `created` and `total_cents` are fast fields only: tantivy answers range
/// queries on fast fields from the column, and indexing them would add a
/// near-unique term per document (a million terms at a million orders) that no
/// query reads.
pub fn build() -> Schema {
    let mut builder = Schema::builder();
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(FOLD_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    // Exact-match strings that facets, sorts or id lookups also read by column.
    for name in ["id", "store", "status", "category", "country", "tag"] {
        builder.add_text_field(name, STRING | FAST);
    }
    // Exact-match strings, normalized the way staff type them.
    for name in [
        "number_prefix",
        "customer_id",
        "email",
        "email_part",
        "phone_suffix",
        "sku",
        "category_key",
        "city_key",
    ] {
        builder.add_text_field(name, STRING);
    }
    builder.add_u64_field("number", INDEXED | FAST);
    builder.add_u64_field("deleted", INDEXED);
    builder.add_text_field("text", text_options);
    for name in ["total_cents", "created", "change_stamp"] {
        builder.add_i64_field(name, FAST);
    }
    builder.add_bytes_field("source", STORED);
    builder.build()
}

impl Fields {
    /// The field handles of `schema`, found by name, so an index created by an
    /// earlier version of [`build`] (same fields, other options) keeps serving
    /// until a reindex creates one with the current schema.
    pub fn resolve(schema: &Schema) -> tantivy::Result<Fields> {
        let field = |name: &str| schema.get_field(name);
        Ok(Fields {
            id: field("id")?,
            number: field("number")?,
            number_prefix: field("number_prefix")?,
            store: field("store")?,
            status: field("status")?,
            deleted: field("deleted")?,
            customer_id: field("customer_id")?,
            email: field("email")?,
            email_part: field("email_part")?,
            phone_suffix: field("phone_suffix")?,
            sku: field("sku")?,
            category: field("category")?,
            category_key: field("category_key")?,
            country: field("country")?,
            city_key: field("city_key")?,
            tag: field("tag")?,
            text: field("text")?,
            total_cents: field("total_cents")?,
            created: field("created")?,
            change_stamp: field("change_stamp")?,
            source: field("source")?,
        })
    }
}

/// Registers the analyzers the schema names; needed on every open.
pub fn register_tokenizers(index: &Index) {
    let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    index.tokenizers().register(FOLD_TOKENIZER, analyzer);
}

/// The term that identifies an order's document.
pub fn id_term(fields: &Fields, id: uuid::Uuid) -> Term {
    Term::from_field_text(fields.id, &id.to_string())
}

/// Lower-case key of a category, city or tag for exact filters.
pub fn key(text: &str) -> String {
    normalize::fold(text.trim())
}

/// The tantivy document of an order.
pub fn to_tantivy(fields: &Fields, order: &OrderDocument) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(fields.id, order.id.to_string());
    doc.add_u64(
        fields.number,
        u64::try_from(order.number).unwrap_or_default(),
    );
    for prefix in order.number_prefixes() {
        doc.add_text(fields.number_prefix, prefix);
    }
    doc.add_text(fields.store, &order.store);
    doc.add_text(fields.status, &order.status);
    doc.add_u64(fields.deleted, u64::from(order.deleted));
    if let Some(id) = &order.customer.id {
        doc.add_text(fields.customer_id, id);
    }
    if let Some(email) = &order.customer.email {
        doc.add_text(fields.email, email.to_lowercase());
        if let Some((local, domain)) = normalize::email_parts(email) {
            doc.add_text(fields.email_part, local);
            doc.add_text(fields.email_part, domain);
        }
        doc.add_text(fields.text, email);
    }
    for suffix in order.phone_suffixes() {
        doc.add_text(fields.phone_suffix, suffix);
    }
    let mut categories: Vec<&str> = Vec::new();
    for item in &order.items {
        doc.add_text(fields.sku, normalize::sku(&item.sku));
        doc.add_text(fields.text, &item.sku);
        doc.add_text(fields.text, &item.name);
        if !categories.contains(&item.category.as_str()) {
            categories.push(&item.category);
            doc.add_text(fields.category, &item.category);
            doc.add_text(fields.category_key, key(&item.category));
        }
    }
    let texts = [
        order.customer.name.as_deref(),
        order.customer.phone.as_deref(),
        order.shipping.name.as_deref(),
        order.shipping.city.as_deref(),
        order.shipping.postal_code.as_deref(),
        order.note.as_deref(),
    ];
    for text in texts.into_iter().flatten() {
        doc.add_text(fields.text, text);
    }
    if let Some(country) = &order.shipping.country {
        doc.add_text(fields.country, country.to_uppercase());
    }
    if let Some(city) = &order.shipping.city {
        doc.add_text(fields.city_key, key(city));
    }
    for tag in &order.tags {
        doc.add_text(fields.tag, key(tag));
        doc.add_text(fields.text, tag);
    }
    doc.add_i64(fields.total_cents, order.total_cents());
    doc.add_i64(fields.created, order.created_at.timestamp_micros());
    doc.add_i64(fields.change_stamp, order.change_stamp);
    doc.add_bytes(
        fields.source,
        &serde_json::to_vec(order).unwrap_or_default(),
    );
    doc
}
