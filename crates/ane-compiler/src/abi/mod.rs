//! The kernel I/O ABI: how a lowered kernel's boundary tensors (by **position** in
//! [`KernelSpec::inputs`](crate::lower::KernelSpec::inputs) / `outputs`, never by value id, so one
//! compiled kernel serves every identical layer) map to its function parameters and outputs, and
//! how host tensors are packed into and unpacked from those buffers.
//!
//! Two conventions ([`Abi`]):
//! - **Packed**: one input `[1, C, 1, S]` and one output `[1, C_out, 1, S_out]` of the kernel's
//!   float dtype; the layout is described in [`packing`] (inputs are column slabs, outputs are
//!   contiguous channel ranges).
//! - **MultiInput**: one buffer per boundary tensor, in its logical (row-major) shape; integer
//!   tensors are `int32` buffers.
//!
//! Buffers are dense little-endian arrays (ane-facts §5): element `i` of a `[1, C, 1, S]` buffer
//! `(c, s)` is at `c·S + s`. Packing converts f32 to fp16 a row at a time with `half`'s slice
//! conversions, copies fp16 host values directly (the optimizer keeps an fp16 copy of every
//! weight), and zeroes padding. Unpacking never allocates in [`KernelAbi::unpack_output_into`].
//! Single-threaded: packing is a memory-bound strided copy (~3 Gelem/s per core, machine.md)
//! and the executor already overlaps it with kernel execution.

mod convert;
pub mod packing;

pub use packing::{check_packing, PackedBuffer, PackedLayout, PackingError, PackingLimits, Slab};

use crate::dtype::DType;
use crate::lower::Abi;
use ane_mil::TensorType;
use half::f16;
use thiserror::Error;

/// A host tensor handed to [`KernelAbi::pack_input`]: row-major logical data.
#[derive(Debug, Clone, Copy)]
pub enum HostValue<'a> {
    /// f32 data (activations, fp32 master weights).
    F32(&'a [f32]),
    /// fp16 data, copied without conversion into fp16 buffers.
    F16(&'a [f16]),
    /// Integer ids or labels (multi-input host kernels only).
    I32(&'a [i32]),
}

impl<'a> HostValue<'a> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            HostValue::F32(v) => v.len(),
            HostValue::F16(v) => v.len(),
            HostValue::I32(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn kind(&self) -> &'static str {
        match self {
            HostValue::F32(_) => "f32",
            HostValue::F16(_) => "f16",
            HostValue::I32(_) => "i32",
        }
    }

    fn range(&self, start: usize, end: usize) -> HostValue<'a> {
        match *self {
            HostValue::F32(v) => HostValue::F32(&v[start..end]),
            HostValue::F16(v) => HostValue::F16(&v[start..end]),
            HostValue::I32(v) => HostValue::I32(&v[start..end]),
        }
    }
}

/// Why packing or unpacking failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AbiError {
    /// A buffer index past the kernel's buffers.
    #[error("the kernel has {count} {side} buffer(s); there is no buffer {index}")]
    NoSuchBuffer {
        /// `input` or `output`.
        side: &'static str,
        /// The index asked for.
        index: usize,
        /// How many there are.
        count: usize,
    },
    /// A boundary position past the kernel's boundary tensors.
    #[error("the kernel has {count} boundary {side}(s); there is no position {position}")]
    NoSuchPosition {
        /// `input` or `output`.
        side: &'static str,
        /// The position asked for.
        position: usize,
        /// How many there are.
        count: usize,
    },
    /// A byte slice of the wrong size for its buffer.
    #[error("{side} buffer {buffer} is {expected} bytes, got a slice of {got}")]
    BufferSize {
        /// `input` or `output`.
        side: &'static str,
        /// The buffer.
        buffer: usize,
        /// Its size.
        expected: usize,
        /// The slice's size.
        got: usize,
    },
    /// A host tensor or destination slice with the wrong number of elements.
    #[error("boundary {side} {position} has {expected} elements, got {got}")]
    Length {
        /// `input` or `output`.
        side: &'static str,
        /// The position.
        position: usize,
        /// Its element count.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// A host value whose element type the buffer cannot hold.
    #[error("boundary input {position} is a {expected} buffer; cannot pack {got} data into it")]
    DType {
        /// The position.
        position: usize,
        /// The buffer's element type.
        expected: &'static str,
        /// The host value's type.
        got: &'static str,
    },
}

