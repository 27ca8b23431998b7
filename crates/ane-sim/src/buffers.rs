//! The run-time arena: every tensor of a prepared program is a logical id ([`Lid`]) mapped to a
//! physical buffer slot (shared by tensors whose lifetimes do not overlap) and an element count.
//! Kernels read inputs through typed views and write their output through
//! [`Buffers::with_output`], which lends the output slot out of the arena for the call.

use crate::error::{KernelError, SimError};
use crate::memory::format_bytes;
use crate::storage::{Buf, Elem, Kind, View, ViewMut};
use half::f16;

/// A logical tensor: one value of the program (an input, a constant, an op output).
pub(crate) type Lid = usize;

/// Physical buffers and the tensors mapped onto them.
#[derive(Debug)]
pub(crate) struct Buffers {
    slots: Vec<Buf>,
    /// The storage and length of each slot, allocated by [`Buffers::allocate`] (constants arrive
    /// filled; the rest stay `Empty` until then).
    specs: Vec<(Kind, usize)>,
    slot_of: Vec<usize>,
    len_of: Vec<usize>,
    allocated: bool,
}

/// A float tensor, read-only, in either float storage.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FloatView<'a> {
    F16(&'a [f16]),
    F32(&'a [f32]),
}

/// A float tensor being written, in either float storage.
#[derive(Debug)]
pub(crate) enum FloatViewMut<'a> {
    F16(&'a mut [f16]),
    F32(&'a mut [f32]),
}

fn internal(message: String) -> KernelError {
    KernelError::Internal(message)
}

impl Buffers {
    /// An arena over `slots` (each filled, or `Empty` to be allocated as its spec says), with
    /// each tensor's slot and length.
    pub(crate) fn new(
        slots: Vec<Buf>,
        specs: Vec<(Kind, usize)>,
        slot_of: Vec<usize>,
        len_of: Vec<usize>,
    ) -> Self {
        Buffers {
            slots,
            specs,
            slot_of,
            len_of,
            allocated: false,
        }
    }

    /// Bytes of every slot (filled or not); `None` on overflow.
    pub(crate) fn total_bytes(&self) -> Option<u64> {
        self.specs.iter().try_fold(0u64, |acc, &(kind, len)| {
            acc.checked_add(kind.bytes().checked_mul(len as u64)?)
        })
    }

    /// True once every slot holds its buffer.
    pub(crate) fn is_allocated(&self) -> bool {
        self.allocated
    }

    /// Reserves (fallibly) and zero-fills every slot not yet filled.
    pub(crate) fn allocate(&mut self) -> Result<(), SimError> {
        for (slot, &(kind, len)) in self.slots.iter_mut().zip(&self.specs) {
            if matches!(slot, Buf::Empty) {
                *slot = Buf::try_zeros(kind, len).map_err(|_| SimError::TooLarge {
                    what: "the program".into(),
                    message: format!(
                        "cannot reserve {} for a {kind:?} buffer of {len} elements; \
                         free memory or declare smaller shapes",
                        format_bytes(kind.bytes().saturating_mul(len as u64))
                    ),
                })?;
            }
        }
        self.allocated = true;
        Ok(())
    }

    /// The elements of tensor `lid`.
    pub(crate) fn view(&self, lid: Lid) -> Result<View<'_>, KernelError> {
        let slot = *self
            .slot_of
            .get(lid)
            .ok_or_else(|| internal(format!("tensor {lid} has no slot")))?;
        self.slots
            .get(slot)
            .and_then(|b| b.view(self.len_of[lid]))
            .ok_or_else(|| internal(format!("tensor {lid} (slot {slot}) is not readable")))
    }

    /// The elements of tensor `lid` as `T`.
    pub(crate) fn get<T: Elem>(&self, lid: Lid) -> Result<&[T], KernelError> {
        T::of(self.view(lid)?).ok_or_else(|| {
            internal(format!(
                "tensor {lid} is not stored as {}",
                std::any::type_name::<T>()
            ))
        })
    }

    /// The elements of float tensor `lid`.
    pub(crate) fn float(&self, lid: Lid) -> Result<FloatView<'_>, KernelError> {
        match self.view(lid)? {
            View::F16(v) => Ok(FloatView::F16(v)),
            View::F32(v) => Ok(FloatView::F32(v)),
            _ => Err(internal(format!("tensor {lid} is not a float tensor"))),
        }
    }

    /// Lends tensor `out`'s slot to `f` for writing, with read access to every other tensor.
    pub(crate) fn with_output<R>(
        &mut self,
        out: Lid,
        f: impl FnOnce(&Buffers, ViewMut<'_>) -> Result<R, KernelError>,
    ) -> Result<R, KernelError> {
        let slot = *self
            .slot_of
            .get(out)
            .ok_or_else(|| internal(format!("tensor {out} has no slot")))?;
        let len = self.len_of[out];
        let mut buf = std::mem::take(&mut self.slots[slot]);
        let result = match buf.view_mut(len) {
            Some(view) => f(self, view),
            None => Err(internal(format!(
                "tensor {out} (slot {slot}) is not writable"
            ))),
        };
        self.slots[slot] = buf;
        result
    }

    /// [`Buffers::with_output`] for a float output.
    pub(crate) fn with_float_output<R>(
        &mut self,
        out: Lid,
        f: impl FnOnce(&Buffers, FloatViewMut<'_>) -> Result<R, KernelError>,
    ) -> Result<R, KernelError> {
        self.with_output(out, |bufs, view| match view {
            ViewMut::F16(v) => f(bufs, FloatViewMut::F16(v)),
            ViewMut::F32(v) => f(bufs, FloatViewMut::F32(v)),
            _ => Err(internal(format!("tensor {out} is not a float tensor"))),
        })
    }

    /// [`Buffers::with_output`] for an output of element type `T`.
    pub(crate) fn with_typed_output<T: Elem, R>(
        &mut self,
        out: Lid,
        f: impl FnOnce(&Buffers, &mut [T]) -> Result<R, KernelError>,
    ) -> Result<R, KernelError> {
        self.with_output(out, |bufs, view| match T::of_mut(view) {
            Some(v) => f(bufs, v),
            None => Err(internal(format!(
                "tensor {out} is not stored as {}",
                std::any::type_name::<T>()
            ))),
        })
    }

    /// The slot index of tensor `lid` (for tests of the buffer plan).
    #[cfg(test)]
    pub(crate) fn slot_index(&self, lid: Lid) -> usize {
        self.slot_of[lid]
    }

    /// The whole slot behind tensor `lid`, for input/output staging.
    pub(crate) fn slot_mut(&mut self, lid: Lid) -> Option<(&mut Buf, usize)> {
        let slot = *self.slot_of.get(lid)?;
        let len = *self.len_of.get(lid)?;
        self.slots.get_mut(slot).map(|b| (b, len))
    }
}
