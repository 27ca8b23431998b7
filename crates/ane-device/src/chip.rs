//! Apple Silicon chip families and what their Neural Engine accepts, as data.
//!
//! This module owns the per-chip capability table (DESIGN.md §4 "known ANE limits are data"): the
//! ANE device reads it to pick the MIL dialect, and the compiler's partitioner and pre-compile lint
//! read the same table. Everything here is platform-independent; detecting the chip of the running
//! Mac lives in the macOS backend, which only feeds a brand string into [`parse_brand_string`].
//!
//! Sources (see `reference/ane-facts.md` and `reference/landscape.md`):
//! - dialect per family: ane-facts §1.1 (the `program(1.3)`/`ios18` form verified on M4 and later;
//!   PR #6 claims M1/M2 need the verbose `program(1.0)`/`ios16` form; landscape's cheat sheet
//!   extends that to M3);
//! - per-axis caps: landscape cheat sheet (ANEForge capability registry: 16,384 for the M1–M3
//!   class, 65,536 for the M4–M5 class; rustane#13 hit 16,384 on M3 Ultra; ane-facts §6 PR #26:
//!   any dim > 65,536 rejected on M4-class chips);
//! - surface alignment: ane-facts §5 (PR #35 claims 128-byte IOSurfaces on M5; harmless elsewhere);
//! - `cast`: ane-facts §2 / §6 (PR #6 claims it is unsupported on M1/M2);
//! - compile limit: ane-facts §6 (~119 compiles per process, every chip).

use ane_mil::Dialect;
use std::fmt;

/// A generation of Apple Silicon Mac chips (the `N` of "Apple M`N`").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChipFamily {
    M1,
    M2,
    M3,
    M4,
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

    /// The capability set of this family.
    pub fn caps(self) -> ChipCaps {
        let older = self.is_m1_to_m3_class();
        ChipCaps {
            dialect: if older {
                Dialect::Ios16
            } else {
                Dialect::Ios18
            },
            max_axis_size: if older {
                MAX_AXIS_M1_TO_M3
            } else {
                MAX_AXIS_M4_AND_LATER
            },
            surface_alignment: SURFACE_ALIGNMENT,
            supports_cast: !matches!(self, ChipFamily::M1 | ChipFamily::M2),
            compile_limit: COMPILE_LIMIT_PER_PROCESS,
        }
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
    Base,
    Pro,
    Max,
    /// Two dies joined; rustane reports its ANE degrading after ~100K evals unless kernels are
    /// recompiled (ane-facts §6).
    Ultra,
    /// A word this table does not know, kept verbatim.
    Other(String),
}

/// Largest size of any tensor axis on M1–M3 class chips (landscape cheat sheet; rustane#13).
pub const MAX_AXIS_M1_TO_M3: usize = 16_384;
/// Largest size of any tensor axis on M4 and later (landscape cheat sheet; ane-facts §6, PR #26).
pub const MAX_AXIS_M4_AND_LATER: usize = 65_536;
/// IOSurface sizes are rounded up to this many bytes (ane-facts §5: PR #35's M5 claim, applied to
/// every chip because a larger allocation is harmless).
pub const SURFACE_ALIGNMENT: usize = 128;
/// Compiles one process can make before the in-memory compiler starts failing (ane-facts §6: ~119,
/// README; PR #23 saw 119–132 on M4).
pub const COMPILE_LIMIT_PER_PROCESS: usize = 119;

/// What one chip family's Neural Engine accepts. Read by the ANE device (dialect, alignment) and
/// by the compiler's partitioner and lint (axis caps, ops to avoid).
///
/// Values per family come from ane-facts §1.1 (dialect), §5 (alignment), §6 (axis limits, compile
/// limit, `cast` on M1/M2) and the landscape cheat sheet ("ANE constraints to encode in the
/// lowering layer": per-axis caps 16,384 for M1–M3, 65,536 for M4–M5); see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChipCaps {
    /// The MIL text dialect the in-memory compiler accepts (ane-facts §1.1).
    pub dialect: Dialect,
    /// Largest size of any single tensor axis.
    pub max_axis_size: usize,
    /// Byte alignment of kernel input/output IOSurfaces.
    pub surface_alignment: usize,
    /// Whether the `cast` op compiles. `false` on M1/M2 per PR #6 (a contributor claim, in
    /// conflict with nothing but verified nowhere else): fp16 kernel I/O is the safe choice.
    pub supports_cast: bool,
    /// Approximate number of compiles per process before compiles fail.
    pub compile_limit: usize,
}

impl ChipCaps {
    /// Checks a tensor shape against the per-axis cap; the error names the axis and the cap.
    pub fn check_shape(&self, shape: &[usize]) -> Result<(), String> {
        match shape
            .iter()
            .enumerate()
            .find(|(_, &d)| d > self.max_axis_size)
        {
            Some((axis, &d)) => Err(format!(
                "axis {axis} of shape {shape:?} has size {d}, above this chip's per-axis cap of {}",
                self.max_axis_size
            )),
            None => Ok(()),
        }
    }
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

/// Where the dialect in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialectSource {
    /// Forced by the caller (constructor parameter or `ANE_TRAINER_DIALECT`).
    Override,
    /// Chosen from the detected chip family.
    Chip,
}

/// The chip a device runs on: what was detected, and the capabilities in force.
#[derive(Debug, Clone, PartialEq)]
pub struct ChipInfo {
    /// The raw brand string ("Apple M4 Pro").
    pub brand: String,
    pub family: ChipFamily,
    pub tier: ChipTier,
    /// `_ANEDeviceInfo aneSubType` when the framework answers (e.g. "h16g"); informational only,
    /// since the mapping of these names to families is not documented.
    pub ane_subtype: Option<String>,
    /// The family's capabilities, with `dialect` replaced by an override if one was given.
    pub caps: ChipCaps,
    pub dialect_source: DialectSource,
}

