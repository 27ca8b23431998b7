//! The packed layout: where each boundary tensor lives in a kernel's single input `[1, C, 1, S]`
//! and single output `[1, C_out, 1, S_out]`, and the cheap feasibility check the partitioner calls
//! before lowering ([`check_packing`]).
//!
//! **Inputs.** Every input `j` (n_j elements, row-major) owns the column range
//! `[offset_j, offset_j + w_j)` of all `C` channels: element `e` sits at channel `e / w_j`, column
//! `offset_j + e % w_j`. In MIL: `slice_by_size` takes the slab `[1, C, 1, w_j]`, and `reshape`
//! gives the logical shape. When `C·w_j > n_j` the slab's tail is padding; the kernel then
//! reshapes the slab to `[1, 1, C·w_j / b, b]`, slices the first `n_j / b` rows and reshapes that to
//! the logical shape, where the row length `b` divides both `n_j` and `C·w_j` — so no tensor ever
//! has a rank-1 axis of `n_j` elements (every axis of every tensor must respect the chip's cap).
//!
//! **Outputs.** Every output `j` is reshaped to `[1, c_j, 1, S_out]` (padded the same way, with
//! zero rows appended through `[1, 1, a, b]`) and the results are concatenated along channels, so
//! output `j` is the contiguous element range starting at `channel_offset_j · S_out`.
//!
//! **Choosing C and S_out.** Every candidate (each divisor of some tensor's size that fits the
//! cap, and each power of two) gives a buffer; among those within ~3% of the smallest, the one
//! with the fewest padded slabs wins (each costs extra ops in the kernel), then the squarest
//! (both axes furthest from the cap, short slice offsets), then the smallest, then the one with
//! more channels. For a Llama layer this is maderix's layout: C = model dim, S = sequence +
//! weight columns.
//! A candidate is feasible when every axis (C, S, every slab's intermediate shape) fits the cap and
//! every slab starts at or below `max_slice_begin`.
//!
//! **Hardware rows.** On the ANE every I/O row is a multiple of 64 bytes and 64 to 16,384 values
//! wide (`ane_mil::chip` rules `io-row-alignment`, `io-width`): with [`PackingLimits::row_align`]
//! every input slab starts at a multiple of it (the columns between slabs are never read), the
//! input width is rounded up to it, and output widths are chosen among its multiples; both widths
//! are at least [`PackingLimits::min_width`] and at most [`PackingLimits::max_width`]. Excess width
//! moves into channels: the fixed axis is chosen so that the width fits.

use std::fmt;
use thiserror::Error;

/// How many widths past the minimum a slab may grow to find a row length that avoids oversized
/// axes (only ever needed for awkward prime-ish sizes).
const MAX_WIDTH_SEARCH: usize = 64;

/// Layouts at most `1/WASTE_SLACK` (~3%) larger than the smallest count as equally small, so a
/// few padding elements never push the buffer to an extreme shape (16 × 14289 instead of
/// 256 × 894 for an MLP layer's inputs).
const WASTE_SLACK: usize = 32;

/// Why no packed layout exists.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PackingError {
    /// A boundary tensor with no elements.
    #[error("boundary {side} {position} has no elements; a packed kernel cannot carry it")]
    Empty {
        /// `input` or `output`.
        side: Side,
        /// Its position.
        position: usize,
    },
    /// A kernel with no boundary inputs or no boundary outputs.
    #[error("a packed kernel needs at least one boundary {0}")]
    NoTensors(Side),
    /// No channel/spatial split keeps every axis within the limits.
    #[error(
        "cannot pack {side}s of {sizes:?} elements into one [1, C, 1, S] buffer with every axis \
         ≤ {max_axis}{begin} and S a legal row width: split the kernel or use the multi-input ABI",
        begin = match .max_slice_begin { Some(b) => format!(" and every slice starting at ≤ {b}"), None => String::new() }
    )]
    Infeasible {
        /// `input` or `output`.
        side: Side,
        /// The element counts.
        sizes: Vec<usize>,
        /// The per-axis cap.
        max_axis: usize,
        /// The slice-offset cap, if any.
        max_slice_begin: Option<usize>,
    },
}

/// Which buffer a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The packed input.
    Input,
    /// The packed output.
    Output,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Input => "input",
            Side::Output => "output",
        })
    }
}

/// The caps a packed layout must respect (a subset of
/// [`LoweringLimits`](crate::lower::LoweringLimits)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackingLimits {
    /// Per-axis cap; `None` = unlimited.
    pub max_axis_size: Option<usize>,
    /// Cap on the spatial offset an input slab may start at; `None` = unlimited.
    pub max_slice_begin: Option<usize>,
    /// Buffer widths and input slab offsets are multiples of this many elements (1: no rule).
    pub row_align: usize,
    /// The narrowest buffer width in elements (1: no rule).
    pub min_width: usize,
    /// The widest buffer width in elements; `None` = only the per-axis cap.
    pub max_width: Option<usize>,
}

