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

mod live {
    //! Against a real server: set `MEILI_URL` (and `MEILI_MASTER_KEY`).

    use super::*;
    use crate::search::document::{
        DocumentCustomer, DocumentItem, DocumentShipping, OrderDocument,
    };
    use crate::search::embedded::EmbeddedEngine;
    use crate::search::engine::{EngineError, EngineResults};
    use crate::search::meili::MeiliEngine;
    use uuid::Uuid;

    struct Spec {
        label: &'static str,
        number: i64,
        store: &'static str,
        status: &'static str,
        customer: (&'static str, &'static str, &'static str, &'static str),
        shipping: (&'static str, &'static str, &'static str, &'static str),
        items: &'static [(&'static str, &'static str, &'static str)],
        tags: &'static [&'static str],
        note: &'static str,
        total: &'static str,
        age_days: i64,
    }

    const SPECS: &[Spec] = &[
        Spec {
            label: "jane",
            number: 1042,
            store: "default",
            status: "shipped",
            customer: (
                "cus_jane",
                "jane@example.com",
                "Jane Doe",
                "+48 600 100 200",
            ),
            shipping: ("Jane Doe", "Kraków", "30-001", "PL"),
            items: &[
                ("KETTLE-STEEL", "Stainless Kettle 1.7L", "Kitchen"),
                ("MUG-BLUE", "Blue Ceramic Mug", "Kitchen"),
            ],
            tags: &["vip"],
            note: "leave at the door",
            total: "65.99",
            age_days: 1,
        },
        Spec {
            label: "john",
            number: 10421,
            store: "default",
            status: "pending",
            customer: (
                "cus_john",
                "john.smith@shop.co.uk",
                "John Smith",
                "(555) 010-0200",
            ),
            shipping: ("John Smith", "London", "SW1A 1AA", "GB"),
            items: &[("LAMP-DESK", "Desk Lamp LED", "Lighting")],
            tags: &[],
            note: "",
            total: "35.00",
            age_days: 2,
        },
        Spec {
            label: "zoe",
            number: 20001,
            store: "default",
            status: "completed",
            customer: (
                "cus_zoe",
                "zoe@example.org",
                "Zoë Łukasiewicz",
                "600.555.777",
            ),
            shipping: ("Zoë Łukasiewicz", "Łódź", "90-001", "PL"),
            items: &[("TSHIRT-RED-M", "Red T-Shirt M", "Apparel")],
            tags: &[],
            note: "",
            total: "59.97",
            age_days: 3,
        },
        Spec {
            label: "mary",
            number: 20002,
            store: "default",
            status: "cancelled",
            customer: ("cus_mary", "mary@corp.com", "Mary Major", "+1-555-010-0999"),
            shipping: ("Mary Major", "New York", "10001", "US"),
            items: &[
                ("BOOK-RUST", "Rust Programming Book", "Books"),
                ("PLANT-FICUS", "Ficus Plant", "Garden"),
            ],
            tags: &["gift"],
            note: "birthday present",
            total: "143.00",
            age_days: 4,
        },
        Spec {
            label: "roe",
            number: 20003,
            store: "default",
            status: "processing",
            customer: (
                "cus_roe",
                "jane.roe@example.com",
                "Jane Roe",
                "030 1234 5678",
            ),
            shipping: ("Jane Roe", "Berlin", "10115", "DE"),
            items: &[("MUG-BLUE", "Blue Ceramic Mug", "Kitchen")],
            tags: &["wholesale"],
            note: "",
            total: "12.50",
            age_days: 5,
        },
        Spec {
            label: "bob",
            number: 20004,
            store: "default",
            status: "pending",
            customer: ("cus_bob", "bob@example.com", "Bob Gone", "+44 20 7946 0000"),
            shipping: ("Bob Gone", "Leeds", "LS1 1AA", "GB"),
            items: &[("PLANT-FICUS", "Ficus Plant", "Garden")],
            tags: &[],
            note: "",
            total: "25.00",
            age_days: 6,
        },
        Spec {
            label: "anna",
            number: 20005,
            store: "eu",
            status: "pending",
            customer: (
                "cus_anna",
                "anna@example.pl",
                "Anna Nowak",
                "+48 501 222 333",
            ),
            shipping: ("Anna Nowak", "Warszawa", "00-001", "PL"),
            items: &[("MUG-BLUE", "Kubek Niebieski", "Kitchen")],
            tags: &[],
            note: "",
            total: "10.00",
            age_days: 0,
        },
        Spec {
            label: "old",
            number: 20006,
            store: "default",
            status: "pending",
            customer: (
                "cus_old",
                "old@example.com",
                "Olga Timer",
                "+48 700 800 900",
            ),
            shipping: ("Olga Timer", "Gdańsk", "80-001", "PL"),
            items: &[("LAMP-DESK", "Desk Lamp LED", "Lighting")],
            tags: &[],
            note: "",
            total: "70.00",
            age_days: 400,
        },
    ];

    fn documents() -> Vec<(&'static str, OrderDocument)> {
        SPECS
            .iter()
            .enumerate()
            .map(|(stamp, spec)| {
                let some = |text: &str| (!text.is_empty()).then(|| text.to_string());
                let document = OrderDocument {
                    id: Uuid::new_v4(),
                    number: spec.number,
                    store: spec.store.to_string(),
                    status: spec.status.to_string(),
                    deleted: spec.label == "bob",
                    customer: DocumentCustomer {
                        id: some(spec.customer.0),
                        email: some(spec.customer.1),
                        name: some(spec.customer.2),
                        phone: some(spec.customer.3),
                    },
                    items: spec
                        .items
                        .iter()
                        .map(|(sku, name, category)| DocumentItem {
                            sku: sku.to_string(),
                            name: name.to_string(),
                            category: category.to_string(),
                            quantity: 1,
                        })
                        .collect(),
                    shipping: DocumentShipping {
                        name: some(spec.shipping.0),
                        city: some(spec.shipping.1),
                        postal_code: some(spec.shipping.2),
                        country: some(spec.shipping.3),
                    },
                    tags: spec.tags.iter().map(|tag| tag.to_string()).collect(),
                    note: some(spec.note),
                    total: spec.total.parse().unwrap(),
                    currency: "USD".to_string(),
                    created_at: Utc::now()
                        - Duration::days(spec.age_days)
                        - Duration::minutes(stamp as i64),
                    version: 1,
                    change_stamp: 100 + stamp as i64,
                };
                (spec.label, document)
            })
            .collect()
    }

    /// The relevance suite of `tests/api/search.rs`, as this engine answers it.
    const CASES: &[(&str, &[&str])] = &[
        ("jane", &["jane", "roe"]),
        ("jnae", &["jane", "roe"]),
        ("doe", &["jane"]),
        ("kettle", &["jane"]),
        ("ketle", &["jane"]),
        ("kett", &["jane"]),
        ("jane kettle", &["jane"]),
        ("smith london", &["john"]),
        ("rust book", &["mary"]),
        ("Łukasiewicz", &["zoe"]),
        ("lukasiewicz", &["zoe"]),
        ("zoe", &["zoe"]),
        ("krakow", &["jane"]),
        ("lodz", &["zoe"]),
        ("\"leave at the door\"", &["jane"]),
        ("birthday", &["mary"]),
        ("1042", &["jane", "john"]),
        ("10421", &["john"]),
        ("number:1042", &["jane"]),
        ("jane@example.com", &["jane"]),
        ("jane@exa", &["jane"]),
        ("48600100200", &["jane"]),
        ("600100200", &["jane"]),
        ("600-100-200", &["jane"]),
        ("555.010.0200", &["john"]),
        ("0999", &["mary"]),
        ("\"+48 600 100 200\"", &["jane"]),
        ("MUG-BLUE", &["jane", "roe", "anna"]),
        ("mugblue", &["jane", "roe", "anna"]),
        ("mug_blue", &["jane", "roe", "anna"]),
        ("1.7l", &["jane"]),
        ("email:jane@example.com", &["jane"]),
        ("email:example.com", &["jane", "roe"]),
        ("email:jane.roe", &["roe"]),
        ("sku:MUG-BLUE", &["jane", "roe", "anna"]),
        ("sku:mug_blue store:default", &["jane", "roe"]),
        ("status:shipped", &["jane"]),
        ("status:shipped,pending", &["jane", "john", "anna", "old"]),
        ("-status:cancelled -status:pending", &["jane", "zoe", "roe"]),
        ("category:kitchen", &["jane", "roe", "anna"]),
        ("category:Garden", &["mary"]),
        ("country:pl", &["jane", "zoe", "anna", "old"]),
        ("city:\"New York\"", &["mary"]),
        ("city:krakow", &["jane"]),
        ("tag:vip", &["jane"]),
        ("tag:VIP", &["jane"]),
        ("store:eu", &["anna"]),
        ("customer:cus_zoe", &["zoe"]),
        ("total:>100", &["mary"]),
        ("total:50..100", &["jane", "zoe", "old"]),
        ("total:<20", &["roe", "anna"]),
        ("total:12.50", &["roe"]),
        (
            "created:-7d",
            &["jane", "john", "zoe", "mary", "roe", "anna"],
        ),
        ("created:<-30d", &["old"]),
        (
            "created:>=2000-01-01",
            &["jane", "john", "zoe", "mary", "roe", "anna", "old"],
        ),
        ("jane -kettle", &["roe"]),
        ("-kettle -lamp", &["zoe", "mary", "roe", "anna"]),
        (
            "-\"blue ceramic mug\"",
            &["john", "zoe", "mary", "anna", "old"],
        ),
        (
            "-jane@example.com",
            &["john", "zoe", "mary", "roe", "anna", "old"],
        ),
        ("-1042", &["zoe", "mary", "roe", "anna", "old"]),
        ("mug -country:PL", &["roe"]),
        ("lamp status:pending created:-7d", &["john"]),
        ("bob", &[]),
        ("", &["jane", "john", "zoe", "mary", "roe", "anna", "old"]),
    ];

    fn search(q: &str) -> SearchRequest {
        let mut request = request(q);
        request.include_deleted = false;
        request.limit = 100;
        request
    }

    fn labels(
        results: &EngineResults,
        docs: &[(&'static str, OrderDocument)],
    ) -> BTreeSet<&'static str> {
        let label = |id| {
            docs.iter()
                .find(|(_, doc)| doc.id == id)
                .map(|(label, _)| *label)
                .unwrap_or("?")
        };
        results
            .hits
            .iter()
            .map(|hit| label(hit.document.id))
            .collect()
    }

    async fn engine(url: &str, uid: &str) -> MeiliEngine {
        let key = std::env::var("MEILI_MASTER_KEY").ok();
        MeiliEngine::connect(url, key.as_deref(), uid)
            .await
            .expect("connecting to MEILI_URL")
    }

    #[tokio::test]
    async fn a_real_server_answers_the_relevance_suite_like_the_embedded_engine() {
        let Ok(url) = std::env::var("MEILI_URL") else {
            println!(
                "skipped: MEILI_URL is not set (set it, and MEILI_MASTER_KEY, to test against a real Meilisearch)"
            );
            return;
        };
        let uid = format!("ordersearch_test_{}", Uuid::new_v4().simple());
        let meili = engine(&url, &uid).await;
        assert!(meili.is_reachable().await);
        let docs = documents();
        let all: Vec<OrderDocument> = docs.iter().map(|(_, doc)| doc.clone()).collect();
        meili.upsert(all.clone()).await.unwrap();
        let dir = std::env::temp_dir().join(format!("ordersearch-meili-parity-{}", Uuid::new_v4()));
        let embedded = EmbeddedEngine::open(&dir).unwrap();
        embedded.upsert(all.clone()).await.unwrap();

        let mut failures = Vec::new();
        for (q, expected) in CASES {
            let request = search(q);
            let found = meili.search(&request).await.unwrap();
            let labels_found = labels(&found, &docs);
            let expected: BTreeSet<&str> = expected.iter().copied().collect();
            if labels_found != expected || found.total != expected.len() as u64 {
                failures.push(format!(
                    "{q:?}: expected {expected:?}, found {labels_found:?} (total {})",
                    found.total
                ));
            }
            let reference = labels(&embedded.search(&request).await.unwrap(), &docs);
            if reference != labels_found {
                println!(
                    "differs from embedded: {q:?}: meili {labels_found:?}, embedded {reference:?}"
                );
            }
        }

        // Facets, sorts, paging and highlights.
        let mut faceted = search("");
        faceted.facets = vec![
            FacetField::Status,
            FacetField::Category,
            FacetField::Country,
            FacetField::Tag,
        ];
        let results = meili.search(&faceted).await.unwrap();
        let reference = embedded.search(&faceted).await.unwrap();
        if results.facets != reference.facets {
            failures.push(format!(
                "facets: meili {:?}, embedded {:?}",
                results.facets, reference.facets
            ));
        }
        let mut by_total = search("");
        by_total.sort = Sort::By {
            field: SortField::Total,
            descending: false,
        };
        let totals: Vec<String> = meili
            .search(&by_total)
            .await
            .unwrap()
            .hits
            .iter()
            .map(|hit| hit.document.total.to_string())
            .collect();
        assert_eq!(
            totals,
            [
                "10.00", "12.50", "35.00", "59.97", "65.99", "70.00", "143.00"
            ]
        );
        let mut paged = search("");
        paged.sort = Sort::By {
            field: SortField::Number,
            descending: true,
        };
        paged.offset = 1;
        paged.limit = 2;
        let page = meili.search(&paged).await.unwrap();
        let numbers: Vec<i64> = page.hits.iter().map(|hit| hit.document.number).collect();
        assert_eq!((numbers, page.total), (vec![20005, 20003], 7));
        let newest: Vec<&str> = labels_in_order(&meili.search(&search("")).await.unwrap(), &docs);
        assert_eq!(
            newest,
            ["anna", "jane", "john", "zoe", "mary", "roe", "old"]
        );
        let hit = meili
            .search(&search("jnae kettle"))
            .await
            .unwrap()
            .hits
            .remove(0);
        assert_eq!(hit.highlights["customer.name"], "<em>Jane</em> Doe");
        assert_eq!(
            hit.highlights["items.name"],
            "Stainless <em>Kettle</em> 1.7L"
        );
        assert_eq!(
            hit.document, docs[0].1,
            "a hit carries the document as indexed"
        );
        let mut scoped = search("mugblue");
        scoped.store = Some("default".to_string());
        assert_eq!(
            labels(&meili.search(&scoped).await.unwrap(), &docs),
            BTreeSet::from(["jane", "roe"])
        );
        let mut deleted = search("bob");
        deleted.include_deleted = true;
        assert_eq!(
            labels(&meili.search(&deleted).await.unwrap(), &docs),
            BTreeSet::from(["bob"])
        );
        let mut keyset = search("");
        keyset.sort = Sort::By {
            field: SortField::Number,
            descending: false,
        };
        keyset.after_number = Some(20003);
        assert_eq!(
            labels_in_order(&meili.search(&keyset).await.unwrap(), &docs),
            ["anna", "old"]
        );

        // Stamps, counts, deletes and a rebuild swapped in.
        let mut stamps = meili.indexed_stamps().await.unwrap();
        stamps.sort();
        let mut expected_stamps: Vec<(Uuid, i64)> =
            all.iter().map(|doc| (doc.id, doc.change_stamp)).collect();
        expected_stamps.sort();
        assert_eq!(stamps, expected_stamps);
        assert_eq!(meili.document_count().await.unwrap(), 8);
        meili.delete(vec![docs[1].1.id]).await.unwrap();
        assert_eq!(meili.document_count().await.unwrap(), 7);
        assert!(labels(&meili.search(&search("10421")).await.unwrap(), &docs).is_empty());

        meili.begin_rebuild().await.unwrap();
        meili.rebuild_upsert(all[..3].to_vec()).await.unwrap();
        assert_eq!(
            meili.document_count().await.unwrap(),
            7,
            "search serves the old index meanwhile"
        );
        meili.finish_rebuild().await.unwrap();
        assert_eq!(meili.document_count().await.unwrap(), 3);
        assert_eq!(
            labels(&meili.search(&search("10421")).await.unwrap(), &docs),
            BTreeSet::from(["john"])
        );
        meili.begin_rebuild().await.unwrap();
        meili.finish_rebuild().await.unwrap();
        assert_eq!(meili.document_count().await.unwrap(), 0);
        assert!(matches!(
            meili.rebuild_upsert(all.clone()).await,
            Err(EngineError::Rejected(_))
        ));

        // A document Meilisearch refuses is rejected, not retried forever.
        let index = meili.index(&uid);
        let task = index
            .add_or_replace(&[serde_json::json!({"id": "not a valid id!"})], Some("id"))
            .await
            .unwrap();
        let refused = meili
            .wait(task.task_uid, std::time::Duration::from_secs(30), "t")
            .await;
        assert!(
            matches!(refused, Err(EngineError::Rejected(_))),
            "{refused:?}"
        );

        meili.drop_index(&uid).await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            failures.is_empty(),
            "{} cases failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    fn labels_in_order(
        results: &EngineResults,
        docs: &[(&'static str, OrderDocument)],
    ) -> Vec<&'static str> {
        let label = |id| {
            docs.iter()
                .find(|(_, doc)| doc.id == id)
                .map(|(label, _)| *label)
                .unwrap_or("?")
        };
        results
            .hits
            .iter()
            .map(|hit| label(hit.document.id))
            .collect()
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_to_connect_with_a_clear_error() {
        if std::env::var("MEILI_URL").is_err() {
            println!(
                "skipped: MEILI_URL is not set (this test only runs beside the real-server one)"
            );
            return;
        }
        let error = MeiliEngine::connect("http://127.0.0.1:9", None, "orders")
            .await
            .err()
            .unwrap();
        assert!(format!("{error:#}").contains("not usable"), "{error:#}");
    }
}
