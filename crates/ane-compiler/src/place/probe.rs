//! Probing one op: lower it alone as an ANE kernel for the target chip, validate the program and
//! run the chip lint. Whatever the lowering and the lint refuse for a single op can be in no ANE
//! kernel, so the op goes to the host with their message. Results are cached by the op's
//! structure (attributes and types), so a model with many identical layers probes each distinct
//! op once.

use super::{PlaceOptions, PlaceReason};
use crate::caps::ane_lower_options;
use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::lower::{lower_kernel, KernelSpec, LowerError, LowerOptions};
use ane_mil::chip::{lint, ChipCaps};
use std::collections::HashMap;

/// Probes nodes of one graph for one target.
pub(super) struct Prober<'g> {
    graph: &'g Graph,
    caps: ChipCaps,
    opts: LowerOptions,
    cache: HashMap<String, Result<(), PlaceReason>>,
}

impl<'g> Prober<'g> {
    pub fn new(graph: &'g Graph, opts: &PlaceOptions) -> Self {
        Prober {
            graph,
            caps: opts.caps,
            opts: ane_lower_options(&opts.caps, opts.precision, opts.abi),
            cache: HashMap::new(),
        }
    }

    /// `Ok(Ok(()))` when node `index` fits an ANE kernel on its own, `Ok(Err(reason))` when it
    /// does not.
    pub fn probe(&mut self, index: usize) -> Result<Result<(), PlaceReason>, GraphError> {
        let node = &self.graph.nodes()[index];
        let inputs = unique(&node.inputs);
        let key = self.structural_key(index, &inputs)?;
        if let Some(cached) = self.cache.get(&key) {
            return Ok(cached.clone());
        }
        let spec = KernelSpec {
            graph: self.graph,
            nodes: vec![index],
            inputs,
            outputs: vec![node.output],
        };
        let verdict = match lower_kernel(&spec, &self.opts) {
            Err(LowerError::Graph(e)) => return Err(e),
            Err(e) => Err(PlaceReason::Lowering(e.to_string())),
            Ok(kernel) => {
                let errors = lint(&kernel.program, &self.caps);
                match errors.first() {
                    None => Ok(()),
                    Some(first) => Err(PlaceReason::Lint(first.to_string())),
                }
            }
        };
        self.cache.insert(key, verdict.clone());
        Ok(verdict)
    }

    /// The op with its attributes, the types of its distinct inputs, which operand reads which
    /// of them, and its output type: equal keys lower to equal programs.
    fn structural_key(&self, index: usize, inputs: &[ValueId]) -> Result<String, GraphError> {
        let node = &self.graph.nodes()[index];
        let mut key = format!("{:?}|", node.op);
        for v in inputs {
            key.push_str(&self.graph.value_type(*v)?.to_string());
            key.push(';');
        }
        for v in &node.inputs {
            let position = inputs.iter().position(|u| u == v).unwrap_or(usize::MAX);
            key.push_str(&format!("{position},"));
        }
        key.push_str(&self.graph.value_type(node.output)?.to_string());
        Ok(key)
    }
}

/// The values of `values` without repeats, in first-occurrence order.
pub(crate) fn unique(values: &[ValueId]) -> Vec<ValueId> {
    let mut out: Vec<ValueId> = Vec::with_capacity(values.len());
    for &v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}
