//! `matmul` (ranks 1–5, transposes, numpy batch broadcasting) and `linear` (`x · weightᵀ +
//! bias`), through `ane_cpu`'s f32 GEMM (`gemm` crate): f16 operands are widened once per run
//! with slice conversions (constant operands once when preparing), products accumulate in f32
//! and the result is rounded once. Many small products run in parallel one per task; large ones
//! one at a time with a parallel GEMM. Int32 products (and int32 `linear`) use a plain wrapping
//! loop.

use crate::buffers::{Buffers, FloatView, FloatViewMut, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_cpu::gemm::{gemm_f32, MatMut, MatRef};
use ane_cpu::shape::{broadcast_shapes, broadcast_strides};
use rayon::prelude::*;

/// The op types handled here.
pub(crate) const OPS: &[&str] = &["matmul", "linear"];

/// A float operand: a run-time tensor, or a constant widened when preparing.
#[derive(Debug)]
enum Operand {
    Tensor { lid: Lid, f16: bool },
    Const(Vec<f32>),
}

impl Operand {
    fn of(cx: &mut OpCx<'_>, name: &str) -> Result<Operand, SimError> {
        if cx.is_const(name) {
            return Ok(Operand::Const(cx.floats(name)?));
        }
        let t = cx.input(name)?;
        Ok(Operand::Tensor {
            lid: t.lid,
            f16: t.kind == Kind::F16,
        })
    }

    fn scratch(&self, len: usize) -> usize {
        match self {
            Operand::Tensor { f16: true, .. } => len,
            _ => 0,
        }
    }

    /// The operand as f32, widening f16 into the front of `tmp`; returns the rest of `tmp`.
    fn get<'a>(
        &'a self,
        bufs: &'a Buffers,
        tmp: &'a mut [f32],
    ) -> Result<(&'a [f32], &'a mut [f32]), KernelError> {
        match self {
            Operand::Const(v) => Ok((v, tmp)),
            Operand::Tensor { lid, .. } => {
                let x = bufs.float(*lid)?;
                let n = match x {
                    FloatView::F16(v) => v.len(),
                    FloatView::F32(_) => 0,
                };
                let (head, rest) = tmp.split_at_mut(n);
                Ok((widen(x, head)?, rest))
            }
        }
    }
}

/// The products of one matmul: `batch` pairs of `[m, k] · [k, n]`.
#[derive(Debug, Clone)]
struct Products {
    m: usize,
    n: usize,
    k: usize,
    transpose_a: bool,
    transpose_b: bool,
    /// Element offsets of each product's `a` and `b` matrices.
    offsets: Vec<(usize, usize)>,
}

impl Products {
    fn a_view<'a>(&self, a: &'a [f32], offset: usize) -> Result<MatRef<'a, f32>, KernelError> {
        let (m, k) = (self.m, self.k);
        let data = &a[offset..offset + m * k];
        let view = if self.transpose_a {
            MatRef::new(data, m, k, 1, m)
        } else {
            MatRef::new(data, m, k, k, 1)
        };
        view.map_err(|e| KernelError::Internal(e.to_string()))
    }

    fn b_view<'a>(&self, b: &'a [f32], offset: usize) -> Result<MatRef<'a, f32>, KernelError> {
        let (k, n) = (self.k, self.n);
        let data = &b[offset..offset + k * n];
        let view = if self.transpose_b {
            MatRef::new(data, k, n, 1, k)
        } else {
            MatRef::new(data, k, n, n, 1)
        };
        view.map_err(|e| KernelError::Internal(e.to_string()))
    }

    /// `out[i] = a_i · b_i` (or `+=` with `accumulate`) for every product.
    fn run(
        &self,
        a: &[f32],
        b: &[f32],
        out: &mut [f32],
        accumulate: bool,
        parallel: bool,
    ) -> Result<(), KernelError> {
        let mn = self.m * self.n;
        if mn == 0 || self.offsets.is_empty() {
            return Ok(());
        }
        if self.k == 0 {
            if !accumulate {
                out.fill(0.0);
            }
            return Ok(());
        }
        let product = |out: &mut [f32], &(oa, ob): &(usize, usize), parallel: bool| {
            let view = MatMut::row_major(out, self.m, self.n)
                .map_err(|e| KernelError::Internal(e.to_string()))?;
            gemm_f32(
                view,
                self.a_view(a, oa)?,
                self.b_view(b, ob)?,
                accumulate,
                parallel,
            )
            .map_err(|e| KernelError::Internal(e.to_string()))
        };
        let small = mn.saturating_mul(self.k) < 1 << 21;
        if parallel && small && self.offsets.len() > 1 {
            out.par_chunks_mut(mn)
                .zip(self.offsets.par_iter())
                .try_for_each(|(o, off)| product(o, off, false))
        } else {
            for (o, off) in out.chunks_mut(mn).zip(&self.offsets) {
                product(o, off, parallel)?;
            }
            Ok(())
        }
    }
}

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    if cx.op_type == "linear" {
        linear(cx)
    } else {
        matmul(cx)
    }
}

