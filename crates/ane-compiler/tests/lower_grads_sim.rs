//! Finite-difference gradient checks of lowered training graphs, run as fp32 programs on the
//! simulator.
//!
//! For every differentiable op of the catalog (and a few whole models): the forward graph gets a
//! scalar loss (`Σ y·probe` with a random probe, or the model's own loss), `training_graph`
//! derives the backward pass, and the WHOLE training graph is lowered as one fp32 multi-input
//! kernel and run on the simulator to get the gradients. The numeric gradients are central
//! differences of the loss computed by the lowered FORWARD graph, also on the simulator:
//! `(L(x + h) − L(x − h)) / 2h`.
//!
//! Step and tolerance, chosen for f32: h = 5e-3 (rounding error of an f32 loss of magnitude ≲ 10
//! is ~1e-6, i.e. ~1e-4 after dividing by 2h; truncation error h²/6·|f'''| ~ 4e-6 for the smooth
//! ops here); an element passes when `|analytic − numeric| ≤ 2e-3 + 2e-2·max(|analytic|,
//! |numeric|)` — a wrong gradient is off by O(1). Inputs of ReLU and max-pooling are drawn away
//! from their kinks (|x| ≥ 0.1, distinct values ≥ 0.05 apart) so the differences never straddle
//! one. At most 12 evenly spread elements of each input are checked.

mod common;
mod lowering;

use ane_compiler::autodiff::{grad_name, training_graph, GradOptions};
use ane_compiler::eval::{Feeds, Tensor};
use ane_compiler::lower::{lower_kernel, KernelSpec, LowerOptions};
use ane_compiler::{DType, Graph};
use common::{probe_loss, TestRng};
use lowering::run::{host_inputs, Host, SimKernel};
use lowering::{case_feeds, cases, models, whole_spec};

const STEP: f64 = 5e-3;
const ATOL: f64 = 2e-3;
const RTOL: f64 = 2e-2;
const MAX_PER_INPUT: usize = 12;

/// A kernel of the whole of `graph` computing only `outputs`, in the order given.
fn spec_for<'g>(graph: &'g Graph, outputs: &[&str]) -> KernelSpec<'g> {
    KernelSpec {
        outputs: outputs
            .iter()
            .map(|n| graph.output_value(n).unwrap())
            .collect(),
        ..whole_spec(graph)
    }
}

/// Checks every f32 input's gradient (parameters and data alike) of `forward`'s output `loss`;
/// returns the mismatches and the number of elements checked.
fn check_gradients(name: &str, forward: &Graph, feeds: &Feeds) -> (Vec<String>, usize) {
    let wrt: Vec<String> = forward
        .inputs()
        .iter()
        .filter(|i| forward.value_type(i.value).unwrap().dtype == DType::F32)
        .filter(|i| forward.params().all(|p| p.name != i.name))
        .map(|i| i.name.clone())
        .collect();
    let train = training_graph(forward, "loss", &GradOptions { wrt_inputs: wrt }).unwrap();
    let f32_inputs: Vec<String> = forward
        .inputs()
        .iter()
        .filter(|i| forward.value_type(i.value).unwrap().dtype == DType::F32)
        .map(|i| i.name.clone())
        .collect();
    let grad_names: Vec<String> = f32_inputs.iter().map(|n| grad_name(n)).collect();
    let grad_refs: Vec<&str> = grad_names.iter().map(String::as_str).collect();

    let opts = LowerOptions::host();
    let train_spec = spec_for(&train, &grad_refs);
    let train_kernel = lower_kernel(&train_spec, &opts)
        .unwrap_or_else(|e| panic!("{name}: lowering the training graph: {e}"));
    let analytic =
        SimKernel::new(&train_kernel).run(&host_inputs(&train, feeds, &train_spec.inputs));

    let loss_spec = spec_for(forward, &["loss"]);
    let loss_kernel = lower_kernel(&loss_spec, &opts).unwrap();
    let mut loss_sim = SimKernel::new(&loss_kernel);
    let base = host_inputs(forward, feeds, &loss_spec.inputs);
    let position = |input: &str| {
        let v = forward.input_value(input).unwrap();
        loss_spec.inputs.iter().position(|&u| u == v).unwrap()
    };

    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (input, grad) in f32_inputs.iter().zip(&analytic) {
        let p = position(input);
        let Host::F32(values) = &base[p] else {
            unreachable!()
        };
        let stride = values.len().div_ceil(MAX_PER_INPUT).max(1);
        for index in (0..values.len()).step_by(stride) {
            let mut loss_at = |delta: f64| {
                let mut inputs = base.clone();
                if let Host::F32(v) = &mut inputs[p] {
                    v[index] = (values[index] as f64 + delta) as f32;
                }
                loss_sim.run(&inputs)[0][0] as f64
            };
            // The step actually taken in f32.
            let up = (values[index] as f64 + STEP) as f32 as f64 - values[index] as f64;
            let down = values[index] as f64 - ((values[index] as f64 - STEP) as f32 as f64);
            let numeric = (loss_at(STEP) - loss_at(-STEP)) / (up + down);
            let a = grad[index] as f64;
            checked += 1;
            if (a - numeric).abs() > ATOL + RTOL * a.abs().max(numeric.abs()) {
                mismatches.push(format!(
                    "{name}: d loss / d {input}[{index}]: analytic {a:.6}, numeric {numeric:.6}"
                ));
            }
        }
    }
    (mismatches, checked)
}

