//! The staff query language: the search box text (`q`) is parsed once into a
//! typed [`Query`], which each search engine then translates into its own terms.
//!
//! Terms are separated by whitespace and all of them must match (AND):
//! - `kettle` is free text, `"blue kettle"` a phrase;
//! - `name:value` is a qualifier, `name:v1,v2` matches any of the values, and a
//!   value may be quoted: `city:"New York"`;
//! - `-term` negates any term: `-kettle`, `-"gift card"`, `-status:cancelled`;
//! - `number:1042`, `total:>100`, `total:50..100`, `created:>=2026-11-01`,
//!   `created:2026-11-01..2026-11-20`, `created:-7d` (the last seven days).
//!
//! Errors name what was at fault and its byte offset so the HTTP layer can
//! answer with a 400 that points at it.

use std::ops::Bound::{self, Excluded, Included, Unbounded};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use rust_decimal::Decimal;

/// At most this many terms in one query.
pub const MAX_CLAUSES: usize = 32;
/// At most this many bytes of query text.
pub const MAX_INPUT_BYTES: usize = 512;
/// The order statuses `status:` accepts, in lower case.
pub const STATUSES: [&str; 5] = ["pending", "processing", "shipped", "completed", "cancelled"];

/// A parsed query: every clause must match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// The terms in the order they were typed; all are ANDed.
    pub clauses: Vec<Clause>,
}

impl Query {
    /// True when nothing was typed, so every order matches.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The free-text clauses ([`ClauseKind::Text`] and [`ClauseKind::Phrase`]),
    /// negated ones included.
    pub fn free_text(&self) -> impl Iterator<Item = &Clause> {
        self.clauses.iter().filter(|clause| clause.is_free_text())
    }

    /// The clauses that are not free text: qualifiers, which engines apply as
    /// exact filters.
    pub fn filters(&self) -> impl Iterator<Item = &Clause> {
        self.clauses.iter().filter(|clause| !clause.is_free_text())
    }
}

/// One term of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// The term was prefixed with `-`: orders matching it are excluded.
    pub negated: bool,
    /// What the term asks for.
    pub kind: ClauseKind,
    /// Byte range of the whole term (including any `-`) in the input.
    pub span: std::ops::Range<usize>,
}

impl Clause {
    /// Whether this is a free-text word or phrase rather than a qualifier.
    pub fn is_free_text(&self) -> bool {
        matches!(self.kind, ClauseKind::Text(_) | ClauseKind::Phrase(_))
    }
}

/// What a clause asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ClauseKind {
    /// A free-text word, lower-cased; engines match it typo-tolerantly and as a prefix.
    Text(String),
    /// A quoted phrase, lower-cased and trimmed; engines match it as a phrase.
    Phrase(String),
    /// `field:value` or `field:v1,v2` (any of the values), each value trimmed
    /// and normalized as [`KeywordField`] describes.
    Keyword(KeywordField, Vec<String>),
    /// `number:1042`: exactly this order number.
    Number(u64),
    /// `total:…`: the order total lies in this range.
    Total(Range<Decimal>),
    /// `created:…`: the order was created in this range.
    Created(Range<DateTime<Utc>>),
}

/// Qualifiers whose values are matched as exact keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordField {
    /// One of [`STATUSES`], lower-cased.
    Status,
    /// Lower-cased.
    Email,
    /// As typed; engines compare [`super::normalize::sku`] forms.
    Sku,
    /// As typed.
    Category,
    /// Two letters, upper-cased.
    Country,
    /// As typed.
    City,
    /// As typed.
    Tag,
    /// As typed.
    Store,
    /// The customer id, as typed: `customer:cus_1`.
    Customer,
}

impl KeywordField {
    /// The qualifier name, lower-case, as staff type it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Email => "email",
            Self::Sku => "sku",
            Self::Category => "category",
            Self::Country => "country",
            Self::City => "city",
            Self::Tag => "tag",
            Self::Store => "store",
            Self::Customer => "customer",
        }
    }
}

impl std::fmt::Display for KeywordField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A range of values; either end may be open.
#[derive(Debug, Clone, PartialEq)]
pub struct Range<T> {
    /// The lower end.
    pub lower: Bound<T>,
    /// The upper end.
    pub upper: Bound<T>,
}

impl<T> Range<T> {
    /// A range from `lower` to `upper`.
    pub fn new(lower: Bound<T>, upper: Bound<T>) -> Self {
        Self { lower, upper }
    }
}

impl<T: PartialOrd> Range<T> {
    /// Whether `value` lies within both ends.
    pub fn contains(&self, value: &T) -> bool {
        let above = match &self.lower {
            Included(lower) => value >= lower,
            Excluded(lower) => value > lower,
            Unbounded => true,
        };
        let below = match &self.upper {
            Included(upper) => value <= upper,
            Excluded(upper) => value < upper,
            Unbounded => true,
        };
        above && below
    }

    /// Whether no value can lie within the range (its start is past its end).
    pub fn is_empty(&self) -> bool {
        match (&self.lower, &self.upper) {
            (Included(lower), Included(upper)) => lower > upper,
            (Included(lower) | Excluded(lower), Included(upper) | Excluded(upper)) => {
                lower >= upper
            }
            _ => false,
        }
    }
}