/// Works out the products of `x @ y` with transposes and batch broadcasting.
fn products(
    cx: &OpCx<'_>,
    xs: &[usize],
    ys: &[usize],
    transpose_x: bool,
    transpose_y: bool,
) -> Result<Products, SimError> {
    let plan = ane_cpu::gemm::MatmulPlan::new(xs, ys, transpose_x, transpose_y)
        .map_err(|e| cx.internal(e.to_string()))?;
    let a2: Vec<usize> = if xs.len() == 1 {
        vec![1, xs[0]]
    } else {
        xs.to_vec()
    };
    let b2: Vec<usize> = if ys.len() == 1 {
        vec![ys[0], 1]
    } else {
        ys.to_vec()
    };
    let a_batch = &a2[..a2.len() - 2];
    let b_batch = &b2[..b2.len() - 2];
    let batch_shape =
        broadcast_shapes("matmul", a_batch, b_batch).map_err(|e| cx.internal(e.to_string()))?;
    let a_strides = broadcast_strides(a_batch, &batch_shape);
    let b_strides = broadcast_strides(b_batch, &batch_shape);
    let batch: usize = batch_shape.iter().product();
    let (a_mat, b_mat) = (plan.m * plan.k, plan.k * plan.n);
    let offsets = (0..batch)
        .map(|index| {
            let (mut rest, mut oa, mut ob) = (index, 0, 0);
            for d in (0..batch_shape.len()).rev() {
                let i = rest % batch_shape[d];
                rest /= batch_shape[d];
                oa += i * a_strides[d];
                ob += i * b_strides[d];
            }
            (oa * a_mat, ob * b_mat)
        })
        .collect();
    Ok(Products {
        m: plan.m,
        n: plan.n,
        k: plan.k,
        transpose_a: transpose_x,
        transpose_b: transpose_y,
        offsets,
    })
}

fn matmul(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let (xs, ys) = (cx.value("x")?.shape.clone(), cx.value("y")?.shape.clone());
    let (tx, ty) = (cx.bool("transpose_x")?, cx.bool("transpose_y")?);
    let products = products(cx, &xs, &ys, tx, ty)?;
    let float = cx.value("x")?.dtype.is_float();
    if !float {
        let x = cx.input("x")?;
        let y = cx.input("y")?;
        let out = cx.output(0)?;
        cx.push(
            IntMatmul {
                products,
                x: x.lid,
                y: y.lid,
                bias: None,
                out: out.lid,
            },
            ScratchNeed::default(),
        );
        return Ok(());
    }
    let x = Operand::of(cx, "x")?;
    let y = Operand::of(cx, "y")?;
    let out = cx.output(0)?;
    let scratch = x.scratch(xs.iter().product())
        + y.scratch(ys.iter().product())
        + usize::from(out.kind == Kind::F16) * out.len();
    cx.push(
        Matmul {
            products,
            x,
            y,
            bias: None,
            out: out.lid,
        },
        ScratchNeed::f32(scratch),
    );
    Ok(())
}

