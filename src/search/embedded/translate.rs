//! Translates the parsed staff query into a tantivy query.
//!
//! A free-text word matches the folded `text` field exactly, as a prefix, or
//! within the typo distance, or an identifier the way staff type it (number
//! prefix, phone digits, SKU without separators, whole email). Qualifiers become
//! exact filters that do not affect the score.

use std::ops::Bound;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Searcher, Term};

use super::schema::{Fields, key};
use crate::search::engine::SearchRequest;
use crate::search::highlight::{matches_as_prefix, typo_distance};
use crate::search::normalize;
use crate::search::query::{ClauseKind, KeywordField, Range};

/// The whole query: the caller's clauses plus store scope and deleted filter.
pub fn translate(
    request: &SearchRequest,
    fields: &Fields,
    analyzer: &mut TextAnalyzer,
    searcher: &Searcher,
) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(store) = &request.store {
        clauses.push((Occur::Must, filter(term(fields.store, store))));
    }
    if !request.include_deleted {
        // Excluding the few deleted orders is far cheaper than intersecting
        // every match with the postings of all the live ones.
        clauses.push((
            Occur::MustNot,
            Box::new(TermQuery::new(
                Term::from_field_u64(fields.deleted, 1),
                IndexRecordOption::Basic,
            )),
        ));
    }
    if let Some(after) = request.after_number {
        let above = Term::from_field_u64(fields.number, after);
        clauses.push((
            Occur::Must,
            filter(Box::new(RangeQuery::new(
                Bound::Excluded(above),
                Bound::Unbounded,
            ))),
        ));
    }
    for clause in &request.query.clauses {
        let (occur, query) = match (&clause.kind, clause.negated) {
            // tantivy's phrase scorer cannot be excluded (it asserts when an
            // exclusion seeks it backwards), so `-"a b"` excludes orders having
            // all of the phrase's words.
            (ClauseKind::Phrase(phrase), true) => {
                (Occur::MustNot, all_words(phrase, fields, analyzer))
            }
            (kind, true) => (
                Occur::MustNot,
                clause_query(kind, fields, analyzer, searcher),
            ),
            (kind, false) => (Occur::Must, clause_query(kind, fields, analyzer, searcher)),
        };
        clauses.push((occur, query));
    }
    if !clauses.iter().any(|(occur, _)| *occur == Occur::Must) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    Box::new(BooleanQuery::new(clauses))
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

fn filter(query: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, 0.0))
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        queries
            .into_iter()
            .map(|query| (Occur::Should, query))
            .collect(),
    ))
}

fn all_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        queries
            .into_iter()
            .map(|query| (Occur::Must, query))
            .collect(),
    ))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

/// The folded tokens of a text, as the `text` field indexed them.
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        tokens.push(stream.token().text.clone());
    }
    tokens
}

/// Every word of `text`, exactly, anywhere in the document.
fn all_words(text: &str, fields: &Fields, analyzer: &mut TextAnalyzer) -> Box<dyn Query> {
    let words = analyze(analyzer, text)
        .iter()
        .map(|token| term(fields.text, token))
        .collect();
    all_of(words)
}

fn clause_query(
    kind: &ClauseKind,
    fields: &Fields,
    analyzer: &mut TextAnalyzer,
    searcher: &Searcher,
) -> Box<dyn Query> {
    match kind {
        ClauseKind::Text(word) => word_query(word, fields, analyzer, searcher),
        ClauseKind::Phrase(phrase) => {
            let terms: Vec<Term> = analyze(analyzer, phrase)
                .iter()
                .map(|token| Term::from_field_text(fields.text, token))
                .collect();
            match terms.len() {
                0 => Box::new(AllQuery),
                1 => Box::new(TermQuery::new(
                    terms[0].clone(),
                    IndexRecordOption::WithFreqs,
                )),
                _ => Box::new(PhraseQuery::new(terms)),
            }
        }
        ClauseKind::Keyword(field, values) => filter(any_of(
            values
                .iter()
                .map(|value| keyword_query(*field, value, fields))
                .collect(),
        )),
        ClauseKind::Number(number) => filter(Box::new(TermQuery::new(
            Term::from_field_u64(fields.number, *number),
            IndexRecordOption::Basic,
        ))),
        ClauseKind::Total(range) => filter(range_query(fields.total_cents, &cents_range(range))),
        ClauseKind::Created(range) => {
            let micros = Range {
                lower: map_bound(&range.lower, |time| time.timestamp_micros()),
                upper: map_bound(&range.upper, |time| time.timestamp_micros()),
            };
            filter(range_query(fields.created, &micros))
        }
    }
}