/// Why a query could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct QueryError {
    /// What is wrong, naming the offending qualifier or value.
    pub message: String,
    /// Byte offset (0-based) in the input of what is wrong.
    pub position: usize,
    /// The offending qualifier or value as typed; empty when nothing was typed
    /// there (a missing value) or the fault is the query as a whole (too long).
    pub token: String,
}

impl QueryError {
    fn new(message: impl Into<String>, position: usize, token: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            position,
            token: token.into(),
        }
    }
}

/// Parses staff query text. `now` anchors relative dates such as `created:-7d`.
pub fn parse(input: &str, now: DateTime<Utc>) -> Result<Query, QueryError> {
    if input.len() > MAX_INPUT_BYTES {
        let mut position = MAX_INPUT_BYTES;
        while !input.is_char_boundary(position) {
            position -= 1;
        }
        let message = format!("query is longer than {MAX_INPUT_BYTES} bytes");
        return Err(QueryError::new(message, position, ""));
    }
    let mut parser = Parser { input, pos: 0, now };
    let mut clauses = Vec::new();
    while parser.skip_whitespace() {
        if clauses.len() == MAX_CLAUSES {
            let message = format!("query has more than {MAX_CLAUSES} terms");
            return Err(QueryError::new(message, parser.pos, parser.word()));
        }
        clauses.push(parser.term()?);
    }
    Ok(Query { clauses })
}

/// The qualifiers, by lower-case name.
#[derive(Clone, Copy)]
enum Field {
    Keyword(KeywordField),
    Number,
    Total,
    Created,
}

impl Field {
    fn from_name(name: &str) -> Option<Self> {
        use KeywordField::*;
        Some(match name.to_ascii_lowercase().as_str() {
            "status" => Self::Keyword(Status),
            "email" => Self::Keyword(Email),
            "sku" => Self::Keyword(Sku),
            "category" => Self::Keyword(Category),
            "country" => Self::Keyword(Country),
            "city" => Self::Keyword(City),
            "tag" => Self::Keyword(Tag),
            "store" => Self::Keyword(Store),
            "customer" => Self::Keyword(Customer),
            "number" => Self::Number,
            "total" => Self::Total,
            "created" => Self::Created,
            _ => return None,
        })
    }
}

/// One qualifier value (or part of one): trimmed text and its byte offset.
#[derive(Clone, Copy)]
struct Item<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Item<'a> {
    fn trimmed(text: &'a str, pos: usize) -> Self {
        let leading = text.len() - text.trim_start().len();
        Self {
            text: text.trim(),
            pos: pos + leading,
        }
    }

    /// The part of this item starting at byte `from`.
    fn tail(self, from: usize) -> Self {
        Self::trimmed(&self.text[from..], self.pos + from)
    }

    fn error(self, message: impl Into<String>) -> QueryError {
        QueryError::new(message, self.pos, self.text)
    }
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    now: DateTime<Utc>,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn at_term_end(&self) -> bool {
        self.peek().is_none_or(char::is_whitespace)
    }

    /// Skips whitespace; false when the input is used up.
    fn skip_whitespace(&mut self) -> bool {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
        !trimmed.is_empty()
    }

    /// The text from here to the next whitespace.
    fn word(&self) -> &'a str {
        let rest = self.rest();
        &rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())]
    }

    fn term(&mut self) -> Result<Clause, QueryError> {
        let start = self.pos;
        let mut chars = self.rest().chars();
        // A lone `-` is a word of its own, not a negation of nothing.
        let negated = chars.next() == Some('-') && chars.next().is_some_and(|c| !c.is_whitespace());
        if negated {
            self.pos += 1;
        }
        let kind = if self.peek() == Some('"') {
            self.phrase()?
        } else if let Some(name) = qualifier_name(self.rest()) {
            self.qualifier(name)?
        } else {
            let word = self.word();
            self.pos += word.len();
            ClauseKind::Text(word.to_lowercase())
        };
        Ok(Clause {
            negated,
            kind,
            span: start..self.pos,
        })
    }

    fn phrase(&mut self) -> Result<ClauseKind, QueryError> {
        let open = self.pos;
        let phrase = self.quoted()?;
        if phrase.text.is_empty() {
            let typed = &self.input[open..self.pos];
            return Err(QueryError::new("empty phrase", open, typed));
        }
        if !self.at_term_end() {
            let message = "expected a space after the closing quote";
            return Err(QueryError::new(message, self.pos, self.word()));
        }
        Ok(ClauseKind::Phrase(phrase.text.to_lowercase()))
    }

    /// Reads a `"quoted"` text starting at the current (quote) position.
    fn quoted(&mut self) -> Result<Item<'a>, QueryError> {
        let open = self.pos;
        let body = &self.input[open + 1..];
        let Some(len) = body.find('"') else {
            return Err(QueryError::new(
                "unterminated quote",
                open,
                &self.input[open..],
            ));
        };
        self.pos = open + 1 + len + 1;
        Ok(Item::trimmed(&body[..len], open + 1))
    }

    fn qualifier(&mut self, name: &'a str) -> Result<ClauseKind, QueryError> {
        let name_pos = self.pos;
        let Some(field) = Field::from_name(name) else {
            let message = format!("unknown qualifier `{name}`");
            return Err(QueryError::new(message, name_pos, name));
        };
        let lower_name = name.to_ascii_lowercase();
        self.pos += name.len() + 1;
        if self.at_term_end() {
            let message = format!("empty value for `{lower_name}`");
            return Err(QueryError::new(message, name_pos, name));
        }
        let items = self.values(&lower_name)?;
        let single = || match items.get(1) {
            Some(extra) => Err(extra.error(format!("`{lower_name}` takes a single value"))),
            None => Ok(items[0]),
        };
        Ok(match field {
            Field::Keyword(field) => {
                let values = items.iter().map(|item| keyword_value(field, *item));
                ClauseKind::Keyword(field, values.collect::<Result<_, _>>()?)
            }
            Field::Number => ClauseKind::Number(order_number(single()?)?),
            Field::Total => ClauseKind::Total(total(single()?)?),
            Field::Created => ClauseKind::Created(created(single()?, self.now)?),
        })
    }

    /// Reads comma-separated values, each bare or quoted, up to the end of the term.
    fn values(&mut self, name: &str) -> Result<Vec<Item<'a>>, QueryError> {
        let mut items = Vec::new();
        loop {
            let start = self.pos;
            let item = if self.peek() == Some('"') {
                self.quoted()?
            } else {
                let rest = self.rest();
                let len = rest
                    .find(|c: char| c == ',' || c.is_whitespace())
                    .unwrap_or(rest.len());
                self.pos += len;
                Item::trimmed(&rest[..len], start)
            };
            if item.text.is_empty() {
                let message = format!("empty value for `{name}`");
                return Err(QueryError::new(
                    message,
                    start,
                    &self.input[start..self.pos],
                ));
            }
            items.push(item);
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(c) if !c.is_whitespace() => {
                    let message = "expected `,` or a space after the closing quote";
                    return Err(QueryError::new(message, self.pos, self.word()));
                }
                _ => return Ok(items),
            }
        }
    }
}

