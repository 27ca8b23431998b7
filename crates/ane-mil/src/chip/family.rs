//! Chip families and tiers, and parsing the CPU brand string and dialect overrides into them.

use crate::program::Dialect;
use std::fmt;

/// A generation of Apple Silicon Mac chips (the `N` of "Apple M`N`").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChipFamily {
    /// Apple M1 (A14-generation ANE, 16 cores).
    M1,
    /// Apple M2 (A15 generation).
    M2,
    /// Apple M3 (A17 generation).
    M3,
    /// Apple M4.
    M4,
    /// Apple M5.
    M5,
    /// A generation newer than this table knows (M6 and later), assumed to behave like the newest
    /// known one.
    Newer(u32),
}

impl ChipFamily {
    /// The family of generation `n` (`1` → M1); `None` for 0.
    pub fn from_generation(n: u32) -> Option<ChipFamily> {
        Some(match n {
            0 => return None,
            1 => ChipFamily::M1,
            2 => ChipFamily::M2,
            3 => ChipFamily::M3,
            4 => ChipFamily::M4,
            5 => ChipFamily::M5,
            n => ChipFamily::Newer(n),
        })
    }

    /// The generation number (`M4` → 4).
    pub fn generation(self) -> u32 {
        match self {
            ChipFamily::M1 => 1,
            ChipFamily::M2 => 2,
            ChipFamily::M3 => 3,
            ChipFamily::M4 => 4,
            ChipFamily::M5 => 5,
            ChipFamily::Newer(n) => n,
        }
    }

    /// True for the M1–M3 class (per-axis cap 16,384, verbose `ios16` dialect).
    pub fn is_m1_to_m3_class(self) -> bool {
        self.generation() <= 3
    }
}

impl fmt::Display for ChipFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "M{}", self.generation())
    }
}

/// The size tier within a family, from the brand string ("Apple M3 Ultra" → `Ultra`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChipTier {
    /// The plain chip ("Apple M4").
    Base,
    /// "Pro".
    Pro,
    /// "Max".
    Max,
    /// Two dies joined; rustane reports its ANE degrading after ~100K evals unless kernels are
    /// recompiled (ane-facts §6).
    Ultra,
    /// A word this table does not know, kept verbatim.
    Other(String),
}

/// Parses a CPU brand string (`sysctl machdep.cpu.brand_string`, e.g. "Apple M4 Pro") into a
/// family and tier. `None` when it is not an Apple M-series chip (Intel Macs, unknown strings).
pub fn parse_brand_string(brand: &str) -> Option<(ChipFamily, ChipTier)> {
    let mut words = brand.split_whitespace();
    if words.next()? != "Apple" {
        return None;
    }
    let model = words.next()?;
    let digits = model.strip_prefix('M')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let family = ChipFamily::from_generation(digits.parse().ok()?)?;
    let tier = match words.next() {
        None => ChipTier::Base,
        // Virtual machines report e.g. "Apple M2 (Virtual)".
        Some(w) if w.starts_with('(') => ChipTier::Base,
        Some("Pro") => ChipTier::Pro,
        Some("Max") => ChipTier::Max,
        Some("Ultra") => ChipTier::Ultra,
        Some(other) => ChipTier::Other(other.to_string()),
    };
    Some((family, tier))
}

/// The accepted spellings of a dialect override (`ANE_TRAINER_DIALECT`).
pub const DIALECT_NAMES: [&str; 2] = ["ios16", "ios18"];

/// Parses a dialect override: `ios16` (verbose `program(1.0)`) or `ios18` (`program(1.3)`),
/// case-insensitive.
pub fn parse_dialect(name: &str) -> Result<Dialect, String> {
    match name.trim().to_ascii_lowercase().as_str() {
        "ios16" => Ok(Dialect::Ios16),
        "ios18" => Ok(Dialect::Ios18),
        other => Err(format!(
            "unknown MIL dialect {other:?}: expected one of {}",
            DIALECT_NAMES.join(", ")
        )),
    }
}
