//! The chip a device runs on: the detected family and tier plus the capabilities in force, with an
//! optional dialect override. Platform-independent; the macOS backend only supplies the brand string.

use super::caps::ChipCaps;
use super::family::{parse_brand_string, ChipFamily, ChipTier};
use crate::program::Dialect;

/// Where the dialect in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialectSource {
    /// Forced by the caller (constructor parameter or `ANE_TRAINER_DIALECT`).
    Override,
    /// Chosen from the detected chip family.
    Chip,
    /// Chosen from the macOS version: `program(1.3)`/`ios18` from macOS 15 on (maderix/ANE's main
    /// branch runs it on macOS 15+; no source reads the version, so this rule is the device's own).
    MacosVersion,
    /// The dialect chosen first failed to compile a program and the other one compiled it; the
    /// device keeps the one that worked.
    FallbackAfterCompileFailure,
    /// An earlier process on the same chip and OS build fell back to this dialect and recorded it
    /// in the on-disk compile cache.
    RememberedFallback,
}

impl DialectSource {
    /// A short phrase for device descriptions ("MIL dialect ios18 (from the macOS version)").
    pub fn describe(self) -> &'static str {
        match self {
            DialectSource::Override => "forced",
            DialectSource::Chip => "for this chip",
            DialectSource::MacosVersion => "from the macOS version",
            DialectSource::FallbackAfterCompileFailure => {
                "after the other dialect failed to compile"
            }
            DialectSource::RememberedFallback => "remembered from an earlier fallback on this Mac",
        }
    }

    /// Whether the caller forced the dialect (the device then never switches it).
    pub fn is_forced(self) -> bool {
        self == DialectSource::Override
    }
}

/// The chip a device runs on: what was detected, and the capabilities in force.
#[derive(Debug, Clone, PartialEq)]
pub struct ChipInfo {
    /// The raw brand string ("Apple M4 Pro").
    pub brand: String,
    /// The chip generation.
    pub family: ChipFamily,
    /// Base, Pro, Max, Ultra.
    pub tier: ChipTier,
    /// `_ANEDeviceInfo aneSubType` when the framework answers (e.g. "h16g"); informational only,
    /// since the mapping of these names to families is not documented.
    pub ane_subtype: Option<String>,
    /// The family's capabilities, with `dialect` replaced by an override if one was given.
    pub caps: ChipCaps,
    /// Whether the dialect was chosen from the chip or forced.
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
    use super::DialectSource;

    #[test]
    fn only_an_override_is_forced_and_every_source_has_a_phrase() {
        let all = [
            DialectSource::Override,
            DialectSource::Chip,
            DialectSource::MacosVersion,
            DialectSource::FallbackAfterCompileFailure,
            DialectSource::RememberedFallback,
        ];
        for s in all {
            assert_eq!(s.is_forced(), s == DialectSource::Override);
            assert!(!s.describe().is_empty());
        }
    }
}
