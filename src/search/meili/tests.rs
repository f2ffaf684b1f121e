//! Tests of the Meilisearch engine: the translation without a server, and the
//! engine against a real server (and beside the embedded engine on the same
//! documents) when `MEILI_URL` is set.

use std::collections::BTreeSet;
use std::ops::Bound;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;

use super::translate::{PageWindow, Term, filter, phrase_term, plan, quote, word_term};
use crate::search::engine::{FacetField, SearchRequest, Sort, SortField};
use crate::search::query::{self, Clause, ClauseKind, KeywordField, Query, Range};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

fn request(q: &str) -> SearchRequest {
    SearchRequest {
        query: query::parse(q, now()).unwrap(),
        store: None,
        include_deleted: true,
        sort: Sort::Relevance,
        offset: 0,
        limit: 20,
        facets: Vec::new(),
        after_number: None,
    }
}

fn clause(negated: bool, kind: ClauseKind) -> Clause {
    Clause {
        negated,
        kind,
        span: 0..0,
    }
}

fn token(text: &str) -> Option<Term> {
    Some(Term::Token(text.to_string()))
}

#[test]
fn words_are_searched_in_the_form_the_index_holds() {
    assert_eq!(word_term("Łódź"), token("lodz"));
    assert_eq!(word_term("jnae"), token("jnae"));
    assert_eq!(word_term("MUG-BLUE"), token("mugblue"));
    assert_eq!(word_term("mug_blue"), token("mugblue"));
    assert_eq!(word_term("jane@example.com"), token("janeexamplecom"));
    assert_eq!(word_term("555.010.0200"), token("5550100200"));
    assert_eq!(word_term("(600)100200"), token("600100200"));
    assert_eq!(word_term("#1042"), token("1042"));
    assert_eq!(word_term("jane,"), token("jane"));
    assert_eq!(
        word_term("Москва-Сити"),
        Some(Term::Phrase("москва-сити".to_string()))
    );
    assert_eq!(word_term("---"), None);
    assert_eq!(
        phrase_term("  Leave \"at\"  the door "),
        Some(Term::Phrase("leave at the door".to_string()))
    );
}

#[test]
fn q_puts_negations_first_and_the_last_word_last_for_prefix_matching() {
    let plan = plan(&request(
        "\"leave at the door\" jane -kettle -\"gift card\" kett status:shipped",
    ))
    .unwrap();
    assert_eq!(
        plan.q.as_deref(),
        Some("-kettle -\"gift card\" \"leave at the door\" jane kett")
    );
    assert_eq!(plan.filter.as_deref(), Some("status = \"shipped\""));
}

#[test]
fn a_query_of_qualifiers_is_a_placeholder_search_newest_first() {
    let plan = plan(&request("status:shipped")).unwrap();
    assert_eq!(plan.q, None);
    assert_eq!(plan.sort, ["created:desc"]);
    let negated_only = plan_of("-kettle");
    assert_eq!(negated_only.q.as_deref(), Some("-kettle"));
    assert_eq!(negated_only.sort, ["created:desc"]);
    assert!(
        plan_of("kettle").sort.is_empty(),
        "scored text sorts by relevance"
    );
}

fn plan_of(q: &str) -> super::translate::SearchPlan {
    plan(&request(q)).unwrap()
}

#[test]
fn a_word_of_punctuation_matches_nothing_and_excluding_it_excludes_nothing() {
    let mut punctuation = request("jane");
    punctuation
        .query
        .clauses
        .push(clause(false, ClauseKind::Text("...".to_string())));
    assert_eq!(plan(&punctuation), None);
    punctuation.query.clauses[1].negated = true;
    assert_eq!(plan(&punctuation).unwrap().q.as_deref(), Some("jane"));
}

#[test]
fn scope_deleted_and_keyset_are_always_filtered() {
    let mut scoped = request("");
    scoped.store = Some("eu".to_string());
    scoped.include_deleted = false;
    scoped.after_number = Some(1042);
    assert_eq!(
        filter(&scoped).as_deref(),
        Some("store = \"eu\" AND deleted = false AND number > 1042")
    );
    assert_eq!(filter(&request("")), None);
}