/// The name of a qualifier if `text` starts with ASCII letters or underscores
/// followed by a colon. Anything else with a colon (`10:30`, `+48:1`) is text.
fn qualifier_name(text: &str) -> Option<&str> {
    let len = text
        .bytes()
        .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
        .count();
    (len > 0 && text.as_bytes().get(len) == Some(&b':')).then(|| &text[..len])
}

fn keyword_value(field: KeywordField, item: Item) -> Result<String, QueryError> {
    let text = item.text;
    Ok(match field {
        KeywordField::Status => {
            let status = text.to_ascii_lowercase();
            if !STATUSES.contains(&status.as_str()) {
                let expected = STATUSES.join(", ");
                return Err(item.error(format!(
                    "unknown status `{text}`; expected one of {expected}"
                )));
            }
            status
        }
        KeywordField::Country => {
            if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_alphabetic()) {
                let message = format!("invalid country `{text}`; expected a two-letter code");
                return Err(item.error(message));
            }
            text.to_ascii_uppercase()
        }
        KeywordField::Email => text.to_lowercase(),
        KeywordField::Sku
        | KeywordField::Category
        | KeywordField::City
        | KeywordField::Tag
        | KeywordField::Store
        | KeywordField::Customer => text.to_owned(),
    })
}

fn order_number(item: Item) -> Result<u64, QueryError> {
    let digits = item.text.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| item.text.parse().ok())
        .flatten()
        .ok_or_else(|| item.error(format!("invalid order number `{}`", item.text)))
}

/// A comparison prefix of a `total:` or `created:` value.
#[derive(Clone, Copy)]
enum Comparator {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

impl Comparator {
    /// The values that compare this way with `value`.
    fn range<T>(self, value: T) -> Range<T> {
        match self {
            Self::Greater => Range::new(Excluded(value), Unbounded),
            Self::GreaterOrEqual => Range::new(Included(value), Unbounded),
            Self::Less => Range::new(Unbounded, Excluded(value)),
            Self::LessOrEqual => Range::new(Unbounded, Included(value)),
        }
    }
}

/// Splits `>=x`, `<=x`, `>x` or `<x` into its comparator and `x`.
fn split_comparator(item: Item) -> Option<(Comparator, Item)> {
    let prefixes = [
        (">=", Comparator::GreaterOrEqual),
        ("<=", Comparator::LessOrEqual),
        (">", Comparator::Greater),
        ("<", Comparator::Less),
    ];
    let (prefix, comparator) = prefixes
        .into_iter()
        .find(|(prefix, _)| item.text.starts_with(prefix))?;
    Some((comparator, item.tail(prefix.len())))
}

/// The two ends of an `a..b` value; a missing end is `None`.
type RangeEnds<'a> = (Option<Item<'a>>, Option<Item<'a>>);

/// Splits `a..b` into its ends; either end (but not both) may be missing.
fn split_range<'a>(item: Item<'a>) -> Result<Option<RangeEnds<'a>>, QueryError> {
    let Some(dots) = item.text.find("..") else {
        return Ok(None);
    };
    let lower = Item::trimmed(&item.text[..dots], item.pos);
    let upper = item.tail(dots + 2);
    if lower.text.is_empty() && upper.text.is_empty() {
        return Err(item.error("a range needs at least one end"));
    }
    let present = |end: Item<'a>| (!end.text.is_empty()).then_some(end);
    Ok(Some((present(lower), present(upper))))
}

