//! Property test: random chains of elementwise and broadcasting ops. Every intermediate value is
//! a function output, so each op is checked against f64 arithmetic on exactly the inputs it saw:
//! in fp32 within f32 rounding, in fp16 equal to "f64, then one rounding to fp16" for the
//! correctly rounded ops (`+ − × ÷`, `sqrt`, `maximum`, `minimum`, `relu`, `abs`, `square`) and
//! within one fp16 ulp for the transcendental ones. Whole fp32 chains of exact-ish ops also
//! match an f64 evaluation of the chain from the inputs.

mod common;

use ane_sim::SimOptions;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Unary(&'static str),
    Binary(&'static str),
}

const UNARY: [&str; 7] = ["relu", "abs", "square", "sqrt", "exp", "tanh", "sigmoid"];
const BINARY: [&str; 6] = ["add", "sub", "mul", "real_div", "maximum", "minimum"];

fn correctly_rounded(op: Op) -> bool {
    !matches!(op, Op::Unary("exp" | "tanh" | "sigmoid"))
}

fn apply(op: Op, x: f64, y: f64) -> f64 {
    match op {
        // relu keeps NaN (NaN < 0 is false).
        Op::Unary("relu") => {
            if x < 0.0 {
                0.0
            } else {
                x
            }
        }
        Op::Unary("abs") => x.abs(),
        Op::Unary("square") => x * x,
        Op::Unary("sqrt") => x.sqrt(),
        Op::Unary("exp") => x.exp(),
        Op::Unary("tanh") => x.tanh(),
        Op::Unary("sigmoid") => 1.0 / (1.0 + (-x).exp()),
        Op::Binary("add") => x + y,
        Op::Binary("sub") => x - y,
        Op::Binary("mul") => x * y,
        Op::Binary("real_div") => x / y,
        Op::Binary("maximum") => {
            if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.max(y)
            }
        }
        Op::Binary("minimum") => {
            if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.min(y)
            }
        }
        other => panic!("{other:?}"),
    }
}

/// One op of the chain: its kind, its operands (value indices) and its output shape.
#[derive(Debug, Clone)]
struct Step {
    op: Op,
    args: Vec<usize>,
    shape: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Chain {
    inputs: Vec<Vec<usize>>,
    steps: Vec<Step>,
}

fn broadcast(a: &[usize], b: &[usize]) -> Vec<usize> {
    ane_cpu::shape::broadcast_shapes("t", a, b).unwrap()
}

/// A random chain from a seed: 2–3 inputs whose shapes broadcast together, 1–6 ops.
fn chain(seed: u64, exactish: bool) -> Chain {
    let mut r = random(64, seed, 1.0)
        .into_iter()
        .map(|v| ((v + 1.0) * 1000.0) as usize);
    let mut next = move |n: usize| r.next().unwrap() % n;
    let rank = 1 + next(4);
    let base: Vec<usize> = (0..rank).map(|_| 1 + next(4)).collect();
    let n_inputs = 2 + next(2);
    let inputs: Vec<Vec<usize>> = (0..n_inputs)
        .map(|_| {
            let drop = next(rank);
            base[drop..]
                .iter()
                .map(|&d| if next(3) == 0 { 1 } else { d })
                .collect()
        })
        .collect();
    let mut shapes = inputs.clone();
    let mut steps = Vec::new();
    for _ in 0..1 + next(6) {
        let pick = |k: usize| k % shapes.len();
        let op = if next(2) == 0 {
            let names: &[&'static str] = if exactish { &["relu", "abs"] } else { &UNARY };
            Op::Unary(names[next(names.len())])
        } else {
            let names: &[&'static str] = if exactish {
                &["add", "sub", "mul", "maximum", "minimum"]
            } else {
                &BINARY
            };
            Op::Binary(names[next(names.len())])
        };
        let args = match op {
            Op::Unary(_) => vec![pick(next(100))],
            Op::Binary(_) => vec![pick(next(100)), pick(next(100))],
        };
        let shape = match op {
            Op::Unary(_) => shapes[args[0]].clone(),
            Op::Binary(_) => broadcast(&shapes[args[0]], &shapes[args[1]]),
        };
        shapes.push(shape.clone());
        steps.push(Step { op, args, shape });
    }
    Chain { inputs, steps }
}

fn name(i: usize, n_inputs: usize) -> String {
    if i < n_inputs {
        format!("in{i}")
    } else {
        format!("v{}", i - n_inputs)
    }
}

/// Runs the chain and returns every value (inputs then step outputs) as read back.
fn simulate(c: &Chain, dtype: &str, seed: u64) -> Vec<Vec<f32>> {
    let n = c.inputs.len();
    let params: Vec<String> = c
        .inputs
        .iter()
        .enumerate()
        .map(|(i, s)| format!("tensor<{dtype}, {s:?}> in{i}"))
        .collect();
    let body: Vec<String> = c
        .steps
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let operands = match s.op {
                Op::Unary(_) => format!("x = {}", name(s.args[0], n)),
                Op::Binary(_) => format!("x = {}, y = {}", name(s.args[0], n), name(s.args[1], n)),
            };
            let op = match s.op {
                Op::Unary(o) | Op::Binary(o) => o,
            };
            format!("tensor<{dtype}, {:?}> v{k} = {op}({operands})", s.shape)
        })
        .collect();
    let outputs: Vec<String> = (0..n + c.steps.len()).map(|i| name(i, n)).collect();
    let prog = program(
        "ios18",
        &params.join(", "),
        &body.join("\n"),
        &outputs.join(", "),
    );
    let mut p = prepare_with(&prog, SimOptions::default()).unwrap();
    for (i, s) in c.inputs.iter().enumerate() {
        let values = random(s.iter().product(), seed + i as u64, 3.0);
        p.set_input_f32(&format!("in{i}"), &values).unwrap();
    }
    run(&mut p);
    outputs.iter().map(|o| p.output_f32(o).unwrap()).collect()
}