#[test]
fn qualifiers_become_filters_on_the_normalized_keys() {
    let values = |values: &[&str]| {
        values
            .iter()
            .map(|value| value.to_string())
            .collect::<Vec<_>>()
    };
    let keyword = |field, list: &[&str]| ClauseKind::Keyword(field, values(list));
    let mut request = request("");
    request.query = Query {
        clauses: vec![
            clause(
                false,
                keyword(KeywordField::Status, &["Shipped", "pending"]),
            ),
            clause(true, keyword(KeywordField::Country, &["pl"])),
            clause(
                false,
                keyword(KeywordField::Email, &["Jane@Example.com", "example.org"]),
            ),
            clause(false, keyword(KeywordField::Sku, &["mug_blue"])),
            clause(false, keyword(KeywordField::Category, &["Kitchen"])),
            clause(false, keyword(KeywordField::City, &["Kraków"])),
            clause(false, keyword(KeywordField::Tag, &["VIP"])),
            clause(false, keyword(KeywordField::Store, &["eu"])),
            clause(false, keyword(KeywordField::Customer, &["cus_1"])),
            clause(false, ClauseKind::Number(1042)),
        ],
    };
    assert_eq!(
        filter(&request).unwrap(),
        "(status = \"shipped\" OR status = \"pending\") AND NOT (country = \"PL\") AND \
         (email = \"jane@example.com\" OR email_part = \"example.org\") AND sku = \"mugblue\" AND \
         category_key = \"kitchen\" AND city_key = \"krakow\" AND tag = \"vip\" AND store = \"eu\" AND \
         customer_id = \"cus_1\" AND number = 1042"
    );
}

#[test]
fn ranges_round_totals_inward_and_compare_creation_in_microseconds() {
    let decimal = |text: &str| text.parse::<Decimal>().unwrap();
    let day = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let mut request = request("");
    request.query = Query {
        clauses: vec![
            clause(
                false,
                ClauseKind::Total(Range {
                    lower: Bound::Excluded(decimal("100")),
                    upper: Bound::Included(decimal("200.005")),
                }),
            ),
            clause(
                true,
                ClauseKind::Created(Range {
                    lower: Bound::Included(day),
                    upper: Bound::Unbounded,
                }),
            ),
            clause(
                false,
                ClauseKind::Total(Range {
                    lower: Bound::Unbounded,
                    upper: Bound::Unbounded,
                }),
            ),
        ],
    };
    let micros = day.timestamp_micros();
    assert_eq!(
        filter(&request).unwrap(),
        format!(
            "(total_cents > 10000 AND total_cents <= 20000) AND NOT (created >= {micros}) AND total_cents EXISTS"
        )
    );
}

#[test]
fn parsed_qualifiers_translate_end_to_end() {
    let plan = plan_of("city:\"New York\" -status:cancelled total:50..100");
    assert_eq!(
        plan.filter.as_deref(),
        Some(
            "city_key = \"new york\" AND NOT (status = \"cancelled\") AND (total_cents >= 5000 AND total_cents <= 10000)"
        )
    );
}

#[test]
fn filter_values_are_quoted_and_escaped() {
    assert_eq!(quote("plain"), "\"plain\"");
    assert_eq!(quote(r#"say "hi" \o/"#), r#""say \"hi\" \\o/""#);
    let mut request = request("");
    request.store = Some("x\" OR store = \"y".to_string());
    assert_eq!(filter(&request).unwrap(), r#"store = "x\" OR store = \"y""#);
}

#[test]
fn sorts_map_to_sortable_attributes() {
    let mut sorted = request("jane");
    sorted.sort = Sort::By {
        field: SortField::Total,
        descending: false,
    };
    assert_eq!(plan(&sorted).unwrap().sort, ["total_cents:asc"]);
    sorted.sort = Sort::By {
        field: SortField::CreatedAt,
        descending: true,
    };
    assert_eq!(plan(&sorted).unwrap().sort, ["created:desc"]);
    sorted.sort = Sort::By {
        field: SortField::Number,
        descending: true,
    };
    assert_eq!(plan(&sorted).unwrap().sort, ["number:desc"]);
}

#[test]
fn facets_keep_the_embedded_names() {
    let mut faceted = request("");
    faceted.facets = FacetField::ALL.to_vec();
    assert_eq!(
        plan(&faceted).unwrap().facets,
        ["status", "category", "store", "country", "tag"]
    );
}

#[test]
fn a_page_window_covers_any_offset_and_limit() {
    assert_eq!(
        PageWindow::covering(0, 20),
        PageWindow {
            page: 1,
            hits_per_page: 20,
            skip: 0,
            limit: 20
        }
    );
    assert_eq!(PageWindow::covering(40, 20).page, 3);
    assert_eq!(
        PageWindow::covering(1, 2),
        PageWindow {
            page: 1,
            hits_per_page: 3,
            skip: 1,
            limit: 2
        }
    );
    for offset in (0..10_000).step_by(37) {
        for limit in [1, 2, 7, 20, 99, 100] {
            let window = PageWindow::covering(offset, limit);
            assert_eq!(
                (window.page - 1) * window.hits_per_page + window.skip,
                offset,
                "{offset}+{limit}"
            );
            assert!(
                window.skip + limit <= window.hits_per_page,
                "{offset}+{limit}: {window:?}"
            );
            // At worst about twice the hits asked for are fetched.
            assert!(
                window.hits_per_page < 2 * limit + 10,
                "{offset}+{limit}: {window:?}"
            );
        }
    }
}

mod live;
