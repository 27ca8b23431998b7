//! Wall time per phase of a step, accumulated over many steps for `bench` and the summary.
//!
//! Phases: **staging** (building inputs: batch fill, dropout masks, packing into device buffers,
//! copying outputs back), **device** (running ANE-placed kernels), **host** (running host kernels
//! and accumulating gradients into the fp32 buffers) and **optimizer** (finiteness check,
//! clipping, the fused update, zeroing gradients).

use std::time::{Duration, Instant};

/// A phase of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Building and packing inputs, copying outputs.
    Staging,
    /// ANE-placed kernels.
    Device,
    /// Host kernels and gradient accumulation.
    Host,
    /// The parameter update.
    Optimizer,
}

impl Phase {
    /// Every phase, in report order.
    pub const ALL: [Phase; 4] = [Phase::Staging, Phase::Device, Phase::Host, Phase::Optimizer];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Staging => "staging",
            Phase::Device => "device",
            Phase::Host => "host",
            Phase::Optimizer => "optimizer",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Accumulated wall time per phase.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    totals: [Duration; 4],
}

impl PhaseTimes {
    /// Adds `elapsed` to `phase`.
    pub fn add(&mut self, phase: Phase, elapsed: Duration) {
        self.totals[phase.index()] += elapsed;
    }

    /// Runs `f`, adding its wall time to `phase`.
    pub fn time<T>(&mut self, phase: Phase, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.add(phase, start.elapsed());
        out
    }

    /// The total of `phase`.
    pub fn get(&self, phase: Phase) -> Duration {
        self.totals[phase.index()]
    }

    /// The sum over all phases.
    pub fn total(&self) -> Duration {
        self.totals.iter().sum()
    }

    /// Adds another set of totals.
    pub fn merge(&mut self, other: &PhaseTimes) {
        for (a, b) in self.totals.iter_mut().zip(other.totals) {
            *a += b;
        }
    }

    /// Sets every total to zero.
    pub fn reset(&mut self) {
        *self = PhaseTimes::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulates_per_phase() {
        let mut t = PhaseTimes::default();
        t.add(Phase::Device, Duration::from_millis(3));
        t.add(Phase::Device, Duration::from_millis(2));
        t.add(Phase::Optimizer, Duration::from_millis(1));
        assert_eq!(t.get(Phase::Device), Duration::from_millis(5));
        assert_eq!(t.total(), Duration::from_millis(6));
        let x = t.time(Phase::Host, || 7);
        assert_eq!(x, 7);
        let mut u = PhaseTimes::default();
        u.merge(&t);
        assert_eq!(u, t);
        u.reset();
        assert_eq!(u.total(), Duration::ZERO);
    }
}
