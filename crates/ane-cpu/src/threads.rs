//! How primitives split work across rayon's thread pool.
//!
//! Chunk sizes are fixed numbers of elements (never derived from the thread count), so the
//! arithmetic each output sees is the same on any number of threads.

/// Below this many elements an elementwise pass runs on the calling thread.
pub(crate) const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;

/// Elements per task in parallel elementwise passes (large enough to amortize scheduling,
/// small enough to balance two cores).
pub(crate) const ELEMENTWISE_CHUNK: usize = 1 << 14;

/// Number of threads in the current rayon pool.
pub(crate) fn available() -> usize {
    rayon::current_num_threads()
}

/// The `gemm` crate's parallelism setting: the whole pool, or the calling thread only (inside
/// an outer parallel loop, to avoid nested parallelism).
pub(crate) fn gemm_parallelism(parallel: bool) -> gemm::Parallelism {
    if parallel && available() > 1 {
        gemm::Parallelism::Rayon(available())
    } else {
        gemm::Parallelism::None
    }
}

thread_local! {
    /// Per-thread scratch memory reused across calls (im2col / col2im buffers), so repeated
    /// convolutions neither allocate nor fault in fresh pages.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Scratch buffers above this many elements are released after use instead of kept.
const SCRATCH_KEEP_MAX: usize = 1 << 24;

/// Runs `f` with this thread's scratch buffer of at least `len` elements (contents
/// unspecified: callers overwrite what they read).
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| {
        // A nested call (not done today) would find the buffer borrowed; give it its own.
        let Ok(mut buf) = cell.try_borrow_mut() else {
            return f(&mut vec![0f32; len]);
        };
        if buf.len() < len {
            buf.resize(len, 0.0);
        }
        let result = f(&mut buf[..len]);
        if buf.len() > SCRATCH_KEEP_MAX {
            *buf = Vec::new();
        }
        result
    })
}
