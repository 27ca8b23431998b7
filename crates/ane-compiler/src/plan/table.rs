//! The plan as text: one row per kernel, then totals, compiles, the ANE FLOP share, what limited
//! the grouping, why ops run on the host, lint advisories; and a second table of dispatches.

use super::{Plan, StepValueKind};
use crate::lower::{Abi, Precision};
use crate::place::{DwPlacement, PlaceReason, Placement};
use ane_mil::chip::Rule;
use std::collections::BTreeMap;
use std::fmt::{self, Write};

/// How many caps splits the table spells out.
const CAPS_LINES: usize = 5;

/// `12.3 G`, `456.0 M`, `7.0 k`, `12`.
pub fn human(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2} G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2} M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} k", n / 1e3)
    } else {
        format!("{n}")
    }
}

impl Plan {
    /// One line describing the target: chip, dialect, precision, ABI, dW placement.
    pub fn target_line(&self) -> String {
        let o = &self.options;
        format!(
            "chip {} ({}), {} ANE kernels, {} ABI, dW on the {}",
            o.chip.family,
            o.chip.dialect.opset(),
            match o.precision {
                Precision::Fp16 => "fp16",
                Precision::Fp32 => "fp32",
            },
            match o.abi {
                Abi::Packed => "packed",
                Abi::MultiInput => "multi-input",
            },
            match o.dw {
                DwPlacement::Ane => "ANE",
                DwPlacement::Host => "host",
            }
        )
    }

