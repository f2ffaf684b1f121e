//! Translates a search request (the parsed staff query plus scope, sort and
//! paging) into Meilisearch search parameters: `q`, `filter`, `sort`, `facets`
//! and a page window. Pure, so it is tested without a server.
//!
//! - Free-text words go to `q` in the form the index holds them: folded, a
//!   phone-like word as its digits (searched in `phone_suffixes`), a word with
//!   inner punctuation joined (`MUG-BLUE` → `mugblue`, searched in `sku` and
//!   `joined`). Meilisearch does typos and prefixes itself. Phrases stay quoted.
//! - Negated words and phrases use Meilisearch's negative operator (`-word`,
//!   `-"a phrase"`), which excludes documents containing the exact word or
//!   phrase: unlike the embedded engine it does not also exclude typo or prefix
//!   matches of a negated word.
//! - Qualifiers become filter expressions on the keys the embedded schema uses,
//!   values normalized the same way; store scope and `deleted = false` are added.

use std::ops::Bound;

use crate::search::embedded::schema::key;
use crate::search::embedded::translate::cents_range;
use crate::search::engine::{FacetField, SearchRequest, Sort, SortField};
use crate::search::normalize;
use crate::search::query::{ClauseKind, KeywordField, Range};

use super::document::{joined, trim_punctuation};

/// Meilisearch search parameters for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPlan {
    /// `None` for a placeholder search (no positive or negative text).
    pub q: Option<String>,
    /// `None` when nothing is filtered.
    pub filter: Option<String>,
    pub sort: Vec<String>,
    pub facets: Vec<&'static str>,
    pub window: PageWindow,
}

/// A page of `hits_per_page` hits that covers the requested `offset..offset + limit`.
///
/// Meilisearch counts hits exactly (`totalHits`) only in page mode, so an
/// arbitrary offset is served from the smallest page size that holds the
/// whole requested range on one page (under twice `limit` plus ten for any
/// `offset + limit` up to 10 000); `skip` hits of it come before the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    pub page: usize,
    pub hits_per_page: usize,
    pub skip: usize,
    pub limit: usize,
}

impl PageWindow {
    pub fn covering(offset: usize, limit: usize) -> Self {
        let limit = limit.max(1);
        let last = offset + limit - 1;
        let hits_per_page = (limit..=last + 1)
            .find(|size| offset / size == last / size)
            .unwrap_or(last + 1);
        Self {
            page: offset / hits_per_page + 1,
            hits_per_page,
            skip: offset % hits_per_page,
            limit,
        }
    }
}

/// The Meilisearch form of the request, or `None` when nothing can match.
pub fn plan(request: &SearchRequest) -> Option<SearchPlan> {
    let q = query_text(request)?;
    Some(SearchPlan {
        q,
        filter: filter(request),
        sort: sort(request),
        facets: request
            .facets
            .iter()
            .map(|facet| facet_attribute(*facet))
            .collect(),
        window: PageWindow::covering(request.offset, request.limit),
    })
}

/// The attribute a facet is counted on (named as the embedded engine names it).
pub fn facet_attribute(facet: FacetField) -> &'static str {
    match facet {
        FacetField::Status => "status",
        FacetField::Category => "category",
        FacetField::Store => "store",
        FacetField::Country => "country",
        FacetField::Tag => "tag",
    }
}

/// A free-text word as a `q` term: a bare token, or a phrase when Meilisearch
/// must match its tokens in sequence. `None` when nothing searchable is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Token(String),
    Phrase(String),
}

impl Term {
    fn render(&self, negated: bool) -> String {
        let sign = if negated { "-" } else { "" };
        match self {
            Term::Token(token) => format!("{sign}{token}"),
            Term::Phrase(phrase) => format!("{sign}\"{phrase}\""),
        }
    }
}

/// How a typed word is searched: see the module documentation.
pub fn word_term(word: &str) -> Option<Term> {
    let word = trim_punctuation(word);
    if word.is_empty() {
        return None;
    }
    if word.chars().all(char::is_alphanumeric) {
        return Some(Term::Token(normalize::fold(word)));
    }
    if normalize::looks_like_phone(word) {
        return Some(Term::Token(normalize::phone_digits(word)));
    }
    match joined(word) {
        Some(joined) => Some(Term::Token(joined)),
        None => phrase_term(word),
    }
}

/// A quoted phrase, folded, without quotes of its own (`q` cannot escape them).
pub fn phrase_term(phrase: &str) -> Option<Term> {
    let cleaned = normalize::fold(phrase).replace('"', " ");
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    cleaned
        .chars()
        .any(char::is_alphanumeric)
        .then_some(Term::Phrase(cleaned))
}

