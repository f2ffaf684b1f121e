//! Highlights for hits: which words of which fields matched the query, wrapped
//! in `<em>`. Matching mirrors the engines' own (exact, prefix, or within the
//! typo distance) on folded text; everything else is HTML-escaped.

use std::collections::BTreeMap;

use super::document::OrderDocument;
use super::normalize;
use super::query::{ClauseKind, Query};

/// The words a query looks for in free text, folded.
pub fn query_words(query: &Query) -> Vec<String> {
    let mut words = Vec::new();
    for clause in query.clauses.iter().filter(|clause| !clause.negated) {
        if let ClauseKind::Text(text) | ClauseKind::Phrase(text) = &clause.kind {
            words.extend(tokens(text).into_iter().map(|(_, token)| token));
        }
    }
    words
}

/// The typo distance allowed for a word: none for numbers (a digit off is
/// another order, phone or postal code), then by length.
pub fn typo_distance(word: &str) -> u8 {
    if word.chars().all(|c| c.is_ascii_digit()) {
        return 0;
    }
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Whether a word also matches as the prefix of longer words: from two
/// characters on. A lone character would expand to thousands of terms (every
/// word starting with `m`) and match most orders; it matches exactly.
pub fn matches_as_prefix(word: &str) -> bool {
    word.chars().count() >= 2
}

/// Splits text into alphanumeric tokens with their byte ranges, folded.
fn tokens(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    let mut start = None;
    for (index, ch) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (ch.is_alphanumeric(), start) {
            (true, None) => start = Some(index),
            (false, Some(begin)) => {
                out.push((begin..index, normalize::fold(&text[begin..index])));
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn word_matches(token: &str, word: &str) -> bool {
    if token == word || (matches_as_prefix(word) && token.starts_with(word)) {
        return true;
    }
    let distance = typo_distance(word);
    distance > 0 && within_distance(token, word, distance)
}

/// Optimal-string-alignment distance of `token` (or a prefix of it as long as
/// `word`) from `word`, at most `limit`.
fn within_distance(token: &str, word: &str, limit: u8) -> bool {
    let a: Vec<char> = token.chars().collect();
    let b: Vec<char> = word.chars().collect();
    let candidates = [a.len(), b.len().min(a.len())];
    candidates
        .iter()
        .any(|&len| osa_distance(&a[..len], &b) <= usize::from(limit))
}

fn osa_distance(a: &[char], b: &[char]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[n][m]
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `text` with every matching token wrapped in `<em>`, or `None` if none matched.
pub fn highlight_text(text: &str, words: &[String]) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut last = 0;
    let mut any = false;
    for (range, token) in tokens(text) {
        if words.iter().any(|word| word_matches(&token, word)) {
            out.push_str(&escape(&text[last..range.start]));
            out.push_str("<em>");
            out.push_str(&escape(&text[range.clone()]));
            out.push_str("</em>");
            last = range.end;
            any = true;
        }
    }
    out.push_str(&escape(&text[last..]));
    any.then_some(out)
}

/// Highlights of a document's searchable fields, keyed `customer.name`, `items.name`...
pub fn highlight(document: &OrderDocument, words: &[String]) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    if words.is_empty() {
        return found;
    }
    let mut try_field = |key: &str, value: Option<&str>| {
        if found.contains_key(key) {
            return;
        }
        if let Some(marked) = value.and_then(|value| highlight_text(value, words)) {
            found.insert(key.to_string(), marked);
        }
    };
    try_field("customer.name", document.customer.name.as_deref());
    try_field("customer.email", document.customer.email.as_deref());
    try_field("shipping.name", document.shipping.name.as_deref());
    try_field("shipping.city", document.shipping.city.as_deref());
    try_field("note", document.note.as_deref());
    for item in &document.items {
        try_field("items.name", Some(&item.name));
        try_field("items.sku", Some(&item.sku));
    }
    for tag in &document.tags {
        try_field("tags", Some(tag));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_exact_prefix_and_typo_matches_and_escapes_the_rest() {
        let words = vec!["jnae".to_string(), "ket".to_string()];
        assert_eq!(
            highlight_text("Jane <Doe>", &words).unwrap(),
            "<em>Jane</em> &lt;Doe&gt;"
        );
        assert_eq!(
            highlight_text("Blue Kettle", &words).unwrap(),
            "Blue <em>Kettle</em>"
        );
        assert_eq!(highlight_text("Mug", &words), None);
    }

    #[test]
    fn folds_diacritics() {
        let words = vec!["krakow".to_string()];
        assert_eq!(highlight_text("Kraków", &words).unwrap(), "<em>Kraków</em>");
    }
}
