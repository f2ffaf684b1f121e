//! Reading import files: NDJSON, a JSON array, or CSV with flattened names,
//! each optionally gzipped (`.gz`), `-` for standard input, or a body held in
//! memory (`POST /v1/imports`). Records come out in batches that end with the
//! position after their last record, which the run stores with the batch.
//!
//! Resuming skips what a position says was consumed: a plain NDJSON file is
//! seeked to its byte offset; anything else (gzip, CSV, JSON, stdin) is read
//! again from the start and its first records skipped.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use super::csv_rows;

/// What the input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Ndjson,
    Json,
    Csv,
}

impl Format {
    /// The format a file's name says (`orders.csv.gz` is CSV); NDJSON otherwise.
    pub fn from_path(path: &Path) -> Format {
        let name = path.to_string_lossy().to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".csv") {
            Format::Csv
        } else if name.ends_with(".json") {
            Format::Json
        } else {
            Format::Ndjson
        }
    }
}

/// How far a run has read. Files: the file's index, and the records and
/// bytes consumed in it; HTTP: the next page and its URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(default)]
    pub file: usize,
    #[serde(default)]
    pub record: u64,
    #[serde(default)]
    pub offset: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A record as it was read, for the rejects file.
#[derive(Debug, Clone)]
pub enum Raw {
    /// An NDJSON line, without its line break.
    Line(String),
    /// An element of a JSON array or of a page of a feed.
    Element(Value),
    /// A CSV row and the file's header.
    Row {
        header: Arc<Vec<String>>,
        fields: Vec<String>,
    },
}

/// One input record: its number (line, row or element, from 1), the JSON
/// object it reads as (or why it does not), and what it was.
#[derive(Debug, Clone)]
pub struct Record {
    pub line: u64,
    pub value: Result<Value, String>,
    pub raw: Raw,
}

/// Records to write in one transaction, and the position after them.
#[derive(Debug)]
pub struct Batch {
    pub records: Vec<Record>,
    pub after: Position,
    /// Bytes read so far from plain files (for the progress bar).
    pub bytes: u64,
    /// Records expected in all, when the source says (a feed's total).
    pub total: Option<u64>,
}

/// Where records come from.
#[derive(Debug, Clone)]
pub enum FileInput {
    /// Paths; `-` is standard input.
    Paths(Vec<PathBuf>),
    /// An NDJSON or JSON body already in memory.
    Memory(bytes::Bytes),
}

/// The total size of plain (not compressed, not stdin) files, if all are.
pub fn plain_size(paths: &[PathBuf]) -> Option<u64> {
    let mut total = 0;
    for path in paths {
        if is_gzip(path) || path.as_os_str() == "-" {
            return None;
        }
        total += std::fs::metadata(path).ok()?.len();
    }
    Some(total)
}

fn is_gzip(path: &Path) -> bool {
    path.to_string_lossy().to_ascii_lowercase().ends_with(".gz")
}

/// Reads `input` from `start` on a blocking thread, sending batches of
/// `batch` records; stops early when the receiver is gone.
pub fn read(
    input: FileInput,
    format: Option<Format>,
    start: Position,
    batch: usize,
    sender: mpsc::Sender<anyhow::Result<Batch>>,
) {
    let result = match input {
        FileInput::Paths(paths) => read_paths(&paths, format, &start, batch, &sender),
        FileInput::Memory(body) => {
            let format = format.unwrap_or(Format::Ndjson);
            let mut reader = Reader::new(&sender, batch, 0, 0);
            let source = Box::new(Cursor::new(body));
            reader.read_one(source, format, &start, None).map(|_| ())
        }
    };
    if let Err(error) = result {
        let _ = sender.blocking_send(Err(error));
    }
}

fn read_paths(
    paths: &[PathBuf],
    format: Option<Format>,
    start: &Position,
    batch: usize,
    sender: &mpsc::Sender<anyhow::Result<Batch>>,
) -> anyhow::Result<()> {
    let mut done_bytes: u64 = paths
        .iter()
        .take(start.file)
        .filter_map(|path| std::fs::metadata(path).ok().map(|m| m.len()))
        .sum();
    for (index, path) in paths.iter().enumerate().skip(start.file) {
        let format = format.unwrap_or_else(|| Format::from_path(path));
        let from = if index == start.file {
            start.clone()
        } else {
            Position {
                file: index,
                ..Position::default()
            }
        };
        let mut seek_to = None;
        let source: Box<dyn BufRead + Send> = if path.as_os_str() == "-" {
            Box::new(BufReader::new(std::io::stdin()))
        } else {
            let mut file =
                File::open(path).with_context(|| format!("opening {}", path.display()))?;
            let gzip = is_gzip(path);
            if !gzip && format == Format::Ndjson && from.offset > 0 {
                file.seek(SeekFrom::Start(from.offset))?;
                seek_to = Some(from.offset);
            }
            if gzip {
                Box::new(BufReader::with_capacity(
                    1 << 16,
                    flate2::read::MultiGzDecoder::new(BufReader::new(file)),
                ))
            } else {
                Box::new(BufReader::with_capacity(1 << 16, file))
            }
        };
        let mut reader = Reader::new(sender, batch, index, done_bytes);
        if !reader.read_one(source, format, &from, seek_to)? {
            return Ok(());
        }
        done_bytes += std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    }
    Ok(())
}