/// One free-text word: text tokens (exact, prefix, typo) or an identifier.
///
/// A word with inner punctuation, or of letters and digits, that is the SKU of
/// some indexed line (`PEN-BEIGE-M`, `puzzlelnd1000`) means that SKU: it
/// matches the SKU (and SKUs it begins) only, as Meilisearch's joined-word
/// matching does, rather than every order whose text holds `pen`, `beige` and
/// `m` in any field, or words within two typos of `puzzlelnd1000`.
fn word_query(
    word: &str,
    fields: &Fields,
    analyzer: &mut TextAnalyzer,
    searcher: &Searcher,
) -> Box<dyn Query> {
    if word.contains('@') {
        // An email, whole or being typed: the address itself, not its words.
        let email = Term::from_field_text(fields.email, &word.to_lowercase());
        return any_of(vec![
            boosted(
                Box::new(TermQuery::new(email.clone(), IndexRecordOption::Basic)),
                4.0,
            ),
            Box::new(FuzzyTermQuery::new_prefix(email, 0, true)),
        ]);
    }
    let sku = normalize::sku(word);
    let sku_term = Term::from_field_text(fields.sku, &sku);
    let punctuated = word.chars().any(|c| !c.is_alphanumeric());
    let letters_and_digits =
        word.chars().any(|c| c.is_ascii_digit()) && word.chars().any(char::is_alphabetic);
    if (punctuated || letters_and_digits)
        && sku.len() >= 2
        && searcher.doc_freq(&sku_term).unwrap_or(0) > 0
    {
        return sku_queries(sku_term);
    }
    let tokens = analyze(analyzer, word);
    let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
    if !tokens.is_empty() {
        let token_queries = tokens
            .iter()
            .map(|token| token_query(token, fields))
            .collect();
        alternatives.push(all_of(token_queries));
    }
    let digits = normalize::phone_digits(word);
    if word.chars().all(|c| c.is_ascii_digit()) {
        alternatives.push(boosted(term(fields.number_prefix, word), 4.0));
    }
    if normalize::looks_like_phone(word) && digits.len() >= 4 {
        alternatives.push(boosted(term(fields.phone_suffix, &digits), 3.0));
    }
    if sku.len() >= 2 {
        // SKUs are in the text too, word by word: a word that is itself a
        // text word (`pen`) already finds as prefixes the SKUs it begins
        // (`PEN-BEIGE-M`). Only a word spanning a SKU's separators
        // (`penbei`) needs the SKU prefix, which for a common word would
        // read the postings of every SKU it begins.
        let text_word = matches!(tokens.as_slice(), [token]
            if searcher.doc_freq(&Term::from_field_text(fields.text, token)).unwrap_or(0) > 0);
        alternatives.push(if text_word {
            sku_exactly(sku_term)
        } else {
            sku_queries(sku_term)
        });
    }
    any_of(alternatives)
}

/// A SKU without separators, exactly (boosted) or as the beginning of one.
fn sku_queries(sku: Term) -> Box<dyn Query> {
    let prefix = FuzzyTermQuery::new_prefix(sku.clone(), 0, true);
    any_of(vec![sku_exactly(sku), Box::new(prefix)])
}

fn sku_exactly(sku: Term) -> Box<dyn Query> {
    boosted(Box::new(TermQuery::new(sku, IndexRecordOption::Basic)), 3.0)
}

fn token_query(token: &str, fields: &Fields) -> Box<dyn Query> {
    let text_term = Term::from_field_text(fields.text, token);
    let mut options: Vec<Box<dyn Query>> = vec![boosted(
        Box::new(TermQuery::new(
            text_term.clone(),
            IndexRecordOption::WithFreqs,
        )),
        3.0,
    )];
    if matches_as_prefix(token) {
        options.push(boosted(
            Box::new(FuzzyTermQuery::new_prefix(text_term.clone(), 0, true)),
            1.5,
        ));
    }
    let distance = typo_distance(token);
    if distance > 0 {
        options.push(Box::new(FuzzyTermQuery::new(text_term, distance, true)));
    }
    any_of(options)
}

fn keyword_query(field: KeywordField, value: &str, fields: &Fields) -> Box<dyn Query> {
    match field {
        KeywordField::Status => term(fields.status, &value.to_lowercase()),
        KeywordField::Email if value.contains('@') => term(fields.email, &value.to_lowercase()),
        KeywordField::Email => term(fields.email_part, &value.to_lowercase()),
        KeywordField::Sku => term(fields.sku, &normalize::sku(value)),
        KeywordField::Category => term(fields.category_key, &key(value)),
        KeywordField::Country => term(fields.country, &value.to_uppercase()),
        KeywordField::City => term(fields.city_key, &key(value)),
        KeywordField::Tag => term(fields.tag, &key(value)),
        KeywordField::Store => term(fields.store, value),
        KeywordField::Customer => term(fields.customer_id, value),
    }
}

fn map_bound<T, U>(bound: &Bound<T>, f: impl Fn(&T) -> U) -> Bound<U> {
    match bound {
        Bound::Included(value) => Bound::Included(f(value)),
        Bound::Excluded(value) => Bound::Excluded(f(value)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// A decimal range as whole cents, rounding inward so no total outside it matches.
pub fn cents_range(range: &Range<Decimal>) -> Range<i64> {
    let hundred = Decimal::from(100);
    let to_i64 = |value: Decimal| {
        value.to_i64().unwrap_or(if value.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        })
    };
    let lower = match &range.lower {
        Bound::Included(value) => Bound::Included(to_i64((value * hundred).ceil())),
        Bound::Excluded(value) if (value * hundred).fract().is_zero() => {
            Bound::Excluded(to_i64(value * hundred))
        }
        Bound::Excluded(value) => Bound::Included(to_i64((value * hundred).ceil())),
        Bound::Unbounded => Bound::Unbounded,
    };
    let upper = match &range.upper {
        Bound::Included(value) => Bound::Included(to_i64((value * hundred).floor())),
        Bound::Excluded(value) if (value * hundred).fract().is_zero() => {
            Bound::Excluded(to_i64(value * hundred))
        }
        Bound::Excluded(value) => Bound::Included(to_i64((value * hundred).floor())),
        Bound::Unbounded => Bound::Unbounded,
    };
    Range { lower, upper }
}

fn range_query(field: Field, range: &Range<i64>) -> Box<dyn Query> {
    let to_term = |value: &i64| Term::from_field_i64(field, *value);
    Box::new(RangeQuery::new(
        map_bound(&range.lower, to_term),
        map_bound(&range.upper, to_term),
    ))
}
