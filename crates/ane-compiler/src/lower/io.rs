//! The ABI glue of a kernel: function parameters and outputs for both conventions, the MIL that
//! unpacks boundary inputs from the packed input and packs boundary outputs into the packed output
//! (layout in [`crate::abi::packing`]), and the resulting [`KernelAbi`].

use super::context::{dims, mil_dims, LowerCx};
use super::error::LowerError;
use super::options::Abi;
use crate::abi::packing::{pack, PackedBuffer, PackingLimits, Side};
use crate::abi::{InputPlacement, InputSlot, KernelAbi, OutputSlot, PackedLayout};
use crate::dtype::DType;
use crate::graph::ValueId;
use ane_mil::TensorType;
use std::collections::HashSet;

/// The name of the packed input parameter.
pub const PACKED_INPUT_NAME: &str = "packed_input";

/// One side of the ABI once bound: buffers, per-position slots and the packed layout if any.
pub struct Bound<S> {
    buffers: Vec<(String, TensorType)>,
    slots: Vec<S>,
    layout: Option<PackedBuffer>,
}

/// Declares the kernel's parameters and binds every boundary input to a MIL value.
pub fn bind_inputs(cx: &mut LowerCx, inputs: &[ValueId]) -> Result<Bound<InputSlot>, LowerError> {
    let mut types = Vec::with_capacity(inputs.len());
    for (position, &v) in inputs.iter().enumerate() {
        let ty = cx.graph.value_type(v)?.clone();
        if ty.dtype == DType::I32 && !cx.opts.allows_integer_tensors() {
            return Err(integer_boundary(cx, "input", position, &ty.to_string()));
        }
        types.push(ty);
    }
    match cx.opts.abi {
        Abi::MultiInput => {
            let mut buffers = Vec::with_capacity(inputs.len());
            let mut slots = Vec::with_capacity(inputs.len());
            for (position, (&v, ty)) in inputs.iter().zip(&types).enumerate() {
                let dtype = mil_dtype(cx, ty.dtype);
                let mil = TensorType::new(dtype, mil_dims(&ty.shape));
                let name = format!("input_{position}");
                let var = cx.input(&name, mil.clone())?;
                cx.bind(v, var);
                buffers.push((name, mil));
                slots.push(InputSlot {
                    buffer: position,
                    shape: ty.shape.dims().to_vec(),
                    dtype: ty.dtype,
                    placement: InputPlacement::Whole,
                });
            }
            Ok(Bound {
                buffers,
                slots,
                layout: None,
            })
        }
        Abi::Packed => {
            let sizes: Vec<usize> = types.iter().map(|t| t.shape.numel()).collect();
            let layout = pack(Side::Input, &sizes, &packing_limits(cx))?;
            let (channels, width) = (layout.channels, layout.width);
            let mil = TensorType::new(cx.float, [1, channels, 1, width]);
            let param = cx.input(PACKED_INPUT_NAME, mil.clone())?;
            let mut slots = Vec::with_capacity(inputs.len());
            for ((&v, ty), slab) in inputs.iter().zip(&types).zip(&layout.slabs) {
                let block = cx.slice(
                    &param,
                    &[0, 0, 0, slab.offset],
                    &[1, channels, 1, slab.extent],
                )?;
                let logical = match slab.row_len {
                    None => block,
                    Some(row) => {
                        let rows = channels * slab.extent / row;
                        let grid = cx.reshape(&block, &[1, 1, rows, row])?;
                        cx.slice(&grid, &[0, 0, 0, 0], &[1, 1, slab.rows(), row])?
                    }
                };
                let var = cx.fit(&logical, &ty.shape)?;
                cx.bind(v, var);
                slots.push(InputSlot {
                    buffer: 0,
                    shape: ty.shape.dims().to_vec(),
                    dtype: ty.dtype,
                    placement: InputPlacement::Columns {
                        first_column: slab.offset,
                        columns: slab.extent,
                        channels,
                        row_stride: width,
                    },
                });
            }
            Ok(Bound {
                buffers: vec![(PACKED_INPUT_NAME.to_string(), mil)],
                slots,
                layout: Some(layout),
            })
        }
    }
}

