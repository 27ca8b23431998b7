//! Node origins: scopes set by `Graph::with_scope`, inherited by backward nodes, kept by passes.

use ane_compiler::autodiff::{training_graph, GradOptions};
use ane_compiler::{passes, DType, Graph};

fn scoped_mlp() -> Graph {
    let mut g = Graph::new();
    let x = g.input("x", &[4, 8], DType::F32).unwrap();
    let labels = g.input_ids("labels", &[4]).unwrap();
    let h = g
        .with_scope("layers.0", |g| {
            let w = g.param("layers.0.weight", &[16, 8])?;
            let h = g.linear(x, w, None)?;
            g.relu(h)
        })
        .unwrap();
    let logits = g
        .with_scope("layers.1", |g| {
            let w = g.param("layers.1.weight", &[3, 16])?;
            g.linear(h, w, None)
        })
        .unwrap();
    let loss = g.cross_entropy(logits, labels).unwrap();
    g.output("loss", loss).unwrap();
    g
}

#[test]
fn with_scope_nests_and_restores() {
    let mut g = Graph::new();
    let x = g.input("x", &[2], DType::F32).unwrap();
    g.with_scope("model", |g| {
        g.relu(x)?;
        g.with_scope("layers.2", |g| g.tanh(x))
    })
    .unwrap();
    g.sigmoid(x).unwrap();
    let scopes: Vec<Option<&str>> = (0..3).map(|i| g.node_origin(i).scope.as_deref()).collect();
    assert_eq!(scopes, vec![Some("model"), Some("model.layers.2"), None]);
    assert!((0..3).all(|i| !g.node_origin(i).backward));
}

#[test]
fn a_failing_scope_restores_the_outer_one() {
    let mut g = Graph::new();
    let x = g.input("x", &[2], DType::F32).unwrap();
    let err = g.with_scope("bad", |g| g.reshape(x, &[3]));
    assert!(err.is_err());
    g.relu(x).unwrap();
    assert_eq!(g.node_origin(0).scope, None);
}

#[test]
fn backward_nodes_inherit_the_scope_of_the_node_they_differentiate() {
    let forward = scoped_mlp();
    let forward_len = forward.nodes().len();
    let train = training_graph(&forward, "loss", &GradOptions::default()).unwrap();
    // CSE and DCE keep forward nodes first and in order.
    for i in 0..forward_len {
        assert_eq!(train.node_origin(i), forward.node_origin(i), "node {i}");
    }
    let backward: Vec<usize> = (0..train.nodes().len())
        .filter(|&i| train.node_origin(i).backward)
        .collect();
    assert!(!backward.is_empty());
    assert!(backward.iter().all(|&i| i >= forward_len));
    let scope_of_output = |name: &str| {
        let v = train.output_value(name).unwrap();
        let node = (0..train.nodes().len())
            .find(|&i| train.nodes()[i].output == v)
            .unwrap();
        train.node_origin(node).scope.as_deref().map(str::to_string)
    };
    assert_eq!(
        scope_of_output("grad.layers.0.weight").as_deref(),
        Some("layers.0")
    );
    assert_eq!(
        scope_of_output("grad.layers.1.weight").as_deref(),
        Some("layers.1")
    );
}

#[test]
fn passes_keep_origins() {
    let g = scoped_mlp();
    let kept = passes::dce(&passes::cse(&g).unwrap()).unwrap();
    assert_eq!(kept.nodes().len(), g.nodes().len());
    for i in 0..g.nodes().len() {
        assert_eq!(kept.node_origin(i), g.node_origin(i));
    }
}

#[test]
fn backward_nodes_name_the_forward_node_they_differentiate() {
    let forward = scoped_mlp();
    let train = training_graph(&forward, "loss", &GradOptions::default()).unwrap();
    let mut with_grad_of = 0;
    for i in 0..train.nodes().len() {
        let origin = train.node_origin(i);
        let Some(v) = origin.grad_of else {
            continue;
        };
        with_grad_of += 1;
        assert!(origin.backward);
        let producer = (0..train.nodes().len())
            .find(|&p| train.nodes()[p].output == v)
            .expect("grad_of names a node output");
        assert!(producer < i);
        assert!(!train.node_origin(producer).backward);
        assert_eq!(train.node_origin(producer).scope, origin.scope);
    }
    assert!(with_grad_of > 0);
    assert!((0..forward.nodes().len()).all(|i| forward.node_origin(i).grad_of.is_none()));
}