/// The f64 result of `step` on the given operand values.
fn expected(c: &Chain, step: &Step, values: &[Vec<f64>], shapes: &[Vec<usize>]) -> Vec<f64> {
    let n: usize = step.shape.iter().product();
    let strides: Vec<Vec<usize>> = step
        .args
        .iter()
        .map(|&a| ane_cpu::shape::broadcast_strides(&shapes[a], &step.shape))
        .collect();
    let out_strides = ane_cpu::shape::row_major_strides(&step.shape);
    let _ = c;
    (0..n)
        .map(|i| {
            let at = |k: usize| {
                let mut off = 0;
                for d in 0..step.shape.len() {
                    off += (i / out_strides[d] % step.shape[d]) * strides[k][d];
                }
                values[step.args[k]][off]
            };
            let y = if step.args.len() > 1 { at(1) } else { 0.0 };
            apply(step.op, at(0), y)
        })
        .collect()
}

fn shapes_of(c: &Chain) -> Vec<Vec<usize>> {
    c.inputs
        .iter()
        .cloned()
        .chain(c.steps.iter().map(|s| s.shape.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn fp16_ops_round_the_f64_result_once(seed in 0u64..1_000_000) {
        let c = chain(seed, false);
        let values = simulate(&c, "fp16", seed);
        let wide: Vec<Vec<f64>> = values.iter().map(|v| v.iter().map(|&x| f64::from(x)).collect()).collect();
        let shapes = shapes_of(&c);
        for (k, step) in c.steps.iter().enumerate() {
            let got = &values[c.inputs.len() + k];
            for (g, e) in got.iter().zip(expected(&c, step, &wide, &shapes)) {
                let e16 = h64(e);
                let same = g.to_bits() == e16.to_bits() || (g.is_nan() && e16.is_nan());
                let ok = same || (!correctly_rounded(step.op) && ulps16(*g, e16) <= 1);
                prop_assert!(ok, "{:?}: got {g}, expected {e16} (f64 {e})", step.op);
            }
        }
    }

    #[test]
    fn fp32_ops_match_f64_per_op(seed in 0u64..1_000_000) {
        let c = chain(seed, false);
        let values = simulate(&c, "fp32", seed);
        let wide: Vec<Vec<f64>> = values.iter().map(|v| v.iter().map(|&x| f64::from(x)).collect()).collect();
        let shapes = shapes_of(&c);
        for (k, step) in c.steps.iter().enumerate() {
            let got = &values[c.inputs.len() + k];
            for (g, e) in got.iter().zip(expected(&c, step, &wide, &shapes)) {
                let g = f64::from(*g);
                let ok = (g.is_nan() && e.is_nan()) || g == e || (g - e).abs() <= 2e-6 * e.abs().max(1e-30);
                prop_assert!(ok, "{:?}: got {g}, expected {e}", step.op);
            }
        }
    }

    #[test]
    fn fp32_chains_match_an_f64_evaluation(seed in 0u64..1_000_000) {
        let c = chain(seed, true);
        let values = simulate(&c, "fp32", seed);
        let shapes = shapes_of(&c);
        // Evaluate the whole chain in f64 from the inputs only.
        let mut wide: Vec<Vec<f64>> = values[..c.inputs.len()]
            .iter()
            .map(|v| v.iter().map(|&x| f64::from(x)).collect())
            .collect();
        for step in &c.steps {
            let v = expected(&c, step, &wide, &shapes);
            wide.push(v);
        }
        for (k, got) in values.iter().enumerate().skip(c.inputs.len()) {
            let scale = wide[k].iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (g, e) in got.iter().zip(&wide[k]) {
                prop_assert!((f64::from(*g) - e).abs() <= 1e-5 * scale, "value {k}: {g} vs {e}");
            }
        }
    }
}