/// Values away from the kinks of ReLU and max-pooling.
fn kink_free(case: &str, name: &str, t: &Tensor, rng: &mut TestRng) -> Tensor {
    if name != "x" {
        return t.clone();
    }
    let n = t.data().len();
    let data: Vec<f64> = if case == "relu" {
        t.data()
            .iter()
            .map(|&v| v.signum() * (0.1 + v.abs()))
            .collect()
    } else if case.starts_with("max_pool") {
        // A shuffled ladder: distinct values 0.05 apart.
        let mut ladder: Vec<f64> = (0..n).map(|i| (i as f64 - n as f64 / 2.0) * 0.05).collect();
        for i in (1..n).rev() {
            ladder.swap(i, rng.below(i + 1));
        }
        ladder
    } else {
        return t.clone();
    };
    Tensor::new(t.shape().dims().to_vec(), data).unwrap()
}

#[test]
fn every_differentiable_op_has_correct_lowered_gradients() {
    let mut mismatches = Vec::new();
    let mut checked = 0;
    let mut ops = 0;
    for case in cases::all() {
        if case.name.contains("backward") {
            continue; // backward ops have no gradient rule; their forward ops exercise them
        }
        if case.name.starts_with("causal_mask") {
            // `x + mask` holds −65504 terms: an f32 loss cannot resolve a 5e-3 step next to
            // them. The mask carries no gradient; attention through it is checked in tiny_lm.
            continue;
        }
        let mut g = case.graph();
        let y = g.output_value("y").unwrap();
        probe_loss(&mut g, y);
        let mut feeds = case_feeds(&case, &g, 21);
        let mut rng = TestRng::new(5);
        for (name, t) in feeds.iter_mut() {
            *t = kink_free(case.name, name, t, &mut rng);
        }
        let (m, c) = check_gradients(case.name, &g, &feeds);
        mismatches.extend(m);
        checked += c;
        ops += 1;
    }
    assert!(
        mismatches.is_empty(),
        "{} of {checked} gradient elements disagree:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(ops > 45 && checked > 1000, "{ops} ops, {checked} elements");
}

fn model_feeds(graph: &Graph, seed: u64, ids: &[(&str, usize)]) -> Feeds {
    let mut rng = TestRng::new(seed);
    let mut feeds = Feeds::new();
    for input in graph.inputs() {
        let ty = graph.value_type(input.value).unwrap();
        let t = match ids.iter().find(|(n, _)| *n == input.name) {
            Some(&(_, limit)) => rng.ids(ty.shape.dims(), limit),
            None => rng.tensor(ty.shape.dims(), -0.5, 0.5),
        };
        feeds.insert(input.name.clone(), t);
    }
    feeds
}

#[test]
fn whole_models_have_correct_lowered_gradients() {
    let models = [
        ("mlp", models::mlp(4), vec![("labels", 5)]),
        ("cnn", models::cnn(2), vec![]),
        (
            "tiny_lm",
            models::tiny_lm(6, 8, 11, 1),
            vec![("tokens", 11), ("targets", 11)],
        ),
    ];
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (name, graph, ids) in &models {
        let feeds = model_feeds(graph, 3, ids);
        let (m, c) = check_gradients(name, graph, &feeds);
        mismatches.extend(m);
        checked += c;
    }
    assert!(
        mismatches.is_empty(),
        "{} of {checked} gradient elements disagree:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
