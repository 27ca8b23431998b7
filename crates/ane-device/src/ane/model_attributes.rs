//! What a loaded model says about its inputs and outputs (`-[model modelAttributes]`), and how
//! the device lays out its surfaces accordingly. Pure Rust, tested on every OS: the macOS
//! backend only converts the Objective-C property list into an [`AttrValue`] tree.
//!
//! What is known (ane-facts §7), and what is not:
//! - A disk `_ANEModel` returns attributes holding `ANEFModelDescription` (symbol arrays
//!   `kANEFModelInputSymbolsArrayKey` / `kANEFModelOutputSymbolsArrayKey`, `ANEFModelProcedures`
//!   with per-procedure symbol indices, `kANEFModelProcedureNameToIDMapKey`).
//! - Espresso-compiled models also report a top-level `NetworkStatusList`: one entry per
//!   procedure (`Name`), each with `LiveInputList` / `LiveOutputList` entries carrying `Name`,
//!   `Symbol`, `Width`, `Height` and `PlaneDescriptor` = [{`PlaneID`, `RowStride`}] — the only
//!   place a row stride has been seen. Output symbols there carry an `@output` suffix.
//! - The in-memory model used here has been seen exposing no symbols or strides at all (maderix
//!   PR #40), and whether MIL-compiled models fill `NetworkStatusList` is unverified. So the
//!   usual outcome is "no stride reported": the device keeps its dense rows and says so in a
//!   note ([`StrideFinding::NoneReported`]).
//! - No source shows a plane-stride key; `PlaneStride` is read if present (a guessed name) so a
//!   report of one is not silently dropped.
//!
//! The decision per buffer ([`decide_buffer`]): a reported stride equal to the dense one changes
//! nothing; a different one that [`RowLayout`](super::surface_layout::RowLayout) can express
//! becomes the surface's layout (the device then copies rows on every write and read); one it
//! cannot express (rows overlapping, planes disagreeing, a reported width that is not the
//! tensor's row) fails the compile with an error naming the buffer, the expected stride and the
//! reported one.

use super::surface_layout::{SurfacePlan, SurfaceSpec};
use std::collections::BTreeMap;
use std::fmt;

/// Deepest nesting the device converts or searches; attribute trees seen are four levels deep.
pub const MAX_DEPTH: usize = 32;

/// The top-level key holding per-procedure I/O descriptions.
pub const NETWORK_STATUS_LIST: &str = "NetworkStatusList";
/// The key of the model description dictionary.
pub const MODEL_DESCRIPTION: &str = "ANEFModelDescription";
/// Input and output lists inside one `NetworkStatusList` entry.
pub const LIVE_INPUT_LIST: &str = "LiveInputList";
/// See [`LIVE_INPUT_LIST`].
pub const LIVE_OUTPUT_LIST: &str = "LiveOutputList";
/// The per-plane list inside a live input or output.
pub const PLANE_DESCRIPTOR: &str = "PlaneDescriptor";
/// Bytes between rows, per plane descriptor.
pub const ROW_STRIDE: &str = "RowStride";
/// Bytes between planes: a guessed key (no source shows one), read only if present.
pub const PLANE_STRIDE: &str = "PlaneStride";

/// A property-list value, converted from the Objective-C objects `modelAttributes` returns.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// `NSDictionary`, keys as strings.
    Dict(BTreeMap<String, AttrValue>),
    /// `NSArray`.
    Array(Vec<AttrValue>),
    /// `NSString`.
    String(String),
    /// `NSNumber` (integers up to 2^53 are exact).
    Number(f64),
    /// `nil` or `NSNull`.
    Null,
    /// Any other object, by its description.
    Other(String),
}

