//! The buffer plan: logical tensors, the steps that read and write them, and the assignment of
//! tensors to physical buffers by liveness.
//!
//! Inputs, outputs and constants are pinned to buffers of their own (inputs persist across runs,
//! outputs stay readable until the next run). Every other tensor takes a free buffer of its
//! storage kind when its step runs (best fit, growing the largest free one if none is big
//! enough) and returns it after its last reader. An op's outputs are placed before its inputs are
//! released, so no kernel reads and writes the same buffer. Aliases (`reshape`, `squeeze`, …)
//! share their source's buffer and extend its lifetime.

use crate::buffers::{Buffers, Lid};
use crate::error::SimError;
use crate::kernel::{Kernel, Scratch, ScratchNeed, Step};
use crate::storage::{Buf, Kind};
use std::collections::HashMap;

#[derive(Debug)]
struct TensorPlan {
    kind: Kind,
    len: usize,
    alias_of: Option<Lid>,
    init: Option<Buf>,
    pinned: bool,
}

#[derive(Debug)]
struct PlannedStep {
    kernel: Box<dyn Kernel>,
    label: String,
    reads: Vec<Lid>,
    writes: Vec<Lid>,
}

/// Collects tensors and steps while a program is prepared.
#[derive(Debug, Default)]
pub(crate) struct PlanBuilder {
    tensors: Vec<TensorPlan>,
    steps: Vec<PlannedStep>,
    scratch: ScratchNeed,
}

/// The result of planning: the arena, the steps in order, and the scratch they share.
pub(crate) struct Plan {
    pub buffers: Buffers,
    pub steps: Vec<Step>,
    pub scratch: Scratch,
}

impl PlanBuilder {
    /// A new tensor of `len` elements stored as `kind`.
    pub(crate) fn tensor(&mut self, kind: Kind, len: usize) -> Lid {
        self.tensors.push(TensorPlan {
            kind,
            len,
            alias_of: None,
            init: None,
            pinned: false,
        });
        self.tensors.len() - 1
    }

    /// A constant tensor holding `buf` (pinned).
    pub(crate) fn constant(&mut self, buf: Buf) -> Result<Lid, SimError> {
        let kind = buf
            .kind()
            .ok_or_else(|| SimError::Internal("an empty constant buffer".into()))?;
        let lid = self.tensor(kind, buf.len());
        self.tensors[lid].init = Some(buf);
        self.tensors[lid].pinned = true;
        Ok(lid)
    }

    /// A tensor sharing `of`'s buffer and element count (a reshape of it).
    pub(crate) fn alias(&mut self, of: Lid) -> Lid {
        let (kind, len) = (self.tensors[of].kind, self.tensors[of].len);
        let lid = self.tensor(kind, len);
        self.tensors[lid].alias_of = Some(of);
        lid
    }

    /// Keeps `lid`'s buffer to itself for the whole run (inputs, outputs).
    pub(crate) fn pin(&mut self, lid: Lid) {
        let root = self.root(lid);
        self.tensors[root].pinned = true;
    }

    /// Storage kind of `lid`.
    pub(crate) fn kind(&self, lid: Lid) -> Kind {
        self.tensors[lid].kind
    }

    fn root(&self, mut lid: Lid) -> Lid {
        while let Some(of) = self.tensors[lid].alias_of {
            lid = of;
        }
        lid
    }

    /// Appends a step that reads `reads` and writes `writes`.
    pub(crate) fn push(
        &mut self,
        kernel: Box<dyn Kernel>,
        label: String,
        reads: Vec<Lid>,
        writes: Vec<Lid>,
        scratch: ScratchNeed,
    ) {
        self.scratch = self.scratch.max(scratch);
        self.steps.push(PlannedStep {
            kernel,
            label,
            reads,
            writes,
        });
    }

