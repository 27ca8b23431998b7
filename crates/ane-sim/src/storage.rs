//! How the simulator stores tensor elements: four storage kinds ([`Kind`]) and the owned buffers
//! that hold them ([`Buf`]), plus the mapping from MIL dtypes to storage.
//!
//! - `fp16` tensors are stored as `f16`; `fp32` tensors as `f32`, or as `f16` when the program is
//!   prepared with [`SimOptions::fp32_like_ane`](crate::SimOptions) (the ANE computes fp32-declared
//!   graphs in fp16);
//! - every integer dtype (`int32`, `int16`, `int8`, `uint8`, `uint16`) is stored widened to `i32`
//!   (values always lie in the declared type's range);
//! - `bool` is stored as one byte holding 0 or 1.

use crate::error::SimError;
use ane_mil::DType;
use half::f16;

/// The element storage of a tensor inside the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    F16,
    F32,
    I32,
    Bool,
}

impl Kind {
    /// The storage of a tensor declared `dtype`; `ane_fp32` stores fp32 tensors as f16.
    pub(crate) fn of(dtype: DType, ane_fp32: bool) -> Option<Kind> {
        match dtype {
            DType::Fp16 => Some(Kind::F16),
            DType::Fp32 if ane_fp32 => Some(Kind::F16),
            DType::Fp32 => Some(Kind::F32),
            DType::Int32 | DType::Int16 | DType::Int8 | DType::Uint8 | DType::Uint16 => {
                Some(Kind::I32)
            }
            DType::Bool => Some(Kind::Bool),
            DType::Uint64 | DType::String => None,
        }
    }

    /// Like [`Kind::of`], with an error naming the op and what the tensor is.
    pub(crate) fn require(
        dtype: DType,
        ane_fp32: bool,
        op: &str,
        what: &str,
    ) -> Result<Kind, SimError> {
        Kind::of(dtype, ane_fp32).ok_or_else(|| SimError::Unsupported {
            op: op.to_string(),
            message: format!(
                "{what} has dtype {dtype}, which the simulator cannot hold as a tensor"
            ),
        })
    }

    /// True for the two float storages.
    pub(crate) fn is_float(self) -> bool {
        matches!(self, Kind::F16 | Kind::F32)
    }

    /// Bytes per element of this storage.
    pub(crate) fn bytes(self) -> u64 {
        match self {
            Kind::F16 => 2,
            Kind::F32 | Kind::I32 => 4,
            Kind::Bool => 1,
        }
    }
}

/// An owned buffer of one storage kind. `Empty` marks a buffer that a running kernel has taken
/// out of the arena to write into.
#[derive(Debug, Clone, Default)]
pub(crate) enum Buf {
    #[default]
    Empty,
    F16(Vec<f16>),
    F32(Vec<f32>),
    I32(Vec<i32>),
    /// One byte per element, 0 or 1.
    Bool(Vec<u8>),
}

impl Buf {
    /// A zero-filled buffer of `len` elements, or an error when the memory cannot be reserved
    /// (sizes come from programs, so a failed allocation must be an error, not an abort).
    pub(crate) fn try_zeros(
        kind: Kind,
        len: usize,
    ) -> Result<Buf, std::collections::TryReserveError> {
        fn filled<T: Clone>(
            len: usize,
            zero: T,
        ) -> Result<Vec<T>, std::collections::TryReserveError> {
            let mut v = Vec::new();
            v.try_reserve_exact(len)?;
            v.resize(len, zero);
            Ok(v)
        }
        Ok(match kind {
            Kind::F16 => Buf::F16(filled(len, f16::ZERO)?),
            Kind::F32 => Buf::F32(filled(len, 0.0)?),
            Kind::I32 => Buf::I32(filled(len, 0)?),
            Kind::Bool => Buf::Bool(filled(len, 0)?),
        })
    }