/// Where a boundary input lives in its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputPlacement {
    /// The whole buffer, in the tensor's logical layout (multi-input).
    Whole,
    /// A column slab of a packed `[1, channels, 1, row_stride]` buffer: element `e` at channel
    /// `e / columns`, column `first_column + e % columns`; slab elements past the tensor are zero.
    Columns {
        /// First column.
        first_column: usize,
        /// Columns of the slab.
        columns: usize,
        /// `C`: channels of the buffer (rows of the slab).
        channels: usize,
        /// `S`: columns of the whole buffer.
        row_stride: usize,
    },
}

/// One boundary input of a kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSlot {
    /// The buffer holding it.
    pub buffer: usize,
    /// Its logical shape (IR shape).
    pub shape: Vec<usize>,
    /// Its IR element type.
    pub dtype: DType,
    /// Where it lives in the buffer.
    pub placement: InputPlacement,
}

impl InputSlot {
    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// One boundary output: always a contiguous element range of its buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSlot {
    /// The buffer holding it.
    pub buffer: usize,
    /// Its logical shape (IR shape).
    pub shape: Vec<usize>,
    /// Index of its first element in the buffer.
    pub offset: usize,
}

impl OutputSlot {
    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// The I/O contract of one lowered kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelAbi {
    abi: Abi,
    input_buffers: Vec<(String, TensorType)>,
    output_buffers: Vec<(String, TensorType)>,
    inputs: Vec<InputSlot>,
    outputs: Vec<OutputSlot>,
    layout: Option<PackedLayout>,
}

impl KernelAbi {
    /// Assembled by the lowering once the program is built.
    pub(crate) fn new(
        abi: Abi,
        input_buffers: Vec<(String, TensorType)>,
        output_buffers: Vec<(String, TensorType)>,
        inputs: Vec<InputSlot>,
        outputs: Vec<OutputSlot>,
        layout: Option<PackedLayout>,
    ) -> Self {
        KernelAbi {
            abi,
            input_buffers,
            output_buffers,
            inputs,
            outputs,
            layout,
        }
    }

    /// The convention.
    pub fn abi(&self) -> Abi {
        self.abi
    }

    /// The function parameters (name, type), in order.
    pub fn input_buffers(&self) -> &[(String, TensorType)] {
        &self.input_buffers
    }

    /// The function outputs (name, type), in order.
    pub fn output_buffers(&self) -> &[(String, TensorType)] {
        &self.output_buffers
    }

    /// Every boundary input, by position.
    pub fn inputs(&self) -> &[InputSlot] {
        &self.inputs
    }

    /// Every boundary output, by position.
    pub fn outputs(&self) -> &[OutputSlot] {
        &self.outputs
    }

    /// The packed layout (packed kernels only).
    pub fn packed_layout(&self) -> Option<&PackedLayout> {
        self.layout.as_ref()
    }

    /// Size in bytes of input buffer `buffer`.
    pub fn input_buffer_bytes(&self, buffer: usize) -> Result<usize, AbiError> {
        buffer_bytes(&self.input_buffers, buffer, "input")
    }

    /// Size in bytes of output buffer `buffer`.
    pub fn output_buffer_bytes(&self, buffer: usize) -> Result<usize, AbiError> {
        buffer_bytes(&self.output_buffers, buffer, "output")
    }

