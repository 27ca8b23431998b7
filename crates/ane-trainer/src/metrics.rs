//! Training metrics: the append-only `metrics.jsonl` log (one JSON object per line, flushed as
//! it is written), a reader for it, and running averages for the progress display.
//!
//! A field is present only when it was measured; nothing is ever filled in. JSON has no NaN or
//! infinity, so non-finite values (a diverged loss, an overflowed gradient norm) are written as
//! the strings `"NaN"`, `"Infinity"` and `"-Infinity"` rather than silently becoming `null`.
//! Example line:
//!
//! ```text
//! {"step":120,"epoch":1,"loss":0.4312,"lr":0.001,"loss_scale":65536.0,"samples_per_sec":5120.5,"grad_norm":1.84}
//! ```

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Why the metrics log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The metrics file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A complete line is not a valid record.
    #[error("{}:{line}: invalid metrics record: {reason}", path.display())]
    BadLine {
        /// The metrics file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A smoothing parameter out of range.
    #[error("invalid smoothing setting: {0}")]
    InvalidSmoothing(String),
}

/// One line of `metrics.jsonl`: the state after one update (or one evaluation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsRecord {
    /// Updates applied so far (the step this record describes).
    pub step: u64,
    /// The epoch (0-based) the step belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// Training loss of the step (mean over its micro-batches, unscaled).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float")]
    pub loss: Option<f64>,
    /// Learning rate used.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float")]
    pub lr: Option<f64>,
    /// Loss scale used.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float")]
    pub loss_scale: Option<f64>,
    /// Training throughput.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float")]
    pub samples_per_sec: Option<f64>,
    /// Global gradient norm before clipping.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float")]
    pub grad_norm: Option<f64>,
    /// Whether the update was skipped (inf/NaN gradients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    /// Evaluation loss, on the steps where evaluation ran.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float")]
    pub eval_loss: Option<f64>,
    /// Evaluation accuracy in [0, 1], on the steps where evaluation ran.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float")]
    pub eval_accuracy: Option<f64>,
    /// Wall-clock seconds since the run (or resumed run) started.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float")]
    pub elapsed_sec: Option<f64>,
}