impl AttrValue {
    /// A dictionary from `(key, value)` pairs (for building trees by hand).
    pub fn dict<K: Into<String>>(entries: impl IntoIterator<Item = (K, AttrValue)>) -> AttrValue {
        AttrValue::Dict(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> AttrValue {
        AttrValue::String(s.into())
    }

    /// The value at `key` of a dictionary.
    pub fn get(&self, key: &str) -> Option<&AttrValue> {
        match self {
            AttrValue::Dict(map) => map.get(key),
            _ => None,
        }
    }

    /// The elements of an array.
    pub fn as_array(&self) -> Option<&[AttrValue]> {
        match self {
            AttrValue::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// A number that is a whole, non-negative count no larger than 2^53 (beyond which `f64`
    /// stops being exact).
    pub fn as_count(&self) -> Option<usize> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        match *self {
            AttrValue::Number(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= EXACT => {
                usize::try_from(n as u64).ok()
            }
            _ => None,
        }
    }

    /// The first value stored under `key` anywhere in the tree (depth first, in key order),
    /// searching at most [`MAX_DEPTH`] levels.
    pub fn find(&self, key: &str) -> Option<&AttrValue> {
        self.find_within(key, MAX_DEPTH)
    }

    fn find_within(&self, key: &str, depth: usize) -> Option<&AttrValue> {
        if depth == 0 {
            return None;
        }
        match self {
            AttrValue::Dict(map) => map
                .get(key)
                .or_else(|| map.values().find_map(|v| v.find_within(key, depth - 1))),
            AttrValue::Array(items) => items.iter().find_map(|v| v.find_within(key, depth - 1)),
            _ => None,
        }
    }
}

/// One live input or output entry of the chosen `NetworkStatusList` procedure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportedBuffer {
    /// `Name`.
    pub name: Option<String>,
    /// `Symbol`.
    pub symbol: Option<String>,
    /// `Width` (values per row, in the one report seen).
    pub width: Option<usize>,
    /// `Height` (rows, in the one report seen).
    pub height: Option<usize>,
    /// `RowStride` of each plane descriptor that has one, in descriptor order.
    pub row_strides: Vec<usize>,
    /// `PlaneStride`, if any descriptor (or the entry itself) has one.
    pub plane_stride: Option<usize>,
    /// How many plane descriptors the entry lists.
    pub plane_descriptors: usize,
}

impl ReportedBuffer {
    /// Whether this entry describes the buffer called `buffer` in MIL: its `Symbol` or `Name`
    /// equals it, or does once an `@…` suffix ("y@output") is dropped.
    pub fn describes(&self, buffer: &str) -> bool {
        self.labels()
            .any(|l| l == buffer || symbol_base(l) == buffer)
    }

    fn describes_exactly(&self, buffer: &str) -> bool {
        self.labels().any(|l| l == buffer)
    }

    fn labels(&self) -> impl Iterator<Item = &str> {
        self.symbol.iter().chain(&self.name).map(String::as_str)
    }

    /// The row stride of the buffer: `None` when no descriptor reports one, an error when the
    /// descriptors disagree (a flat surface has one row stride).
    pub fn row_stride(&self) -> Result<Option<usize>, String> {
        match self.row_strides.split_first() {
            None => Ok(None),
            Some((first, rest)) if rest.iter().all(|s| s == first) => Ok(Some(*first)),
            Some(_) => Err(format!(
                "its plane descriptors report different row strides {:?}",
                self.row_strides
            )),
        }
    }
}

/// `name` without an `@…` suffix.
fn symbol_base(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

/// What a model's attributes say about its I/O, for procedure 0 (the one requests run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportedIo {
    /// The `Name` of the `NetworkStatusList` entry used, when there was one.
    pub network: Option<String>,
    /// Live inputs of that entry.
    pub inputs: Vec<ReportedBuffer>,
    /// Live outputs of that entry.
    pub outputs: Vec<ReportedBuffer>,
    /// Input symbols of procedure 0 from `ANEFModelDescription`, in the compiler's order.
    pub input_symbols: Vec<String>,
    /// Output symbols of procedure 0.
    pub output_symbols: Vec<String>,
    /// Things present but unusable (malformed numbers, ambiguous procedures), for notes.
    pub problems: Vec<String>,
}

impl ReportedIo {
    /// The reported entry for an input or output called `buffer`, preferring an exact label.
    pub fn find(&self, role: Role, buffer: &str) -> Option<&ReportedBuffer> {
        let list = match role {
            Role::Input => &self.inputs,
            Role::Output => &self.outputs,
        };
        list.iter()
            .find(|b| b.describes_exactly(buffer))
            .or_else(|| list.iter().find(|b| b.describes(buffer)))
    }
}

/// Reads the I/O description out of a `modelAttributes` tree. Never fails: whatever cannot be
/// read is left out and, when it was present but malformed, listed in
/// [`ReportedIo::problems`].
pub fn parse_reported_io(attrs: &AttrValue) -> ReportedIo {
    let mut io = ReportedIo::default();
    let description = attrs.find(MODEL_DESCRIPTION);
    let procedure_name = description.and_then(procedure_zero_name);
    if let Some(d) = description {
        let indices = procedure_zero_indices(d);
        io.input_symbols = symbols(
            d,
            "kANEFModelInputSymbolsArrayKey",
            indices.as_ref().map(|i| &i.0),
        );
        io.output_symbols = symbols(
            d,
            "kANEFModelOutputSymbolsArrayKey",
            indices.as_ref().map(|i| &i.1),
        );
    }
    let Some(list) = attrs.find(NETWORK_STATUS_LIST) else {
        return io;
    };
    let Some(networks) = list.as_array() else {
        io.problems
            .push(format!("{NETWORK_STATUS_LIST} is not an array"));
        return io;
    };
    let network = match networks {
        [] => return io,
        [only] => only,
        several => {
            let named = procedure_name.as_deref().and_then(|want| {
                several
                    .iter()
                    .find(|n| n.get("Name").and_then(AttrValue::as_str) == Some(want))
            });
            match named {
                Some(n) => n,
                None => {
                    io.problems.push(format!(
                        "{NETWORK_STATUS_LIST} lists {} procedures and none is identified as \
                         procedure 0; its strides are ignored",
                        several.len()
                    ));
                    return io;
                }
            }
        }
    };
    io.network = network
        .get("Name")
        .and_then(AttrValue::as_str)
        .map(str::to_string);
    let mut problems = Vec::new();
    io.inputs = live_list(network, LIVE_INPUT_LIST, &mut problems);
    io.outputs = live_list(network, LIVE_OUTPUT_LIST, &mut problems);
    io.problems.extend(problems);
    io
}

/// The procedure name mapped to ID 0 by `kANEFModelProcedureNameToIDMapKey`.
fn procedure_zero_name(description: &AttrValue) -> Option<String> {
    match description.get("kANEFModelProcedureNameToIDMapKey")? {
        AttrValue::Dict(map) => map
            .iter()
            .find(|(_, id)| id.as_count() == Some(0))
            .map(|(name, _)| name.clone()),
        _ => None,
    }
}

/// Procedure 0's input and output symbol indices from `ANEFModelProcedures`.
fn procedure_zero_indices(description: &AttrValue) -> Option<(Vec<usize>, Vec<usize>)> {
    let procedure = description
        .get("ANEFModelProcedures")?
        .as_array()?
        .iter()
        .find(|p| p.get("ANEFModelProcedureID").and_then(AttrValue::as_count) == Some(0))?;
    let indices = |key: &str| -> Option<Vec<usize>> {
        procedure
            .get(key)?
            .as_array()?
            .iter()
            .map(AttrValue::as_count)
            .collect()
    };
    Some((
        indices("ANEFModelInputSymbolIndexArray")?,
        indices("ANEFModelOutputSymbolIndexArray")?,
    ))
}

/// The symbol names under `key`, picked by `indices` when they are known (and valid).
fn symbols(description: &AttrValue, key: &str, indices: Option<&Vec<usize>>) -> Vec<String> {
    let Some(all) = description.get(key).and_then(AttrValue::as_array) else {
        return Vec::new();
    };
    let names: Vec<String> = all
        .iter()
        .filter_map(AttrValue::as_str)
        .map(str::to_string)
        .collect();
    match indices {
        Some(idx) if names.len() == all.len() && idx.iter().all(|&i| i < names.len()) => {
            idx.iter().map(|&i| names[i].clone()).collect()
        }
        _ => names,
    }
}

fn live_list(network: &AttrValue, key: &str, problems: &mut Vec<String>) -> Vec<ReportedBuffer> {
    let Some(entries) = network.get(key).and_then(AttrValue::as_array) else {
        return Vec::new();
    };
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, AttrValue::Dict(_)))
        .map(|(i, e)| live_entry(e, &format!("{key}[{i}]"), problems))
        .collect()
}

fn live_entry(entry: &AttrValue, at: &str, problems: &mut Vec<String>) -> ReportedBuffer {
    let mut count = |value: Option<&AttrValue>, what: String| -> Option<usize> {
        let v = value?;
        let n = v.as_count();
        if n.is_none() {
            problems.push(format!("{what} is not a byte or value count: {v:?}"));
        }
        n
    };
    let text = |key: &str| {
        entry
            .get(key)
            .and_then(AttrValue::as_str)
            .map(str::to_string)
    };
    let mut buffer = ReportedBuffer {
        name: text("Name"),
        symbol: text("Symbol"),
        width: count(entry.get("Width"), format!("{at}.Width")),
        height: count(entry.get("Height"), format!("{at}.Height")),
        plane_stride: count(entry.get(PLANE_STRIDE), format!("{at}.{PLANE_STRIDE}")),
        ..ReportedBuffer::default()
    };
    // A stride directly on the entry has not been seen, but costs nothing to honour.
    if let Some(s) = count(entry.get(ROW_STRIDE), format!("{at}.{ROW_STRIDE}")) {
        buffer.row_strides.push(s);
    }
    if let Some(planes) = entry.get(PLANE_DESCRIPTOR).and_then(AttrValue::as_array) {
        buffer.plane_descriptors = planes.len();
        for (j, plane) in planes.iter().enumerate() {
            let here = format!("{at}.{PLANE_DESCRIPTOR}[{j}]");
            if let Some(s) = count(plane.get(ROW_STRIDE), format!("{here}.{ROW_STRIDE}")) {
                buffer.row_strides.push(s);
            }
            if buffer.plane_stride.is_none() {
                buffer.plane_stride =
                    count(plane.get(PLANE_STRIDE), format!("{here}.{PLANE_STRIDE}"));
            }
        }
    }
    buffer
}

/// What the device learned from a loaded model's attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributesReport {
    /// The model object does not answer `modelAttributes`.
    NotAnswered,
    /// It answers, but reading them failed (the message says why).
    Unreadable(String),
    /// The attributes, parsed.
    Read(ReportedIo),
}

