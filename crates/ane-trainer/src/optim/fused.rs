//! The one-pass, multi-threaded update driver shared by every optimizer.
//!
//! Each parameter is cut into fixed-size chunks; all chunks of all parameters become one list
//! of independent work items that rayon spreads over the threads. For each chunk the optimizer's
//! element kernel reads the (still loss-scaled) gradient, updates its state and the fp32 master
//! weights, and then — while the chunk is still in cache — the fp16 copy is written with the
//! slice converter. No parameter is swept twice.
//!
//! [`SlotState`] holds the per-parameter state buffers (`N` "slots", e.g. Adam's `exp_avg` and
//! `exp_avg_sq`) and checks that they still match the parameter store.

use super::OptimError;
use crate::params::{Param, ParamStore};
use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

/// Elements per work item: 32 KiB of each fp32 stream, so the five to six streams of a chunk fit
/// in a core's L2 and the fp16 conversion reads master values the kernel just wrote.
pub(crate) const UPDATE_CHUNK: usize = 8 * 1024;

/// One work item: a chunk of one parameter with matching chunks of its state buffers.
struct Chunk<'a, const N: usize> {
    master: &'a mut [f32],
    grad: &'a [f32],
    state: [&'a mut [f32]; N],
    half: &'a mut [f16],
    decay: bool,
}

/// Runs `kernel(master, grad, state, decay)` over every chunk of every parameter in parallel and
/// refreshes the fp16 copy of each chunk right after its kernel ran. `decay` is the parameter's
/// weight-decay flag. `state` must hold one entry per parameter with buffers of the parameter's
/// length ([`SlotState::prepare`] guarantees it).
pub(crate) fn fused_update<const N: usize, K>(
    params: &mut ParamStore,
    state: &mut [[Vec<f32>; N]],
    kernel: K,
) where
    K: Fn(&mut [f32], &[f32], [&mut [f32]; N], bool) + Sync,
{
    assert_eq!(state.len(), params.len(), "optimizer state out of step");
    let mut jobs: Vec<Chunk<'_, N>> = Vec::new();
    for (param, slots) in params.params_mut().iter_mut().zip(state.iter_mut()) {
        let decay = param.weight_decay();
        let Param {
            master, grad, half, ..
        } = param;
        let mut slot_chunks = slots.each_mut().map(|s| s.chunks_mut(UPDATE_CHUNK));
        for ((m, g), h) in master
            .chunks_mut(UPDATE_CHUNK)
            .zip(grad.chunks(UPDATE_CHUNK))
            .zip(half.chunks_mut(UPDATE_CHUNK))
        {
            let s = slot_chunks
                .each_mut()
                .map(|it| it.next().expect("state buffer as long as its parameter"));
            jobs.push(Chunk {
                master: m,
                grad: g,
                state: s,
                half: h,
                decay,
            });
        }
    }
    jobs.into_par_iter().for_each(|chunk| {
        kernel(chunk.master, chunk.grad, chunk.state, chunk.decay);
        chunk.half.convert_from_f32_slice(chunk.master);
    });
}

/// Per-parameter optimizer state: `N` buffers per parameter (allocated on the first step) and
/// the number of updates applied so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SlotState<const N: usize> {
    /// Updates applied so far.
    pub step: u64,
    /// One entry per parameter, in store order; empty before the first step.
    pub buffers: Vec<[Vec<f32>; N]>,
}

impl<const N: usize> SlotState<N> {
    /// Allocates zeroed buffers on first use, or checks that the existing ones still match the
    /// store (same parameter count and lengths).
    pub fn prepare(&mut self, params: &ParamStore) -> Result<(), OptimError> {
        if self.buffers.is_empty() {
            self.buffers = params
                .params()
                .iter()
                .map(|p| std::array::from_fn(|_| vec![0.0; p.len()]))
                .collect();
            return Ok(());
        }
        check_matches(params, &self.buffers)
    }

    /// Borrowed views of the buffers: per parameter, per slot.
    pub fn views(&self) -> Vec<Vec<&[f32]>> {
        self.buffers
            .iter()
            .map(|slots| slots.iter().map(Vec::as_slice).collect())
            .collect()
    }

    /// Replaces the state with loaded buffers after checking their shape against `params`.
    /// `buffers` is per parameter, per slot (`N` each), or empty when `step` is 0.
    pub fn load(
        &mut self,
        params: &ParamStore,
        step: u64,
        buffers: Vec<Vec<Vec<f32>>>,
    ) -> Result<(), OptimError> {
        if N == 0 || (step == 0 && buffers.is_empty()) {
            if buffers.iter().any(|b| !b.is_empty()) {
                return Err(OptimError::StateMismatch(
                    "state buffers given to an optimizer that keeps none".into(),
                ));
            }
            *self = SlotState {
                step,
                buffers: Vec::new(),
            };
            return Ok(());
        }
        let mut converted = Vec::with_capacity(buffers.len());
        for (i, slots) in buffers.into_iter().enumerate() {
            let got = slots.len();
            let array: [Vec<f32>; N] = slots.try_into().map_err(|_| {
                OptimError::StateMismatch(format!(
                    "parameter #{i}: expected {N} state buffers, got {got}"
                ))
            })?;
            converted.push(array);
        }
        if converted.is_empty() {
            return Err(OptimError::StateMismatch(format!(
                "step count is {step} but no state buffers were given"
            )));
        }
        check_matches(params, &converted)?;
        *self = SlotState {
            step,
            buffers: converted,
        };
        Ok(())
    }
}

fn check_matches<const N: usize>(
    params: &ParamStore,
    buffers: &[[Vec<f32>; N]],
) -> Result<(), OptimError> {
    if buffers.len() != params.len() {
        return Err(OptimError::StateMismatch(format!(
            "state holds {} parameters, the store {}",
            buffers.len(),
            params.len()
        )));
    }
    for (p, slots) in params.params().iter().zip(buffers) {
        if let Some(bad) = slots.iter().find(|s| s.len() != p.len()) {
            return Err(OptimError::StateMismatch(format!(
                "state buffer of `{}` has {} elements, the parameter {}",
                p.name(),
                bad.len(),
                p.len()
            )));
        }
    }
    Ok(())
}
