//! What a prepared op is at run time: a [`Kernel`] (an op with every shape, stride and
//! parameter resolved) plus the scratch memory and parallelism setting it runs with.

use crate::buffers::Buffers;
use crate::error::KernelError;

/// One prepared op. `run` reads its inputs from the arena, writes its output(s), and must not
/// allocate in steady state (scratch comes from [`RunCx`]).
pub(crate) trait Kernel: Send + Sync + std::fmt::Debug {
    /// Executes the op.
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError>;
}

/// Scratch sizes a kernel needs, in elements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ScratchNeed {
    pub f32: usize,
    pub f64: usize,
}

impl ScratchNeed {
    /// `n` f32 elements.
    pub(crate) fn f32(n: usize) -> Self {
        ScratchNeed { f32: n, f64: 0 }
    }

    /// The element-wise maximum of two needs.
    pub(crate) fn max(self, other: ScratchNeed) -> Self {
        ScratchNeed {
            f32: self.f32.max(other.f32),
            f64: self.f64.max(other.f64),
        }
    }
}

impl ScratchNeed {
    /// Bytes of this scratch; `None` on overflow.
    pub(crate) fn bytes(self) -> Option<u64> {
        (self.f32 as u64)
            .checked_mul(4)?
            .checked_add((self.f64 as u64).checked_mul(8)?)
    }
}

/// Scratch memory shared by every kernel of a program (kernels run one at a time). Empty until
/// [`Scratch::allocate`], which the program's first use calls.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub f32: Vec<f32>,
    pub f64: Vec<f64>,
    need: ScratchNeed,
}

impl Scratch {
    /// Scratch of the given size, allocated later.
    pub(crate) fn new(need: ScratchNeed) -> Self {
        Scratch {
            f32: Vec::new(),
            f64: Vec::new(),
            need,
        }
    }

    /// The size asked for.
    pub(crate) fn need(&self) -> ScratchNeed {
        self.need
    }

    /// Reserves (fallibly) and zero-fills the scratch.
    pub(crate) fn allocate(&mut self) -> Result<(), std::collections::TryReserveError> {
        self.f32.try_reserve_exact(self.need.f32)?;
        self.f32.resize(self.need.f32, 0.0);
        self.f64.try_reserve_exact(self.need.f64)?;
        self.f64.resize(self.need.f64, 0.0);
        Ok(())
    }
}

/// The run-time context of a kernel.
#[derive(Debug)]
pub(crate) struct RunCx<'a> {
    /// Scratch memory, at least as large as the kernel asked for.
    pub scratch: &'a mut Scratch,
    /// Whether more than one thread is available (kernels then split work across them).
    pub parallel: bool,
}

/// A kernel with the label errors name it by (`"name" (op_type)`).
#[derive(Debug)]
pub(crate) struct Step {
    pub kernel: Box<dyn Kernel>,
    pub label: String,
}