impl AttributesReport {
    /// The report for what [`super::AneRuntime::model_attributes`] returned.
    pub fn from_runtime(result: Result<Option<AttrValue>, String>) -> AttributesReport {
        match result {
            Ok(None) => AttributesReport::NotAnswered,
            Ok(Some(attrs)) => AttributesReport::Read(parse_reported_io(&attrs)),
            Err(message) => AttributesReport::Unreadable(message),
        }
    }

    /// Notes about the report as a whole (problems, and the compiler's symbol order when it
    /// differs from the order the device binds buffers in), for the device's debug log.
    pub fn general_notes(&self, plan: &SurfacePlan) -> Vec<String> {
        let AttributesReport::Read(io) = self else {
            return Vec::new();
        };
        let mut notes: Vec<String> = io
            .problems
            .iter()
            .map(|p| format!("model attributes: {p}"))
            .collect();
        for (role, reported, specs) in [
            (Role::Input, &io.input_symbols, &plan.inputs),
            (Role::Output, &io.output_symbols, &plan.outputs),
        ] {
            let bound: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            let listed: Vec<&str> = reported.iter().map(|s| symbol_base(s)).collect();
            if !reported.is_empty() && listed != bound {
                notes.push(format!(
                    "model attributes list {role} symbols {reported:?}; the device binds \
                     {role}s in parameter order {bound:?} (ane-facts §9: the compiler may order \
                     them alphabetically; unverified)"
                ));
            }
        }
        notes
    }
}