/// `q`: negated terms first, then phrases, then words, so the last word typed
/// is the last token and Meilisearch matches it as a prefix.
/// `None` (outer) when a positive word can match nothing.
fn query_text(request: &SearchRequest) -> Option<Option<String>> {
    let mut negated = Vec::new();
    let mut phrases = Vec::new();
    let mut words = Vec::new();
    for clause in &request.query.clauses {
        let term = match &clause.kind {
            ClauseKind::Text(word) => word_term(word),
            ClauseKind::Phrase(phrase) => phrase_term(phrase),
            _ => continue,
        };
        match (term, clause.negated) {
            // Excluding what matches nothing excludes nothing.
            (None, true) => {}
            (None, false) => return None,
            (Some(term), true) => negated.push(term.render(true)),
            (Some(term @ Term::Phrase(_)), false) => phrases.push(term.render(false)),
            (Some(term @ Term::Token(_)), false) => words.push(term.render(false)),
        }
    }
    let terms: Vec<String> = negated.into_iter().chain(phrases).chain(words).collect();
    Some((!terms.is_empty()).then(|| terms.join(" ")))
}

/// A string literal for a filter: quoted, with `\` and `"` escaped.
pub fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The filter: scope, deleted, keyset and every qualifier, ANDed.
pub fn filter(request: &SearchRequest) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(store) = &request.store {
        parts.push(format!("store = {}", quote(store)));
    }
    if !request.include_deleted {
        parts.push("deleted = false".to_string());
    }
    if let Some(after) = request.after_number {
        parts.push(format!("number > {after}"));
    }
    for clause in &request.query.clauses {
        let expression = match &clause.kind {
            ClauseKind::Text(_) | ClauseKind::Phrase(_) => continue,
            ClauseKind::Keyword(field, values) => keyword_filter(*field, values),
            ClauseKind::Number(number) => format!("number = {number}"),
            ClauseKind::Total(range) => range_filter("total_cents", &cents_range(range)),
            ClauseKind::Created(range) => range_filter(
                "created",
                &Range {
                    lower: map_bound(&range.lower, |time| time.timestamp_micros()),
                    upper: map_bound(&range.upper, |time| time.timestamp_micros()),
                },
            ),
        };
        parts.push(if clause.negated {
            format!("NOT ({expression})")
        } else {
            expression
        });
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// Any of the values, each compared on the key the embedded engine uses.
fn keyword_filter(field: KeywordField, values: &[String]) -> String {
    let comparisons: Vec<String> = values
        .iter()
        .map(|value| {
            let (attribute, normalized) = keyword_key(field, value);
            format!("{attribute} = {}", quote(&normalized))
        })
        .collect();
    match comparisons.len() {
        // No value matches no order.
        0 => "number < 0".to_string(),
        1 => comparisons.into_iter().next().unwrap_or_default(),
        _ => format!("({})", comparisons.join(" OR ")),
    }
}

/// The attribute and normalized value a qualifier value is compared on.
pub fn keyword_key(field: KeywordField, value: &str) -> (&'static str, String) {
    match field {
        KeywordField::Status => ("status", value.to_lowercase()),
        KeywordField::Email if value.contains('@') => ("email", value.to_lowercase()),
        KeywordField::Email => ("email_part", value.to_lowercase()),
        KeywordField::Sku => ("sku", normalize::sku(value)),
        KeywordField::Category => ("category_key", key(value)),
        KeywordField::Country => ("country", value.to_uppercase()),
        KeywordField::City => ("city_key", key(value)),
        KeywordField::Tag => ("tag", key(value)),
        KeywordField::Store => ("store", value.to_string()),
        KeywordField::Customer => ("customer_id", value.to_string()),
    }
}

fn range_filter(attribute: &str, range: &Range<i64>) -> String {
    let lower = match range.lower {
        Bound::Included(value) => Some(format!("{attribute} >= {value}")),
        Bound::Excluded(value) => Some(format!("{attribute} > {value}")),
        Bound::Unbounded => None,
    };
    let upper = match range.upper {
        Bound::Included(value) => Some(format!("{attribute} <= {value}")),
        Bound::Excluded(value) => Some(format!("{attribute} < {value}")),
        Bound::Unbounded => None,
    };
    match (lower, upper) {
        (Some(lower), Some(upper)) => format!("({lower} AND {upper})"),
        (Some(bound), None) | (None, Some(bound)) => bound,
        (None, None) => format!("{attribute} EXISTS"),
    }
}

fn map_bound<T, U>(bound: &Bound<T>, f: impl Fn(&T) -> U) -> Bound<U> {
    match bound {
        Bound::Included(value) => Bound::Included(f(value)),
        Bound::Excluded(value) => Bound::Excluded(f(value)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The attribute a sort field is sorted on.
pub fn sort_attribute(field: SortField) -> &'static str {
    match field {
        SortField::CreatedAt => "created",
        SortField::Total => "total_cents",
        SortField::Number => "number",
    }
}

/// `sort`: an explicit field, or for relevance nothing when text is scored
/// (the ranking rules end with `created:desc` as the tie-break) and newest
/// first when it is not, as the embedded engine orders.
fn sort(request: &SearchRequest) -> Vec<String> {
    match request.sort {
        Sort::By { field, descending } => {
            let direction = if descending { "desc" } else { "asc" };
            vec![format!("{}:{direction}", sort_attribute(field))]
        }
        Sort::Relevance => {
            let scored = request
                .query
                .clauses
                .iter()
                .any(|clause| !clause.negated && clause.is_free_text());
            if scored {
                Vec::new()
            } else {
                vec!["created:desc".to_string()]
            }
        }
    }
}
