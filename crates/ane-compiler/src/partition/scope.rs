//! The scope of every node, which the partitioner cuts kernels at so identical layers give
//! identical kernels.
//!
//! A node's scope is the one it was built in ([`Graph::with_scope`]; autodiff gives backward nodes
//! the scope of the forward node they differentiate). Graphs built without scopes get one derived
//! from parameter names: a forward node reading parameter `layers.3.attention.wq.weight` is in
//! `layers.3` (the name up to its first numeric component), a forward node reading no parameter
//! takes the scope of its latest-produced input, and a backward node takes the derived scope of
//! the forward node it differentiates ([`NodeOrigin::grad_of`](crate::NodeOrigin::grad_of)).
//! Explicit scopes are exact; the derivation is a heuristic, so model libraries should scope
//! their layers.
//!
//! Only *repeated* scopes cut kernels ([`cut_keys`]): a scope whose nodes compute exactly what
//! another scope's nodes compute (same ops, attributes and types, in the same order) is a layer
//! that will share kernels; a unique scope (an MLP's first and last layer, a model's head) gains
//! nothing from a cut, so its nodes group freely with their neighbours.

use crate::graph::{Graph, InputKind, Producer};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

/// The scope of every node (`None` outside every scope).
pub fn node_scopes(graph: &Graph) -> Vec<Option<Arc<str>>> {
    let mut scopes: Vec<Option<Arc<str>>> = Vec::with_capacity(graph.nodes().len());
    for (index, node) in graph.nodes().iter().enumerate() {
        let origin = graph.node_origin(index);
        if origin.scope.is_some() {
            scopes.push(origin.scope.clone());
            continue;
        }
        if let Some(Ok(Producer::Node(forward))) = origin.grad_of.map(|v| graph.producer(v)) {
            if forward < index {
                scopes.push(scopes[forward].clone());
                continue;
            }
        }
        let from_param = node.inputs.iter().find_map(|&v| match graph.producer(v) {
            Ok(Producer::Input(i)) if graph.inputs()[i].kind == InputKind::Param => {
                layer_prefix(&graph.inputs()[i].name)
            }
            _ => None,
        });
        let derived = from_param.or_else(|| {
            node.inputs
                .iter()
                .filter_map(|&v| match graph.producer(v) {
                    Ok(Producer::Node(p)) if scopes[p].is_some() => Some(p),
                    _ => None,
                })
                .max()
                .and_then(|p| scopes[p].clone())
        });
        scopes.push(derived);
    }
    scopes
}

/// The scope each node's kernel is keyed by: its scope when another scope is structurally
/// identical to it, `None` otherwise (see the module docs).
pub fn cut_keys(graph: &Graph, scopes: &[Option<Arc<str>>]) -> Vec<Option<Arc<str>>> {
    let mut signatures: HashMap<Arc<str>, String> = HashMap::new();
    for (index, node) in graph.nodes().iter().enumerate() {
        // Constants are shared between layers by common-subexpression elimination, so they
        // appear in one layer only; they do not describe a layer.
        let (Some(scope), false) = (&scopes[index], node.inputs.is_empty()) else {
            continue;
        };
        let signature = signatures.entry(scope.clone()).or_default();
        let _ = write!(signature, "{:?}(", node.op);
        for v in &node.inputs {
            if let Ok(t) = graph.value_type(*v) {
                let _ = write!(signature, "{t},");
            }
        }
        signature.push_str(");");
    }
    let mut multiplicity: HashMap<&str, usize> = HashMap::new();
    for signature in signatures.values() {
        *multiplicity.entry(signature.as_str()).or_insert(0) += 1;
    }
    scopes
        .iter()
        .map(|scope| {
            let repeated = scope
                .as_ref()
                .and_then(|s| signatures.get(s))
                .is_some_and(|sig| multiplicity[sig.as_str()] > 1);
            if repeated {
                scope.clone()
            } else {
                None
            }
        })
        .collect()
}

/// The layer a parameter belongs to: its name up to and including the first numeric component
/// (`layers.3.attention.wq.weight` → `layers.3`, `0.weight` → `0`); without one, the name
/// without its last component (`norm.weight` → `norm`); `None` for a top-level name (`bias`),
/// which belongs to no module.
pub fn layer_prefix(name: &str) -> Option<Arc<str>> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() < 2 {
        return None;
    }
    let end = parts
        .iter()
        .position(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(parts.len() - 1, |i| i + 1);
    Some(parts[..end].join(".").into())
}

/// A scope with every numeric component replaced by `*` (`layers.3` → `layers.*`): the name of a
/// kernel shared by identical layers.
pub fn generalize(scope: &str) -> String {
    scope
        .split('.')
        .map(|p| {
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                p
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    #[test]
    fn layer_prefixes_stop_at_the_first_number() {
        let prefix = |name: &str| layer_prefix(name).map(|p| p.to_string());
        assert_eq!(
            prefix("layers.3.attention.wq.weight").as_deref(),
            Some("layers.3")
        );
        assert_eq!(prefix("0.weight").as_deref(), Some("0"));
        assert_eq!(prefix("norm.weight").as_deref(), Some("norm"));
        assert_eq!(prefix("bias"), None);
        assert_eq!(generalize("layers.12.ffn"), "layers.*.ffn");
    }

    #[test]
    fn unscoped_graphs_derive_scopes_from_parameters() {
        let mut g = Graph::new();
        let x = g.input("x", &[2, 4], DType::F32).unwrap();
        let w0 = g.param("layers.0.w", &[4, 4]).unwrap();
        let w1 = g.param("layers.1.w", &[4, 4]).unwrap();
        let h = g.linear(x, w0, None).unwrap();
        let h = g.relu(h).unwrap();
        let y = g.linear(h, w1, None).unwrap();
        let y = g.add(y, h).unwrap();
        let _ = y;
        let scopes: Vec<Option<String>> = node_scopes(&g)
            .into_iter()
            .map(|s| s.map(|s| s.to_string()))
            .collect();
        let l = |s: &str| Some(s.to_string());
        assert_eq!(
            scopes,
            vec![l("layers.0"), l("layers.0"), l("layers.1"), l("layers.1")]
        );
    }
}
