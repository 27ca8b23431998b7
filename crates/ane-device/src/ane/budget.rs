//! The compile budget: how many times this process may call the ANE compiler.
//!
//! The in-memory compiler leaks per call and starts failing after ~119 compiles in one process
//! (ane-facts §6), however many devices the process creates. So the count lives in a
//! process-global counter, and each device refuses to compile beyond its configured budget
//! (default [`DEFAULT_COMPILE_BUDGET`], below the limit with a margin, like the reference trainers'
//! `MAX_COMPILES = 100`).
//!
//! Every compile *attempt* is counted, failed ones included: nothing says a failing compile leaks
//! less, and over-counting only costs an earlier, clear refusal.

use crate::device::DeviceError;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The default number of compiles a device allows in one process.
pub const DEFAULT_COMPILE_BUDGET: usize = 100;

/// A count of compiler calls. [`PROCESS_COMPILES`] is the one real devices share.
#[derive(Debug, Default)]
pub struct CompileCounter {
    used: AtomicUsize,
}

/// Compiler calls made by this process, across all ANE devices.
pub static PROCESS_COMPILES: CompileCounter = CompileCounter::new();

impl CompileCounter {
    /// A counter at zero.
    pub const fn new() -> Self {
        CompileCounter {
            used: AtomicUsize::new(0),
        }
    }

    /// Compiles counted so far.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }
}

/// A limit on a [`CompileCounter`].
#[derive(Debug, Clone, Copy)]
pub struct CompileBudget {
    limit: usize,
    counter: &'static CompileCounter,
}

impl CompileBudget {
    /// A budget of `limit` compiles on the process-wide counter.
    pub fn process_wide(limit: usize) -> Self {
        Self::on_counter(limit, &PROCESS_COMPILES)
    }

    /// A budget of `limit` compiles on a given counter (tests use their own).
    pub fn on_counter(limit: usize, counter: &'static CompileCounter) -> Self {
        CompileBudget { limit, counter }
    }

    /// The configured limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Compiles counted so far on the underlying counter.
    pub fn used(&self) -> usize {
        self.counter.used()
    }

    /// Compiles still allowed.
    pub fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.used())
    }

    /// Fails with [`DeviceError::CompileBudget`] if no compile is left, without counting one.
    pub fn check(&self) -> Result<(), DeviceError> {
        if self.used() >= self.limit {
            Err(self.exhausted())
        } else {
            Ok(())
        }
    }

    /// Counts one compile if the budget allows it (atomically: concurrent devices cannot both take
    /// the last one). Returns the number used after this one.
    pub fn reserve(&self) -> Result<usize, DeviceError> {
        self.counter
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                (used < self.limit).then_some(used + 1)
            })
            .map(|previous| previous + 1)
            .map_err(|_| self.exhausted())
    }

    fn exhausted(&self) -> DeviceError {
        DeviceError::CompileBudget {
            used: self.used(),
            budget: self.limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh_counter() -> &'static CompileCounter {
        Box::leak(Box::new(CompileCounter::new()))
    }

    #[test]
    fn reserve_counts_until_the_limit_then_refuses() {
        let budget = CompileBudget::on_counter(3, fresh_counter());
        assert_eq!(budget.reserve().unwrap(), 1);
        assert_eq!(budget.reserve().unwrap(), 2);
        assert!(budget.check().is_ok());
        assert_eq!(budget.reserve().unwrap(), 3);
        assert_eq!(budget.remaining(), 0);
        match budget.reserve() {
            Err(DeviceError::CompileBudget { used, budget }) => {
                assert_eq!((used, budget), (3, 3));
            }
            other => panic!("expected CompileBudget, got {other:?}"),
        }
        assert!(matches!(
            budget.check(),
            Err(DeviceError::CompileBudget { .. })
        ));
        assert_eq!(budget.used(), 3, "a refused reserve must not count");
    }

    #[test]
    fn budgets_on_one_counter_share_the_count() {
        let counter = fresh_counter();
        let a = CompileBudget::on_counter(2, counter);
        let b = CompileBudget::on_counter(5, counter);
        a.reserve().unwrap();
        b.reserve().unwrap();
        assert_eq!(a.used(), 2);
        assert!(a.reserve().is_err(), "the smaller budget is spent");
        assert_eq!(b.reserve().unwrap(), 3);
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_limit() {
        let budget = CompileBudget::on_counter(50, fresh_counter());
        let granted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(move || (0..40).filter(|_| budget.reserve().is_ok()).count()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, 50);
        assert_eq!(budget.used(), 50);
    }

    #[test]
    fn a_zero_budget_refuses_at_once() {
        let budget = CompileBudget::on_counter(0, fresh_counter());
        assert!(budget.check().is_err());
        assert!(budget.reserve().is_err());
    }
}
