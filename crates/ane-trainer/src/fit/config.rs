//! The settings of a [`Trainer`](super::Trainer): typed values with PyTorch-like defaults, set
//! with chained methods (`TrainerConfig::default().batch_size(128).lr(3e-4)`).

use crate::executor::DeviceChoice;
use crate::optim::{LossScalerConfig, OptimizerConfig, ScheduleKind};
use ane_compiler::lower::Precision;
use ane_compiler::place::DwPlacement;
use ane_device::ChipFamily;

/// How a [`Trainer`](super::Trainer) trains.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainerConfig {
    /// Examples per micro-batch: the batch the kernels are compiled for (64).
    pub batch_size: usize,
    /// Micro-batches whose gradients are summed per update (1).
    pub accum: u32,
    /// The optimizer and its hyper-parameters (Adam with PyTorch's defaults).
    pub optimizer: OptimizerConfig,
    /// The peak learning rate (1e-3).
    pub lr: f64,
    /// The schedule's shape over each fit (constant).
    pub schedule: ScheduleKind,
    /// Global gradient-norm clipping (none).
    pub clip: Option<f64>,
    /// Where the ANE kernels run (the Neural Engine when there is one, else the simulator).
    pub device: DeviceChoice,
    /// Kernel precision (fp16, what the ANE runs).
    pub precision: Precision,
    /// The chip planned for when the simulator stands in for the ANE (M4).
    pub chip: ChipFamily,
    /// Where weight gradients run (the ANE).
    pub dw: DwPlacement,
    /// Seed of initialization, data order and dropout masks (0).
    pub seed: u64,
    /// fp16 loss scaling (dynamic, from 65536); fp32 kernels always use a fixed scale of 1.
    pub loss_scale: LossScalerConfig,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        TrainerConfig {
            batch_size: 64,
            accum: 1,
            optimizer: OptimizerConfig::from_name("adam").expect("adam is an optimizer"),
            lr: 1e-3,
            schedule: ScheduleKind::Constant { warmup: 0 },
            clip: None,
            device: DeviceChoice::Auto,
            precision: Precision::Fp16,
            chip: ChipFamily::M4,
            dw: DwPlacement::Ane,
            seed: 0,
            loss_scale: LossScalerConfig::default(),
        }
    }
}

impl TrainerConfig {
    /// Sets [`TrainerConfig::batch_size`].
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// Sets [`TrainerConfig::accum`].
    pub fn accum(mut self, n: u32) -> Self {
        self.accum = n;
        self
    }

    /// Sets [`TrainerConfig::optimizer`].
    pub fn optimizer(mut self, optimizer: OptimizerConfig) -> Self {
        self.optimizer = optimizer;
        self
    }

    /// Sets [`TrainerConfig::lr`].
    pub fn lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Sets [`TrainerConfig::schedule`].
    pub fn schedule(mut self, schedule: ScheduleKind) -> Self {
        self.schedule = schedule;
        self
    }

    /// Sets [`TrainerConfig::clip`].
    pub fn clip(mut self, max_norm: Option<f64>) -> Self {
        self.clip = max_norm;
        self
    }

    /// Sets [`TrainerConfig::device`].
    pub fn device(mut self, device: DeviceChoice) -> Self {
        self.device = device;
        self
    }

    /// Sets [`TrainerConfig::precision`].
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// Sets [`TrainerConfig::chip`].
    pub fn chip(mut self, chip: ChipFamily) -> Self {
        self.chip = chip;
        self
    }

    /// Sets [`TrainerConfig::dw`].
    pub fn dw(mut self, dw: DwPlacement) -> Self {
        self.dw = dw;
        self
    }

    /// Sets [`TrainerConfig::seed`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks the values that no later step would catch with a clear message.
    pub fn check(&self) -> Result<(), crate::trainer::TrainError> {
        let bad = |key: &str, value: String, reason: &str| {
            Err(crate::trainer::TrainError::Setting {
                key: key.into(),
                value,
                reason: reason.into(),
            })
        };
        if self.batch_size == 0 {
            return bad("batch_size", "0".into(), "must be at least 1");
        }
        if self.accum == 0 {
            return bad("accum", "0".into(), "must be at least 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", self.lr.to_string(), "must be a positive number");
        }
        if let Some(c) = self.clip.filter(|c| !(c.is_finite() && *c > 0.0)) {
            return bad("clip", c.to_string(), "must be a positive number");
        }
        self.schedule.validate()?;
        Ok(())
    }
}
