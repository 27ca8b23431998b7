//! Which device runs the ANE kernels, and the simulator device that runs the host kernels.
//!
//! `--device auto` takes the Neural Engine when this process can open it (macOS on Apple
//! Silicon) and the simulator otherwise; `sim` and `ane` force one. Host kernels (integer ops,
//! losses with labels, whatever the plan keeps off the ANE) always run on a second simulator
//! device with fp32 computed exactly, so one interpreter serves everything that is not on the
//! ANE.

use super::ExecError;
use ane_compiler::place::Placement;
use ane_device::{AneConfig, AneDevice, ChipFamily, Device, SimDevice};
use ane_mil::Dialect;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The `--device` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// The ANE when available, else the simulator.
    #[default]
    Auto,
    /// The simulator.
    Sim,
    /// The ANE (an error where there is none).
    Ane,
}

impl DeviceChoice {
    /// The command-line spelling.
    pub fn name(self) -> &'static str {
        match self {
            DeviceChoice::Auto => "auto",
            DeviceChoice::Sim => "sim",
            DeviceChoice::Ane => "ane",
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(DeviceChoice::Auto),
            "sim" | "simulator" => Ok(DeviceChoice::Sim),
            "ane" => Ok(DeviceChoice::Ane),
            other => Err(format!(
                "unknown device `{other}`: expected auto, sim or ane"
            )),
        }
    }
}

/// Whether the simulator standing in for the ANE refuses kernels the Neural Engine would refuse
/// (`ANE_TRAINER_SIM_RULES`: `on`, the default, or `off` for experiments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimRules {
    /// Every ANE-placed kernel must pass the chip's rejecting rules.
    #[default]
    Enforce,
    /// Nothing is checked (experiments with kernels the hardware may refuse).
    Off,
}

impl SimRules {
    /// The environment variable that sets it.
    pub const ENV: &'static str = "ANE_TRAINER_SIM_RULES";

    /// From `ANE_TRAINER_SIM_RULES` (unset: enforce); an unknown value is an error.
    pub fn from_env() -> Result<SimRules, String> {
        match std::env::var(Self::ENV) {
            Err(_) => Ok(SimRules::Enforce),
            Ok(v) => v.parse(),
        }
    }
}

impl FromStr for SimRules {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "on" | "1" | "true" | "enforce" => Ok(SimRules::Enforce),
            "off" | "0" | "false" => Ok(SimRules::Off),
            other => Err(format!(
                "{}={other:?} is not a setting: use on (the default) or off",
                SimRules::ENV
            )),
        }
    }
}

/// The devices of a run: one for ANE-placed kernels, a simulator for host kernels.
pub struct Devices {
    ane: Box<dyn Device>,
    host: SimDevice,
    on_ane: bool,
    sim_rules: SimRules,
    chip: Option<ChipFamily>,
    dialect: Option<Dialect>,
    note: String,
}

impl fmt::Debug for Devices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Devices")
            .field("ane", &self.ane.info())
            .field("on_ane", &self.on_ane)
            .field("chip", &self.chip)
            .finish()
    }
}

impl Devices {
    /// Opens the devices `choice` asks for; `dialect` forces the MIL dialect of the Neural
    /// Engine (otherwise `ANE_TRAINER_DIALECT` or the chip's). `auto` never fails: without an ANE
    /// it falls back to the simulator and says so in [`Devices::note`].
    pub fn open(choice: DeviceChoice, dialect: Option<Dialect>) -> Result<Devices, ExecError> {
        let sim_rules = SimRules::from_env().map_err(ExecError::DeviceUnavailable)?;
        Ok(Self::open_with_rules(choice, dialect)?.with_sim_rules(sim_rules))
    }

    fn open_with_rules(
        choice: DeviceChoice,
        dialect: Option<Dialect>,
    ) -> Result<Devices, ExecError> {
        let open_ane = || -> Result<AneDevice, String> {
            let mut config = AneConfig::from_env().map_err(|e| e.to_string())?;
            if dialect.is_some() {
                config.dialect = dialect;
            }
            AneDevice::with_config(config).map_err(|e| e.to_string())
        };
        match choice {
            DeviceChoice::Sim => Ok(Devices::simulator(
                "running ANE kernels on the simulator (--device sim)".into(),
            )),
            DeviceChoice::Ane => open_ane()
                .map(Devices::neural_engine)
                .map_err(|e| ExecError::DeviceUnavailable(format!("--device ane: {e}"))),
            DeviceChoice::Auto => Ok(match open_ane() {
                Ok(device) => Devices::neural_engine(device),
                Err(e) => Devices::simulator(format!(
                    "running ANE kernels on the simulator (no Neural Engine here: {e})"
                )),
            }),
        }
    }

    /// Simulator devices for both placements. The one standing in for the ANE refuses kernels
    /// that break the chip's hardware rules ([`Devices::enforce_ane_rules`]).
    pub fn simulator(note: String) -> Devices {
        Devices {
            ane: Box::new(SimDevice::new()),
            host: SimDevice::new(),
            on_ane: false,
            sim_rules: SimRules::Enforce,
            chip: None,
            dialect: None,
            note,
        }
    }