    /// Assigns buffers and builds the arena.
    pub(crate) fn finish(mut self) -> Result<Plan, SimError> {
        let n = self.tensors.len();
        let roots: Vec<Lid> = (0..n).map(|l| self.root(l)).collect();
        let mut last_use: Vec<Option<usize>> = vec![None; n];
        for (i, step) in self.steps.iter().enumerate() {
            for &l in step.reads.iter().chain(&step.writes) {
                last_use[roots[l]] = Some(i);
            }
        }
        // Slot sizes grow to the largest tensor they hold.
        let mut slots: Vec<(Kind, usize, Option<Buf>)> = Vec::new();
        let mut slot_of_root: Vec<Option<usize>> = vec![None; n];
        for r in 0..n {
            if roots[r] == r && self.tensors[r].pinned {
                let t = &mut self.tensors[r];
                slots.push((t.kind, t.len, t.init.take()));
                slot_of_root[r] = Some(slots.len() - 1);
            }
        }
        let mut free: HashMap<Kind, Vec<usize>> = HashMap::new();
        let mut released = vec![false; n];
        for (i, step) in self.steps.iter().enumerate() {
            for &w in &step.writes {
                let r = roots[w];
                if slot_of_root[r].is_some() {
                    continue;
                }
                let (kind, len) = (self.tensors[r].kind, self.tensors[r].len);
                let pool = free.entry(kind).or_default();
                let slot = match take_best_fit(pool, &slots, len) {
                    Some(s) => s,
                    None => {
                        slots.push((kind, 0, None));
                        slots.len() - 1
                    }
                };
                slots[slot].1 = slots[slot].1.max(len);
                slot_of_root[r] = Some(slot);
            }
            for &l in &step.reads {
                if slot_of_root[roots[l]].is_none() {
                    return Err(SimError::Internal(format!(
                        "{} reads tensor {l} before anything writes it",
                        step.label
                    )));
                }
            }
            for &l in step.reads.iter().chain(&step.writes) {
                let r = roots[l];
                if !self.tensors[r].pinned && last_use[r] == Some(i) && !released[r] {
                    released[r] = true;
                    if let Some(slot) = slot_of_root[r] {
                        free.entry(self.tensors[r].kind).or_default().push(slot);
                    }
                }
            }
        }
        let slot_of: Vec<usize> = roots
            .iter()
            .map(|&r| slot_of_root[r].unwrap_or(usize::MAX))
            .collect();
        let len_of: Vec<usize> = self.tensors.iter().map(|t| t.len).collect();
        // Nothing is allocated here: sizes come from the program, and the caller checks its
        // inputs (and the total, see `PreparedProgram::allocate`) before anything that large.
        let specs: Vec<(Kind, usize)> = slots.iter().map(|&(kind, len, _)| (kind, len)).collect();
        let bufs: Vec<Buf> = slots
            .into_iter()
            .map(|(_, _, init)| init.unwrap_or_default())
            .collect();
        let steps = self
            .steps
            .into_iter()
            .map(|s| Step {
                kernel: s.kernel,
                label: s.label,
            })
            .collect();
        Ok(Plan {
            buffers: Buffers::new(bufs, specs, slot_of, len_of),
            steps,
            scratch: Scratch::new(self.scratch),
        })
    }
}

/// Removes and returns the free slot that best fits `len`: the smallest one at least as large,
/// else the largest one (which then grows).
fn take_best_fit(
    pool: &mut Vec<usize>,
    slots: &[(Kind, usize, Option<Buf>)],
    len: usize,
) -> Option<usize> {
    let size = |i: usize| slots[pool[i]].1;
    let fitting = (0..pool.len())
        .filter(|&i| size(i) >= len)
        .min_by_key(|&i| size(i));
    let pick = fitting.or_else(|| (0..pool.len()).max_by_key(|&i| size(i)))?;
    Some(pool.swap_remove(pick))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffers::Buffers;
    use crate::error::KernelError;
    use crate::kernel::RunCx;

    #[derive(Debug)]
    struct Nop;
    impl Kernel for Nop {
        fn run(&self, _: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
            Ok(())
        }
    }

    #[test]
    fn buffers_are_reused_after_the_last_reader() {
        let mut p = PlanBuilder::default();
        let input = p.tensor(Kind::F16, 10);
        p.pin(input);
        let a = p.tensor(Kind::F16, 10);
        let b = p.tensor(Kind::F16, 10);
        let c = p.tensor(Kind::F16, 4);
        let out = p.tensor(Kind::F16, 10);
        p.pin(out);
        let none = ScratchNeed::default();
        p.push(Box::new(Nop), "a".into(), vec![input], vec![a], none);
        p.push(Box::new(Nop), "b".into(), vec![a], vec![b], none);
        p.push(Box::new(Nop), "c".into(), vec![b], vec![c], none);
        p.push(Box::new(Nop), "out".into(), vec![c], vec![out], none);
        let plan = p.finish().unwrap();
        let slot = |l| plan.buffers_slot(l);
        assert_ne!(slot(a), slot(b), "an op never writes the buffer it reads");
        assert_eq!(slot(c), slot(a), "a is free once b is computed");
        assert_ne!(slot(out), slot(input));
        assert_ne!(slot(out), slot(b));
    }

    impl Plan {
        fn buffers_slot(&self, lid: Lid) -> usize {
            self.buffers.slot_index(lid)
        }
    }
}
