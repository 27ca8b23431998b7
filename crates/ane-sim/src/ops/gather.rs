//! Index ops that read: `gather` (with `batch_dims`), `gather_along_axis` and `one_hot`.
//!
//! Indices are checked when the op runs: up to iOS16 an index in `[−D, D)` is valid and
//! negatives count from the end; from iOS17 only `[0, D)` is valid (negative indices are out
//! of bounds there, mil-ops §1.13). An invalid index is a run-time error naming it — the
//! simulator never reads outside a tensor and never guesses (whatever `validate_indices` says).
//! `one_hot` is the exception: an index outside `[0, depth)` gives a row of `off_value`
//! (TensorFlow's rule), since that is a well-defined, common use.

use crate::buffers::{Buffers, Lid};
use crate::error::{KernelError, SimError};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::copy::FromF64;
use crate::prepare::op_cx::OpCx;
use crate::storage::{with_elem, Elem};
use ane_mil::ops::shape::normalize_axis;
use ane_mil::Opset;

/// The op types handled here.
pub(crate) const OPS: &[&str] = &["gather", "gather_along_axis", "one_hot"];

/// How indices are checked and normalized.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexRule {
    /// Negative indices count from the end (opsets before iOS17).
    pub wrap_negative: bool,
}

impl IndexRule {
    /// The rule of `opset`.
    pub(crate) fn of(opset: Opset) -> Self {
        IndexRule {
            wrap_negative: opset < Opset::Ios17,
        }
    }

    /// Index `i` into a dim of size `d`, or an error naming it.
    pub(crate) fn resolve(self, i: i32, d: usize) -> Result<usize, KernelError> {
        let d_i = d as i64;
        let i64v = i64::from(i);
        let at = if i64v < 0 && self.wrap_negative {
            i64v + d_i
        } else {
            i64v
        };
        if (0..d_i).contains(&at) {
            Ok(at as usize)
        } else {
            let valid = if self.wrap_negative {
                format!("[-{d}, {d})")
            } else {
                format!("[0, {d})")
            };
            Err(KernelError::Data(format!(
                "index {i} is out of range {valid}"
            )))
        }
    }
}

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    match cx.op_type.as_str() {
        "gather" => gather(cx),
        "gather_along_axis" => gather_along_axis(cx),
        "one_hot" => one_hot(cx),
        other => Err(cx.internal(format!("`{other}` is not handled here"))),
    }
}

fn gather(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let indices = cx.input("indices")?;
    let rank = x.shape.len();
    let a = cx.int("axis")?;
    let axis = normalize_axis(a, rank).ok_or_else(|| cx.internal("axis out of range"))?;
    let batch_dims = if cx.has("batch_dims") {
        cx.int("batch_dims")?.max(0) as usize
    } else {
        0
    };
    let out = cx.output(0)?;
    let geometry = GatherGeometry {
        batches: x.shape[..batch_dims].iter().product(),
        outer: x.shape[batch_dims..axis].iter().product(),
        dim: x.shape[axis],
        picks: indices.shape[batch_dims..].iter().product(),
        inner: x.shape[axis + 1..].iter().product(),
    };
    let rule = IndexRule::of(cx.opset);
    with_elem!(x.kind, T => {
        cx.push(
            Gather::<T> { g: geometry, rule, x: x.lid, indices: indices.lid, out: out.lid, _t: std::marker::PhantomData },
            ScratchNeed::default(),
        );
    });
    Ok(())
}

#[derive(Debug, Clone, Copy)]
struct GatherGeometry {
    batches: usize,
    outer: usize,
    dim: usize,
    picks: usize,
    inner: usize,
}

#[derive(Debug)]
struct Gather<T> {
    g: GatherGeometry,
    rule: IndexRule,
    x: Lid,
    indices: Lid,
    out: Lid,
    _t: std::marker::PhantomData<T>,
}

impl<T: Elem + std::fmt::Debug> Kernel for Gather<T> {
    fn run(&self, bufs: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
        let g = self.g;
        bufs.with_typed_output::<T, _>(self.out, |bufs, out| {
            let x = bufs.get::<T>(self.x)?;
            let idx = bufs.get::<i32>(self.indices)?;
            for b in 0..g.batches {
                for p in 0..g.outer {
                    for k in 0..g.picks {
                        let i = self.rule.resolve(idx[b * g.picks + k], g.dim)?;
                        let src = ((b * g.outer + p) * g.dim + i) * g.inner;
                        let dst = ((b * g.outer + p) * g.picks + k) * g.inner;
                        out[dst..dst + g.inner].copy_from_slice(&x[src..src + g.inner]);
                    }
                }
            }
            Ok(())
        })
    }
}

