//! Which MIL dialect the ANE device compiles in, and why.
//!
//! The rule (issue 9, point 4): an explicit dialect (`AneConfig::dialect`, `ANE_TRAINER_DIALECT`)
//! always wins; otherwise macOS 15 or later gets `program(1.3)`/`ios18`, and an older (or
//! unreadable) macOS gets the chip family's default from the capability table.
//!
//! Why the macOS version: maderix/ANE's main branch compiles `program(1.3)`/`ios18` on M3, M4 and
//! M5 under macOS 15+, and says it needs macOS 15; its PR #6 instead needed
//! `program(1.0)`/`ios16` on an M1 Pro under macOS 26.3 and found that out by retrying after a
//! failed compile. No reference reads the OS version to choose, so the version only picks the
//! first attempt: when that attempt is rejected and the dialect was not forced, the device
//! retries in the other dialect and keeps whichever compiled ([`DialectSource`] records which
//! happened). Everything here is pure and tested on every OS; only reading
//! `kern.osproductversion` is macOS code.

use crate::chip::DialectSource;
use ane_mil::{Dialect, Program};

/// The first macOS version on which the device starts in `ios18` rather than the chip default.
pub const FIRST_MACOS_FOR_IOS18: (u32, u32) = (15, 0);

/// The dialect programs are compiled in, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialectChoice {
    /// The dialect in use.
    pub dialect: Dialect,
    /// Where it came from.
    pub source: DialectSource,
}

impl DialectChoice {
    /// Whether the caller forced it (then the device never retries in the other dialect).
    pub fn is_forced(self) -> bool {
        self.source.is_forced()
    }
}

/// Parses `kern.osproductversion` ("15.1", "26.3.1", "14") into `(major, minor)`; a missing
/// minor is 0 and anything after the minor is ignored. `None` for anything else (empty text,
/// letters, a zero major, numbers that overflow).
pub fn parse_macos_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim().split('.');
    let number = |part: &str| -> Option<u32> {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let major = number(parts.next()?)?;
    let minor = match parts.next() {
        Some(p) => number(p)?,
        None => 0,
    };
    // A patch level, when present, must still be a number: "15.1.x" is not a version.
    for rest in parts {
        number(rest)?;
    }
    (major > 0).then_some((major, minor))
}

/// The dialect to start in: `forced` if given, else `ios18` from macOS 15 on, else the chip's
/// default. Returns the choice and a sentence saying why (for the device's notes).
pub fn choose_dialect(
    chip_default: Dialect,
    macos: Option<(u32, u32)>,
    forced: Option<Dialect>,
) -> (DialectChoice, String) {
    if let Some(dialect) = forced {
        let choice = DialectChoice {
            dialect,
            source: DialectSource::Override,
        };
        return (
            choice,
            format!("MIL dialect {} forced by the caller", name(dialect)),
        );
    }
    match macos {
        Some(version) if version >= FIRST_MACOS_FOR_IOS18 => (
            DialectChoice {
                dialect: Dialect::Ios18,
                source: DialectSource::MacosVersion,
            },
            format!(
                "MIL dialect ios18: macOS {}.{} is {}.{} or later (the chip's default is {})",
                version.0,
                version.1,
                FIRST_MACOS_FOR_IOS18.0,
                FIRST_MACOS_FOR_IOS18.1,
                name(chip_default)
            ),
        ),
        Some(version) => (
            DialectChoice {
                dialect: chip_default,
                source: DialectSource::Chip,
            },
            format!(
                "MIL dialect {}: the chip's default, since macOS {}.{} is older than {}.{}",
                name(chip_default),
                version.0,
                version.1,
                FIRST_MACOS_FOR_IOS18.0,
                FIRST_MACOS_FOR_IOS18.1
            ),
        ),
        None => (
            DialectChoice {
                dialect: chip_default,
                source: DialectSource::Chip,
            },
            format!(
                "MIL dialect {}: the chip's default (the macOS version could not be read)",
                name(chip_default)
            ),
        ),
    }
}

/// The dialect a retry uses after `dialect` was rejected.
pub fn other_dialect(dialect: Dialect) -> Dialect {
    match dialect {
        Dialect::Ios18 => Dialect::Ios16,
        Dialect::Ios16 => Dialect::Ios18,
    }
}

/// The spelling `ANE_TRAINER_DIALECT` accepts ("ios16", "ios18").
pub fn name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Ios18 => "ios18",
        Dialect::Ios16 => "ios16",
    }
}

