//! Graph structure, printing, passes (DCE, CSE) and the shape of the training-step graph.

use ane_compiler::autodiff::{training_graph, GradOptions};
use ane_compiler::passes::{cse, dce};
use ane_compiler::{DType, Graph, GraphError, InputKind, Op, Producer};

fn mlp() -> Graph {
    let mut g = Graph::new();
    let x = g.input("images", &[4, 3], DType::F32).unwrap();
    let labels = g.input_ids("labels", &[4]).unwrap();
    let w = g.param("0.weight", &[5, 3]).unwrap();
    let b = g.param("0.bias", &[5]).unwrap();
    let h = g.linear(x, w, Some(b)).unwrap();
    let h = g.relu(h).unwrap();
    let w2 = g.param("2.weight", &[2, 5]).unwrap();
    let logits = g.linear(h, w2, None).unwrap();
    let loss = g.cross_entropy(logits, labels).unwrap();
    g.output("loss", loss).unwrap();
    g
}

#[test]
fn display_prints_one_line_per_node_with_shapes() {
    let expected = "\
input %0 images: f32[4, 3]
input %1 labels: i32[4]
param %2 0.weight: f32[5, 3]
param %3 0.bias: f32[5]
param %6 2.weight: f32[2, 5]
%4 = linear(x=%0, w=%2, b=%3) : f32[4, 5]
%5 = relu(x=%4) : f32[4, 5]
%7 = linear(x=%5, w=%6) : f32[4, 2]
%8 = softmax_cross_entropy(logits=%7, labels=%1) : f32[]
output loss = %8
";
    assert_eq!(mlp().to_string(), expected);
}

#[test]
fn training_graph_outputs_and_backward_ops() {
    let g = mlp();
    let options = GradOptions {
        wrt_inputs: vec!["images".into()],
    };
    let train = training_graph(&g, "loss", &options).unwrap();
    let names: Vec<&str> = train.outputs().iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "loss",
            "grad.0.weight",
            "grad.0.bias",
            "grad.2.weight",
            "grad.images"
        ]
    );
    // Forward nodes come first with the same ops (passes renumber values: inputs first); the fused
    // cross-entropy backward and the ReLU backward are present; inputs are the same.
    let forward_ops: Vec<&Op> = g.nodes().iter().map(|n| &n.op).collect();
    let leading_ops: Vec<&Op> = train.nodes()[..4].iter().map(|n| &n.op).collect();
    assert_eq!(leading_ops, forward_ops);
    let ops: Vec<&str> = train.nodes().iter().map(|n| n.op.name()).collect();
    assert!(ops.contains(&"softmax_cross_entropy_backward"), "{ops:?}");
    assert!(ops.contains(&"relu_backward"), "{ops:?}");
    let names = |gr: &Graph| {
        gr.inputs()
            .iter()
            .map(|i| (i.name.clone(), i.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&train), names(&g));
    // Without asking for grad.images, nothing computes dx of the first layer: the only
    // matmuls are dW1, dW2 and dh (3), not 4.
    let plain = training_graph(&g, "loss", &GradOptions::default()).unwrap();
    let matmuls = |gr: &Graph| {
        gr.nodes()
            .iter()
            .filter(|n| matches!(n.op, Op::MatMul { .. }))
            .count()
    };
    assert_eq!(matmuls(&plain), 3);
    assert_eq!(matmuls(&train), 4);
    println!("{train}");
}

#[test]
fn unused_parameters_get_zero_gradients() {
    let mut g = mlp();
    let unused = g.param("unused", &[2, 2]).unwrap();
    let _ = unused;
    let train = training_graph(&g, "loss", &GradOptions::default()).unwrap();
    let grad = train.output_value("grad.unused").unwrap();
    let node = train.nodes().iter().find(|n| n.output == grad).unwrap();
    assert!(matches!(&node.op, Op::Full { value, .. } if *value == 0.0));
}

#[test]
fn autodiff_argument_errors() {
    let g = mlp();
    assert_eq!(
        training_graph(&g, "nope", &GradOptions::default()).unwrap_err(),
        GraphError::UnknownOutput("nope".into())
    );
    let labels = GradOptions {
        wrt_inputs: vec!["labels".into()],
    };
    assert!(matches!(
        training_graph(&g, "loss", &labels),
        Err(GraphError::NotDifferentiable { .. })
    ));

    let mut g = Graph::new();
    let x = g.input("x", &[3], DType::F32).unwrap();
    let w = g.param("w", &[3]).unwrap();
    let y = g.mul(x, w).unwrap();
    g.output("y", y).unwrap();
    let err = training_graph(&g, "y", &GradOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "autodiff: the loss `y` must be an f32 scalar (shape []), got f32[3]"
    );
}

#[test]
fn dce_removes_unused_nodes_and_keeps_inputs() {
    let mut g = Graph::new();
    let x = g.input("x", &[2, 2], DType::F32).unwrap();
    let unused_input = g.input("spare", &[1], DType::F32).unwrap();
    let _dead = g.tanh(x).unwrap();
    let live = g.relu(x).unwrap();
    let _dead2 = g.scalar_mul(unused_input, 2.0).unwrap();
    g.output("y", live).unwrap();
    let cleaned = dce(&g).unwrap();
    assert_eq!(cleaned.nodes().len(), 1);
    assert_eq!(
        cleaned.nodes()[0].op,
        Op::Unary(ane_compiler::UnaryOp::Relu)
    );
    assert_eq!(cleaned.inputs().len(), 2);
    let y = cleaned.output_value("y").unwrap();
    assert_eq!(cleaned.producer(y).unwrap(), Producer::Node(0));
}

#[test]
fn cse_merges_identical_computations() {
    let mut g = Graph::new();
    let x = g.input("x", &[2, 3], DType::F32).unwrap();
    let w = g.param("w", &[3, 3]).unwrap();
    let t1 = g.transpose(w, 0, 1).unwrap();
    let t2 = g.transpose(w, 0, 1).unwrap();
    let a = g.matmul(x, t1).unwrap();
    let b = g.matmul(x, t2).unwrap();
    let s1 = g.add(a, b).unwrap();
    let s2 = g.add(b, a).unwrap(); // commuted: the same value
    let y = g.mul(s1, s2).unwrap();
    let other = g.scalar_mul(x, 2.0).unwrap();
    let different = g.scalar_mul(x, 3.0).unwrap(); // different attribute: kept
    let z = g.add(other, different).unwrap();
    g.output("y", y).unwrap();
    g.output("z", z).unwrap();
    let merged = cse(&g).unwrap();
    let count = |name: &str| {
        merged
            .nodes()
            .iter()
            .filter(|n| n.op.name() == name)
            .count()
    };
    assert_eq!(count("permute"), 1);
    assert_eq!(count("matmul"), 1);
    assert_eq!(count("add"), 2);
    assert_eq!(count("scalar_mul"), 2);
    assert_eq!(merged.params().count(), 1);
    assert_eq!(merged.inputs()[1].kind, InputKind::Param);
}
