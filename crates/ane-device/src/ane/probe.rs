//! What this machine offers the ANE device, for `ane-trainer doctor` and bug reports: the
//! platform, the chip, and whether `AppleNeuralEngine.framework` and each private class the
//! backend uses can be found. Probing never fails: every problem becomes part of the answer.
//!
//! The facts are gathered by the macOS backend (sysctl, `dlopen`, the Objective-C runtime); on
//! other platforms the answer says plainly that there is nothing to probe.

use ane_mil::chip::{ChipFamily, ChipTier};

/// Where the private framework lives (ane-facts §4).
pub const FRAMEWORK_PATH: &str =
    "/System/Library/PrivateFrameworks/AppleNeuralEngine.framework/AppleNeuralEngine";

/// Everything [`probe_system`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemProbe {
    /// `std::env::consts::OS` (`macos`, `linux`, …).
    pub os: &'static str,
    /// `std::env::consts::ARCH` (`aarch64`, `x86_64`, …).
    pub arch: &'static str,
    /// The OS release when it can be read ("26.3 (25D125)" on macOS, `PRETTY_NAME` of
    /// `/etc/os-release` on Linux).
    pub os_version: Option<String>,
    /// The CPU.
    pub chip: ChipProbe,
    /// The private framework and its classes.
    pub framework: FrameworkProbe,
}

/// What the CPU is.
#[derive(Debug, Clone, PartialEq)]
pub enum ChipProbe {
    /// Not macOS: chip detection is not attempted.
    NotMacos,
    /// macOS, but not an Apple M-series chip (an Intel Mac, or an unreadable brand string).
    NotAppleSilicon {
        /// `machdep.cpu.brand_string`, if it could be read.
        brand: Option<String>,
    },
    /// An Apple M-series chip.
    AppleSilicon {
        /// `machdep.cpu.brand_string` ("Apple M4 Pro").
        brand: String,
        /// The generation.
        family: ChipFamily,
        /// Base, Pro, Max, Ultra.
        tier: ChipTier,
        /// `+[_ANEDeviceInfo aneSubType]` when the framework answers.
        ane_subtype: Option<String>,
    },
}

impl ChipProbe {
    /// The chip family, on Apple Silicon.
    pub fn family(&self) -> Option<ChipFamily> {
        match self {
            ChipProbe::AppleSilicon { family, .. } => Some(*family),
            _ => None,
        }
    }

    /// One line for humans: the brand and family, or why there is none.
    pub fn describe(&self) -> String {
        match self {
            ChipProbe::NotMacos => "not macOS (no Neural Engine to detect)".into(),
            ChipProbe::NotAppleSilicon { brand: Some(b) } => format!("{b} — not Apple Silicon"),
            ChipProbe::NotAppleSilicon { brand: None } => {
                "unknown CPU (machdep.cpu.brand_string unreadable) — not Apple Silicon".into()
            }
            ChipProbe::AppleSilicon {
                brand,
                family,
                ane_subtype,
                ..
            } => match ane_subtype {
                Some(s) => format!("{brand} (family {family}, ANE sub-type {s})"),
                None => format!("{brand} (family {family})"),
            },
        }
    }
}

/// Whether the private framework and its classes are there.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameworkProbe {
    /// Not probed on this platform; the reason says why.
    NotApplicable(String),
    /// Probed.
    Checked {
        /// `dlopen` of [`FRAMEWORK_PATH`]: `Err` carries the loader's message.
        loaded: Result<(), String>,
        /// Each class the backend looks up, in the order it needs them.
        classes: Vec<ClassProbe>,
        /// Whether every required class exists and answers every selector with the argument and
        /// return types the backend passes; `Err` names the first problem.
        api: Result<(), String>,
    },
}

impl FrameworkProbe {
    /// True when the backend can use the framework (loaded, classes present, selectors match).
    pub fn usable(&self) -> bool {
        matches!(self, FrameworkProbe::Checked { api: Ok(()), .. })
    }
}

