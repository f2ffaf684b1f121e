//! The rejects file: every record that was not imported, in the format it
//! came in (NDJSON line, CSV row, JSON array element) with one more field,
//! `_error`, saying `line N: why`. Fix the file and import it again: the
//! `_error` field is ignored on input. A resumed run appends to it.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Map, Value};

use super::input::{Format, Raw, Record};

/// Where rejects go, opened on the first one.
pub struct RejectsFile {
    path: PathBuf,
    format: Format,
    writer: Option<BufWriter<File>>,
    /// A JSON array is rewritten whole, so it stays one valid document.
    elements: Vec<Value>,
    written: u64,
}

impl RejectsFile {
    pub fn new(path: PathBuf, format: Format) -> Self {
        Self {
            path,
            format,
            writer: None,
            elements: Vec::new(),
            written: 0,
        }
    }

    /// The default place: beside the first input (`orders.ndjson.gz` →
    /// `orders.rejects.ndjson`), or `import-<run>.rejects.ndjson` here.
    pub fn default_path(first_input: Option<&Path>, format: Format, run: uuid::Uuid) -> PathBuf {
        let extension = match format {
            Format::Ndjson => "ndjson",
            Format::Json => "json",
            Format::Csv => "csv",
        };
        match first_input.filter(|path| path.as_os_str() != "-") {
            Some(path) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                let name = name.strip_suffix(".gz").unwrap_or(&name);
                let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
                path.with_file_name(format!("{stem}.rejects.{extension}"))
            }
            None => PathBuf::from(format!("import-{run}.rejects.{extension}")),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many rejects this run wrote.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn write(&mut self, record: &Record, error: &str) -> anyhow::Result<()> {
        let error = format!("line {}: {error}", record.line);
        self.written += 1;
        match (&record.raw, self.format) {
            (Raw::Row { header, fields }, Format::Csv) => {
                let fresh = !self.path.exists() || std::fs::metadata(&self.path)?.len() == 0;
                let writer = self.open()?;
                let mut csv = csv::WriterBuilder::new().flexible(true).from_writer(writer);
                if fresh {
                    let mut names: Vec<&str> = header.iter().map(String::as_str).collect();
                    names.push("_error");
                    csv.write_record(&names)?;
                }
                let mut row: Vec<&str> = fields.iter().map(String::as_str).collect();
                row.resize(header.len(), "");
                row.push(&error);
                csv.write_record(&row)?;
                csv.flush()?;
            }
            (raw, Format::Json) => {
                if self.elements.is_empty() && self.path.exists() {
                    let text = std::fs::read(&self.path)?;
                    self.elements = serde_json::from_slice(&text).unwrap_or_default();
                }
                self.elements.push(with_error(raw, error));
            }
            (raw, _) => {
                let line = with_error(raw, error);
                let writer = self.open()?;
                serde_json::to_writer(&mut *writer, &line)?;
                writer.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    /// Makes what was written durable (called before each batch commits).
    pub fn flush(&mut self) -> anyhow::Result<()> {
        if self.format == Format::Json && !self.elements.is_empty() {
            let text = serde_json::to_vec_pretty(&self.elements)?;
            std::fs::write(&self.path, text)
                .with_context(|| format!("writing {}", self.path.display()))?;
        }
        if let Some(writer) = &mut self.writer {
            writer.flush()?;
        }
        Ok(())
    }

    fn open(&mut self) -> anyhow::Result<&mut BufWriter<File>> {
        if self.writer.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .with_context(|| format!("opening the rejects file {}", self.path.display()))?;
            self.writer = Some(BufWriter::new(file));
        }
        self.writer.as_mut().context("the rejects file is open")
    }
}

/// The record as it came, with `_error` added.
fn with_error(raw: &Raw, error: String) -> Value {
    let parsed = match raw {
        Raw::Line(text) => serde_json::from_str::<Value>(text).ok(),
        Raw::Element(value) => Some(value.clone()),
        Raw::Row { header, fields } => Some(Value::Object(
            header
                .iter()
                .zip(fields)
                .map(|(name, cell)| (name.clone(), Value::String(cell.clone())))
                .collect(),
        )),
    };
    let mut object = match (parsed, raw) {
        (Some(Value::Object(object)), _) => object,
        (_, Raw::Line(text)) => Map::from_iter([("_raw".to_string(), Value::String(text.clone()))]),
        (Some(other), _) => Map::from_iter([("_raw".to_string(), other)]),
        (None, _) => Map::new(),
    };
    object.insert("_error".into(), Value::String(error));
    Value::Object(object)
}