/// Declares the kernel's outputs from the MIL values of the boundary outputs.
pub fn bind_outputs(
    cx: &mut LowerCx,
    outputs: &[ValueId],
) -> Result<Bound<OutputSlot>, LowerError> {
    let params: HashSet<String> = cx.param_names().iter().cloned().collect();
    let mut types = Vec::with_capacity(outputs.len());
    for (position, &v) in outputs.iter().enumerate() {
        let ty = cx.graph.value_type(v)?.clone();
        if ty.dtype == DType::I32 && !cx.opts.allows_integer_tensors() {
            return Err(integer_boundary(cx, "output", position, &ty.to_string()));
        }
        types.push(ty);
    }
    match cx.opts.abi {
        Abi::MultiInput => {
            let mut used: HashSet<String> = params;
            let mut buffers = Vec::with_capacity(outputs.len());
            let mut slots = Vec::with_capacity(outputs.len());
            for (position, (&v, ty)) in outputs.iter().zip(&types).enumerate() {
                let mut var = cx.var(v)?;
                // A function output must be a distinct op result: pass-through inputs and values
                // returned twice get their own identity.
                if !used.insert(var.name.clone()) {
                    let r = cx.f.identity(&var);
                    var = cx.ok(r)?;
                    used.insert(var.name.clone());
                }
                let r = cx.f.output(&var);
                cx.ok(r)?;
                buffers.push((var.name.clone(), var.ty.clone()));
                slots.push(OutputSlot {
                    buffer: position,
                    shape: ty.shape.dims().to_vec(),
                    offset: 0,
                });
            }
            Ok(Bound {
                buffers,
                slots,
                layout: None,
            })
        }
        Abi::Packed => {
            let sizes: Vec<usize> = types.iter().map(|t| t.shape.numel()).collect();
            let layout = pack(Side::Output, &sizes, &packing_limits(cx))?;
            let width = layout.width;
            let mut parts = Vec::with_capacity(outputs.len());
            let mut slots = Vec::with_capacity(outputs.len());
            for ((&v, ty), slab) in outputs.iter().zip(&types).zip(&layout.slabs) {
                let var = cx.var(v)?;
                let block = match slab.row_len {
                    None => cx.reshape(&var, &[1, slab.extent, 1, width])?,
                    Some(row) => {
                        let grid = cx.reshape(&var, &[1, 1, slab.rows(), row])?;
                        let rows = slab.extent * width / row;
                        let padded = cx.pad_axis(&grid, 2, 0, rows - slab.rows(), 0.0)?;
                        cx.reshape(&padded, &[1, slab.extent, 1, width])?
                    }
                };
                parts.push(block);
                slots.push(OutputSlot {
                    buffer: 0,
                    shape: ty.shape.dims().to_vec(),
                    offset: slab.offset * width,
                });
            }
            let mut out = cx.concat(&parts, 1)?;
            if params.contains(&out.name) {
                let r = cx.f.identity(&out);
                out = cx.ok(r)?;
            }
            let r = cx.f.output(&out);
            cx.ok(r)?;
            debug_assert_eq!(dims(&out), vec![1, layout.channels, 1, width]);
            Ok(Bound {
                buffers: vec![(out.name.clone(), out.ty.clone())],
                slots,
                layout: Some(layout),
            })
        }
    }
}

/// The kernel's ABI from its bound inputs and outputs.
pub fn assemble_abi(abi: Abi, inputs: Bound<InputSlot>, outputs: Bound<OutputSlot>) -> KernelAbi {
    let layout = match (inputs.layout, outputs.layout) {
        (Some(input), Some(output)) => Some(PackedLayout { input, output }),
        _ => None,
    };
    KernelAbi::new(
        abi,
        inputs.buffers,
        outputs.buffers,
        inputs.slots,
        outputs.slots,
        layout,
    )
}

fn packing_limits(cx: &LowerCx) -> PackingLimits {
    cx.opts.limits.packing(cx.opts.precision)
}

fn mil_dtype(cx: &LowerCx, dtype: DType) -> ane_mil::DType {
    match dtype {
        DType::F32 => cx.float,
        DType::I32 => ane_mil::DType::Int32,
    }
}

fn integer_boundary(cx: &LowerCx, side: &str, position: usize, ty: &str) -> LowerError {
    LowerError::Unsupported {
        op: format!("boundary {side} {position} ({ty})"),
        target: cx.opts.target_name(),
        reason: "integer tensors (ids, labels) exist only in fp32 multi-input host kernels"
            .to_string(),
    }
}