fn non_empty<T: PartialOrd>(range: Range<T>, item: Item) -> Result<Range<T>, QueryError> {
    if range.is_empty() {
        return Err(item.error(format!("range `{}` starts after it ends", item.text)));
    }
    Ok(range)
}

fn total(item: Item) -> Result<Range<Decimal>, QueryError> {
    let range = if let Some((comparator, value)) = split_comparator(item) {
        comparator.range(amount(value)?)
    } else if let Some((lower, upper)) = split_range(item)? {
        let end = |end: Option<Item>| Ok(end.map(amount).transpose()?.map_or(Unbounded, Included));
        Range::new(end(lower)?, end(upper)?)
    } else {
        let amount = amount(item)?;
        Range::new(Included(amount), Included(amount))
    };
    non_empty(range, item)
}

/// A non-negative decimal amount: digits with an optional fraction (`99.5`).
fn amount(item: Item) -> Result<Decimal, QueryError> {
    let text = item.text;
    if text.is_empty() {
        return Err(item.error("missing amount"));
    }
    if text.starts_with('-') {
        return Err(item.error(format!("amount `{text}` is negative")));
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(item.error(format!("invalid amount `{text}`")));
    }
    Decimal::from_str(text).map_err(|_| item.error(format!("amount `{text}` is out of range")))
}