/// The dialect `program` is written in: its version and every function's opset agree with one
/// dialect. `None` for a mixture (which the device converts before compiling).
pub fn program_dialect(program: &Program) -> Option<Dialect> {
    [Dialect::Ios18, Dialect::Ios16].into_iter().find(|d| {
        program.version == d.program_version()
            && program.functions.iter().all(|f| f.opset == d.opset())
    })
}

/// The dialect a MIL text declares in its header (`program(1.3)` → ios18, `program(1.0)` →
/// ios16), for recording next to cached compiler output; `None` for other headers.
pub fn dialect_of_mil_text(text: &str) -> Option<Dialect> {
    let header = text.trim_start();
    [Dialect::Ios18, Dialect::Ios16]
        .into_iter()
        .find(|d| header.starts_with(&format!("program({})", d.program_version())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macos_versions_parse_and_garbage_does_not() {
        assert_eq!(parse_macos_version("15.1"), Some((15, 1)));
        assert_eq!(parse_macos_version("26.3.1"), Some((26, 3)));
        assert_eq!(parse_macos_version(" 14.6.1\n"), Some((14, 6)));
        assert_eq!(parse_macos_version("15"), Some((15, 0)));
        for garbage in [
            "",
            "  ",
            "abc",
            "15.x",
            "15..1",
            ".15",
            "15.",
            "v15.1",
            "15.1.a",
            "0.1",
            "-15.1",
            "15,1",
            "99999999999.1",
            "15.1 beta",
        ] {
            assert_eq!(parse_macos_version(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn macos_15_and_later_start_in_ios18() {
        for version in [(15, 0), (15, 1), (26, 3)] {
            let (choice, why) = choose_dialect(Dialect::Ios16, Some(version), None);
            assert_eq!(choice.dialect, Dialect::Ios18, "{version:?}");
            assert_eq!(choice.source, DialectSource::MacosVersion);
            assert!(!choice.is_forced());
            assert!(why.contains("15.0 or later"), "{why}");
        }
    }

    #[test]
    fn older_or_unknown_macos_uses_the_chip_default() {
        let (choice, why) = choose_dialect(Dialect::Ios16, Some((14, 6)), None);
        assert_eq!(
            choice,
            DialectChoice {
                dialect: Dialect::Ios16,
                source: DialectSource::Chip
            }
        );
        assert!(why.contains("older than 15.0"), "{why}");
        let (choice, why) = choose_dialect(Dialect::Ios18, None, None);
        assert_eq!(choice.dialect, Dialect::Ios18);
        assert_eq!(choice.source, DialectSource::Chip);
        assert!(why.contains("could not be read"), "{why}");
    }

    #[test]
    fn an_explicit_dialect_wins_over_the_version() {
        let (choice, why) = choose_dialect(Dialect::Ios18, Some((26, 3)), Some(Dialect::Ios16));
        assert_eq!(choice.dialect, Dialect::Ios16);
        assert!(choice.is_forced());
        assert!(why.contains("forced"), "{why}");
    }

    #[test]
    fn dialect_helpers_agree_with_the_program() {
        assert_eq!(other_dialect(Dialect::Ios18), Dialect::Ios16);
        assert_eq!(other_dialect(Dialect::Ios16), Dialect::Ios18);
        let mut p = Program::new(Dialect::Ios18);
        assert_eq!(program_dialect(&p), Some(Dialect::Ios18));
        p.set_dialect(Dialect::Ios16);
        assert_eq!(program_dialect(&p), Some(Dialect::Ios16));
        p.version = "1.3".into();
        assert_eq!(program_dialect(&p), Some(Dialect::Ios18), "no functions");
        let mut mixed = Program::new(Dialect::Ios18);
        mixed.functions.push(ane_mil::Function {
            name: "main".into(),
            opset: Dialect::Ios16.opset(),
            params: vec![],
            attributes: Default::default(),
            body: vec![],
            outputs: vec![],
            pos: Default::default(),
        });
        assert_eq!(program_dialect(&mixed), None);
        assert_eq!(
            dialect_of_mil_text(&ane_mil::print(&p)),
            Some(Dialect::Ios18)
        );
        assert_eq!(
            dialect_of_mil_text("\nprogram(1.0)\n{}"),
            Some(Dialect::Ios16)
        );
        assert_eq!(dialect_of_mil_text("prog A"), None);
        assert_eq!(name(Dialect::Ios16), "ios16");
        assert_eq!(
            crate::chip::parse_dialect(name(Dialect::Ios18)),
            Ok(Dialect::Ios18)
        );
    }
}
