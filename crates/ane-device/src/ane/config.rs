//! How an ANE device is set up: compile budget, dumps, on-disk cache, dialect override, and the
//! MIL printer. Values come from the caller, or from environment variables via
//! [`AneConfig::from_env`]:
//!
//! | variable | effect |
//! |---|---|
//! | `ANE_TRAINER_DIALECT` | `ios16` or `ios18`: force the MIL dialect (no choice by macOS version or chip, no retry in the other dialect) |
//! | `ANE_TRAINER_COMPILE_BUDGET` | compiles allowed per process (default 100) |
//! | `ANE_TRAINER_DUMP_DIR` | dump every compiled program (MIL + weights) here |
//! | `ANE_TRAINER_CACHE_DIR` | enable the (unverified) on-disk compile cache here |

use super::budget::DEFAULT_COMPILE_BUDGET;
use super::dump::{DumpPolicy, Dumper};
use crate::chip::parse_dialect;
use crate::device::DeviceError;
use ane_mil::{Dialect, Program};
use std::path::PathBuf;
use std::time::Duration;

/// Environment variable forcing the MIL dialect.
pub const ENV_DIALECT: &str = "ANE_TRAINER_DIALECT";
/// Environment variable setting the compile budget.
pub const ENV_COMPILE_BUDGET: &str = "ANE_TRAINER_COMPILE_BUDGET";
/// Environment variable naming a directory where every compiled program is dumped.
pub const ENV_DUMP_DIR: &str = "ANE_TRAINER_DUMP_DIR";
/// Environment variable enabling the on-disk compile cache at a directory.
pub const ENV_CACHE_DIR: &str = "ANE_TRAINER_CACHE_DIR";

/// Turns a program into MIL text. The device needs one to implement [`crate::Device::compile`];
/// the default is [`print_mil_text`] (`ane-mil`'s printer). Kernels given as text
/// ([`super::AneDevice::compile_mil`]) need none.
pub type MilPrinter = fn(&Program) -> Result<String, String>;

/// The default [`MilPrinter`]: `ane-mil`'s canonical text in the program's own dialect (its
/// version and opset decide between `program(1.0)`/`ios16` and `program(1.3)`/`ios18`).
pub fn print_mil_text(program: &Program) -> Result<String, String> {
    Ok(ane_mil::print(program))
}

/// Settings of an ANE device.
#[derive(Debug, Clone)]
pub struct AneConfig {
    /// Force a MIL dialect instead of the one the device picks (macOS 15+: ios18, else the chip
    /// family's); a forced dialect is never swapped for the other after a compile failure.
    pub dialect: Option<Dialect>,
    /// Compiles allowed in this process (shared by all devices) before compiling is refused.
    pub compile_budget: usize,
    /// Where programs are dumped; `None` means `<temp dir>/ane-trainer-dumps`.
    pub dump_dir: Option<PathBuf>,
    /// Whether every compiled program is dumped, or only failing ones.
    pub dump_policy: DumpPolicy,
    /// Root of the on-disk compile cache; `None` disables it (the default: its effect is
    /// unverified on hardware).
    pub disk_cache_dir: Option<PathBuf>,
    /// Printer used by [`crate::Device::compile`] (default [`print_mil_text`]; `None` makes
    /// `compile` refuse programs, leaving only `compile_mil`).
    pub mil_printer: Option<MilPrinter>,
    /// Pause before the single retry of a failed `loadWithQoS:` (the reference bridge waits
    /// 100 ms).
    pub load_retry_delay: Duration,
}

impl Default for AneConfig {
    fn default() -> Self {
        AneConfig {
            dialect: None,
            compile_budget: DEFAULT_COMPILE_BUDGET,
            dump_dir: None,
            dump_policy: DumpPolicy::FailuresOnly,
            disk_cache_dir: None,
            mil_printer: Some(print_mil_text),
            load_retry_delay: Duration::from_millis(100),
        }
    }
}