/// Whether a buffer is a kernel input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A parameter of `main`.
    Input,
    /// A value `main` returns.
    Output,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Input => "input",
            Role::Output => "output",
        })
    }
}

/// What the attributes said about one buffer's row stride.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrideFinding {
    /// The model does not answer `modelAttributes`: dense rows kept.
    NotAnswered,
    /// Reading the attributes failed: dense rows kept.
    Unreadable(String),
    /// The attributes gave no stride for this buffer: dense rows kept.
    NoneReported,
    /// The reported strides are the dense ones.
    Matches {
        /// The reported (and used) row stride.
        row_stride: usize,
    },
    /// The reported strides differ and the surface follows them.
    Adopted {
        /// The reported row stride.
        row_stride: usize,
        /// The plane stride in use (reported, or rows × row stride).
        plane_stride: usize,
    },
}

/// The layout decision for one buffer, as the device's notes report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferLayoutNote {
    /// The buffer's MIL name.
    pub buffer: String,
    /// Input or output.
    pub role: Role,
    /// Bytes of one dense row (last axis × element size).
    pub dense_row_bytes: usize,
    /// What was found and done.
    pub finding: StrideFinding,
    /// `Width` and `Height` as reported, for the record.
    pub reported_width: Option<usize>,
    /// See `reported_width`.
    pub reported_height: Option<usize>,
}