    /// The kernel table with totals, compiles, the ANE FLOP share, grouping limits, host
    /// reasons and advisories.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = self.write_table(&mut s);
        s
    }

    fn write_table(&self, s: &mut String) -> fmt::Result {
        writeln!(s, "plan: {}", self.target_line())?;
        let width = self
            .kernels
            .iter()
            .map(|k| k.name.len())
            .max()
            .unwrap_or(6)
            .max(6);
        writeln!(
            s,
            "{:<width$}  {:<5} {:>5} {:>11} {:>11} {:>11} {:>6} {:>8}  {:<44} limited by",
            "kernel",
            "place",
            "disp",
            "FLOPs/disp",
            "bytes in",
            "bytes out",
            "row",
            "unproven",
            "main ops",
        )?;
        for (k, kernel) in self.kernels.iter().enumerate() {
            let first = self.dispatches.iter().find(|d| d.kernel == k);
            let limit = first.map_or_else(String::new, |d| d.limit.to_string());
            let ops: Vec<String> = kernel
                .ir_op_counts
                .iter()
                .take(4)
                .map(|(op, n)| format!("{op}×{n}"))
                .collect();
            let (row, unproven) = match kernel.placement {
                Placement::Ane => (
                    kernel.widest_row.to_string(),
                    kernel.unproven().count().to_string(),
                ),
                Placement::Host => ("-".to_string(), "-".to_string()),
            };
            writeln!(
                s,
                "{:<width$}  {:<5} {:>5} {:>11} {:>11} {:>11} {:>6} {:>8}  {:<44} {}",
                kernel.name,
                kernel.placement.to_string(),
                kernel.dispatches_per_step,
                human(kernel.flops),
                human(kernel.bytes_in as u64),
                human(kernel.bytes_out as u64),
                row,
                unproven,
                ops.join(" "),
                truncate(&limit, 90)
            )?;
        }
        let t = &self.totals;
        writeln!(
            s,
            "per step: {} dispatches ({} ANE, {} host); FLOPs {} on the ANE, {} on the host; \
             ANE FLOP share {:.1}%; ANE transfers {}B in, {}B out",
            t.ane_dispatches + t.host_dispatches,
            t.ane_dispatches,
            t.host_dispatches,
            human(t.ane_flops),
            human(t.host_flops),
            100.0 * t.ane_flop_share(),
            human(t.ane_bytes_in),
            human(t.ane_bytes_out)
        )?;
        writeln!(
            s,
            "compiles: {} ANE kernels (budget ~{} per process), {} host kernels",
            self.compiles.ane, self.options.chip.compile_limit, self.compiles.host
        )?;
        let ane = || {
            self.kernels
                .iter()
                .filter(|k| k.placement == Placement::Ane)
        };
        let largest = ane().map(|k| k.bytes_in + k.bytes_out).max().unwrap_or(0);
        let widest = ane().map(|k| k.widest_row).max().unwrap_or(0);
        let caps = &self.options.chip;
        let budget = caps
            .max_kernel_io_bytes
            .map_or_else(|| "none".to_string(), |b| format!("{}B", human(b as u64)));
        writeln!(
            s,
            "hardware rules: largest ANE kernel I/O {}B (budget {budget}); widest I/O row {} \
             (rows {}–{} values, multiples of {} bytes); {} of {} ANE kernels use unproven ops \
             or forms",
            human(largest as u64),
            widest,
            caps.min_io_width,
            caps.max_io_width,
            caps.io_row_alignment_bytes,
            ane().filter(|k| k.unproven().next().is_some()).count(),
            ane().count(),
        )?;
        if self.chunked > 0 {
            writeln!(
                s,
                "chunked: {} contractions over the {} axis cap of {} or half the kernel I/O budget \
                 split into pieces that fit",
                self.chunked, self.options.chip.family, self.options.chip.max_axis_size
            )?;
        }
        let mut limits: BTreeMap<&str, usize> = BTreeMap::new();
        for d in &self.dispatches {
            *limits.entry(d.limit.kind()).or_insert(0) += 1;
        }
        let limits: Vec<String> = limits.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        writeln!(s, "grouping limited by: {}", limits.join(", "))?;
        let caps_splits: Vec<_> = self
            .dispatches
            .iter()
            .filter(|d| d.limit.kind() == "caps")
            .collect();
        for d in caps_splits.iter().take(CAPS_LINES) {
            let line = format!(
                "  caps split before {}: {}",
                self.kernels[d.kernel].name, d.limit
            );
            writeln!(s, "{}", truncate(&line, 200))?;
        }
        if caps_splits.len() > CAPS_LINES {
            let more = caps_splits.len() - CAPS_LINES;
            writeln!(s, "  … {more} more caps splits (see the dispatch table)")?;
        }
        let mut host: BTreeMap<String, usize> = BTreeMap::new();
        for (n, p) in self.placements.iter().enumerate() {
            if p.placement == Placement::Host && p.reason != PlaceReason::ConstantOutput {
                let op = self.graph.nodes()[n].op.name();
                *host.entry(format!("{op}: {}", p.reason)).or_insert(0) += 1;
            }
        }
        if !host.is_empty() {
            writeln!(s, "on the host:")?;
            for (why, n) in &host {
                writeln!(s, "  {n} × {}", truncate(why, 160))?;
            }
        }
        let count = |f: &dyn Fn(&StepValueKind) -> bool| {
            self.step_inputs.iter().filter(|v| f(&v.kind)).count()
        };
        writeln!(
            s,
            "step inputs: {} params, {} data, {} ids/labels, {} dropout masks; outputs: {}; \
             {} buffers cross kernels ({}B)",
            count(&|k| *k == StepValueKind::Param),
            count(&|k| *k == StepValueKind::Data),
            count(&|k| *k == StepValueKind::Ids),
            count(&|k| matches!(k, StepValueKind::DropoutMask { .. })),
            self.step_outputs.len(),
            self.buffers.len(),
            human(self.buffers.iter().map(|b| b.bytes as u64).sum())
        )?;
        let advisories = self.advisories();
        if !advisories.is_empty() {
            let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
            for (_, a) in &advisories {
                *by_rule.entry(a.rule.id()).or_insert(0) += 1;
            }
            let list: Vec<String> = by_rule.iter().map(|(r, n)| format!("{r} ×{n}")).collect();
            writeln!(s, "lint advisories (not enforced): {}", list.join(", "))?;
            let mut unproven: BTreeMap<String, usize> = BTreeMap::new();
            for (_, a) in advisories.iter().filter(|(_, a)| a.rule.is_unproven()) {
                *unproven.entry(unproven_key(a)).or_insert(0) += 1;
            }
            if !unproven.is_empty() {
                let list: Vec<String> = unproven.iter().map(|(r, n)| format!("{r} ×{n}")).collect();
                writeln!(s, "  unproven: {}", truncate(&list.join(", "), 400))?;
            }
        }
        Ok(())
    }

    /// One row per dispatch, in execution order.
    pub fn dispatch_table(&self) -> String {
        let mut s = String::new();
        for (i, d) in self.dispatches.iter().enumerate() {
            let _ = writeln!(
                s,
                "{i:3}  {:<32} {:<20} in {:>3}  out {:>3}  nodes {:>4}  {}",
                self.kernels[d.kernel].name,
                d.scope.as_deref().unwrap_or("-"),
                d.inputs.len(),
                d.outputs.len(),
                d.nodes.len(),
                d.limit
            );
        }
        s
    }

    /// One row per buffer.
    pub fn buffer_table(&self) -> String {
        let mut s = String::new();
        for b in &self.buffers {
            let source = match b.source {
                super::BufferSource::StepInput => "step input".to_string(),
                super::BufferSource::Dispatch(d) => format!("dispatch {d}"),
            };
            let _ = writeln!(
                s,
                "{:<48} {:<3} {:<20} {:>10}  from {:<12} read by {:?}",
                truncate(&b.name, 48),
                b.dtype.to_string(),
                format!("{:?}", b.shape),
                human(b.bytes as u64),
                source,
                b.readers
            );
        }
        s
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table())
    }
}

/// What an unproven finding is about, without the names: `op relu`, `form transpose [0, 2, 1, 3]`,
/// `form rank-2 tensor`, `form bool tensor`.
fn unproven_key(a: &ane_mil::chip::LintError) -> String {
    let op =
        a.op.as_deref()
            .and_then(|o| o.split('`').nth(1))
            .unwrap_or("?");
    match a.rule {
        Rule::UnprovenOp => format!("op {op}"),
        _ if a.message.starts_with("transpose") => {
            format!("form {}", a.message.split(" (").next().unwrap_or(""))
        }
        _ if a.message.starts_with("bool") => "form bool tensor".to_string(),
        _ => format!("form non-[1,C,H,W] tensor ({op})"),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