    /// Fills input buffer `buffer` (`dst`, exactly its size) from host tensors: `value(p)` gives
    /// the tensor at boundary input position `p` for every position stored in this buffer.
    pub fn pack_input<'v>(
        &self,
        buffer: usize,
        value: &dyn Fn(usize) -> HostValue<'v>,
        dst: &mut [u8],
    ) -> Result<(), AbiError> {
        let expected = self.input_buffer_bytes(buffer)?;
        if dst.len() != expected {
            return Err(AbiError::BufferSize {
                side: "input",
                buffer,
                expected,
                got: dst.len(),
            });
        }
        let dtype = self.input_buffers[buffer].1.dtype;
        let size = element_size(dtype);
        for (position, slot) in self.inputs.iter().enumerate() {
            if slot.buffer != buffer {
                continue;
            }
            let host = value(position);
            let n = slot.elements();
            if host.len() != n {
                return Err(AbiError::Length {
                    side: "input",
                    position,
                    expected: n,
                    got: host.len(),
                });
            }
            match slot.placement {
                InputPlacement::Whole => write_elements(host, dtype, dst, position)?,
                InputPlacement::Columns {
                    first_column,
                    columns,
                    channels,
                    row_stride,
                } => {
                    for channel in 0..channels {
                        let start = (channel * row_stride + first_column) * size;
                        let row = &mut dst[start..start + columns * size];
                        let lo = (channel * columns).min(n);
                        let hi = ((channel + 1) * columns).min(n);
                        let (data, padding) = row.split_at_mut((hi - lo) * size);
                        write_elements(host.range(lo, hi), dtype, data, position)?;
                        padding.fill(0);
                    }
                }
            }
        }
        Ok(())
    }

    /// The bytes of boundary output `position` inside its buffer's bytes `src`.
    pub fn output_bytes<'s>(&self, position: usize, src: &'s [u8]) -> Result<&'s [u8], AbiError> {
        let slot = self.output(position)?;
        let expected = self.output_buffer_bytes(slot.buffer)?;
        if src.len() != expected {
            return Err(AbiError::BufferSize {
                side: "output",
                buffer: slot.buffer,
                expected,
                got: src.len(),
            });
        }
        let size = element_size(self.output_buffers[slot.buffer].1.dtype);
        Ok(&src[slot.offset * size..(slot.offset + slot.elements()) * size])
    }

    /// Converts boundary output `position` from its buffer's bytes `src` into `dst` (exactly its
    /// element count). Allocates nothing.
    pub fn unpack_output_into(
        &self,
        position: usize,
        src: &[u8],
        dst: &mut [f32],
    ) -> Result<(), AbiError> {
        let bytes = self.output_bytes(position, src)?;
        let slot = &self.outputs[position];
        if dst.len() != slot.elements() {
            return Err(AbiError::Length {
                side: "output",
                position,
                expected: slot.elements(),
                got: dst.len(),
            });
        }
        match self.output_buffers[slot.buffer].1.dtype {
            ane_mil::DType::Fp16 => convert::f16_bytes_to_f32(bytes, dst),
            ane_mil::DType::Int32 => convert::i32_bytes_to_f32(bytes, dst),
            _ => convert::f32_bytes_to_f32(bytes, dst),
        }
        Ok(())
    }

    /// Calls `sink(p, values)` for every boundary output `p` stored in output buffer `buffer`
    /// (`src`, its bytes). Convenience over [`KernelAbi::unpack_output_into`]: allocates one
    /// vector per output.
    pub fn unpack_output(
        &self,
        buffer: usize,
        src: &[u8],
        sink: &mut dyn FnMut(usize, &[f32]),
    ) -> Result<(), AbiError> {
        buffer_bytes(&self.output_buffers, buffer, "output")?;
        for (position, slot) in self.outputs.iter().enumerate() {
            if slot.buffer != buffer {
                continue;
            }
            let mut values = vec![0f32; slot.elements()];
            self.unpack_output_into(position, src, &mut values)?;
            sink(position, &values);
        }
        Ok(())
    }

    fn output(&self, position: usize) -> Result<&OutputSlot, AbiError> {
        self.outputs.get(position).ok_or(AbiError::NoSuchPosition {
            side: "output",
            position,
            count: self.outputs.len(),
        })
    }
}

fn buffer_bytes(
    buffers: &[(String, TensorType)],
    index: usize,
    side: &'static str,
) -> Result<usize, AbiError> {
    let (_, ty) = buffers.get(index).ok_or(AbiError::NoSuchBuffer {
        side,
        index,
        count: buffers.len(),
    })?;
    Ok(ty.num_elements().unwrap_or(0) * element_size(ty.dtype))
}

fn element_size(dtype: ane_mil::DType) -> usize {
    dtype.size_in_bytes().unwrap_or(4)
}

/// Writes host elements into buffer bytes of `dtype`, converting floats as needed.
fn write_elements(
    host: HostValue<'_>,
    dtype: ane_mil::DType,
    dst: &mut [u8],
    position: usize,
) -> Result<(), AbiError> {
    match (dtype, host) {
        (ane_mil::DType::Fp16, HostValue::F32(v)) => convert::f32_to_f16_bytes(v, dst),
        (ane_mil::DType::Fp16, HostValue::F16(v)) => {
            dst.copy_from_slice(bytemuck::cast_slice(v));
        }
        (ane_mil::DType::Fp32, HostValue::F32(v)) => {
            dst.copy_from_slice(bytemuck::cast_slice(v));
        }
        (ane_mil::DType::Fp32, HostValue::F16(v)) => convert::f16_to_f32_bytes(v, dst),
        (ane_mil::DType::Int32, HostValue::I32(v)) => {
            dst.copy_from_slice(bytemuck::cast_slice(v));
        }
        (dtype, host) => {
            return Err(AbiError::DType {
                position,
                expected: dtype.name(),
                got: host.kind(),
            })
        }
    }
    Ok(())
}