impl ChipInfo {
    /// Builds the info for a brand string, applying a dialect override.
    pub fn from_brand(
        brand: &str,
        ane_subtype: Option<String>,
        dialect_override: Option<Dialect>,
    ) -> Result<ChipInfo, String> {
        let (family, tier) = parse_brand_string(brand).ok_or_else(|| {
            format!("the ANE device needs an Apple M-series chip; this CPU reports {brand:?}")
        })?;
        let mut caps = family.caps();
        let dialect_source = match dialect_override {
            Some(d) => {
                caps.dialect = d;
                DialectSource::Override
            }
            None => DialectSource::Chip,
        };
        Ok(ChipInfo {
            brand: brand.to_string(),
            family,
            tier,
            ane_subtype,
            caps,
            dialect_source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brand_strings_parse_to_family_and_tier() {
        let cases = [
            ("Apple M1", ChipFamily::M1, ChipTier::Base),
            ("Apple M1 Pro", ChipFamily::M1, ChipTier::Pro),
            ("Apple M2 Max", ChipFamily::M2, ChipTier::Max),
            ("Apple M3 Ultra", ChipFamily::M3, ChipTier::Ultra),
            ("Apple M4 Pro", ChipFamily::M4, ChipTier::Pro),
            ("Apple M5", ChipFamily::M5, ChipTier::Base),
            ("Apple M2 (Virtual)", ChipFamily::M2, ChipTier::Base),
            ("Apple M7 Max", ChipFamily::Newer(7), ChipTier::Max),
            (
                "Apple M4 Turbo",
                ChipFamily::M4,
                ChipTier::Other("Turbo".into()),
            ),
        ];
        for (brand, family, tier) in cases {
            assert_eq!(parse_brand_string(brand), Some((family, tier)), "{brand}");
        }
    }

    #[test]
    fn non_m_series_brands_are_rejected() {
        for brand in [
            "",
            "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz",
            "Apple",
            "Apple A18 Pro",
            "Apple M",
            "Apple M0",
            "Apple Mx",
            "apple m4",
            "Apple processor",
        ] {
            assert_eq!(parse_brand_string(brand), None, "{brand:?}");
        }
    }

    #[test]
    fn m1_to_m3_use_ios16_and_the_small_axis_cap() {
        for family in [ChipFamily::M1, ChipFamily::M2, ChipFamily::M3] {
            let caps = family.caps();
            assert_eq!(caps.dialect, Dialect::Ios16, "{family}");
            assert_eq!(caps.max_axis_size, 16_384, "{family}");
        }
    }

    #[test]
    fn m4_and_later_use_ios18_and_the_large_axis_cap() {
        for family in [ChipFamily::M4, ChipFamily::M5, ChipFamily::Newer(6)] {
            let caps = family.caps();
            assert_eq!(caps.dialect, Dialect::Ios18, "{family}");
            assert_eq!(caps.max_axis_size, 65_536, "{family}");
            assert!(caps.supports_cast);
        }
    }

    #[test]
    fn every_family_aligns_surfaces_to_128_bytes_and_reports_the_compile_limit() {
        for n in 1..=8 {
            let caps = ChipFamily::from_generation(n).unwrap().caps();
            assert_eq!(caps.surface_alignment, 128);
            assert_eq!(caps.compile_limit, 119);
        }
        assert_eq!(ChipFamily::from_generation(0), None);
    }

    #[test]
    fn cast_is_marked_unsupported_on_m1_and_m2_only() {
        assert!(!ChipFamily::M1.caps().supports_cast);
        assert!(!ChipFamily::M2.caps().supports_cast);
        assert!(ChipFamily::M3.caps().supports_cast);
    }

    #[test]
    fn shape_check_names_the_offending_axis() {
        let caps = ChipFamily::M3.caps();
        assert!(caps.check_shape(&[1, 16_384, 1, 64]).is_ok());
        let err = caps.check_shape(&[1, 32_000, 1, 64]).unwrap_err();
        assert!(err.contains("axis 1") && err.contains("16384"), "{err}");
        assert!(ChipFamily::M4
            .caps()
            .check_shape(&[1, 32_000, 1, 64])
            .is_ok());
        assert!(ChipFamily::M4
            .caps()
            .check_shape(&[1, 151_936, 1, 1])
            .is_err());
    }

    #[test]
    fn dialect_names_parse_case_insensitively() {
        assert_eq!(parse_dialect("ios16"), Ok(Dialect::Ios16));
        assert_eq!(parse_dialect(" IOS18 "), Ok(Dialect::Ios18));
        let err = parse_dialect("ios17").unwrap_err();
        assert!(err.contains("ios16, ios18"), "{err}");
    }

    #[test]
    fn chip_info_applies_the_dialect_override() {
        let info = ChipInfo::from_brand("Apple M4 Pro", Some("h16g".into()), None).unwrap();
        assert_eq!(info.caps.dialect, Dialect::Ios18);
        assert_eq!(info.dialect_source, DialectSource::Chip);
        assert_eq!(info.ane_subtype.as_deref(), Some("h16g"));

        let forced = ChipInfo::from_brand("Apple M4 Pro", None, Some(Dialect::Ios16)).unwrap();
        assert_eq!(forced.caps.dialect, Dialect::Ios16);
        assert_eq!(forced.dialect_source, DialectSource::Override);
        assert_eq!(forced.caps.max_axis_size, 65_536);

        let err = ChipInfo::from_brand("Intel(R) Xeon(R)", None, None).unwrap_err();
        assert!(err.contains("Apple M-series"), "{err}");
    }
}
