//! Inputs and outputs as raw little-endian bytes of their declared dtype (the `Device`
//! contract): a port either exposes its storage directly (fp16 as f16, fp32 as f32, int32,
//! bool) or goes through a staging byte buffer converted on write/read (small integer types,
//! and fp32 ports stored as fp16 when fp32 is computed the ANE way).

use crate::buffers::{Buffers, Lid};
use crate::error::SimError;
use crate::exec::float_io::BLOCK;
use crate::storage::{Buf, Kind};
use ane_mil::{DType, TensorType};
use half::f16;
use half::slice::HalfFloatSliceExt;

#[cfg(target_endian = "big")]
compile_error!("ane-sim exposes tensors as little-endian bytes by viewing its buffers in place");

/// A named input or output of a prepared program and its declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorDesc {
    /// The function parameter or output name.
    pub name: String,
    /// The declared type (every dim known).
    pub ty: TensorType,
}

impl TensorDesc {
    /// Number of elements.
    pub fn num_elements(&self) -> usize {
        self.ty.num_elements().unwrap_or(0)
    }

    /// Size of the raw buffer in bytes.
    pub fn byte_len(&self) -> usize {
        self.num_elements() * self.ty.dtype.size_in_bytes().unwrap_or(0)
    }
}

/// A port: the declared tensor, its storage, and the staging buffer when bytes are converted.
#[derive(Debug)]
pub(crate) struct Port {
    pub desc: TensorDesc,
    pub lid: Lid,
    staging: Option<Vec<u8>>,
}

fn is_direct(dtype: DType, kind: Kind) -> bool {
    matches!(
        (dtype, kind),
        (DType::Fp16, Kind::F16)
            | (DType::Fp32, Kind::F32)
            | (DType::Int32, Kind::I32)
            | (DType::Bool, Kind::Bool)
    )
}

fn missing(name: &str) -> SimError {
    SimError::Internal(format!("the buffer of `{name}` is missing"))
}

impl Port {
    /// A port for tensor `lid`, declared `ty`, stored as `kind`.
    pub(crate) fn new(name: String, ty: TensorType, lid: Lid, kind: Kind) -> Self {
        let desc = TensorDesc { name, ty };
        let staging = (!is_direct(desc.ty.dtype, kind)).then(|| vec![0u8; desc.byte_len()]);
        Port { desc, lid, staging }
    }

    /// Lets `fill` write the port's bytes, then stores them.
    pub(crate) fn write(
        &mut self,
        bufs: &mut Buffers,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), SimError> {
        let name = &self.desc.name;
        let (buf, len) = bufs.slot_mut(self.lid).ok_or_else(|| missing(name))?;
        match &mut self.staging {
            None => {
                let bytes = direct_bytes_mut(buf, len).ok_or_else(|| missing(name))?;
                fill(bytes);
                if let Buf::Bool(v) = buf {
                    v[..len].iter_mut().for_each(|b| *b = u8::from(*b != 0));
                }
                Ok(())
            }
            Some(staging) => {
                fill(staging);
                unstage(self.desc.ty.dtype, staging, buf, len).ok_or_else(|| missing(name))
            }
        }
    }

    /// Gives `read` the port's bytes.
    pub(crate) fn read(
        &mut self,
        bufs: &mut Buffers,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), SimError> {
        let name = &self.desc.name;
        let (buf, len) = bufs.slot_mut(self.lid).ok_or_else(|| missing(name))?;
        match &mut self.staging {
            None => {
                read(direct_bytes_mut(buf, len).ok_or_else(|| missing(name))?);
                Ok(())
            }
            Some(staging) => {
                stage(self.desc.ty.dtype, buf, len, staging).ok_or_else(|| missing(name))?;
                read(staging);
                Ok(())
            }
        }
    }
}

fn direct_bytes_mut(buf: &mut Buf, len: usize) -> Option<&mut [u8]> {
    Some(match buf {
        Buf::F16(v) => bytemuck::cast_slice_mut(v.get_mut(..len)?),
        Buf::F32(v) => bytemuck::cast_slice_mut(v.get_mut(..len)?),
        Buf::I32(v) => bytemuck::cast_slice_mut(v.get_mut(..len)?),
        Buf::Bool(v) => v.get_mut(..len)?,
        Buf::Empty => return None,
    })
}