fn linear(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let xs = cx.value("x")?.shape.clone();
    let ws = cx.value("weight")?.shape.clone();
    let (d_out, d_in) = (ws[0], ws[1]);
    let rows: usize = xs[..xs.len() - 1].iter().product();
    let products = Products {
        m: rows,
        n: d_out,
        k: d_in,
        transpose_a: false,
        // weight is [D_out, D_in] = [n, k]: read transposed.
        transpose_b: true,
        offsets: vec![(0, 0)],
    };
    if !cx.value("x")?.dtype.is_float() {
        let x = cx.input("x")?;
        let weight = cx.input("weight")?;
        let bias = if cx.has("bias") {
            let b = cx.ints("bias")?;
            Some(b.iter().map(|&v| v as i32).collect())
        } else {
            None
        };
        let out = cx.output(0)?;
        cx.push(
            IntMatmul {
                products,
                x: x.lid,
                y: weight.lid,
                bias,
                out: out.lid,
            },
            ScratchNeed::default(),
        );
        return Ok(());
    }
    let x = Operand::of(cx, "x")?;
    let weight = Operand::of(cx, "weight")?;
    let bias = if cx.has("bias") {
        Some(cx.floats("bias")?)
    } else {
        None
    };
    let out = cx.output(0)?;
    let scratch = x.scratch(xs.iter().product())
        + weight.scratch(d_out * d_in)
        + usize::from(out.kind == Kind::F16) * out.len();
    cx.push(
        Matmul {
            products,
            x,
            y: weight,
            bias,
            out: out.lid,
        },
        ScratchNeed::f32(scratch),
    );
    Ok(())
}

#[derive(Debug)]
struct Matmul {
    products: Products,
    x: Operand,
    y: Operand,
    /// Added to every row of the result (`linear`).
    bias: Option<Vec<f32>>,
    out: Lid,
}

impl Kernel for Matmul {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let parallel = cx.parallel;
        let scratch = &mut cx.scratch.f32;
        bufs.with_float_output(self.out, |bufs, out| {
            let (a, rest) = self.x.get(bufs, scratch)?;
            let (b, rest) = self.y.get(bufs, rest)?;
            let fill = |o: &mut [f32]| -> bool {
                match &self.bias {
                    Some(bias) if !bias.is_empty() => {
                        for row in o.chunks_mut(bias.len()) {
                            row.copy_from_slice(bias);
                        }
                        true
                    }
                    _ => false,
                }
            };
            match out {
                FloatViewMut::F32(o) => {
                    let acc = fill(o);
                    self.products.run(a, b, o, acc, parallel)
                }
                out => compute_into(out, rest, |o| {
                    let acc = fill(o);
                    self.products.run(a, b, o, acc, parallel)
                }),
            }
        })
    }
}

/// Int32 matmul: a plain triple loop with wrapping arithmetic.
#[derive(Debug)]
struct IntMatmul {
    products: Products,
    x: Lid,
    y: Lid,
    /// Added to every row (`linear`).
    bias: Option<Vec<i32>>,
    out: Lid,
}

impl Kernel for IntMatmul {
    fn run(&self, bufs: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
        let p = &self.products;
        bufs.with_typed_output::<i32, _>(self.out, |bufs, out| {
            let (a, b) = (bufs.get::<i32>(self.x)?, bufs.get::<i32>(self.y)?);
            let mn = p.m * p.n;
            if mn == 0 {
                return Ok(());
            }
            for (o, &(oa, ob)) in out.chunks_mut(mn).zip(&p.offsets) {
                for i in 0..p.m {
                    for j in 0..p.n {
                        let mut s = self.bias.as_ref().map_or(0, |b| b[j]);
                        for q in 0..p.k {
                            let av = if p.transpose_a {
                                a[oa + q * p.m + i]
                            } else {
                                a[oa + i * p.k + q]
                            };
                            let bv = if p.transpose_b {
                                b[ob + j * p.k + q]
                            } else {
                                b[ob + q * p.n + j]
                            };
                            s = s.wrapping_add(av.wrapping_mul(bv));
                        }
                        o[i * p.n + j] = s;
                    }
                }
            }
            Ok(())
        })
    }
}