/// One end of a `created:` value.
enum Point {
    /// A whole UTC day: from `start` (midnight) up to, not including, `end`.
    Day {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// An exact instant (RFC 3339).
    Instant(DateTime<Utc>),
    /// `now` minus a duration (`-7d`).
    Ago(DateTime<Utc>),
}

fn created(item: Item, now: DateTime<Utc>) -> Result<Range<DateTime<Utc>>, QueryError> {
    let range = if let Some((comparator, value)) = split_comparator(item) {
        // A date compares as its whole day: `>2026-11-01` starts on the 2nd.
        match (comparator, point(value, now)?) {
            (Comparator::Greater, Point::Day { end, .. }) => Range::new(Included(end), Unbounded),
            (Comparator::GreaterOrEqual, Point::Day { start, .. }) => {
                Range::new(Included(start), Unbounded)
            }
            (Comparator::Less, Point::Day { start, .. }) => Range::new(Unbounded, Excluded(start)),
            (Comparator::LessOrEqual, Point::Day { end, .. }) => {
                Range::new(Unbounded, Excluded(end))
            }
            (comparator, Point::Instant(at) | Point::Ago(at)) => comparator.range(at),
        }
    } else if let Some((lower, upper)) = split_range(item)? {
        let lower = match lower.map(|end| point(end, now)).transpose()? {
            None => Unbounded,
            Some(Point::Day { start, .. }) => Included(start),
            Some(Point::Instant(at) | Point::Ago(at)) => Included(at),
        };
        // The end day is included whole: `..2026-11-20` runs to the 21st's midnight.
        let upper = match upper.map(|end| point(end, now)).transpose()? {
            None => Unbounded,
            Some(Point::Day { end, .. }) => Excluded(end),
            Some(Point::Instant(at) | Point::Ago(at)) => Included(at),
        };
        Range::new(lower, upper)
    } else {
        match point(item, now)? {
            Point::Day { start, end } => Range::new(Included(start), Excluded(end)),
            Point::Instant(at) => Range::new(Included(at), Included(at)),
            // `created:-7d` reads as "within the last seven days".
            Point::Ago(at) => Range::new(Included(at), Unbounded),
        }
    };
    non_empty(range, item)
}

fn point(item: Item, now: DateTime<Utc>) -> Result<Point, QueryError> {
    let text = item.text;
    if text.is_empty() {
        return Err(item.error("missing date"));
    }
    if let Some(ago) = text.strip_prefix('-') {
        let message =
            || format!("invalid relative time `{text}`; expected e.g. -30m, -24h, -7d or -2w");
        return time_ago(ago, now)
            .map(Point::Ago)
            .ok_or_else(|| item.error(message()));
    }
    if is_date_shaped(text) {
        let midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let next = day.and_then(|day| day.succ_opt());
        return match (day, next) {
            (Some(day), Some(next)) => Ok(Point::Day {
                start: midnight(day),
                end: midnight(next),
            }),
            _ => Err(item.error(format!("invalid date `{text}`"))),
        };
    }
    DateTime::parse_from_rfc3339(text)
        .map(|at| Point::Instant(at.to_utc()))
        .map_err(|_| {
            let expected = "expected YYYY-MM-DD, an RFC 3339 date-time or a relative time like -7d";
            item.error(format!("invalid date `{text}`; {expected}"))
        })
}

/// `YYYY-MM-DD` by shape only; the calendar is checked when parsing.
fn is_date_shaped(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// `now` minus `<digits><unit>`, the unit being m(inutes), h(ours), d(ays) or w(eeks).
fn time_ago(ago: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (unit_at, unit) = ago.char_indices().last()?;
    let count = &ago[..unit_at];
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let count: i64 = count.parse().ok()?;
    let duration = match unit {
        'm' => TimeDelta::try_minutes(count),
        'h' => TimeDelta::try_hours(count),
        'd' => TimeDelta::try_days(count),
        'w' => TimeDelta::try_weeks(count),
        _ => None,
    }?;
    now.checked_sub_signed(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 15, 12, 0, 0).unwrap()
    }

    fn day(year: i32, month: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, month, day, 0, 0, 0).unwrap()
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn query(input: &str) -> Query {
        parse(input, now()).unwrap_or_else(|e| panic!("{input:?} failed: {e}"))
    }

    /// The kind of the only clause of `input`.
    fn only(input: &str) -> ClauseKind {
        let query = query(input);
        assert_eq!(query.clauses.len(), 1, "{input:?} → {query:?}");
        query.clauses.into_iter().next().unwrap().kind
    }

    fn error(input: &str) -> QueryError {
        parse(input, now()).expect_err(input)
    }

    fn assert_error(input: &str, position: usize, token: &str, message_contains: &str) {
        let error = error(input);
        assert_eq!(
            (error.position, error.token.as_str()),
            (position, token),
            "{input:?}: {error}"
        );
        assert!(
            error.message.contains(message_contains),
            "{input:?}: {error}"
        );
    }

    fn keyword(field: KeywordField, values: &[&str]) -> ClauseKind {
        ClauseKind::Keyword(field, values.iter().map(|v| v.to_string()).collect())
    }

    fn range<T>(lower: Bound<T>, upper: Bound<T>) -> Range<T> {
        Range::new(lower, upper)
    }

    fn text(word: &str) -> ClauseKind {
        ClauseKind::Text(word.to_owned())
    }

    #[test]
    fn empty_input_is_an_empty_query() {
        assert_eq!(query(""), Query::default());
        assert!(query(" \t\n ").is_empty());
    }

    #[test]
    fn free_text_words_are_lower_cased_and_carry_their_spans() {
        let query = query("Jane  KETTLE\t10421");
        let clauses: Vec<_> = query
            .clauses
            .iter()
            .map(|c| (&c.kind, c.span.clone(), c.negated))
            .collect();
        assert_eq!(
            clauses,
            [
                (&text("jane"), 0..4, false),
                (&text("kettle"), 6..12, false),
                (&text("10421"), 13..18, false)
            ]
        );
    }

    #[test]
    fn unicode_words_have_byte_offset_spans() {
        let query = query("jane Kraków Łódź");
        assert_eq!(query.clauses[1].kind, text("kraków"));
        assert_eq!(query.clauses[1].span, 5..12);
        assert_eq!(query.clauses[2].kind, text("łódź"));
        assert_eq!(query.clauses[2].span, 13..20);
    }

    #[test]
    fn error_positions_after_unicode_text_are_byte_offsets() {
        assert_error("Łódź foo:x", 8, "foo", "unknown qualifier `foo`");
    }

    #[test]
    fn a_dash_negates_words_phrases_and_qualifiers() {
        let query = query("-kettle -\"gift card\" -status:cancelled");
        let negated: Vec<_> = query
            .clauses
            .iter()
            .map(|c| (c.negated, c.span.clone()))
            .collect();
        assert_eq!(negated, [(true, 0..7), (true, 8..20), (true, 21..38)]);
        assert_eq!(query.clauses[0].kind, text("kettle"));
        assert_eq!(
            query.clauses[1].kind,
            ClauseKind::Phrase("gift card".into())
        );
        assert_eq!(
            query.clauses[2].kind,
            keyword(KeywordField::Status, &["cancelled"])
        );
    }

    #[test]
    fn a_lone_dash_is_plain_text() {
        let query = query("jane - doe");
        assert_eq!(query.clauses[1].kind, text("-"));
        assert!(!query.clauses[1].negated);
    }

    #[test]
    fn quoted_phrases_are_lower_cased_and_trimmed() {
        assert_eq!(
            only("\" Blue  Kettle \""),
            ClauseKind::Phrase("blue  kettle".into())
        );
        assert_eq!(
            only("\"Łódź Kaliska\""),
            ClauseKind::Phrase("łódź kaliska".into())
        );
    }

    #[test]
    fn unterminated_quotes_are_errors_at_the_quote() {
        assert_error("\"blue kettle", 0, "\"blue kettle", "unterminated quote");
        assert_error("jane -\"blue", 6, "\"blue", "unterminated quote");
        assert_error("city:\"New York", 5, "\"New York", "unterminated quote");
        assert_error(
            "city:Boston,\"New York",
            12,
            "\"New York",
            "unterminated quote",
        );
    }

    #[test]
    fn empty_phrases_are_errors() {
        assert_error("jane \"\"", 5, "\"\"", "empty phrase");
        assert_error("-\" \"", 1, "\" \"", "empty phrase");
    }

    #[test]
    fn text_glued_to_a_closing_quote_is_an_error() {
        assert_error("\"a\"b", 3, "b", "after the closing quote");
        assert_error("city:\"New York\"x", 15, "x", "after the closing quote");
    }

    #[test]
    fn qualifier_names_are_case_insensitive() {
        assert_eq!(
            only("Status:Shipped"),
            keyword(KeywordField::Status, &["shipped"])
        );
        assert_eq!(only("CITY:Paris"), keyword(KeywordField::City, &["Paris"]));
        assert_eq!(only("NUMBER:7"), ClauseKind::Number(7));
    }

    #[test]
    fn unknown_qualifiers_are_errors_naming_them() {
        assert_error(
            "status:shipped foo:bar",
            15,
            "foo",
            "unknown qualifier `foo`",
        );
        assert_error("-Note:gift", 1, "Note", "unknown qualifier `Note`");
        assert_error("foo_bar:1", 0, "foo_bar", "unknown qualifier `foo_bar`");
        assert_error("http://example.com", 0, "http", "unknown qualifier `http`");
    }

    #[test]
    fn colons_not_after_letters_are_plain_text() {
        let query = query("10:30 +48:1 a1:b :x");
        let kinds: Vec<_> = query.clauses.into_iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [text("10:30"), text("+48:1"), text("a1:b"), text(":x")]
        );
    }

