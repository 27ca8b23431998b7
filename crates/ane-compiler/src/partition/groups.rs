//! Greedy grouping: nodes, in execution order, join the latest group of the same placement and
//! scope unless that would make a kernel depend on itself through another kernel (a cycle in the
//! kernel graph, e.g. ANE → host → ANE); otherwise they open a new group, recording why.
//!
//! The kernel graph is kept acyclic by tracking, for every group, the set of groups it depends on
//! (transitively). Node `n` may join group `G` only if none of the groups `n` reads from depends
//! on `G`; since nodes arrive in topological order, nothing can depend on `n` yet.

use super::{GroupLimit, Placement};
use crate::graph::{Graph, Producer};
use crate::place::NodePlacement;
use std::sync::Arc;

/// A set of group indices.
#[derive(Debug, Clone, Default)]
pub(super) struct GroupSet(Vec<u64>);

impl GroupSet {
    fn contains(&self, g: usize) -> bool {
        self.0.get(g / 64).is_some_and(|w| w >> (g % 64) & 1 == 1)
    }

    fn insert(&mut self, g: usize) {
        if self.0.len() <= g / 64 {
            self.0.resize(g / 64 + 1, 0);
        }
        self.0[g / 64] |= 1 << (g % 64);
    }

    /// Adds every member of `other`; true if anything was new.
    fn union_with(&mut self, other: &GroupSet) -> bool {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        let mut changed = false;
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            let merged = *a | b;
            changed |= merged != *a;
            *a = merged;
        }
        changed
    }
}

/// A group under construction.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    pub placement: Placement,
    pub scope: Option<Arc<str>>,
    /// Kernel nodes (constants excluded), ascending.
    pub nodes: Vec<usize>,
    pub limit: GroupLimit,
}

/// Groups the kernel nodes of `graph` (keyed by placement and `scopes`).
pub(super) fn build(
    graph: &Graph,
    placements: &[NodePlacement],
    scopes: &[Option<Arc<str>>],
) -> Vec<Draft> {
    let mut drafts: Vec<Draft> = Vec::new();
    let mut depends: Vec<GroupSet> = Vec::new();
    let mut group_of: Vec<Option<usize>> = vec![None; graph.nodes().len()];
    for (index, node) in graph.nodes().iter().enumerate() {
        if placements[index].is_kernel_free() {
            continue;
        }
        let placement = placements[index].placement;
        let scope = &scopes[index];
        let mut reads: Vec<usize> = node
            .inputs
            .iter()
            .filter_map(|&v| match graph.producer(v) {
                Ok(Producer::Node(p)) => group_of[p],
                _ => None,
            })
            .collect();
        reads.sort_unstable();
        reads.dedup();
        let latest_same_key = drafts
            .iter()
            .rposition(|d| d.placement == placement && d.scope == *scope);
        let blocker = latest_same_key.and_then(|g| {
            reads
                .iter()
                .copied()
                .find(|&h| h != g && depends[h].contains(g))
        });
        let group = match (latest_same_key, blocker) {
            (Some(g), None) => g,
            _ => {
                let limit = match (latest_same_key, blocker) {
                    (Some(_), Some(via)) => GroupLimit::Dependency {
                        via: drafts[via].placement,
                        via_scope: drafts[via].scope.as_deref().map(str::to_string),
                    },
                    _ => match drafts.iter().rev().find(|d| d.placement == placement) {
                        Some(previous) => GroupLimit::Scope {
                            from: previous.scope.as_deref().map(str::to_string),
                            to: scope.as_deref().map(str::to_string),
                        },
                        None => GroupLimit::First,
                    },
                };
                drafts.push(Draft {
                    placement,
                    scope: scope.clone(),
                    nodes: Vec::new(),
                    limit,
                });
                depends.push(GroupSet::default());
                drafts.len() - 1
            }
        };
        drafts[group].nodes.push(index);
        group_of[index] = Some(group);
        add_dependencies(&mut depends, group, &reads);
    }
    drafts
}

/// Records that `group` reads from every group in `reads`, keeping `depends` transitive.
fn add_dependencies(depends: &mut [GroupSet], group: usize, reads: &[usize]) {
    let mut added = GroupSet::default();
    for &h in reads.iter().filter(|&&h| h != group) {
        added.insert(h);
        added.union_with(&depends[h].clone());
    }
    if !depends[group].union_with(&added) {
        return;
    }
    let closure = depends[group].clone();
    for (d, set) in depends.iter_mut().enumerate() {
        if d != group && set.contains(group) {
            set.union_with(&closure);
        }
    }
}
