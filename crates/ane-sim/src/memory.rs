//! How much memory a prepared program needs, and how much the machine has: the simulator
//! refuses a program it cannot hold with an error naming the tensor and the sizes, instead of
//! letting an allocation abort the process.
//!
//! Two checks, at two moments. [`Simulator::prepare`](crate::Simulator::prepare) refuses any
//! single declared tensor larger than the limit (such a program can never run, and preparing it
//! would already allocate index tables proportional to its dims). The arena (every buffer and
//! the scratch kernels share) is allocated later, on the first input write, output read or run,
//! so callers can check the inputs they were given against
//! [`PreparedProgram::inputs`](crate::PreparedProgram::inputs) before any large allocation; the
//! total is checked against the limit then, and every buffer is reserved fallibly.

use crate::error::SimError;

pub use ane_mil::host::{available_memory, format_bytes};

/// The limit a program is checked against: the configured one, else the available memory.
pub(crate) fn effective_limit(configured: Option<u64>) -> Option<u64> {
    configured.or_else(available_memory)
}

/// Bytes of `elements` elements of `bytes_per_element` each; `None` on overflow.
pub(crate) fn tensor_bytes(elements: &[usize], bytes_per_element: u64) -> Option<u64> {
    elements
        .iter()
        .try_fold(bytes_per_element, |acc, &d| acc.checked_mul(d as u64))
}

/// Refuses one tensor of `bytes` (`None`: its size overflows 64 bits) above `limit`.
pub(crate) fn check_tensor(
    what: &str,
    ty: &str,
    bytes: Option<u64>,
    limit: Option<u64>,
) -> Result<(), SimError> {
    match (bytes, limit) {
        (None, _) => Err(SimError::TooLarge {
            what: what.to_string(),
            message: format!(
                "{ty} has more elements than 64-bit sizes can count; declare smaller shapes"
            ),
        }),
        (Some(bytes), Some(limit)) if bytes > limit => Err(SimError::TooLarge {
            what: what.to_string(),
            message: format!(
                "{ty} needs {} but only {} of memory is available; declare smaller shapes",
                format_bytes(bytes),
                format_bytes(limit)
            ),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_overflow_to_none() {
        assert_eq!(tensor_bytes(&[1, 1000, 1, 1000], 2), Some(2_000_000));
        assert_eq!(tensor_bytes(&[usize::MAX, 2], 1), None);
        assert_eq!(tensor_bytes(&[], 4), Some(4));
    }
}