    fn neural_engine(device: AneDevice) -> Devices {
        let chip = device.chip().family;
        let dialect = device.dialect();
        let note = format!(
            "running ANE kernels on the Neural Engine ({}, MIL dialect {})",
            device.chip().brand,
            dialect.opset()
        );
        Devices {
            ane: Box::new(device),
            host: SimDevice::new(),
            on_ane: true,
            sim_rules: SimRules::Enforce,
            chip: Some(chip),
            dialect: Some(dialect),
            note,
        }
    }

    /// The same devices with `rules` for the simulator standing in for the ANE.
    pub fn with_sim_rules(mut self, rules: SimRules) -> Devices {
        self.sim_rules = rules;
        self
    }

    /// Whether the simulator standing in for the ANE enforces the hardware rules.
    pub fn sim_rules(&self) -> SimRules {
        self.sim_rules
    }

    /// Makes the simulator standing in for the ANE refuse, from now on, every ANE-placed kernel
    /// that breaks a rejecting rule of `caps` (the plan's chip), as the Neural Engine would —
    /// unless [`SimRules::Off`]. The Neural Engine itself needs no help.
    pub fn enforce_ane_rules(&mut self, caps: &ane_mil::chip::ChipCaps) {
        if !self.on_ane {
            let rules = (self.sim_rules == SimRules::Enforce).then_some(*caps);
            self.ane.enforce_hardware_rules(rules);
        }
    }

    /// True when ANE kernels run on the real Neural Engine.
    pub fn on_neural_engine(&self) -> bool {
        self.on_ane
    }

    /// The chip family of the Neural Engine, when one is used.
    pub fn chip(&self) -> Option<ChipFamily> {
        self.chip
    }

    /// The MIL dialect the Neural Engine takes, when one is used.
    pub fn dialect(&self) -> Option<Dialect> {
        self.dialect
    }

    /// One line saying where kernels run (for stderr).
    pub fn note(&self) -> &str {
        &self.note
    }

    /// `sim` or `ane`: where the ANE-placed kernels run.
    pub fn name(&self) -> &'static str {
        if self.on_ane {
            "ane"
        } else {
            "sim"
        }
    }

    /// The device that runs kernels of `placement`.
    pub fn for_placement(&mut self, placement: Placement) -> &mut dyn Device {
        match placement {
            Placement::Ane => self.ane.as_mut(),
            Placement::Host => &mut self.host,
        }
    }

    /// Compiles performed so far: `(ANE-placed, host)`.
    pub fn compile_counts(&self) -> (usize, usize) {
        (self.ane.compile_count(), self.host.compile_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_print() {
        for c in [DeviceChoice::Auto, DeviceChoice::Sim, DeviceChoice::Ane] {
            assert_eq!(c.name().parse::<DeviceChoice>().unwrap(), c);
        }
        assert!("gpu".parse::<DeviceChoice>().unwrap_err().contains("gpu"));
    }

    #[test]
    fn sim_rules_parse() {
        assert_eq!("off".parse::<SimRules>().unwrap(), SimRules::Off);
        assert_eq!("ON".parse::<SimRules>().unwrap(), SimRules::Enforce);
        let err = "maybe".parse::<SimRules>().unwrap_err();
        assert!(
            err.contains("ANE_TRAINER_SIM_RULES") && err.contains("maybe"),
            "{err}"
        );
    }

    #[test]
    fn the_simulator_standing_in_for_the_ane_refuses_an_unaligned_kernel() {
        use ane_mil::builder::{FunctionBuilder, ProgramBuilder};
        let caps = ChipFamily::M4.caps();
        let mut f = FunctionBuilder::new("main", caps.dialect.opset());
        let x = f
            .input(
                "x",
                ane_mil::TensorType::new(ane_mil::DType::Fp16, [1, 64, 1, 40]),
            )
            .unwrap();
        let y = f.sigmoid(&x).unwrap();
        f.output(&y).unwrap();
        let program = ProgramBuilder::new(caps.dialect)
            .function(f.finish().unwrap())
            .build()
            .unwrap();
        let weights = ane_mil::WeightFiles::default();
        let mut devices = Devices::simulator("test".into());
        devices.enforce_ane_rules(&caps);
        let err = devices
            .for_placement(Placement::Ane)
            .compile(&program, &weights)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("io-row-alignment") && err.contains("io-width"),
            "{err}"
        );
        // Host kernels are exempt, and the opt-out lifts the rules.
        assert!(devices
            .for_placement(Placement::Host)
            .compile(&program, &weights)
            .is_ok());
        let mut lax = Devices::simulator("test".into()).with_sim_rules(SimRules::Off);
        lax.enforce_ane_rules(&caps);
        assert!(lax
            .for_placement(Placement::Ane)
            .compile(&program, &weights)
            .is_ok());
    }

    #[test]
    fn auto_always_opens_something() {
        let devices = Devices::open(DeviceChoice::Auto, None).unwrap();
        if !cfg!(target_os = "macos") {
            assert!(!devices.on_neural_engine());
            assert!(devices.note().contains("simulator"), "{}", devices.note());
            let err = Devices::open(DeviceChoice::Ane, None)
                .unwrap_err()
                .to_string();
            assert!(err.contains("--device sim"), "{err}");
        }
    }
}