impl fmt::Display for BufferLayoutNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (role, name, dense) = (self.role, &self.buffer, self.dense_row_bytes);
        write!(f, "{role} {name:?}: ")?;
        match &self.finding {
            StrideFinding::NotAnswered => write!(
                f,
                "the model does not answer modelAttributes; dense rows of {dense} bytes kept"
            )?,
            StrideFinding::Unreadable(m) => write!(
                f,
                "reading modelAttributes failed ({m}); dense rows of {dense} bytes kept"
            )?,
            StrideFinding::NoneReported => write!(
                f,
                "the model attributes gave no row stride; dense rows of {dense} bytes kept"
            )?,
            StrideFinding::Matches { row_stride } => write!(
                f,
                "the model attributes report a row stride of {row_stride} bytes, the dense one"
            )?,
            StrideFinding::Adopted {
                row_stride,
                plane_stride,
            } => write!(
                f,
                "the model attributes report a row stride of {row_stride} bytes (plane stride \
                 {plane_stride}) where dense rows take {dense}; the surface follows the reported \
                 strides and rows are copied on every write and read"
            )?,
        }
        if self.reported_width.is_some() || self.reported_height.is_some() {
            write!(
                f,
                " (reported Width {:?}, Height {:?})",
                self.reported_width, self.reported_height
            )?;
        }
        Ok(())
    }
}

/// Decides one buffer's layout from its reported entry (if any). Returns the spec to allocate
/// and the finding, or an error naming the buffer, the expected and the reported stride when the
/// reported layout is one the device cannot express.
pub fn decide_buffer(
    spec: &SurfaceSpec,
    role: Role,
    reported: Option<&ReportedBuffer>,
) -> Result<(SurfaceSpec, BufferLayoutNote), String> {
    let dense = spec.layout;
    let mut note = BufferLayoutNote {
        buffer: spec.name.clone(),
        role,
        dense_row_bytes: dense.row_bytes,
        finding: StrideFinding::NoneReported,
        reported_width: reported.and_then(|r| r.width),
        reported_height: reported.and_then(|r| r.height),
    };
    let Some(reported) = reported else {
        return Ok((spec.clone(), note));
    };
    let cannot = |reported_stride: String, why: &str| {
        format!(
            "{role} {:?}: the loaded model reports a row stride of {reported_stride} bytes, the \
             device lays rows out {} bytes apart; {why}, so the surface cannot be laid out as \
             the model expects",
            spec.name, dense.row_bytes
        )
    };
    let row_stride = reported
        .row_stride()
        .map_err(|why| cannot(format!("{:?}", reported.row_strides), &why))?;
    if row_stride.is_none() && reported.plane_stride.is_none() {
        return Ok((spec.clone(), note));
    }
    let row_stride = row_stride.unwrap_or(dense.row_bytes);
    let layout = dense
        .with_strides(row_stride, reported.plane_stride)
        .map_err(|why| cannot(row_stride.to_string(), &why))?;
    if layout == dense {
        note.finding = StrideFinding::Matches { row_stride };
        return Ok((spec.clone(), note));
    }
    let row_len = spec.shape.last().copied().unwrap_or(1);
    if let Some(width) = reported.width.filter(|&w| w != row_len) {
        return Err(cannot(
            row_stride.to_string(),
            &format!(
                "it also reports a Width of {width} where the tensor's rows hold {row_len} \
                 values, so it is unclear which rows the stride applies to"
            ),
        ));
    }
    let strided = spec
        .with_layout(layout)
        .map_err(|why| cannot(row_stride.to_string(), &why))?;
    note.finding = StrideFinding::Adopted {
        row_stride: layout.row_stride,
        plane_stride: layout.plane_stride,
    };
    Ok((strided, note))
}

/// Decides every buffer of a kernel: the plan to allocate and one note per buffer, inputs first.
pub fn decide_layouts(
    plan: &SurfacePlan,
    report: &AttributesReport,
) -> Result<(SurfacePlan, Vec<BufferLayoutNote>), String> {
    let mut notes = Vec::new();
    let mut decide = |specs: &[SurfaceSpec], role: Role| -> Result<Vec<SurfaceSpec>, String> {
        specs
            .iter()
            .map(|spec| {
                let (spec, mut note) = match report {
                    AttributesReport::Read(io) => {
                        decide_buffer(spec, role, io.find(role, &spec.name))?
                    }
                    _ => decide_buffer(spec, role, None)?,
                };
                match report {
                    AttributesReport::NotAnswered => note.finding = StrideFinding::NotAnswered,
                    AttributesReport::Unreadable(m) => {
                        note.finding = StrideFinding::Unreadable(m.clone())
                    }
                    AttributesReport::Read(_) => {}
                }
                notes.push(note);
                Ok(spec)
            })
            .collect()
    };
    let inputs = decide(&plan.inputs, Role::Input)?;
    let outputs = decide(&plan.outputs, Role::Output)?;
    Ok((SurfacePlan { inputs, outputs }, notes))
}

#[cfg(test)]
mod tests;
