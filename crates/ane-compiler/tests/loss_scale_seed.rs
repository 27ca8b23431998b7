//! Dynamic loss scaling in the training graph: `training_graph_with_loss_scale` seeds the backward
//! pass with a runtime scalar input, so every gradient is multiplied by it and the loss is not.

use ane_compiler::autodiff::{training_graph, training_graph_with_loss_scale, GradOptions};
use ane_compiler::eval::{evaluate, Feeds, Tensor};
use ane_compiler::{DType, Graph, GraphError, InputKind};

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

fn feeds() -> Feeds {
    let ramp = |n: usize, scale: f64| (0..n).map(|i| ((i as f64) * 0.37).sin() * scale).collect();
    let mut f = Feeds::new();
    f.insert("images".into(), Tensor::new([4, 3], ramp(12, 1.0)).unwrap());
    f.insert(
        "labels".into(),
        Tensor::from_ids([4], &[0, 1, 1, 0]).unwrap(),
    );
    f.insert(
        "0.weight".into(),
        Tensor::new([5, 3], ramp(15, 0.5)).unwrap(),
    );
    f.insert("0.bias".into(), Tensor::new([5], ramp(5, 0.1)).unwrap());
    f.insert(
        "2.weight".into(),
        Tensor::new([2, 5], ramp(10, 0.7)).unwrap(),
    );
    f
}

#[test]
fn gradients_are_multiplied_by_the_scale_and_the_loss_is_not() {
    let g = mlp();
    let plain = training_graph(&g, "loss", &GradOptions::default()).unwrap();
    let scaled =
        training_graph_with_loss_scale(&g, "loss", &GradOptions::default(), "loss_scale").unwrap();

    let input = scaled
        .inputs()
        .iter()
        .find(|i| i.name == "loss_scale")
        .expect("the scale is a graph input");
    assert_eq!(input.kind, InputKind::Data);
    let ty = scaled.value_type(input.value).unwrap();
    assert_eq!((ty.dtype, ty.shape.rank()), (DType::F32, 0));
    let names = |g: &Graph| {
        g.outputs()
            .iter()
            .map(|o| o.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&plain), names(&scaled));

    let reference = evaluate(&plain, &feeds()).unwrap();
    for scale in [1.0, 1024.0, 0.25] {
        let mut f = feeds();
        f.insert("loss_scale".into(), Tensor::scalar(scale));
        let out = evaluate(&scaled, &f).unwrap();
        assert_eq!(
            out["loss"].data(),
            reference["loss"].data(),
            "loss unscaled"
        );
        for name in ["grad.0.weight", "grad.0.bias", "grad.2.weight"] {
            let (got, want) = (out[name].data(), reference[name].data());
            assert!(
                want.iter().any(|&w| w != 0.0),
                "{name} is not trivially zero"
            );
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g - w * scale).abs() <= 1e-12 * (w * scale).abs().max(1.0),
                    "{name}: {g} vs {} at scale {scale}",
                    w * scale
                );
            }
        }
    }
}

#[test]
fn the_scale_input_name_must_be_free() {
    let g = mlp();
    let err =
        training_graph_with_loss_scale(&g, "loss", &GradOptions::default(), "images").unwrap_err();
    assert!(
        matches!(err, GraphError::DuplicateInput(ref n) if n == "images"),
        "{err}"
    );
}