/// Converts staged bytes of `dtype` into storage.
fn unstage(dtype: DType, bytes: &[u8], buf: &mut Buf, len: usize) -> Option<()> {
    match (dtype, buf) {
        (DType::Fp32, Buf::F16(v)) => {
            // Blocks of slice conversions, not one `f16::from_f32` per element.
            let mut block = [0f32; BLOCK];
            for (dst, src) in v
                .get_mut(..len)?
                .chunks_mut(BLOCK)
                .zip(bytes.chunks(4 * BLOCK))
            {
                let wide = &mut block[..dst.len()];
                for (w, c) in wide.iter_mut().zip(src.chunks_exact(4)) {
                    *w = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                }
                dst.convert_from_f32_slice(wide);
            }
        }
        (DType::Int8, Buf::I32(v)) => {
            for (d, &b) in v.get_mut(..len)?.iter_mut().zip(bytes) {
                *d = i32::from(b as i8);
            }
        }
        (DType::Uint8, Buf::I32(v)) => {
            for (d, &b) in v.get_mut(..len)?.iter_mut().zip(bytes) {
                *d = i32::from(b);
            }
        }
        (DType::Int16, Buf::I32(v)) => {
            for (d, c) in v.get_mut(..len)?.iter_mut().zip(bytes.chunks_exact(2)) {
                *d = i32::from(i16::from_le_bytes([c[0], c[1]]));
            }
        }
        (DType::Uint16, Buf::I32(v)) => {
            for (d, c) in v.get_mut(..len)?.iter_mut().zip(bytes.chunks_exact(2)) {
                *d = i32::from(u16::from_le_bytes([c[0], c[1]]));
            }
        }
        _ => return None,
    }
    Some(())
}

/// Converts storage into staged bytes of `dtype`.
fn stage(dtype: DType, buf: &Buf, len: usize, bytes: &mut [u8]) -> Option<()> {
    match (dtype, buf) {
        (DType::Fp32, Buf::F16(v)) => {
            let mut block = [0f32; BLOCK];
            for (src, dst) in v.get(..len)?.chunks(BLOCK).zip(bytes.chunks_mut(4 * BLOCK)) {
                let wide = &mut block[..src.len()];
                src.convert_to_f32_slice(wide);
                for (c, w) in dst.chunks_exact_mut(4).zip(wide.iter()) {
                    c.copy_from_slice(&w.to_le_bytes());
                }
            }
        }
        (DType::Int8 | DType::Uint8, Buf::I32(v)) => {
            for (d, &s) in bytes.iter_mut().zip(v.get(..len)?) {
                *d = s as u8;
            }
        }
        (DType::Int16 | DType::Uint16, Buf::I32(v)) => {
            for (c, &s) in bytes.chunks_exact_mut(2).zip(v.get(..len)?) {
                c.copy_from_slice(&(s as u16).to_le_bytes());
            }
        }
        _ => return None,
    }
    Some(())
}

/// Raw bytes of `dtype` for f32 values (fp16 rounds to nearest even).
pub(crate) fn encode_floats(dtype: DType, values: &[f32]) -> Option<Vec<u8>> {
    match dtype {
        DType::Fp16 => Some(
            values
                .iter()
                .flat_map(|&v| f16::from_f32(v).to_le_bytes())
                .collect(),
        ),
        DType::Fp32 => Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        _ => None,
    }
}

/// Raw bytes of integer `dtype` for i32 values; `Err(value)` for the first value out of range.
pub(crate) fn encode_ints(dtype: DType, values: &[i32]) -> Result<Vec<u8>, i32> {
    let (lo, hi) = dtype.int_range().ok_or(0)?;
    let mut out = Vec::with_capacity(values.len() * dtype.size_in_bytes().unwrap_or(4));
    for &v in values {
        if !(lo..=hi).contains(&i128::from(v)) {
            return Err(v);
        }
        match dtype.size_in_bytes() {
            Some(1) => out.push(v as u8),
            Some(2) => out.extend_from_slice(&(v as u16).to_le_bytes()),
            _ => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
    Ok(out)
}

/// f32 values of raw float bytes.
pub(crate) fn decode_floats(dtype: DType, bytes: &[u8]) -> Option<Vec<f32>> {
    match dtype {
        DType::Fp16 => Some(
            bytes
                .chunks_exact(2)
                .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
        ),
        DType::Fp32 => Some(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        _ => None,
    }
}

/// i32 values of raw integer bytes.
pub(crate) fn decode_ints(dtype: DType, bytes: &[u8]) -> Option<Vec<i32>> {
    Some(match dtype {
        DType::Int32 => bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        DType::Int16 => bytes
            .chunks_exact(2)
            .map(|c| i32::from(i16::from_le_bytes([c[0], c[1]])))
            .collect(),
        DType::Uint16 => bytes
            .chunks_exact(2)
            .map(|c| i32::from(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        DType::Int8 => bytes.iter().map(|&b| i32::from(b as i8)).collect(),
        DType::Uint8 => bytes.iter().map(|&b| i32::from(b)).collect(),
        _ => return None,
    })
}