    #[test]
    fn empty_values_are_errors() {
        assert_error("status:", 0, "status", "empty value for `status`");
        assert_error(
            "jane -Status: kettle",
            6,
            "Status",
            "empty value for `status`",
        );
        assert_error("status:shipped,", 15, "", "empty value for `status`");
        assert_error("status:,shipped", 7, "", "empty value for `status`");
        assert_error("city:\" \"", 5, "\" \"", "empty value for `city`");
    }

    #[test]
    fn status_values_are_validated_and_lower_cased() {
        for status in STATUSES {
            assert_eq!(
                only(&format!("status:{status}")),
                keyword(KeywordField::Status, &[status])
            );
        }
        assert_eq!(
            only("status:CANCELLED"),
            keyword(KeywordField::Status, &["cancelled"])
        );
    }

    #[test]
    fn unknown_statuses_are_errors_naming_the_value() {
        assert_error("status:lost", 7, "lost", "unknown status `lost`");
        assert_error("status:shipped,Lost", 15, "Lost", "unknown status `Lost`");
        assert!(
            error("status:lost")
                .message
                .contains("pending, processing, shipped, completed, cancelled")
        );
    }

    #[test]
    fn commas_separate_alternative_values() {
        assert_eq!(
            only("status:shipped,completed"),
            keyword(KeywordField::Status, &["shipped", "completed"])
        );
        assert_eq!(
            only("tag:vip,gift"),
            keyword(KeywordField::Tag, &["vip", "gift"])
        );
    }

    #[test]
    fn values_may_be_quoted_and_are_trimmed() {
        let clause = &query("city:\"New York\" jane").clauses[0];
        assert_eq!(clause.kind, keyword(KeywordField::City, &["New York"]));
        assert_eq!(clause.span, 0..15);
        assert_eq!(
            only("city:\" New York \""),
            keyword(KeywordField::City, &["New York"])
        );
        assert_eq!(
            only("-city:\"New York\",\"Los Angeles\",Boston"),
            keyword(KeywordField::City, &["New York", "Los Angeles", "Boston"])
        );
    }

    #[test]
    fn countries_are_two_letters_upper_cased() {
        assert_eq!(
            only("country:pl,De"),
            keyword(KeywordField::Country, &["PL", "DE"])
        );
        assert_error("country:POL", 8, "POL", "invalid country `POL`");
        assert_error("country:PL,1X", 11, "1X", "invalid country `1X`");
    }

    #[test]
    fn emails_are_lower_cased() {
        assert_eq!(
            only("email:Jane.Doe@Example.com"),
            keyword(KeywordField::Email, &["jane.doe@example.com"])
        );
    }

