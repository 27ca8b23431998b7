//! The error type of every fallible primitive.

/// Why a primitive rejected its arguments. Each names the operation and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpuError {
    /// A slice does not hold the number of elements its shape says.
    #[error("{op}: data has {len} elements but shape {shape:?} needs {expected}")]
    LengthMismatch {
        op: &'static str,
        len: usize,
        shape: Vec<usize>,
        expected: usize,
    },
    /// Two shapes are not numpy-broadcast compatible.
    #[error("{op}: shapes {a:?} and {b:?} do not broadcast")]
    Broadcast {
        op: &'static str,
        a: Vec<usize>,
        b: Vec<usize>,
    },
    /// Any other invalid argument (ranks, axes, kernel sizes, parameters).
    #[error("{op}: {message}")]
    Invalid { op: &'static str, message: String },
}

impl CpuError {
    /// An [`CpuError::Invalid`] error.
    pub fn invalid(op: &'static str, message: impl Into<String>) -> Self {
        CpuError::Invalid {
            op,
            message: message.into(),
        }
    }
}
