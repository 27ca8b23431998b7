//! How a program is prepared: numeric mode, threads and which function to run; and the
//! process-wide thread pools shared by every prepared program with the same thread count.

use crate::error::SimError;
use rayon::ThreadPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Options of [`Simulator::prepare`](crate::Simulator::prepare).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimOptions {
    /// Compute fp32-declared tensors the ANE way: stored as fp16 and rounded after every op
    /// (inputs are rounded when written, outputs widened when read). Off by default, so fp32
    /// programs serve as exact (f32) references.
    pub fp32_like_ane: bool,
    /// Threads used by one run: `None` uses rayon's global pool; `Some(n)` a pool of `n` threads
    /// shared by every program prepared with `n` (`Some(1)` runs on one thread). Results are
    /// bit-identical for every thread count.
    pub threads: Option<usize>,
    /// The function to run; `None` means `main`.
    pub function: Option<String>,
    /// Refuse, as the Neural Engine would, a program that breaks a rejecting rule of this chip's
    /// capability table (`ane_mil::chip::lint`: I/O rows, widths and rank, the kernel I/O budget,
    /// ops the ANE lacks, known failures). Set for kernels placed on the ANE, so every test runs
    /// only hardware-legal kernels; `None` (host kernels, experiments) checks nothing.
    pub hardware_rules: Option<ane_mil::chip::ChipCaps>,
    /// The memory one prepared program may use, in bytes. `None` uses what the operating system
    /// reports available ([`available_memory`](crate::available_memory)) when the program is
    /// prepared and when its buffers are allocated; where that is unknown only sizes that
    /// overflow are refused (allocations still fail with an error rather than an abort).
    pub memory_limit: Option<u64>,
}

/// The pool for `threads` (`None`: the global pool), created once per thread count.
pub(crate) fn pool_for(threads: Option<usize>) -> Result<Option<Arc<ThreadPool>>, SimError> {
    let Some(n) = threads else {
        return Ok(None);
    };
    let n = n.max(1);
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let pools = POOLS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut pools = pools
        .lock()
        .map_err(|_| SimError::Internal("the thread pool cache is poisoned".into()))?;
    if let Some(pool) = pools.get(&n) {
        return Ok(Some(pool.clone()));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(move |i| format!("ane-sim-{n}-{i}"))
        .build()
        .map_err(|e| SimError::Internal(format!("cannot start {n} simulator threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(n, pool.clone());
    Ok(Some(pool))
}
