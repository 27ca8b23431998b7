//! How kernels split work across threads. Chunk sizes are fixed numbers of elements, never
//! derived from the thread count, so every element is computed the same way on any number of
//! threads (results are bit-identical).

use crate::error::KernelError;
use rayon::prelude::*;

/// Below this many output elements an elementwise kernel runs on the calling thread.
pub(crate) const PARALLEL_MIN: usize = 1 << 16;

/// Output elements per parallel task of an elementwise kernel.
pub(crate) const CHUNK: usize = 1 << 14;

/// Runs `f(start, chunk)` over `out` in chunks of [`CHUNK`] elements across threads when
/// `parallel` and the output is large, else once over the whole slice.
pub(crate) fn for_chunks<T: Send>(
    out: &mut [T],
    parallel: bool,
    f: impl Fn(usize, &mut [T]) -> Result<(), KernelError> + Sync,
) -> Result<(), KernelError> {
    if parallel && out.len() >= PARALLEL_MIN {
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .try_for_each(|(i, chunk)| f(i * CHUNK, chunk))
    } else {
        f(0, out)
    }
}
