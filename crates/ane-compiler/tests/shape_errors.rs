//! Shape inference rejects bad inputs at construction with errors naming the op, the inputs'
//! shapes and what was expected; a failed call leaves the graph unchanged.

use ane_compiler::{Conv2dParams, DType, Graph, GraphError, Pool2dParams};

fn message(err: GraphError) -> String {
    err.to_string()
}

#[test]
fn linear_with_mismatched_weight() {
    let mut g = Graph::new();
    let x = g.input("x", &[8, 784], DType::F32).unwrap();
    let w = g.param("0.weight", &[256, 100]).unwrap();
    let nodes_before = g.nodes().len();
    let err = message(g.linear(x, w, None).unwrap_err());
    assert_eq!(
        err,
        "linear: got x: f32[8, 784], w: f32[256, 100]; expected x: [..., in], w: [out, in], b: [out]"
    );
    assert_eq!(g.nodes().len(), nodes_before);
}

#[test]
fn matmul_inner_dimensions() {
    let mut g = Graph::new();
    let a = g.input("a", &[2, 3, 4], DType::F32).unwrap();
    let b = g.input("b", &[2, 5, 6], DType::F32).unwrap();
    let err = message(g.matmul(a, b).unwrap_err());
    assert!(
        err.starts_with(
            "matmul{transpose_a=false, transpose_b=false}: got a: f32[2, 3, 4], b: f32[2, 5, 6]"
        ),
        "{err}"
    );
    // With b transposed the shapes still do not fit; with a broadcastable batch they must.
    let c = g.input("c", &[3, 4, 6], DType::F32).unwrap();
    assert!(g.matmul(a, c).is_err(), "batch 2 vs 3 does not broadcast");
}

#[test]
fn conv2d_channel_and_group_mismatches() {
    let mut g = Graph::new();
    let x = g.input("x", &[1, 3, 8, 8], DType::F32).unwrap();
    let w = g.param("w", &[4, 2, 3, 3]).unwrap();
    let err = message(g.conv2d(x, w, None, Conv2dParams::default()).unwrap_err());
    assert!(
        err.contains("x: f32[1, 3, 8, 8], w: f32[4, 2, 3, 3]"),
        "{err}"
    );
    assert!(err.contains("w: [O, C/1, kh, kw]"), "{err}");

    let grouped = Conv2dParams {
        groups: 2,
        ..Conv2dParams::default()
    };
    let err = message(g.conv2d(x, w, None, grouped).unwrap_err());
    assert!(err.contains("divisible by groups=2"), "{err}");

    let big = g.param("big", &[4, 3, 11, 11]).unwrap();
    let err = message(g.conv2d(x, big, None, Conv2dParams::default()).unwrap_err());
    assert!(err.contains("a kernel of [11, 11] that fits"), "{err}");

    let zero_stride = Conv2dParams {
        stride: [0, 1],
        ..Conv2dParams::default()
    };
    let w3 = g.param("w3", &[4, 3, 3, 3]).unwrap();
    assert!(matches!(
        g.conv2d(x, w3, None, zero_stride),
        Err(GraphError::BadAttribute { .. })
    ));
}

#[test]
fn pooling_padding_and_rank() {
    let mut g = Graph::new();
    let x = g.input("x", &[1, 1, 4, 4], DType::F32).unwrap();
    let too_padded = Pool2dParams {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [2, 2],
    };
    let err = message(g.max_pool2d(x, too_padded).unwrap_err());
    assert!(
        err.contains("padding [2, 2] must be at most half the kernel [2, 2]"),
        "{err}"
    );
    let flat = g.input("flat", &[4, 4], DType::F32).unwrap();
    let ok_pool = Pool2dParams {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0, 0],
    };
    let err = message(g.avg_pool2d(flat, ok_pool, true).unwrap_err());
    assert!(err.contains("x: [N, C, H, W]"), "{err}");
}