    #[test]
    fn other_keywords_are_kept_as_typed() {
        let query = query("sku:MUG-BLUE category:Kitchen tag:VIP store:eu customer:cus_1");
        let kinds: Vec<_> = query.clauses.into_iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                keyword(KeywordField::Sku, &["MUG-BLUE"]),
                keyword(KeywordField::Category, &["Kitchen"]),
                keyword(KeywordField::Tag, &["VIP"]),
                keyword(KeywordField::Store, &["eu"]),
                keyword(KeywordField::Customer, &["cus_1"]),
            ]
        );
    }

    #[test]
    fn order_numbers_are_exact_and_bare_numbers_are_text() {
        assert_eq!(only("number:1042"), ClauseKind::Number(1042));
        assert_eq!(only("1042"), text("1042"));
    }

    #[test]
    fn invalid_order_numbers_are_errors() {
        assert_error("number:10a", 7, "10a", "invalid order number `10a`");
        assert_error("number:-1", 7, "-1", "invalid order number");
        assert_error(
            "number:99999999999999999999",
            7,
            "99999999999999999999",
            "invalid order number",
        );
        assert_error("number:1,2", 9, "2", "`number` takes a single value");
    }

    #[test]
    fn total_comparators_bound_one_end() {
        assert_eq!(
            only("total:>100"),
            ClauseKind::Total(range(Excluded(dec("100")), Unbounded))
        );
        assert_eq!(
            only("total:>=100"),
            ClauseKind::Total(range(Included(dec("100")), Unbounded))
        );
        assert_eq!(
            only("total:<100"),
            ClauseKind::Total(range(Unbounded, Excluded(dec("100"))))
        );
        assert_eq!(
            only("total:<=99.5"),
            ClauseKind::Total(range(Unbounded, Included(dec("99.5"))))
        );
    }

    #[test]
    fn a_single_total_is_exact() {
        assert_eq!(
            only("total:42"),
            ClauseKind::Total(range(Included(dec("42")), Included(dec("42"))))
        );
        assert_eq!(
            only("total:99.50"),
            ClauseKind::Total(range(Included(dec("99.5")), Included(dec("99.5"))))
        );
    }

    #[test]
    fn total_ranges_are_inclusive_and_may_be_open() {
        assert_eq!(
            only("total:50..100"),
            ClauseKind::Total(range(Included(dec("50")), Included(dec("100"))))
        );
        assert_eq!(
            only("total:50.5..50.5"),
            ClauseKind::Total(range(Included(dec("50.5")), Included(dec("50.5"))))
        );
        assert_eq!(
            only("total:50.."),
            ClauseKind::Total(range(Included(dec("50")), Unbounded))
        );
        assert_eq!(
            only("total:..100"),
            ClauseKind::Total(range(Unbounded, Included(dec("100"))))
        );
    }

    #[test]
    fn negative_or_malformed_totals_are_errors() {
        assert_error("total:-5", 6, "-5", "negative");
        assert_error("total:>-5", 7, "-5", "negative");
        assert_error("total:abc", 6, "abc", "invalid amount `abc`");
        assert_error("total:1.2.3", 6, "1.2.3", "invalid amount");
        assert_error("total:5.", 6, "5.", "invalid amount");
        assert_error("total:.5", 6, ".5", "invalid amount");
        assert_error("total:>", 7, "", "missing amount");
        assert_error("total:..", 6, "..", "at least one end");
        assert_error("total:50..abc", 10, "abc", "invalid amount `abc`");
        assert_error("total:1,000", 8, "000", "`total` takes a single value");
    }

    #[test]
    fn reversed_total_ranges_are_errors() {
        assert_error("jane total:100..50", 11, "100..50", "starts after it ends");
    }

    #[test]
    fn a_created_date_is_a_whole_utc_day() {
        let expected = range(Included(day(2026, 11, 1)), Excluded(day(2026, 11, 2)));
        assert_eq!(
            only("created:2026-11-01"),
            ClauseKind::Created(expected.clone())
        );
        assert_eq!(
            only("created:\"2026-11-01\""),
            ClauseKind::Created(expected)
        );
        let leap = range(Included(day(2028, 2, 29)), Excluded(day(2028, 3, 1)));
        assert_eq!(only("created:2028-02-29"), ClauseKind::Created(leap));
    }

    #[test]
    fn created_comparators_on_dates_treat_the_day_as_a_whole() {
        assert_eq!(
            only("created:>2026-11-01"),
            ClauseKind::Created(range(Included(day(2026, 11, 2)), Unbounded))
        );
        assert_eq!(
            only("created:>=2026-11-01"),
            ClauseKind::Created(range(Included(day(2026, 11, 1)), Unbounded))
        );
        assert_eq!(
            only("created:<2026-11-01"),
            ClauseKind::Created(range(Unbounded, Excluded(day(2026, 11, 1))))
        );
        assert_eq!(
            only("created:<=2026-11-01"),
            ClauseKind::Created(range(Unbounded, Excluded(day(2026, 11, 2))))
        );
    }

    #[test]
    fn created_date_ranges_include_the_whole_end_day() {
        let expected = range(Included(day(2026, 11, 1)), Excluded(day(2026, 11, 21)));
        assert_eq!(
            only("created:2026-11-01..2026-11-20"),
            ClauseKind::Created(expected)
        );
        let one_day = range(Included(day(2026, 11, 1)), Excluded(day(2026, 11, 2)));
        assert_eq!(
            only("created:2026-11-01..2026-11-01"),
            ClauseKind::Created(one_day)
        );
        assert_eq!(
            only("created:2026-11-01.."),
            ClauseKind::Created(range(Included(day(2026, 11, 1)), Unbounded))
        );
        assert_eq!(
            only("created:..2026-11-20"),
            ClauseKind::Created(range(Unbounded, Excluded(day(2026, 11, 21))))
        );
    }

    #[test]
    fn created_accepts_rfc3339_instants() {
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 8, 30, 0).unwrap();
        assert_eq!(
            only("created:2026-11-01T10:30:00+02:00"),
            ClauseKind::Created(range(Included(at), Included(at)))
        );
        assert_eq!(
            only("created:>2026-11-01T08:30:00Z"),
            ClauseKind::Created(range(Excluded(at), Unbounded))
        );
        assert_eq!(
            only("created:<=2026-11-01T08:30:00Z"),
            ClauseKind::Created(range(Unbounded, Included(at)))
        );
        let until = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        assert_eq!(
            only("created:2026-11-01T08:30:00Z..2026-11-02T00:00:00Z"),
            ClauseKind::Created(range(Included(at), Included(until)))
        );
    }

    #[test]
    fn relative_created_values_mean_within_the_last_while() {
        let within =
            |duration: TimeDelta| ClauseKind::Created(range(Included(now() - duration), Unbounded));
        assert_eq!(only("created:-7d"), within(TimeDelta::days(7)));
        assert_eq!(only("created:-24h"), within(TimeDelta::hours(24)));
        assert_eq!(only("created:-30m"), within(TimeDelta::minutes(30)));
        assert_eq!(only("created:-2w"), within(TimeDelta::weeks(2)));
    }

    #[test]
    fn relative_created_values_take_comparators_and_ranges() {
        let day_ago = now() - TimeDelta::hours(24);
        assert_eq!(
            only("created:>-24h"),
            ClauseKind::Created(range(Excluded(day_ago), Unbounded))
        );
        assert_eq!(
            only("created:>=-24h"),
            ClauseKind::Created(range(Included(day_ago), Unbounded))
        );
        let month_ago = now() - TimeDelta::days(30);
        assert_eq!(
            only("created:<-30d"),
            ClauseKind::Created(range(Unbounded, Excluded(month_ago)))
        );
        let week_ago = now() - TimeDelta::days(7);
        assert_eq!(
            only("created:-30d..-7d"),
            ClauseKind::Created(range(Included(month_ago), Included(week_ago)))
        );
    }

    #[test]
    fn invalid_created_values_are_errors() {
        assert_error(
            "created:2026-02-30",
            8,
            "2026-02-30",
            "invalid date `2026-02-30`",
        );
        assert_error("created:2026-13-01", 8, "2026-13-01", "invalid date");
        assert_error(
            "created:yesterday",
            8,
            "yesterday",
            "invalid date `yesterday`",
        );
        assert_error("created:2026-11-1", 8, "2026-11-1", "invalid date");
        assert_error("created:>=2026-02-30", 10, "2026-02-30", "invalid date");
        assert_error(
            "created:2026-11-01..2026-11-31",
            20,
            "2026-11-31",
            "invalid date",
        );
        assert_error("created:-7y", 8, "-7y", "invalid relative time `-7y`");
        assert_error("created:-d", 8, "-d", "invalid relative time");
        assert_error(
            "created:-99999999999999w",
            8,
            "-99999999999999w",
            "invalid relative time",
        );
        assert_error(
            "created:2026-11-01,2026-11-02",
            19,
            "2026-11-02",
            "single value",
        );
    }

    #[test]
    fn reversed_created_ranges_are_errors() {
        assert_error(
            "created:2026-11-20..2026-11-01",
            8,
            "2026-11-20..2026-11-01",
            "starts after it ends",
        );
        assert_error(
            "created:2026-11-01..2026-10-31",
            8,
            "2026-11-01..2026-10-31",
            "starts after it ends",
        );
        assert_error("created:-7d..-30d", 8, "-7d..-30d", "starts after it ends");
    }

    #[test]
    fn the_full_contract_example_parses() {
        let input = "jane kettle status:shipped -status:cancelled email:jane@example.com sku:MUG-BLUE \
            category:Kitchen country:PL city:\"New York\" tag:vip store:eu number:1042 total:>100 \
            total:50..100 created:>=2026-11-01 created:2026-11-01..2026-11-20 created:-7d created:>-24h";
        let query = query(input);
        assert_eq!(query.clauses.len(), 18);
        assert_eq!(query.free_text().count(), 2);
        assert_eq!(query.filters().count(), 16);
        for clause in &query.clauses {
            assert!(
                !input[clause.span.clone()].contains(' ')
                    || clause.span.start == input.find("city:").unwrap()
            );
        }
    }

    #[test]
    fn at_most_32_terms() {
        assert_eq!(query(&"a ".repeat(MAX_CLAUSES)).clauses.len(), MAX_CLAUSES);
        let input = format!("{}status:lost", "a ".repeat(MAX_CLAUSES));
        assert_error(&input, 64, "status:lost", "more than 32 terms");
    }

    #[test]
    fn at_most_512_bytes() {
        assert_eq!(query(&"a".repeat(MAX_INPUT_BYTES)).clauses.len(), 1);
        assert_error(
            &"a".repeat(MAX_INPUT_BYTES + 1),
            512,
            "",
            "longer than 512 bytes",
        );
        // The 512th byte falls inside `ł`, so the error points at its start.
        assert_error(
            &format!("a{}", "ł".repeat(256)),
            511,
            "",
            "longer than 512 bytes",
        );
    }

    #[test]
    fn errors_display_their_position() {
        assert_eq!(
            error("status:shipped foo:bar").to_string(),
            "unknown qualifier `foo` at position 15"
        );
    }

    #[test]
    fn query_helpers_split_free_text_from_filters() {
        let query = query("jane -\"gift card\" status:shipped -total:>100");
        let free: Vec<_> = query.free_text().map(|c| &c.kind).collect();
        assert_eq!(
            free,
            [&text("jane"), &ClauseKind::Phrase("gift card".into())]
        );
        let filters: Vec<_> = query.filters().map(|c| c.span.clone()).collect();
        assert_eq!(filters, [18..32, 33..44]);
        assert!(!query.is_empty());
    }

    #[test]
    fn ranges_know_what_they_contain() {
        let inclusive = range(Included(1), Included(3));
        assert!(inclusive.contains(&1) && inclusive.contains(&3) && !inclusive.contains(&4));
        let half_open = range(Excluded(1), Unbounded);
        assert!(!half_open.contains(&1) && half_open.contains(&1_000));
        assert!(!inclusive.is_empty());
        assert!(!range(Included(1), Included(1)).is_empty());
        assert!(range(Included(1), Excluded(1)).is_empty());
        assert!(range(Included(2), Included(1)).is_empty());
        assert!(!range(Unbounded, Excluded(0)).is_empty());
    }

    #[test]
    fn keyword_fields_are_named_as_typed() {
        assert_eq!(KeywordField::Customer.to_string(), "customer");
        assert_eq!(KeywordField::Status.name(), "status");
    }
}