impl PackingLimits {
    /// Only a per-axis cap (no row rules): what unit tests and host-side checks use.
    pub fn axis_cap(max_axis_size: Option<usize>) -> Self {
        PackingLimits {
            max_axis_size,
            max_slice_begin: None,
            row_align: 1,
            min_width: 1,
            max_width: None,
        }
    }

    fn align(&self) -> usize {
        self.row_align.max(1)
    }

    /// The widest width allowed: the width cap, the axis cap, rounded down to the alignment.
    fn width_cap(&self, cap: usize) -> usize {
        let widest = self.max_width.unwrap_or(usize::MAX).min(cap);
        widest / self.align() * self.align()
    }

    /// `width` rounded up to the alignment and to the minimum width.
    fn legal_width(&self, width: usize) -> Option<usize> {
        let w = width
            .max(self.min_width)
            .checked_next_multiple_of(self.align())?;
        Some(w)
    }
}

/// One tensor's place in a packed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slab {
    /// Elements of the tensor.
    pub elements: usize,
    /// Input: first column; output: first channel.
    pub offset: usize,
    /// Input: columns `w`; output: channels `c`.
    pub extent: usize,
    /// Row length `b` of the `[1, 1, rows, b]` detour when the slab is padded; `None` when the
    /// slab holds exactly the tensor.
    pub row_len: Option<usize>,
}

impl Slab {
    /// Rows of the logical tensor in the padding detour (`elements / row_len`).
    pub fn rows(&self) -> usize {
        self.row_len.map_or(0, |b| self.elements / b)
    }
}

/// A packed buffer `[1, channels, 1, width]` and the slabs in it, in boundary order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedBuffer {
    /// `C`.
    pub channels: usize,
    /// `S`.
    pub width: usize,
    /// One per boundary tensor.
    pub slabs: Vec<Slab>,
}

impl PackedBuffer {
    /// Elements in the buffer (`C·S`).
    pub fn elements(&self) -> usize {
        self.channels * self.width
    }
}

/// The packed layout of a whole kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedLayout {
    /// The input buffer.
    pub input: PackedBuffer,
    /// The output buffer.
    pub output: PackedBuffer,
}

/// The packed layout for boundary inputs and outputs of these element counts, or why none fits.
/// Cheap enough for the partitioner to call on every candidate kernel.
pub fn check_packing(
    input_sizes: &[usize],
    output_sizes: &[usize],
    limits: &PackingLimits,
) -> Result<PackedLayout, PackingError> {
    Ok(PackedLayout {
        input: pack(Side::Input, input_sizes, limits)?,
        output: pack(Side::Output, output_sizes, limits)?,
    })
}

/// The layout of one buffer. Inputs fix the channel count and give each tensor columns; outputs
/// fix the width and give each tensor channels — the same problem with the axes swapped.
pub fn pack(
    side: Side,
    sizes: &[usize],
    limits: &PackingLimits,
) -> Result<PackedBuffer, PackingError> {
    if sizes.is_empty() {
        return Err(PackingError::NoTensors(side));
    }
    if let Some(position) = sizes.iter().position(|&n| n == 0) {
        return Err(PackingError::Empty { side, position });
    }
    let cap = limits.max_axis_size.unwrap_or(usize::MAX);
    let feasible: Vec<PackedBuffer> = candidates(side, sizes, cap, limits)
        .into_iter()
        .filter_map(|fixed| layout_with(side, sizes, fixed, cap, limits))
        .collect();
    let Some(smallest) = feasible.iter().map(PackedBuffer::elements).min() else {
        return Err(PackingError::Infeasible {
            side,
            sizes: sizes.to_vec(),
            max_axis: cap,
            max_slice_begin: limits.max_slice_begin,
        });
    };
    // Within a few percent of the smallest buffer, shape matters more than size.
    let good_enough = smallest + smallest / WASTE_SLACK;
    Ok(feasible
        .into_iter()
        .filter(|b| b.elements() <= good_enough)
        .min_by_key(|b| Score::of(b, side))
        .expect("the smallest layout is good enough"))
}

/// Among near-smallest layouts, smaller is better: fewer padded slabs (each costs a reshape and a
/// slice or pad in the kernel), then the larger axis (away from the caps), then the buffer size,
/// then (for inputs) fewer columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    padded_slabs: usize,
    larger_axis: usize,
    elements: usize,
    free_axis: usize,
}