#[test]
fn elementwise_broadcast_and_dtype() {
    let mut g = Graph::new();
    let a = g.input("a", &[2, 3], DType::F32).unwrap();
    let b = g.input("b", &[2], DType::F32).unwrap();
    let err = message(g.add(a, b).unwrap_err());
    assert_eq!(
        err,
        "add: got a: f32[2, 3], b: f32[2]; expected shapes that broadcast (numpy rules)"
    );
    let ids = g.input_ids("ids", &[2, 3]).unwrap();
    let err = message(g.relu(ids).unwrap_err());
    assert_eq!(err, "relu: got x: i32[2, 3]; expected x to be f32");
}

#[test]
fn norms_embedding_rope_and_losses() {
    let mut g = Graph::new();
    let x = g.input("x", &[2, 5, 16], DType::F32).unwrap();
    let w = g.param("w", &[15]).unwrap();
    let err = message(g.rms_norm(x, w, 1e-5).unwrap_err());
    assert!(
        err.contains("x: f32[2, 5, 16], w: f32[15]; expected x: [..., D], w: [D]"),
        "{err}"
    );
    let w16 = g.param("w16", &[16]).unwrap();
    assert!(matches!(
        g.rms_norm(x, w16, 0.0),
        Err(GraphError::BadAttribute { .. })
    ));

    let floats = g.input("floats", &[2, 5], DType::F32).unwrap();
    let table = g.param("table", &[10, 16]).unwrap();
    let err = message(g.embedding(floats, table).unwrap_err());
    assert!(err.contains("expected ids to be i32"), "{err}");

    let odd = g.input("odd", &[2, 4, 7], DType::F32).unwrap();
    let err = message(g.rope(odd).unwrap_err());
    assert!(err.contains("HD even"), "{err}");

    let logits = g.input("logits", &[4, 10], DType::F32).unwrap();
    let labels = g.input_ids("labels", &[5]).unwrap();
    let err = message(g.cross_entropy(logits, labels).unwrap_err());
    assert_eq!(
        err,
        "softmax_cross_entropy: got logits: f32[4, 10], labels: i32[5]; expected logits: [..., C], labels: i32[...] (the leading axes of logits)"
    );
    let target = g.input("target", &[4, 9], DType::F32).unwrap();
    assert!(g.mse_loss(logits, target).is_err());
}

#[test]
fn movement_ops() {
    let mut g = Graph::new();
    let x = g.input("x", &[2, 3, 4], DType::F32).unwrap();
    let err = message(g.reshape(x, &[5, 5]).unwrap_err());
    assert_eq!(err, "reshape{shape=[5, 5]}: got x: f32[2, 3, 4]; expected x with 25 elements (the target shape [5, 5])");
    assert!(g.permute(x, &[0, 0, 1]).is_err());
    let err = message(g.slice(x, 1, 2, 4).unwrap_err());
    assert!(
        err.contains("axis 1 of x to hold the non-empty range 2..4"),
        "{err}"
    );
    let y = g.input("y", &[2, 2, 5], DType::F32).unwrap();
    assert!(g.concat(&[x, y], 1).is_err());
    let err = message(g.softmax(x, 3).unwrap_err());
    assert!(err.contains("axis 3 is out of range"), "{err}");
    assert!(g.broadcast_to(x, &[2, 2, 4]).is_err());
}

#[test]
fn names_must_be_unique_and_well_formed() {
    let mut g = Graph::new();
    g.param("layers.0.weight", &[2, 2]).unwrap();
    assert_eq!(
        g.input("layers.0.weight", &[2], DType::F32).unwrap_err(),
        GraphError::DuplicateInput("layers.0.weight".into())
    );
    assert!(matches!(g.param("", &[1]), Err(GraphError::BadName(_))));
    assert!(matches!(g.param("a b", &[1]), Err(GraphError::BadName(_))));
    let x = g.input("x", &[1], DType::F32).unwrap();
    g.output("out", x).unwrap();
    assert_eq!(
        g.output("out", x).unwrap_err(),
        GraphError::DuplicateOutput("out".into())
    );
}