fn gather_along_axis(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let indices = cx.input("indices")?;
    let a = cx.int("axis")?;
    let axis = normalize_axis(a, x.shape.len()).ok_or_else(|| cx.internal("axis out of range"))?;
    let out = cx.output(0)?;
    let along = AlongAxis {
        outer: x.shape[..axis].iter().product(),
        dim: x.shape[axis],
        picks: indices.shape[axis],
        inner: x.shape[axis + 1..].iter().product(),
    };
    let rule = IndexRule::of(cx.opset);
    with_elem!(x.kind, T => {
        cx.push(
            GatherAlong::<T> { a: along, rule, x: x.lid, indices: indices.lid, out: out.lid, _t: std::marker::PhantomData },
            ScratchNeed::default(),
        );
    });
    Ok(())
}

/// `[outer, dim, inner]` data indexed by `[outer, picks, inner]` indices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlongAxis {
    pub outer: usize,
    pub dim: usize,
    pub picks: usize,
    pub inner: usize,
}

impl AlongAxis {
    /// Calls `f(index position, data position)` for every index, checking it with `rule`.
    pub(crate) fn for_each(
        self,
        rule: IndexRule,
        idx: &[i32],
        mut f: impl FnMut(usize, usize) -> Result<(), KernelError>,
    ) -> Result<(), KernelError> {
        for o in 0..self.outer {
            for p in 0..self.picks {
                for j in 0..self.inner {
                    let at = (o * self.picks + p) * self.inner + j;
                    let i = rule.resolve(idx[at], self.dim)?;
                    f(at, (o * self.dim + i) * self.inner + j)?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug)]
struct GatherAlong<T> {
    a: AlongAxis,
    rule: IndexRule,
    x: Lid,
    indices: Lid,
    out: Lid,
    _t: std::marker::PhantomData<T>,
}

impl<T: Elem + std::fmt::Debug> Kernel for GatherAlong<T> {
    fn run(&self, bufs: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
        bufs.with_typed_output::<T, _>(self.out, |bufs, out| {
            let x = bufs.get::<T>(self.x)?;
            let idx = bufs.get::<i32>(self.indices)?;
            self.a.for_each(self.rule, idx, |at, src| {
                out[at] = x[src];
                Ok(())
            })
        })
    }
}

fn one_hot(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let indices = cx.input("indices")?;
    if !cx.is_const("one_hot_vector_size") {
        return Err(cx.unsupported(
            "a run-time `one_hot_vector_size` is not supported (it decides the output shape)",
        ));
    }
    let depth = cx.int("one_hot_vector_size")?.max(0) as usize;
    let out_rank = indices.shape.len() + 1;
    let a = cx.int("axis")?;
    let axis = normalize_axis(a, out_rank).ok_or_else(|| cx.internal("axis out of range"))?;
    let value = |name: &str| -> Result<f64, SimError> {
        if cx.value(name)?.dtype == ane_mil::DType::Bool {
            Ok(f64::from(u8::from(cx.bool(name)?)))
        } else {
            Ok(f64::from(cx.float(name)?))
        }
    };
    let (on, off) = (value("on_value")?, value("off_value")?);
    let out = cx.output(0)?;
    let outer: usize = indices.shape[..axis].iter().product();
    let inner: usize = indices.shape[axis..].iter().product();
    with_elem!(out.kind, T => {
        cx.push(
            OneHot::<T> {
                outer, depth, inner,
                on: <T as FromF64>::from_f64(on),
                off: <T as FromF64>::from_f64(off),
                indices: indices.lid,
                out: out.lid,
            },
            ScratchNeed::default(),
        );
    });
    Ok(())
}

#[derive(Debug)]
struct OneHot<T> {
    outer: usize,
    depth: usize,
    inner: usize,
    on: T,
    off: T,
    indices: Lid,
    out: Lid,
}

impl<T: Elem + std::fmt::Debug> Kernel for OneHot<T> {
    fn run(&self, bufs: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
        bufs.with_typed_output::<T, _>(self.out, |bufs, out| {
            let idx = bufs.get::<i32>(self.indices)?;
            out.fill(self.off);
            for o in 0..self.outer {
                for j in 0..self.inner {
                    let i = idx[o * self.inner + j];
                    if i >= 0 && (i as usize) < self.depth {
                        out[(o * self.depth + i as usize) * self.inner + j] = self.on;
                    }
                }
            }
            Ok(())
        })
    }
}