    /// The storage kind (`None` for `Empty`).
    pub(crate) fn kind(&self) -> Option<Kind> {
        match self {
            Buf::Empty => None,
            Buf::F16(_) => Some(Kind::F16),
            Buf::F32(_) => Some(Kind::F32),
            Buf::I32(_) => Some(Kind::I32),
            Buf::Bool(_) => Some(Kind::Bool),
        }
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        match self {
            Buf::Empty => 0,
            Buf::F16(v) => v.len(),
            Buf::F32(v) => v.len(),
            Buf::I32(v) => v.len(),
            Buf::Bool(v) => v.len(),
        }
    }

    /// A read view of the first `len` elements.
    pub(crate) fn view(&self, len: usize) -> Option<View<'_>> {
        Some(match self {
            Buf::Empty => return None,
            Buf::F16(v) => View::F16(v.get(..len)?),
            Buf::F32(v) => View::F32(v.get(..len)?),
            Buf::I32(v) => View::I32(v.get(..len)?),
            Buf::Bool(v) => View::Bool(v.get(..len)?),
        })
    }

    /// A write view of the first `len` elements.
    pub(crate) fn view_mut(&mut self, len: usize) -> Option<ViewMut<'_>> {
        Some(match self {
            Buf::Empty => return None,
            Buf::F16(v) => ViewMut::F16(v.get_mut(..len)?),
            Buf::F32(v) => ViewMut::F32(v.get_mut(..len)?),
            Buf::I32(v) => ViewMut::I32(v.get_mut(..len)?),
            Buf::Bool(v) => ViewMut::Bool(v.get_mut(..len)?),
        })
    }
}

/// A borrowed tensor's elements, by storage kind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum View<'a> {
    F16(&'a [f16]),
    F32(&'a [f32]),
    I32(&'a [i32]),
    Bool(&'a [u8]),
}

/// A mutably borrowed tensor's elements, by storage kind.
#[derive(Debug)]
pub(crate) enum ViewMut<'a> {
    F16(&'a mut [f16]),
    F32(&'a mut [f32]),
    I32(&'a mut [i32]),
    Bool(&'a mut [u8]),
}

impl View<'_> {
    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        match self {
            View::F16(v) => v.len(),
            View::F32(v) => v.len(),
            View::I32(v) => v.len(),
            View::Bool(v) => v.len(),
        }
    }
}

impl ViewMut<'_> {
    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        match self {
            ViewMut::F16(v) => v.len(),
            ViewMut::F32(v) => v.len(),
            ViewMut::I32(v) => v.len(),
            ViewMut::Bool(v) => v.len(),
        }
    }
}

/// Element types of the storage kinds, for kernels that move elements without arithmetic.
pub(crate) trait Elem: Copy + Send + Sync + Default + 'static {
    /// The elements of `view` if it has this type.
    fn of(view: View<'_>) -> Option<&[Self]>;
    /// The elements of `view` if it has this type.
    fn of_mut<'a>(view: ViewMut<'a>) -> Option<&'a mut [Self]>;
}

macro_rules! impl_elem {
    ($t:ty, $variant:ident) => {
        impl Elem for $t {
            fn of(view: View<'_>) -> Option<&[Self]> {
                match view {
                    View::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn of_mut<'a>(view: ViewMut<'a>) -> Option<&'a mut [Self]> {
                match view {
                    ViewMut::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}

impl_elem!(f16, F16);
impl_elem!(f32, F32);
impl_elem!(i32, I32);
impl_elem!(u8, Bool);

/// Runs `$body` with `$t` bound to the element type of `$kind` (`f16`, `f32`, `i32` or `u8`).
macro_rules! with_elem {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            $crate::storage::Kind::F16 => {
                type $t = half::f16;
                $body
            }
            $crate::storage::Kind::F32 => {
                type $t = f32;
                $body
            }
            $crate::storage::Kind::I32 => {
                type $t = i32;
                $body
            }
            $crate::storage::Kind::Bool => {
                type $t = u8;
                $body
            }
        }
    };
}
pub(crate) use with_elem;
