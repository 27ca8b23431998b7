//! Dead-op removal on the finished MIL function: ops (and `const`s) whose results no output
//! depends on are dropped — e.g. the logical-shape reshape of a packed input that a later reshape
//! bypassed. The ANE compiler would likely drop them too, but the simulator and the text should
//! carry only what runs.

use ane_mil::program::{Argument, Binding};
use ane_mil::Function;
use std::collections::HashSet;

/// Removes every op of `function` whose outputs are unused.
pub fn prune_dead_ops(function: &mut Function) {
    let mut live: HashSet<String> = function.outputs.iter().cloned().collect();
    let mut keep = vec![false; function.body.len()];
    for (i, op) in function.body.iter().enumerate().rev() {
        if !op.outputs.iter().any(|o| live.contains(&o.name)) {
            continue;
        }
        keep[i] = true;
        for arg in op.inputs.values() {
            let bindings: &[Binding] = match arg {
                Argument::Single(b) => std::slice::from_ref(b),
                Argument::Tuple(bs) => bs,
            };
            for b in bindings {
                if let Binding::Var(name) = b {
                    live.insert(name.clone());
                }
            }
        }
    }
    let mut flags = keep.into_iter();
    function.body.retain(|_| flags.next().unwrap_or(true));
}
