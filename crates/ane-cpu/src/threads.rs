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