/// Cuts one file's records into batches.
struct Reader<'a> {
    sender: &'a mpsc::Sender<anyhow::Result<Batch>>,
    batch: usize,
    file: usize,
    done_bytes: u64,
    records: Vec<Record>,
    consumed: u64,
    offset: u64,
}

impl<'a> Reader<'a> {
    fn new(
        sender: &'a mpsc::Sender<anyhow::Result<Batch>>,
        batch: usize,
        file: usize,
        done_bytes: u64,
    ) -> Self {
        Self {
            sender,
            batch: batch.max(1),
            file,
            done_bytes,
            records: Vec::new(),
            consumed: 0,
            offset: 0,
        }
    }

    /// Reads one file; `false` when the receiver has gone.
    fn read_one(
        &mut self,
        source: Box<dyn BufRead + Send>,
        format: Format,
        from: &Position,
        seeked: Option<u64>,
    ) -> anyhow::Result<bool> {
        if let Some(offset) = seeked {
            self.offset = offset;
            self.consumed = from.record;
        }
        let skip = if seeked.is_some() { 0 } else { from.record };
        let open = match format {
            Format::Ndjson => self.ndjson(source, skip)?,
            Format::Json => self.json_array(source, skip)?,
            Format::Csv => self.csv(source, skip)?,
        };
        Ok(open && self.flush(true))
    }

    /// Counts one consumed record; sends a full batch. `false` once nobody listens.
    fn push(&mut self, record: Option<Record>) -> bool {
        self.consumed += 1;
        if let Some(record) = record {
            self.records.push(record);
        }
        self.records.len() < self.batch || self.flush(false)
    }

    fn flush(&mut self, end_of_file: bool) -> bool {
        if self.records.is_empty() && !end_of_file {
            return true;
        }
        let after = if end_of_file {
            Position {
                file: self.file + 1,
                ..Position::default()
            }
        } else {
            Position {
                file: self.file,
                record: self.consumed,
                offset: self.offset,
                ..Position::default()
            }
        };
        let batch = Batch {
            records: std::mem::take(&mut self.records),
            after,
            bytes: self.done_bytes + self.offset,
            total: None,
        };
        self.sender.blocking_send(Ok(batch)).is_ok()
    }

    fn ndjson(&mut self, mut source: Box<dyn BufRead + Send>, skip: u64) -> anyhow::Result<bool> {
        let mut line = String::new();
        loop {
            line.clear();
            let read = source.read_line(&mut line).context("reading a line")?;
            if read == 0 {
                return Ok(true);
            }
            self.offset += read as u64;
            let number = self.consumed + 1;
            if number <= skip {
                self.consumed += 1;
                continue;
            }
            let text = line.trim_end_matches(['\n', '\r']);
            let record = (!text.trim().is_empty()).then(|| Record {
                line: number,
                value: serde_json::from_str(text).map_err(|error| format!("not JSON: {error}")),
                raw: Raw::Line(text.to_string()),
            });
            if !self.push(record) {
                return Ok(false);
            }
        }
    }

    fn json_array(
        &mut self,
        mut source: Box<dyn BufRead + Send>,
        skip: u64,
    ) -> anyhow::Result<bool> {
        let mut text = Vec::new();
        source.read_to_end(&mut text).context("reading JSON")?;
        let elements: Vec<Value> = match serde_json::from_slice(&text) {
            Ok(Value::Array(elements)) => elements,
            Ok(_) => bail!("a JSON input must be an array of orders"),
            Err(error) => bail!("the JSON input does not parse: {error}"),
        };
        self.offset = text.len() as u64;
        for (index, element) in elements.into_iter().enumerate() {
            let number = index as u64 + 1;
            if number <= skip {
                self.consumed += 1;
                continue;
            }
            let record = Record {
                line: number,
                value: Ok(element.clone()),
                raw: Raw::Element(element),
            };
            if !self.push(Some(record)) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn csv(&mut self, source: Box<dyn BufRead + Send>, skip: u64) -> anyhow::Result<bool> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(source);
        let header: Arc<Vec<String>> = Arc::new(
            reader
                .headers()
                .context("reading the CSV header")?
                .iter()
                .map(str::to_string)
                .collect(),
        );
        for row in reader.records() {
            let number = self.consumed + 1;
            if number <= skip {
                self.consumed += 1;
                continue;
            }
            let (line, fields, value) = match row {
                Ok(row) => {
                    let line = row.position().map_or(number + 1, |p| p.line());
                    self.offset = row.position().map_or(self.offset, |p| p.byte());
                    let fields: Vec<String> = row.iter().map(str::to_string).collect();
                    let value = csv_rows::unflatten(&header, &fields);
                    (line, fields, value)
                }
                Err(error) => (number + 1, Vec::new(), Err(format!("bad CSV row: {error}"))),
            };
            let record = Record {
                line,
                value,
                raw: Raw::Row {
                    header: header.clone(),
                    fields,
                },
            };
            if !self.push(Some(record)) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