/// One private Objective-C class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassProbe {
    /// Its name (`_ANEInMemoryModel`).
    pub name: String,
    /// Whether the backend cannot work without it (`_ANEDeviceInfo` only describes the chip).
    pub required: bool,
    /// Whether the Objective-C runtime knows it.
    pub available: bool,
}

/// Probes this machine. On macOS this loads the private framework (as opening the ANE device
/// would) but compiles nothing.
pub fn probe_system() -> SystemProbe {
    let (os_version, chip, framework) = platform_facts();
    SystemProbe {
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        os_version,
        chip,
        framework,
    }
}

#[cfg(target_os = "macos")]
fn platform_facts() -> (Option<String>, ChipProbe, FrameworkProbe) {
    super::macos::probe_platform()
}

#[cfg(not(target_os = "macos"))]
fn platform_facts() -> (Option<String>, ChipProbe, FrameworkProbe) {
    (
        os_release_name(),
        ChipProbe::NotMacos,
        FrameworkProbe::NotApplicable(super::unavailable_here_message()),
    )
}

/// `PRETTY_NAME` from `/etc/os-release` (Linux and most Unix-likes), without quotes.
#[cfg(not(target_os = "macos"))]
fn os_release_name() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    pretty_name(&text)
}

/// The `PRETTY_NAME` value of an os-release file.
#[cfg_attr(target_os = "macos", allow(dead_code))]
fn pretty_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|line| {
        let value = line.strip_prefix("PRETTY_NAME=")?.trim();
        let value = value.trim_matches('"').trim_matches('\'');
        (!value.is_empty()).then(|| value.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_answers_on_every_platform() {
        let probe = probe_system();
        assert_eq!(probe.os, std::env::consts::OS);
        assert_eq!(probe.arch, std::env::consts::ARCH);
        if cfg!(not(target_os = "macos")) {
            assert_eq!(probe.chip, ChipProbe::NotMacos);
            assert!(probe.chip.describe().contains("not macOS"));
            let FrameworkProbe::NotApplicable(reason) = &probe.framework else {
                panic!("framework probed off macOS: {:?}", probe.framework);
            };
            assert!(reason.contains("needs macOS on Apple Silicon"), "{reason}");
            assert!(!probe.framework.usable());
        }
    }

    #[test]
    fn os_release_pretty_names_lose_their_quotes() {
        let text =
            "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\n";
        assert_eq!(
            pretty_name(text).as_deref(),
            Some("Debian GNU/Linux 13 (trixie)")
        );
        assert_eq!(pretty_name("ID=x\n"), None);
        assert_eq!(pretty_name("PRETTY_NAME=\"\"\n"), None);
    }

    #[test]
    fn chip_descriptions_name_brand_and_family() {
        let chip = ChipProbe::AppleSilicon {
            brand: "Apple M4 Pro".into(),
            family: ChipFamily::M4,
            tier: ChipTier::Pro,
            ane_subtype: Some("h16g".into()),
        };
        assert_eq!(chip.family(), Some(ChipFamily::M4));
        assert_eq!(
            chip.describe(),
            "Apple M4 Pro (family M4, ANE sub-type h16g)"
        );
        let intel = ChipProbe::NotAppleSilicon {
            brand: Some("Intel(R) Core(TM) i9".into()),
        };
        assert!(intel.describe().contains("not Apple Silicon"));
        assert_eq!(intel.family(), None);
    }

    #[test]
    fn only_a_fully_resolved_framework_is_usable() {
        let missing = FrameworkProbe::Checked {
            loaded: Ok(()),
            classes: vec![ClassProbe {
                name: "_ANERequest".into(),
                required: true,
                available: false,
            }],
            api: Err("class _ANERequest not found".into()),
        };
        assert!(!missing.usable());
        let fine = FrameworkProbe::Checked {
            loaded: Ok(()),
            classes: vec![],
            api: Ok(()),
        };
        assert!(fine.usable());
    }
}
