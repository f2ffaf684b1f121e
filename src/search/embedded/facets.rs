//! A collector that counts facet values (status, category, store, country, tag)
//! over every match, from the string fast fields.

use std::collections::BTreeMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::search::engine::FacetField;

/// Facet name → value → number of matching orders.
pub type FacetCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// Counts the given facets.
pub struct FacetCounter {
    pub facets: Vec<FacetField>,
}

pub struct SegmentFacetCounter {
    columns: Vec<(FacetField, StrColumn, Vec<u64>)>,
}

impl Collector for FacetCounter {
    type Fruit = FacetCounts;
    type Child = SegmentFacetCounter;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacetCounter> {
        let mut columns = Vec::with_capacity(self.facets.len());
        for facet in &self.facets {
            if let Some(column) = reader.fast_fields().str(facet.name())? {
                let counts = vec![0; column.num_terms()];
                columns.push((*facet, column, counts));
            }
        }
        Ok(SegmentFacetCounter { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let mut merged: FacetCounts = self
            .facets
            .iter()
            .map(|facet| (facet.name().to_string(), BTreeMap::new()))
            .collect();
        for fruit in fruits {
            for (facet, values) in fruit {
                let target = merged.entry(facet).or_default();
                for (value, count) in values {
                    *target.entry(value).or_default() += count;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacetCounter {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (_, column, counts) in &mut self.columns {
            for ord in column.term_ords(doc) {
                if let Some(count) = usize::try_from(ord)
                    .ok()
                    .and_then(|ord| counts.get_mut(ord))
                {
                    *count += 1;
                }
            }
        }
    }

    fn harvest(self) -> FacetCounts {
        let mut fruit = FacetCounts::new();
        for (facet, column, counts) in self.columns {
            let values = fruit.entry(facet.name().to_string()).or_default();
            let mut text = String::new();
            for (ord, count) in counts
                .into_iter()
                .enumerate()
                .filter(|(_, count)| *count > 0)
            {
                text.clear();
                if column.ord_to_str(ord as u64, &mut text).unwrap_or(false) {
                    values.insert(text.clone(), count);
                }
            }
        }
        fruit
    }
}
