//! `conv_transpose`: the gradient of `conv` with respect to its input. For each (image, group),
//! `col = W_gᵀ · x_g` (an f32 GEMM, `W_g` read as `[C_in/g, C_out/g·ΠK]`) is scatter-added into
//! the output (col2im): input position `i` with tap `k` lands on `i·stride + k·dilation −
//! pad_before`, and is dropped outside the output. The output starts as the bias; f16 results
//! are rounded once.
//!
//! Padding: `valid` removes nothing, `custom` removes `pad[2d]` before; `same` removes
//! `floor(P / 2)` before, where `P = max(0, (D_in − 1)·s + E − D_in·s)` is the total that
//! shrinks the full output to `D_in · s`. An explicit `output_shape` only sets the output size.

use crate::buffers::{Buffers, FloatView, FloatViewMut, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::conv::{fill_bias, Geometry, Operands, Param};
use crate::ops::window::{custom_pads, effective, pad_type, per_dim};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_cpu::gemm::{gemm_f32, MatMut, MatRef};
use ane_mil::ops::shape::PadType;

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let w_shape = cx.value("weight")?.shape.clone();
    let spatial = x.shape.len() - 2;
    let strides = per_dim(cx, "strides", spatial)?;
    let dilations = per_dim(cx, "dilations", spatial)?;
    let pt = pad_type(cx)?;
    let custom = custom_pads(cx, pt, spatial)?;
    let groups = cx.int("groups")?.max(1) as usize;
    let in_sp = x.shape[2..].to_vec();
    let kernel = w_shape[2..].to_vec();
    let pads_before = (0..spatial)
        .map(|d| match pt {
            PadType::Custom => custom[d].0,
            PadType::Same | PadType::SameLower => {
                let full =
                    in_sp[d].saturating_sub(1) * strides[d] + effective(kernel[d], dilations[d]);
                let total = full.saturating_sub(in_sp[d] * strides[d]);
                if pt == PadType::Same {
                    total / 2
                } else {
                    total - total / 2
                }
            }
            PadType::Valid => 0,
        })
        .collect();
    let weight = Param::of(cx, "weight")?;
    let bias = if cx.has("bias") {
        Some(Param::of(cx, "bias")?)
    } else {
        None
    };
    let out = cx.output(0)?;
    let geo = Geometry {
        batch: x.shape[0],
        groups,
        cin_g: x.shape[1] / groups,
        cout_g: w_shape[1],
        in_sp,
        kernel,
        out_sp: out.shape[2..].to_vec(),
        strides,
        dilations,
        pads_before,
        in_strides: Vec::new(),
        out_strides: Vec::new(),
    }
    .finish();
    let col_len = geo.cout_g * geo.taps() * geo.in_plane();
    let scratch = usize::from(x.kind == Kind::F16) * x.len()
        + weight.scratch()
        + bias.as_ref().map_or(0, Param::scratch)
        + usize::from(out.kind == Kind::F16) * out.len()
        + col_len;
    cx.push(
        ConvTranspose {
            geo,
            x: x.lid,
            weight,
            bias,
            out: out.lid,
        },
        ScratchNeed::f32(scratch),
    );
    Ok(())
}

#[derive(Debug)]
struct ConvTranspose {
    geo: Geometry,
    x: Lid,
    weight: Param,
    bias: Option<Param>,
    out: Lid,
}

fn internal(e: ane_cpu::CpuError) -> KernelError {
    KernelError::Internal(e.to_string())
}

impl ConvTranspose {
    /// Adds `col [C_out/g · ΠK, ΠD_in]` into `out [C_out/g, ΠD_out]`.
    fn col2im(&self, col: &[f32], out: &mut [f32]) {
        let geo = &self.geo;
        let s = geo.in_sp.len();
        let (in_plane, out_plane, taps) = (geo.in_plane(), geo.out_plane(), geo.taps());
        let out_strides = &geo.out_strides;
        let mut k = [0usize; 3];
        let mut i = [0usize; 3];
        for co in 0..geo.cout_g {
            let plane = &mut out[co * out_plane..(co + 1) * out_plane];
            k[..s].fill(0);
            for tap in 0..taps {
                let row = &col[(co * taps + tap) * in_plane..][..in_plane];
                i[..s].fill(0);
                for &v in row {
                    let mut at = 0usize;
                    let mut inside = true;
                    for d in 0..s {
                        let p = (i[d] * geo.strides[d] + k[d] * geo.dilations[d]) as isize
                            - geo.pads_before[d] as isize;
                        inside &= p >= 0 && (p as usize) < geo.out_sp[d];
                        at += (p.max(0) as usize) * out_strides[d];
                    }
                    if inside {
                        plane[at] += v;
                    }
                    advance(&mut i[..s], &geo.in_sp);
                }
                advance(&mut k[..s], &geo.kernel);
            }
        }
    }

    fn compute(
        &self,
        ops: Operands<'_>,
        out: &mut [f32],
        col: &mut [f32],
        parallel: bool,
    ) -> Result<(), KernelError> {
        let Operands { x, w, bias } = ops;
        let geo = &self.geo;
        let chunk = geo.cout_g * geo.out_plane();
        let (in_plane, rows) = (geo.in_plane(), geo.cout_g * geo.taps());
        let cin = geo.cin_g * geo.groups;
        if chunk == 0 {
            return Ok(());
        }
        for (t, o) in out.chunks_mut(chunk).enumerate() {
            let (n, g) = (t / geo.groups, t % geo.groups);
            if !fill_bias(o, bias, g * geo.cout_g, geo.out_plane()) {
                o.fill(0.0);
            }
            if geo.cin_g == 0 || in_plane == 0 || rows == 0 {
                continue;
            }
            let input = &x[(n * cin + g * geo.cin_g) * in_plane..][..geo.cin_g * in_plane];
            let w_g = &w[g * geo.cin_g * rows..][..geo.cin_g * rows];
            let col = &mut col[..rows * in_plane];
            gemm_f32(
                MatMut::row_major(col, rows, in_plane).map_err(internal)?,
                MatRef::row_major(w_g, geo.cin_g, rows)
                    .map_err(internal)?
                    .t(),
                MatRef::row_major(input, geo.cin_g, in_plane).map_err(internal)?,
                false,
                parallel,
            )
            .map_err(internal)?;
            self.col2im(col, o);
        }
        Ok(())
    }
}

fn advance(index: &mut [usize], extents: &[usize]) {
    for d in (0..index.len()).rev() {
        index[d] += 1;
        if index[d] < extents[d] {
            return;
        }
        index[d] = 0;
    }
}

impl Kernel for ConvTranspose {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let parallel = cx.parallel;
        let scratch = &mut cx.scratch.f32;
        bufs.with_float_output(self.out, |bufs, out| {
            let xv = bufs.float(self.x)?;
            let n = match xv {
                FloatView::F16(v) => v.len(),
                FloatView::F32(_) => 0,
            };
            let (xs, rest) = scratch.split_at_mut(n);
            let x = widen(xv, xs)?;
            let (w, rest) = self.weight.get(bufs, rest)?;
            let (bias, rest) = match &self.bias {
                Some(b) => {
                    let (v, rest) = b.get(bufs, rest)?;
                    (Some(v), rest)
                }
                None => (None, rest),
            };
            let out_tmp = if matches!(out, FloatViewMut::F16(_)) {
                out.len()
            } else {
                0
            };
            let (o_tmp, col) = rest.split_at_mut(out_tmp);
            let ops = Operands { x, w, bias };
            compute_into(out, o_tmp, |o| self.compute(ops, o, col, parallel))
        })
    }
}