impl Score {
    fn of(b: &PackedBuffer, side: Side) -> Self {
        Score {
            padded_slabs: b.slabs.iter().filter(|s| s.row_len.is_some()).count(),
            larger_axis: b.channels.max(b.width),
            elements: b.elements(),
            // The axis each tensor extends along: prefer it short (more channels for inputs).
            free_axis: match side {
                Side::Input => b.width,
                Side::Output => b.channels,
            },
        }
    }
}

/// Candidate sizes for the fixed axis: every divisor of every size, and every power of two, up to
/// the cap (and up to the largest size: a longer fixed axis only adds padding). For outputs the
/// fixed axis is the width, so each candidate is made a legal width (aligned, within bounds).
fn candidates(side: Side, sizes: &[usize], cap: usize, limits: &PackingLimits) -> Vec<usize> {
    let largest = sizes.iter().copied().max().unwrap_or(1);
    let limit = cap.min(largest);
    let mut raw = Vec::new();
    for &n in sizes {
        for d in divisors(n) {
            if d <= limit {
                raw.push(d);
            }
        }
    }
    let mut p = 1usize;
    while p <= limit {
        raw.push(p);
        p = match p.checked_mul(2) {
            Some(next) => next,
            None => break,
        };
    }
    let mut out: Vec<usize> = match side {
        Side::Input => raw,
        Side::Output => {
            let widest = limits.width_cap(cap);
            raw.into_iter()
                .filter_map(|w| limits.legal_width(w))
                .filter(|&w| w <= widest)
                .collect()
        }
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// The buffer when the fixed axis has size `fixed`, if every axis fits.
fn layout_with(
    side: Side,
    sizes: &[usize],
    fixed: usize,
    cap: usize,
    limits: &PackingLimits,
) -> Option<PackedBuffer> {
    let mut slabs = Vec::with_capacity(sizes.len());
    let mut offset = 0usize;
    for &n in sizes {
        if side == Side::Input {
            // Every input slab starts on an aligned column.
            offset = offset.checked_next_multiple_of(limits.align())?;
            if limits.max_slice_begin.is_some_and(|m| offset > m) {
                return None;
            }
        }
        let (extent, row_len) = slab_shape(n, fixed, cap)?;
        slabs.push(Slab {
            elements: n,
            offset,
            extent,
            row_len,
        });
        offset = offset.checked_add(extent)?;
    }
    if offset > cap || fixed > cap {
        return None;
    }
    let (channels, width) = match side {
        Side::Input => {
            let width = limits.legal_width(offset)?;
            if width > limits.width_cap(cap) {
                return None;
            }
            (fixed, width)
        }
        Side::Output => (offset, fixed),
    };
    Some(PackedBuffer {
        channels,
        width,
        slabs,
    })
}

/// The extent `k` of a slab of `fixed × k` elements holding `n`, and the row length of its
/// padding detour (`None` when `fixed·k == n`). Every axis involved stays within `cap`.
pub fn slab_shape(n: usize, fixed: usize, cap: usize) -> Option<(usize, Option<usize>)> {
    let first = n.div_ceil(fixed);
    for extent in first..first.saturating_add(MAX_WIDTH_SEARCH) {
        if extent > cap {
            return None;
        }
        let total = fixed.checked_mul(extent)?;
        if total == n {
            return Some((extent, None));
        }
        // The longest row that divides both the tensor and the slab and fits the cap: longer rows
        // make both row counts shorter, so the first divisor (from the top) that fits decides.
        let g = gcd(n, total);
        if let Some(b) = divisors(g).into_iter().rev().find(|&b| b <= cap) {
            if n / b <= cap && total / b <= cap {
                return Some((extent, Some(b)));
            }
        }
    }
    None
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Divisors of `n` in increasing order.
fn divisors(n: usize) -> Vec<usize> {
    let mut small = Vec::new();
    let mut large = Vec::new();
    let mut d = 1usize;
    while d.saturating_mul(d) <= n {
        if n % d == 0 {
            small.push(d);
            if d != n / d {
                large.push(n / d);
            }
        }
        d += 1;
    }
    small.extend(large.into_iter().rev());
    small
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(cap: usize) -> PackingLimits {
        PackingLimits::axis_cap(Some(cap))
    }

    /// The ANE's row rules: 32 fp16 per aligned row, 64 to 16,384 values wide.
    fn ane(cap: usize) -> PackingLimits {
        PackingLimits {
            row_align: 32,
            min_width: 64,
            max_width: Some(16_384),
            ..PackingLimits::axis_cap(Some(cap))
        }
    }

    fn assert_legal(b: &PackedBuffer, side: Side) {
        assert_eq!(b.width % 32, 0, "{b:?}");
        assert!(b.width >= 64 && b.width <= 16_384, "{b:?}");
        if side == Side::Input {
            assert!(b.slabs.iter().all(|s| s.offset % 32 == 0), "{b:?}");
            let end = b.slabs.last().map_or(0, |s| s.offset + s.extent);
            assert!(end <= b.width, "{b:?}");
        }
        for s in &b.slabs {
            let total = match side {
                Side::Input => b.channels * s.extent,
                Side::Output => s.extent * b.width,
            };
            assert!(total >= s.elements, "{b:?}");
        }
    }

    #[test]
    fn ane_rows_are_aligned_and_within_the_width_bounds() {
        // The review's unaligned widths came from sizes like these (MLP, CNN, a Llama layer).
        let cases: [&[usize]; 6] = [
            &[64 * 784, 256 * 784, 256, 10 * 256, 10],
            &[1],
            &[10, 7, 3],
            &[1280 * 16],
            &[256 * 768, 768 * 768, 768 * 768, 768 * 768, 768 * 768, 768],
            &[32000 * 768 / 10, 256 * 768],
        ];
        for sizes in cases {
            for side in [Side::Input, Side::Output] {
                let b = pack(side, sizes, &ane(65_536)).unwrap();
                assert_legal(&b, side);
            }
        }
    }

    #[test]
    fn excess_width_moves_into_channels() {
        // 40 slabs of 1,000 values each: one channel would need 40,960 columns.
        let sizes = vec![1000; 40];
        let b = pack(Side::Input, &sizes, &ane(65_536)).unwrap();
        assert_legal(&b, Side::Input);
        assert!(b.channels > 1, "{b:?}");
        let out = pack(Side::Output, &[40_000], &ane(65_536)).unwrap();
        assert_legal(&out, Side::Output);
    }

    #[test]
    fn divisors_are_sorted_and_complete() {
        assert_eq!(divisors(12), vec![1, 2, 3, 4, 6, 12]);
        assert_eq!(divisors(1), vec![1]);
        assert_eq!(divisors(49), vec![1, 7, 49]);
    }

    #[test]
    fn exact_sizes_pack_without_padding() {
        // An MLP layer: x [32, 784], W [256, 784], b [256].
        let b = pack(Side::Input, &[32 * 784, 256 * 784, 256], &limits(16384)).unwrap();
        assert_eq!(b.elements(), 32 * 784 + 256 * 784 + 256);
        assert!(b.slabs.iter().all(|s| s.row_len.is_none()));
        assert!(b.channels <= 16384 && b.width <= 16384);
    }

    #[test]
    fn awkward_sizes_are_padded_through_a_row_detour() {
        let b = pack(Side::Input, &[10, 7, 784 * 256], &limits(16384)).unwrap();
        for s in &b.slabs {
            let total = b.channels * s.extent;
            assert!(total >= s.elements);
            if let Some(row) = s.row_len {
                assert_eq!(s.elements % row, 0);
                assert_eq!(total % row, 0);
                assert!(total / row <= 16384 && s.elements / row <= 16384);
            } else {
                assert_eq!(total, s.elements);
            }
        }
    }

    #[test]
    fn outputs_fix_the_width() {
        let b = pack(Side::Output, &[1, 256 * 784, 256], &limits(16384)).unwrap();
        assert!(b.width <= 16384 && b.channels <= 16384);
        let mut channel = 0;
        for s in &b.slabs {
            assert_eq!(s.offset, channel);
            assert!(s.extent * b.width >= s.elements);
            channel += s.extent;
        }
        assert_eq!(channel, b.channels);
    }

    #[test]
    fn too_large_for_the_cap_is_an_error() {
        let err = pack(Side::Input, &[17 * 17 + 1], &limits(16)).unwrap_err();
        assert!(matches!(err, PackingError::Infeasible { .. }), "{err}");
        assert!(err.to_string().contains("multi-input"));
    }

    #[test]
    fn slice_begin_limit_is_respected() {
        let l = PackingLimits {
            max_slice_begin: Some(100),
            ..PackingLimits::axis_cap(Some(16384))
        };
        let b = pack(Side::Input, &[64 * 300, 64 * 5, 64], &l).unwrap();
        assert!(b.slabs.iter().all(|s| s.offset <= 100));
    }

    #[test]
    fn empty_tensors_and_empty_lists_are_errors() {
        assert!(matches!(
            pack(Side::Input, &[], &limits(16)),
            Err(PackingError::NoTensors(Side::Input))
        ));
        assert!(matches!(
            pack(Side::Output, &[3, 0], &limits(16)),
            Err(PackingError::Empty { position: 1, .. })
        ));
    }
}
