//! Deployment targets: which OS release an exported package must run on decides its Core ML
//! specification version and its MIL opset (mil-ops.md §0.1, §4.3).

use ane_mil::Opset;
use std::fmt;
use std::str::FromStr;

/// The oldest OS an exported package must load on. ML Programs with fp16 inputs and outputs need
/// specification version 7, so iOS16 / macOS13 is the oldest target offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeploymentTarget {
    /// macOS 13 (specification 7, opset `CoreML6`).
    MacOs13,
    /// macOS 14 (specification 8, opset `CoreML7`).
    MacOs14,
    /// macOS 15 (specification 9, opset `CoreML8`).
    MacOs15,
    /// iOS 16 (specification 7, opset `CoreML6`).
    Ios16,
    /// iOS 17 (specification 8, opset `CoreML7`).
    Ios17,
    /// iOS 18 (specification 9, opset `CoreML8`).
    Ios18,
}

impl DeploymentTarget {
    /// Every target, in the order the CLI lists them.
    pub const ALL: [DeploymentTarget; 6] = [
        DeploymentTarget::MacOs13,
        DeploymentTarget::MacOs14,
        DeploymentTarget::MacOs15,
        DeploymentTarget::Ios16,
        DeploymentTarget::Ios17,
        DeploymentTarget::Ios18,
    ];

    /// The name on the command line (`macOS14`).
    pub fn name(self) -> &'static str {
        match self {
            DeploymentTarget::MacOs13 => "macOS13",
            DeploymentTarget::MacOs14 => "macOS14",
            DeploymentTarget::MacOs15 => "macOS15",
            DeploymentTarget::Ios16 => "iOS16",
            DeploymentTarget::Ios17 => "iOS17",
            DeploymentTarget::Ios18 => "iOS18",
        }
    }

    /// The MIL opset the program is checked against (macOS N pairs with iOS N+3).
    pub fn opset(self) -> Opset {
        match self {
            DeploymentTarget::MacOs13 | DeploymentTarget::Ios16 => Opset::Ios16,
            DeploymentTarget::MacOs14 | DeploymentTarget::Ios17 => Opset::Ios17,
            DeploymentTarget::MacOs15 | DeploymentTarget::Ios18 => Opset::Ios18,
        }
    }

    /// `Model.specificationVersion`.
    pub fn specification_version(self) -> i32 {
        match self.opset() {
            Opset::Ios16 => 7,
            Opset::Ios17 => 8,
            _ => 9,
        }
    }

    /// The opset string of `MILSpec.Function.opset` (`CoreML6` … `CoreML8`).
    pub fn proto_opset(self) -> &'static str {
        match self.opset() {
            Opset::Ios16 => "CoreML6",
            Opset::Ios17 => "CoreML7",
            _ => "CoreML8",
        }
    }
}

impl fmt::Display for DeploymentTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DeploymentTarget {
    type Err = String;

    /// Parses a target name, ignoring case (`macos14`, `iOS18`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeploymentTarget::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = DeploymentTarget::ALL.iter().map(|t| t.name()).collect();
                format!(
                    "unknown deployment target `{s}` (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// The `MILSpec.Function.opset` string for a MIL opset, if Core ML has one.
pub fn proto_opset_of(opset: Opset) -> Option<&'static str> {
    match opset {
        Opset::Ios15 => Some("CoreML5"),
        Opset::Ios16 => Some("CoreML6"),
        Opset::Ios17 => Some("CoreML7"),
        Opset::Ios18 => Some("CoreML8"),
        Opset::Ios26 => Some("CoreML9"),
    }
}

/// The MIL opset of a `MILSpec.Function.opset` string.
pub fn opset_of_proto(name: &str) -> Option<Opset> {
    Opset::ALL
        .into_iter()
        .find(|o| proto_opset_of(*o) == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_pair_versions_with_opsets() {
        for t in DeploymentTarget::ALL {
            assert_eq!(t.name().parse::<DeploymentTarget>(), Ok(t));
            assert_eq!(proto_opset_of(t.opset()), Some(t.proto_opset()));
            assert_eq!(opset_of_proto(t.proto_opset()), Some(t.opset()));
        }
        assert_eq!("MACOS15".parse(), Ok(DeploymentTarget::MacOs15));
        assert_eq!(DeploymentTarget::Ios17.specification_version(), 8);
        let err = "macOS12".parse::<DeploymentTarget>().unwrap_err();
        assert!(err.contains("macOS13, macOS14"), "{err}");
    }
}