/// Serde for optional floats that keeps NaN and ±infinity as strings.
mod float {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match *value {
            Some(x) if x.is_nan() => s.serialize_str("NaN"),
            Some(x) if x == f64::INFINITY => s.serialize_str("Infinity"),
            Some(x) if x == f64::NEG_INFINITY => s.serialize_str("-Infinity"),
            Some(x) => s.serialize_f64(x),
            None => s.serialize_none(),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(f64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        match Option::<Repr>::deserialize(d)? {
            None => Ok(None),
            Some(Repr::Number(x)) => Ok(Some(x)),
            Some(Repr::Text(t)) => match t.as_str() {
                "NaN" => Ok(Some(f64::NAN)),
                "Infinity" => Ok(Some(f64::INFINITY)),
                "-Infinity" => Ok(Some(f64::NEG_INFINITY)),
                other => Err(serde::de::Error::custom(format!(
                    "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\", got \"{other}\""
                ))),
            },
        }
    }
}

/// Appends records to a `metrics.jsonl` file, one line per record, each written with a single
/// `write` call so a reader (or a crash) never sees half of a line followed by another record.
#[derive(Debug)]
pub struct MetricsWriter {
    file: File,
    path: PathBuf,
}

impl MetricsWriter {
    /// Starts a new log at `path`, replacing any existing file.
    pub fn create(path: &Path) -> Result<Self, MetricsError> {
        let file = File::create(path).map_err(io_error(path))?;
        Ok(MetricsWriter {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Opens `path` for appending (creating it if needed). If a crash left an unterminated last
    /// line, a newline is added so the next record starts on a line of its own.
    pub fn append(path: &Path) -> Result<Self, MetricsError> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io_error(path))?;
        let len = file.metadata().map_err(io_error(path))?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::End(-1)).map_err(io_error(path))?;
            file.read_exact(&mut last).map_err(io_error(path))?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(io_error(path))?;
            }
        }
        Ok(MetricsWriter {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Opens the log of a run resumed from a checkpoint at `last_step`: records after that step
    /// (written after the checkpoint, before the interruption) are dropped so the resumed run
    /// does not log those steps twice; earlier lines are kept verbatim. Then appends.
    pub fn resume(path: &Path, last_step: u64) -> Result<Self, MetricsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(MetricsError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let mut kept = String::with_capacity(text.len());
        for (index, line) in complete_lines(&text) {
            let step = parse_line(path, index, line)?.step;
            if step <= last_step {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        // Rewrite through a temporary file so a crash here cannot lose the kept history.
        let temp = path.with_extension("jsonl.tmp");
        std::fs::write(&temp, kept).map_err(io_error(&temp))?;
        std::fs::rename(&temp, path).map_err(io_error(path))?;
        Self::append(path)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record as one line.
    pub fn write(&mut self, record: &MetricsRecord) -> Result<(), MetricsError> {
        let mut line = serde_json::to_vec(record).expect("metrics records serialize");
        line.push(b'\n');
        self.file.write_all(&line).map_err(io_error(&self.path))?;
        self.file.flush().map_err(io_error(&self.path))
    }
}

/// Reads every record of a `metrics.jsonl` file. A malformed complete line is an error naming
/// its line number; an unterminated, unparsable last line (a crash mid-write) is ignored.
pub fn read_metrics(path: &Path) -> Result<Vec<MetricsRecord>, MetricsError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    complete_lines(&text)
        .map(|(index, line)| parse_line(path, index, line))
        .collect()
}

/// The non-blank lines of `text` with their 0-based index, leaving out an unterminated last
/// line that does not parse (a torn write).
fn complete_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let terminated = text.ends_with('\n');
    let count = text.lines().count();
    text.lines().enumerate().filter(move |&(i, line)| {
        if line.trim().is_empty() {
            return false;
        }
        let torn = i + 1 == count && !terminated;
        !torn || serde_json::from_str::<MetricsRecord>(line).is_ok()
    })
}

fn parse_line(path: &Path, index: usize, line: &str) -> Result<MetricsRecord, MetricsError> {
    serde_json::from_str(line).map_err(|e| MetricsError::BadLine {
        path: path.to_path_buf(),
        line: index + 1,
        reason: e.to_string(),
    })
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> MetricsError + '_ {
    move |source| MetricsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An exponential moving average with bias correction (so early values are not pulled toward
/// zero). Non-finite inputs are not averaged in; they are counted instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Ema {
    decay: f64,
    biased: f64,
    weight: f64,
    ignored: u64,
}

impl Ema {
    /// An average where each new value has weight `1 − decay` (`decay` in [0, 1)).
    pub fn new(decay: f64) -> Result<Self, MetricsError> {
        if !(0.0..1.0).contains(&decay) {
            return Err(MetricsError::InvalidSmoothing(format!(
                "EMA decay must be in [0, 1), got {decay}"
            )));
        }
        Ok(Ema {
            decay,
            biased: 0.0,
            weight: 0.0,
            ignored: 0,
        })
    }

    /// Adds a value.
    pub fn update(&mut self, value: f64) {
        if !value.is_finite() {
            self.ignored += 1;
            return;
        }
        self.biased = self.decay * self.biased + (1.0 - self.decay) * value;
        self.weight = self.decay * self.weight + (1.0 - self.decay);
    }

    /// The average, or `None` before the first finite value.
    pub fn value(&self) -> Option<f64> {
        (self.weight > 0.0).then(|| self.biased / self.weight)
    }

    /// How many non-finite values were left out.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }
}

/// The mean of the last `capacity` finite values.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowMean {
    values: VecDeque<f64>,
    capacity: usize,
}

impl WindowMean {
    /// A window over the last `capacity` (≥ 1) values.
    pub fn new(capacity: usize) -> Result<Self, MetricsError> {
        if capacity == 0 {
            return Err(MetricsError::InvalidSmoothing(
                "window size must be at least 1".into(),
            ));
        }
        Ok(WindowMean {
            values: VecDeque::with_capacity(capacity),
            capacity,
        })
    }

    /// Adds a value (non-finite values are ignored).
    pub fn update(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        if self.values.len() == self.capacity {
            self.values.pop_front();
        }
        self.values.push_back(value);
    }

    /// The mean of the window, or `None` when empty. Summed afresh each time so no rounding
    /// drift builds up over a long run.
    pub fn value(&self) -> Option<f64> {
        (!self.values.is_empty())
            .then(|| self.values.iter().sum::<f64>() / self.values.len() as f64)
    }
}

/// Throughput over a sliding window of recent steps: samples processed divided by the time they
/// took, from timestamps the caller supplies (so it is testable and clock-agnostic).
#[derive(Debug, Clone, PartialEq)]
pub struct RateWindow {
    marks: VecDeque<(f64, u64)>,
    capacity: usize,
}

impl RateWindow {
    /// A window over the last `capacity` (≥ 1) intervals.
    pub fn new(capacity: usize) -> Result<Self, MetricsError> {
        if capacity == 0 {
            return Err(MetricsError::InvalidSmoothing(
                "window size must be at least 1".into(),
            ));
        }
        Ok(RateWindow {
            marks: VecDeque::with_capacity(capacity + 1),
            capacity,
        })
    }

    /// Records that `total_samples` samples had been processed at `time_sec`.
    pub fn mark(&mut self, time_sec: f64, total_samples: u64) {
        if self.marks.len() == self.capacity + 1 {
            self.marks.pop_front();
        }
        self.marks.push_back((time_sec, total_samples));
    }

    /// Samples per second over the window, or `None` until two marks span a positive time.
    pub fn per_sec(&self) -> Option<f64> {
        let (&(t0, n0), &(t1, n1)) = (self.marks.front()?, self.marks.back()?);
        (t1 > t0).then(|| n1.saturating_sub(n0) as f64 / (t1 - t0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(step: u64) -> MetricsRecord {
        MetricsRecord {
            step,
            epoch: Some(0),
            loss: Some(2.5 - step as f64 * 0.1),
            lr: Some(1e-3),
            ..Default::default()
        }
    }

    #[test]
    fn writes_only_measured_fields_and_reads_back() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.jsonl");
        let mut w = MetricsWriter::create(&path).unwrap();
        w.write(&record(1)).unwrap();
        let full = MetricsRecord {
            step: 2,
            epoch: Some(1),
            loss: Some(f64::NAN),
            lr: Some(0.5),
            loss_scale: Some(32768.0),
            samples_per_sec: Some(1000.25),
            grad_norm: Some(f64::INFINITY),
            skipped: Some(true),
            eval_loss: Some(f64::NEG_INFINITY),
            eval_accuracy: Some(0.875),
            elapsed_sec: Some(3.0),
        };
        w.write(&full).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], r#"{"step":1,"epoch":0,"loss":2.4,"lr":0.001}"#);
        assert!(
            lines[1].contains(r#""loss":"NaN""#) && lines[1].contains(r#""grad_norm":"Infinity""#)
        );
        let back = read_metrics(&path).unwrap();
        assert_eq!(back[0], record(1));
        assert!(back[1].loss.unwrap().is_nan());
        assert_eq!(back[1].grad_norm, Some(f64::INFINITY));
        assert_eq!(back[1].eval_loss, Some(f64::NEG_INFINITY));
        assert_eq!(
            (back[1].skipped, back[1].eval_accuracy),
            (Some(true), Some(0.875))
        );
    }

    #[test]
    fn append_repairs_torn_line_and_reader_reports_bad_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("m.jsonl");
        std::fs::write(&path, "{\"step\":1}\n{\"step\":2,\"lo").unwrap();
        assert_eq!(
            read_metrics(&path).unwrap().len(),
            1,
            "torn last line ignored"
        );
        let mut w = MetricsWriter::append(&path).unwrap();
        w.write(&record(3)).unwrap();
        let err = read_metrics(&path).unwrap_err().to_string();
        assert!(err.contains("m.jsonl:2: invalid metrics record"), "{err}");
        std::fs::write(&path, "{\"step\":1,\"loss\":\"lots\"}\n").unwrap();
        assert!(read_metrics(&path).unwrap_err().to_string().contains(":1:"));
        std::fs::write(&path, "{\"loss\":1.0}\n").unwrap();
        assert!(read_metrics(&path)
            .unwrap_err()
            .to_string()
            .contains("missing field `step`"));
    }

    #[test]
    fn resume_drops_steps_after_the_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.jsonl");
        let mut w = MetricsWriter::create(&path).unwrap();
        for step in 1..=5 {
            w.write(&record(step)).unwrap();
        }
        drop(w);
        let mut w = MetricsWriter::resume(&path, 3).unwrap();
        w.write(&record(4)).unwrap();
        let steps: Vec<u64> = read_metrics(&path)
            .unwrap()
            .iter()
            .map(|r| r.step)
            .collect();
        assert_eq!(steps, [1, 2, 3, 4]);
        let fresh = tmp.path().join("new.jsonl");
        MetricsWriter::resume(&fresh, 10)
            .unwrap()
            .write(&record(11))
            .unwrap();
        assert_eq!(read_metrics(&fresh).unwrap().len(), 1);
    }

    #[test]
    fn ema_is_debiased_and_skips_non_finite() {
        let mut e = Ema::new(0.9).unwrap();
        assert_eq!(e.value(), None);
        e.update(2.0);
        assert!(
            (e.value().unwrap() - 2.0).abs() < 1e-12,
            "first value is exact"
        );
        e.update(f64::NAN);
        e.update(4.0);
        // weights 0.9·0.1 and 0.1 over total 0.19
        let expected = (0.09 * 2.0 + 0.1 * 4.0) / 0.19;
        assert!((e.value().unwrap() - expected).abs() < 1e-12);
        assert_eq!(e.ignored(), 1);
        assert!(Ema::new(1.0).is_err() && Ema::new(-0.1).is_err());
    }

    #[test]
    fn window_mean_and_rate() {
        let mut w = WindowMean::new(3).unwrap();
        assert_eq!(w.value(), None);
        for x in [1.0, 2.0, 3.0, 4.0, f64::INFINITY] {
            w.update(x);
        }
        assert_eq!(w.value(), Some(3.0));
        assert!(WindowMean::new(0).is_err());

        let mut r = RateWindow::new(2).unwrap();
        r.mark(0.0, 0);
        assert_eq!(r.per_sec(), None);
        r.mark(1.0, 100);
        r.mark(2.0, 300);
        assert_eq!(r.per_sec(), Some(150.0));
        r.mark(3.0, 600);
        assert_eq!(r.per_sec(), Some(250.0), "oldest interval dropped");
    }
}
