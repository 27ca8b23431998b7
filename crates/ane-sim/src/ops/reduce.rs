//! Reductions over axes (`reduce_sum`, `reduce_mean`, `reduce_max`, `reduce_min`,
//! `reduce_l2_norm`) and `reduce_argmax`.
//!
//! The input is seen as `[outer, reduced, inner]` (non-adjacent axes are first moved last by a
//! copy). Float sums accumulate in f64 in index order and are rounded once; max/min propagate
//! NaN. Empty reductions give the identity: 0 for sums and norms, NaN for the float mean (0/0),
//! −inf for max, +inf for min. Int32: sums wrap, the mean truncates toward zero (0 over an empty
//! axis), the l2 norm is the f64 result truncated. `reduce_argmax` returns the first index of the
//! maximum (NaN counts as the maximum, numpy's rule).

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::copy::push_permute;
use crate::prepare::op_cx::{OpCx, TensorIn};
use crate::storage::{Kind, View};
use ane_cpu::reduce::{argmax_blocks, reduce_blocks_f32, reduce_blocks_i32, ReduceOp};
use ane_cpu::shape::reduction_view;
use ane_mil::ops::shape::normalize_axis;

/// The op types handled here.
pub(crate) const OPS: &[&str] = &[
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reduce_min",
    "reduce_l2_norm",
    "reduce_argmax",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reduction {
    Sum,
    Mean,
    Max,
    Min,
    L2,
    ArgMax,
}

pub(crate) use ane_cpu::reduce::Blocks;

/// Normalized, sorted axes of constant `name`.
pub(crate) fn sorted_axes(cx: &OpCx<'_>, name: &str, rank: usize) -> Result<Vec<usize>, SimError> {
    let mut axes = cx
        .ints(name)?
        .iter()
        .map(|&a| normalize_axis(a, rank))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| cx.internal("axis out of range"))?;
    axes.sort_unstable();
    axes.dedup();
    Ok(axes)
}

/// Makes the `axes` of `x` one contiguous block: directly when they already are (size-1 dims
/// ignored), else by a copy moving them last into a temporary. Returns the tensor to reduce,
/// its blocks and, when moved, the permutation used.
pub(crate) fn contiguous_axes(
    cx: &mut OpCx<'_>,
    x: &TensorIn,
    axes: &[usize],
) -> Result<(Lid, Blocks, Option<Vec<usize>>), SimError> {
    if let Some((outer, r, inner)) = reduction_view(&x.shape, axes) {
        return Ok((x.lid, Blocks { outer, r, inner }, None));
    }
    let kept: Vec<usize> = (0..x.shape.len()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let tmp = cx.temp(x.kind, x.len());
    push_permute(cx, x.kind, x.lid, tmp, &x.shape, &perm)?;
    cx.read_temp(tmp);
    let outer = kept.iter().map(|&d| x.shape[d]).product();
    let r = axes.iter().map(|&d| x.shape[d]).product();
    Ok((tmp, Blocks { outer, r, inner: 1 }, Some(perm)))
}

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let rank = x.shape.len();
    let op = match cx.op_type.as_str() {
        "reduce_sum" => Reduction::Sum,
        "reduce_mean" => Reduction::Mean,
        "reduce_max" => Reduction::Max,
        "reduce_min" => Reduction::Min,
        "reduce_l2_norm" => Reduction::L2,
        "reduce_argmax" => Reduction::ArgMax,
        other => return Err(cx.internal(format!("`{other}` is not a reduction"))),
    };
    let axes = if op == Reduction::ArgMax {
        let a = cx.int("axis")?;
        vec![normalize_axis(a, rank).ok_or_else(|| cx.internal("axis out of range"))?]
    } else {
        sorted_axes(cx, "axes", rank)?
    };
    let (src, blocks, _) = contiguous_axes(cx, &x, &axes)?;
    let out = cx.output(0)?;
    if op == Reduction::ArgMax {
        if blocks.r == 0 && out.len() > 0 {
            return Err(cx.unsupported("reduce_argmax over an empty axis has no answer"));
        }
        if out.dtype == ane_mil::DType::Uint16 && blocks.r > 1 << 16 {
            return Err(cx.unsupported("uint16 indices cannot address an axis longer than 65536"));
        }
    }
    let float = x.kind.is_float();
    if !float && x.kind != Kind::I32 {
        return Err(cx.unsupported(format!("cannot reduce {} tensors", x.dtype)));
    }
    let scratch = ScratchNeed {
        f32: if x.kind == Kind::F16 { x.len() } else { 0 }
            + if out.kind == Kind::F16 { out.len() } else { 0 },
        f64: blocks.inner,
    };
    cx.push(
        Reduce {
            op,
            blocks,
            x: src,
            out: out.lid,
        },
        scratch,
    );
    Ok(())
}

#[derive(Debug)]
struct Reduce {
    op: Reduction,
    blocks: Blocks,
    x: Lid,
    out: Lid,
}

impl Reduction {
    /// The ane-cpu reduction (argmax has its own kernel).
    fn cpu_op(self) -> ReduceOp {
        match self {
            Reduction::Sum => ReduceOp::Sum,
            Reduction::Mean => ReduceOp::Mean,
            Reduction::Max => ReduceOp::Max,
            Reduction::Min => ReduceOp::Min,
            Reduction::L2 | Reduction::ArgMax => ReduceOp::L2Norm,
        }
    }
}

fn internal(e: ane_cpu::CpuError) -> KernelError {
    KernelError::Internal(e.to_string())
}

impl Kernel for Reduce {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let b = self.blocks;
        let op = self.op.cpu_op();
        let cols = &mut cx.scratch.f64;
        let scratch = &mut cx.scratch.f32;
        if self.op == Reduction::ArgMax {
            return bufs.with_typed_output::<i32, _>(self.out, |bufs, out| {
                match bufs.view(self.x)? {
                    View::I32(x) => argmax_blocks(b, x, out),
                    View::F16(x) => argmax_blocks(b, widen(FloatView::F16(x), scratch)?, out),
                    View::F32(x) => argmax_blocks(b, x, out),
                    View::Bool(_) => return Err(KernelError::Internal("argmax of bools".into())),
                }
                .map_err(internal)
            });
        }
        if let View::I32(_) = bufs.view(self.x)? {
            return bufs.with_typed_output::<i32, _>(self.out, |bufs, out| {
                let x = bufs.get::<i32>(self.x)?;
                reduce_blocks_i32(op, b, x, out).map_err(internal)
            });
        }
        bufs.with_float_output(self.out, |bufs, out| {
            let (xs, rest) = scratch.split_at_mut(match bufs.float(self.x)? {
                FloatView::F16(v) => v.len(),
                FloatView::F32(_) => 0,
            });
            let x = widen(bufs.float(self.x)?, xs)?;
            compute_into(out, rest, |o| {
                reduce_blocks_f32(op, b, x, cols, o).map_err(internal)
            })
        })
    }
}