impl AneConfig {
    /// Defaults overridden by the `ANE_TRAINER_*` environment variables.
    pub fn from_env() -> Result<AneConfig, DeviceError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Defaults overridden by variables read through `lookup` (testable without touching the
    /// process environment). Empty values count as unset; malformed ones are errors.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<AneConfig, DeviceError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut config = AneConfig::default();
        if let Some(v) = get(ENV_DIALECT) {
            config.dialect = Some(
                parse_dialect(&v).map_err(|e| DeviceError::Other(format!("{ENV_DIALECT}: {e}")))?,
            );
        }
        if let Some(v) = get(ENV_COMPILE_BUDGET) {
            config.compile_budget = v.trim().parse().map_err(|_| {
                DeviceError::Other(format!(
                    "{ENV_COMPILE_BUDGET}: expected a number of compiles, got {v:?}"
                ))
            })?;
        }
        if let Some(v) = get(ENV_DUMP_DIR) {
            config.dump_dir = Some(PathBuf::from(v));
            config.dump_policy = DumpPolicy::EveryProgram;
        }
        if let Some(v) = get(ENV_CACHE_DIR) {
            config.disk_cache_dir = Some(PathBuf::from(v));
        }
        Ok(config)
    }

    /// The dumper these settings describe.
    pub fn dumper(&self) -> Dumper {
        let root = self
            .dump_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("ane-trainer-dumps"));
        Dumper::new(root, self.dump_policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_match_the_reference_practice() {
        let c = AneConfig::from_lookup(lookup(&[])).unwrap();
        assert_eq!(c.compile_budget, 100);
        assert_eq!(c.dialect, None);
        assert_eq!(c.dump_policy, DumpPolicy::FailuresOnly);
        assert!(c.disk_cache_dir.is_none());
        let printer = c.mil_printer.expect("ane-mil's printer is the default");
        let program = ane_mil::parse(
            "program(1.3)\n[buildInfo = dict<string, string>({})]\n{\n    func main<ios18>(tensor<fp16, [1, 4, 1, 4]> x) {\n        tensor<fp16, [1, 4, 1, 4]> y = relu(x = x)[name = string(\"y\")];\n    } -> (y);\n}\n",
        )
        .unwrap();
        assert_eq!(printer(&program).unwrap(), ane_mil::print(&program));
        assert_eq!(c.load_retry_delay, Duration::from_millis(100));
        assert!(c.dumper().root().ends_with("ane-trainer-dumps"));
    }

    #[test]
    fn environment_variables_override_the_defaults() {
        let c = AneConfig::from_lookup(lookup(&[
            (ENV_DIALECT, "ios16"),
            (ENV_COMPILE_BUDGET, " 40 "),
            (ENV_DUMP_DIR, "/tmp/dumps"),
            (ENV_CACHE_DIR, "/tmp/cache"),
        ]))
        .unwrap();
        assert_eq!(c.dialect, Some(Dialect::Ios16));
        assert_eq!(c.compile_budget, 40);
        assert_eq!(c.dump_policy, DumpPolicy::EveryProgram);
        assert_eq!(c.dumper().root(), std::path::Path::new("/tmp/dumps"));
        assert_eq!(c.disk_cache_dir, Some(PathBuf::from("/tmp/cache")));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = AneConfig::from_lookup(lookup(&[(ENV_DIALECT, ""), (ENV_DUMP_DIR, " ")])).unwrap();
        assert_eq!(c.dialect, None);
        assert_eq!(c.dump_policy, DumpPolicy::FailuresOnly);
    }

    #[test]
    fn malformed_values_are_errors_naming_the_variable() {
        let err = AneConfig::from_lookup(lookup(&[(ENV_DIALECT, "ios17")])).unwrap_err();
        assert!(err.to_string().contains(ENV_DIALECT), "{err}");
        let err = AneConfig::from_lookup(lookup(&[(ENV_COMPILE_BUDGET, "lots")])).unwrap_err();
        assert!(err.to_string().contains(ENV_COMPILE_BUDGET), "{err}");
    }
}
