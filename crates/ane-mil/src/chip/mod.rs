//! The capability table: Apple Silicon chip families and what their Neural Engine accepts, as data
//! (DESIGN.md §4 "known ANE limits are data"), and the pre-compile lint that reads it.
//!
//! One table serves every reader: the ANE device picks the MIL dialect and surface alignment from
//! it, the compiler's placement and partitioner keep ops and kernels within its limits, and
//! [`lint()`] rejects a MIL program that would fail on a chip before it reaches the compiler. Each
//! value cites its source in `reference/ane-facts.md` or `reference/landscape.md`.
//!
//! - [`family`]: chip families and tiers, brand-string and dialect parsing;
//! - [`caps`]: [`ChipCaps`], the numbers per family;
//! - [`rules`]: the limits as named [`Rule`]s (rejecting or advisory, with sources) and the ANE op set;
//! - [`lint`](mod@lint): checking a program against a chip;
//! - [`info`]: the chip a device detected.
//!
//! Everything here is platform-independent; detecting the chip of the running Mac lives in the
//! macOS device backend, which only feeds a brand string into [`parse_brand_string`].

pub mod caps;
pub mod family;
pub mod info;
pub mod lint;
pub mod rules;

#[cfg(test)]
mod tests;

pub use caps::{
    ChipCaps, COMPILE_LIMIT_PER_PROCESS, DEFAULT_KERNEL_IO_BYTES, IO_ROW_ALIGNMENT_BYTES,
    MAX_AXIS_M1_TO_M3, MAX_AXIS_M4_AND_LATER, MAX_IO_WIDTH, MIN_IO_WIDTH, SURFACE_ALIGNMENT,
};
pub use family::{parse_brand_string, parse_dialect, ChipFamily, ChipTier, DIALECT_NAMES};
pub use info::{ChipInfo, DialectSource};
pub use lint::{lint, lint_all, LintError};
pub use rules::{ane_op_support, Enforcement, Evidence, OpSupport, Rule, Tier, ANE_OPS};
