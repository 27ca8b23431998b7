//! Property tests: builder chains always validate and infer the shapes a shadow model predicts;
//! inference and validation never panic, whatever the arguments or program.

mod common;

use ane_mil::builder::{Arg, ConvParams, FunctionBuilder, PadSpec, PoolParams, Split, Var};
use ane_mil::ops::{self, shape::broadcast_shapes, Constness, ResolvedArg, ResolvedInputs};
use ane_mil::program::{Argument, Binding, Function, NamedType};
use ane_mil::validate::validate;
use ane_mil::{
    DType, Dialect, Dim, Opset, Program, TensorData, TensorType, TensorValue, Value, ValueType,
};
use common::ty;
use proptest::prelude::*;
use std::borrow::Cow;

/// SplitMix64: a tiny deterministic generator driven by proptest's seeds.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

fn known(shape: &[Dim]) -> Vec<usize> {
    shape
        .iter()
        .map(|d| d.known().expect("chains use known shapes"))
        .collect()
}

/// A partner that broadcasts to `shape`: some leading dims dropped, some dims set to 1.
fn broadcast_partner(rng: &mut Rng, shape: &[usize]) -> Vec<usize> {
    let drop = rng.below(shape.len());
    shape[drop..]
        .iter()
        .map(|&d| if rng.coin() { 1 } else { d })
        .collect()
}

/// A reshape target with the same element count (rank 1..=5), maybe with one -1.
fn reshape_target(rng: &mut Rng, shape: &[usize]) -> (Vec<i32>, Vec<usize>) {
    let mut factors: Vec<usize> = shape.to_vec();
    rng.shuffle(&mut factors);
    // Merge neighbours at random to change the rank.
    while factors.len() > 1 && (factors.len() > 5 || rng.below(3) == 0) {
        let i = rng.below(factors.len() - 1);
        let merged = factors[i] * factors[i + 1];
        factors.splice(i..=i + 1, [merged]);
    }
    if factors.len() < 5 && rng.coin() {
        factors.insert(rng.below(factors.len() + 1), 1);
    }
    let mut target: Vec<i32> = factors.iter().map(|&d| d as i32).collect();
    if rng.coin() {
        let i = rng.below(target.len());
        target[i] = -1;
    }
    (target, factors)
}

/// Applies one random shape-preserving or shape-changing step; returns the new value and the
/// shape a shadow model predicts for it.
fn step(
    f: &mut FunctionBuilder,
    rng: &mut Rng,
    cur: &Var,
    expected: &[usize],
) -> (Var, Vec<usize>) {
    let dtype = cur.ty.dtype;
    let partner = |f: &mut FunctionBuilder, rng: &mut Rng| {
        let shape = broadcast_partner(rng, expected);
        let n: usize = shape.iter().product();
        let value = ops::number_literal(dtype, &shape, &vec![0.5; n]).unwrap();
        f.constant("p", value).unwrap()
    };
    match rng.below(7) {
        0 => {
            let op = *rng.pick(&[
                "relu", "sigmoid", "tanh", "silu", "exp", "sqrt", "abs", "square", "identity",
            ]);
            let out = f.op(op, op, &[("x", cur.into())]).unwrap();
            (out[0].clone(), expected.to_vec())
        }
        1 => {
            let p = partner(f, rng);
            let op = *rng.pick(&["add", "sub", "mul", "real_div", "maximum", "minimum", "pow"]);
            let (x, y) = if rng.coin() { (cur, &p) } else { (&p, cur) };
            let out = f.op(op, op, &[("x", x.into()), ("y", y.into())]).unwrap();
            (out[0].clone(), expected.to_vec())
        }
        2 => {
            let (target, shape) = reshape_target(rng, expected);
            (f.reshape(cur, &target).unwrap(), shape)
        }
        3 => {
            let mut perm: Vec<usize> = (0..expected.len()).collect();
            rng.shuffle(&mut perm);
            let shape = perm.iter().map(|&p| expected[p]).collect();
            let perm: Vec<i32> = perm
                .iter()
                .map(|&p| {
                    if rng.coin() {
                        p as i32 - expected.len() as i32
                    } else {
                        p as i32
                    }
                })
                .collect();
            (f.transpose(cur, &perm).unwrap(), shape)
        }
        4 => {
            let axis = rng.below(expected.len()) as i32
                - if rng.coin() { expected.len() as i32 } else { 0 };
            (f.softmax(cur, axis).unwrap(), expected.to_vec())
        }
        5 => {
            let axis = rng.below(expected.len());
            let mut shape = expected.to_vec();
            shape[axis] = 1;
            (f.reduce_mean(cur, &[axis as i32], true).unwrap(), shape)
        }
        _ => {
            let p = partner(f, rng);
            let m = f.greater(cur, &p).unwrap();
            (f.select(&m, cur, &p).unwrap(), expected.to_vec())
        }
    }
}

proptest! {
    #[test]
    fn builder_chains_always_validate(
        dims in prop::collection::vec(1usize..=4, 1..=5),
        fp32 in any::<bool>(),
        opset in prop::sample::select(vec![Opset::Ios15, Opset::Ios16, Opset::Ios17, Opset::Ios18]),
        seed in any::<u64>(),
        steps in 0usize..16,
    ) {
        let mut rng = Rng(seed);
        let dtype = if fp32 { DType::Fp32 } else { DType::Fp16 };
        let mut f = FunctionBuilder::new("main", opset);
        let mut cur = f.input("x", TensorType::new(dtype, dims.clone())).unwrap();
        let mut expected = dims;
        for _ in 0..steps {
            let (next, shape) = step(&mut f, &mut rng, &cur, &expected);
            prop_assert_eq!(known(&next.ty.shape), shape.clone(), "shape of {}", next.name);
            prop_assert_eq!(next.ty.dtype, dtype);
            cur = next;
            expected = shape;
        }
        f.output(&cur).unwrap();
        let function = f.finish().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let dialect = if opset == Opset::Ios18 { Some(Dialect::Ios18) } else if opset == Opset::Ios16 { Some(Dialect::Ios16) } else { None };
        if let Some(d) = dialect {
            ane_mil::builder::ProgramBuilder::new(d).function(function).build().map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
    }

    #[test]
    fn broadcasting_is_symmetric(a in prop::collection::vec(0usize..4, 0..=5), b in prop::collection::vec(0usize..4, 0..=5)) {
        let to_dims = |v: &[usize]| v.iter().map(|&d| if d == 0 { Dim::Unknown } else { Dim::Known(d) }).collect::<Vec<_>>();
        let (x, y) = (to_dims(&a), to_dims(&b));
        let xy = broadcast_shapes(&x, &y);
        let yx = broadcast_shapes(&y, &x);
        prop_assert_eq!(xy.is_ok(), yx.is_ok());
        if let (Ok(p), Ok(q)) = (xy, yx) {
            prop_assert_eq!(p.len(), a.len().max(b.len()));
            for (d, e) in p.iter().zip(&q) {
                prop_assert!(ane_mil::ops::shape::dims_compatible(*d, *e));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Robustness: random arguments and random programs.

/// The argument generator must produce arguments the shape rules accept for most ops, or the
/// never-panic property below would only exercise the signature checks.
#[test]
fn the_inference_fuzz_reaches_the_shape_rules() {
    let mut ok_ops = std::collections::BTreeSet::new();
    for seed in 0..3000u64 {
        let mut rng = Rng(seed);
        for op in ops::all_op_types() {
            let Some(sig) = ops::signature(op, Opset::Ios18) else {
                continue;
            };
            let mut inputs = ResolvedInputs::new();
            let mut letters: Vec<(&str, DType)> = Vec::new();
            for spec in &sig.inputs {
                if !spec.is_required() && rng.coin() {
                    continue;
                }
                let dtype = match spec
                    .dtypes
                    .letter
                    .and_then(|l| letters.iter().find(|(k, _)| *k == l))
                {
                    Some((_, d)) => *d,
                    None => *rng.pick(spec.dtypes.allowed),
                };
                if let Some(l) = spec.dtypes.letter {
                    letters.push((l, dtype));
                }
                let arg = fitting_arg(&mut rng, spec, dtype);
                let input = if spec.variadic {
                    ane_mil::ops::ResolvedInput::Tuple(vec![arg])
                } else {
                    ane_mil::ops::ResolvedInput::Single(arg)
                };
                inputs.insert(spec.name, input);
            }
            if ops::infer(op, Opset::Ios18, &inputs).is_ok() {
                ok_ops.insert(op);
            }
        }
    }
    let total = ops::all_op_types().len();
    println!(
        "random arguments inferred successfully for {} of {total} ops",
        ok_ops.len()
    );
    assert!(ok_ops.len() * 2 > total, "only {ok_ops:?}");
}

const STRINGS: [&str; 12] = [
    "valid",
    "same",
    "same_lower",
    "custom",
    "EXACT",
    "fp16",
    "int8",
    "uint16",
    "constant",
    "reflect",
    "add",
    "",
];

fn random_dim(rng: &mut Rng) -> Dim {
    match rng.below(9) {
        0 => Dim::Unknown,
        1 => Dim::Known(0),
        2 => Dim::Known(1 << 40),
        3 => Dim::Known(usize::MAX),
        n => Dim::Known(n - 3),
    }
}

fn random_type(rng: &mut Rng) -> TensorType {
    let rank = if rng.below(10) == 0 { 6 } else { rng.below(6) };
    TensorType {
        dtype: *rng.pick(&DType::ALL),
        shape: (0..rank).map(|_| random_dim(rng)).collect(),
    }
}

fn random_int(rng: &mut Rng) -> i64 {
    *rng.pick(&[
        -3,
        -2,
        -1,
        0,
        1,
        2,
        3,
        4,
        7,
        1 << 40,
        i64::MIN,
        i64::MAX,
        i32::MAX as i64,
    ])
}

/// A literal of a random small shape, sometimes malformed (data not matching the type).
fn random_literal(rng: &mut Rng) -> TensorValue {
    let rank = rng.below(3);
    let shape: Vec<usize> = (0..rank).map(|_| rng.below(5)).collect();
    let n: usize = shape.iter().product();
    let n_data = if rng.below(8) == 0 { n + 1 } else { n };
    let dtype = *rng.pick(&DType::ALL);
    let data = match dtype {
        DType::Fp16 => TensorData::Fp16(
            (0..n_data)
                .map(|_| half::f16::from_f32(random_int(rng) as f32))
                .collect(),
        ),
        DType::Fp32 => {
            TensorData::Fp32((0..n_data).map(|_| random_int(rng) as f32 * 0.5).collect())
        }
        DType::Bool => TensorData::Bool((0..n_data).map(|_| rng.coin()).collect()),
        DType::String => TensorData::Str(
            (0..n_data)
                .map(|_| rng.pick(&STRINGS).to_string())
                .collect(),
        ),
        DType::Uint64 => TensorData::UInt64((0..n_data).map(|_| rng.next()).collect()),
        _ => TensorData::Int((0..n_data).map(|_| random_int(rng)).collect()),
    };
    let ty = TensorType::new(
        if rng.below(10) == 0 {
            *rng.pick(&DType::ALL)
        } else {
            dtype
        },
        shape,
    );
    TensorValue { ty, data }
}

fn random_arg(rng: &mut Rng) -> ResolvedArg<'static> {
    match rng.below(3) {
        0 => ResolvedArg::runtime(random_type(rng)),
        1 => ResolvedArg::opaque_const(random_type(rng), Constness::Const),
        _ => {
            let lit = random_literal(rng);
            ResolvedArg {
                ty: lit.ty.clone(),
                constness: Constness::Const,
                value: Some(Cow::Owned(lit)),
            }
        }
    }
}

/// Elements of `dtype` for a literal of `n` elements.
fn random_data(rng: &mut Rng, dtype: DType, n: usize) -> TensorData {
    match dtype {
        DType::Fp16 => TensorData::Fp16(
            (0..n)
                .map(|_| half::f16::from_f32(random_int(rng) as f32))
                .collect(),
        ),
        DType::Fp32 => TensorData::Fp32((0..n).map(|_| random_int(rng) as f32 * 0.5).collect()),
        DType::Bool => TensorData::Bool((0..n).map(|_| rng.coin()).collect()),
        DType::String => TensorData::Str((0..n).map(|_| rng.pick(&STRINGS).to_string()).collect()),
        DType::Uint64 => TensorData::UInt64((0..n).map(|_| rng.next()).collect()),
        _ => TensorData::Int(
            (0..n)
                .map(|_| {
                    if rng.coin() {
                        rng.below(5) as i64
                    } else {
                        random_int(rng)
                    }
                })
                .collect(),
        ),
    }
}

/// An argument that mostly fits `spec` (dtype, rank, const-ness), so shape rules get exercised.
fn fitting_arg(
    rng: &mut Rng,
    spec: &ane_mil::ops::InputSpec,
    dtype: DType,
) -> ResolvedArg<'static> {
    use ane_mil::ops::RankSpec;
    if rng.below(8) == 0 {
        return random_arg(rng);
    }
    let rank = match spec.rank {
        RankSpec::Scalar => 0,
        RankSpec::Vector => 1,
        RankSpec::ScalarOrVector => rng.below(2),
        RankSpec::Any => 1 + rng.below(5),
    };
    if spec.must_be_const || rng.below(3) == 0 {
        let shape: Vec<usize> = (0..rank).map(|_| rng.below(6)).collect();
        let n = shape.iter().product();
        let lit = TensorValue {
            ty: TensorType::new(dtype, shape),
            data: random_data(rng, dtype, n),
        };
        return ResolvedArg {
            ty: lit.ty.clone(),
            constness: Constness::Const,
            value: Some(Cow::Owned(lit)),
        };
    }
    let shape = (0..rank)
        .map(|_| {
            if rng.below(6) == 0 {
                random_dim(rng)
            } else {
                Dim::Known(1 + rng.below(6))
            }
        })
        .collect();
    ResolvedArg::runtime(TensorType { dtype, shape })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn inference_never_panics(seed in any::<u64>()) {
        let mut rng = Rng(seed);
        for op in ops::all_op_types() {
            let opset = *rng.pick(&Opset::ALL);
            let Some(sig) = ops::signature(op, opset) else { continue };
            let mut inputs = ResolvedInputs::new();
            let mut letters: Vec<(&str, DType)> = Vec::new();
            for spec in &sig.inputs {
                if rng.below(5) == 0 && !(spec.is_required() && rng.coin()) {
                    continue;
                }
                let dtype = match spec.dtypes.letter.and_then(|l| letters.iter().find(|(k, _)| *k == l)) {
                    Some((_, d)) if rng.below(10) != 0 => *d,
                    _ => *rng.pick(spec.dtypes.allowed),
                };
                if let Some(l) = spec.dtypes.letter {
                    letters.push((l, dtype));
                }
                if spec.variadic && rng.below(5) != 0 {
                    let items = (0..rng.below(4)).map(|_| fitting_arg(&mut rng, spec, dtype)).collect();
                    inputs.insert(spec.name, ane_mil::ops::ResolvedInput::Tuple(items));
                } else {
                    inputs.insert(spec.name, ane_mil::ops::ResolvedInput::Single(fitting_arg(&mut rng, spec, dtype)));
                }
            }
            if rng.below(10) == 0 {
                inputs.insert("bogus", ane_mil::ops::ResolvedInput::Single(random_arg(&mut rng)));
            }
            let _ = ops::infer(op, opset, &inputs);
            for spec in &sig.inputs {
                let _ = spec.default_value(sig, &inputs);
            }
        }
    }

    #[test]
    fn validation_never_panics(seed in any::<u64>(), mutations in 1usize..8) {
        let mut rng = Rng(seed);
        let mut program = Program::new(Dialect::Ios18);
        program.functions.push(sample_function());
        for _ in 0..mutations {
            mutate(&mut rng, &mut program.functions[0]);
        }
        let _ = validate(&program);
        let _ = program.functions.iter().map(ane_mil::validate::validate_function).count();
    }
}

/// A builder function touching many op families, to mutate.
fn sample_function() -> Function {
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f.input("x", ty(DType::Fp16, &[1, 4, 8, 8])).unwrap();
    let w = f.input("w", ty(DType::Fp16, &[8, 4, 3, 3])).unwrap();
    let c = f
        .conv(
            &x,
            &w,
            &ConvParams {
                pad: PadSpec::Same,
                ..ConvParams::new(2)
            },
        )
        .unwrap();
    let p = f
        .max_pool(
            &c,
            &PoolParams {
                kernel_sizes: vec![2, 2],
                strides: vec![2, 2],
                pad: PadSpec::Valid,
                ceil_mode: true,
            },
        )
        .unwrap();
    let r = f.reshape(&p, &[1, 8, 16]).unwrap();
    let t = f.transpose(&r, &[0, 2, 1]).unwrap();
    let parts = f.split(&t, 1, &Split::Count(2)).unwrap();
    let cat = f.concat(&[&parts[1], &parts[0]], 1, false).unwrap();
    let n = f.layer_norm(&cat, &[-1], None, None, 1e-5).unwrap();
    let s = f.slice_by_size(&n, &[0, 0, 0], &[1, -1, 4]).unwrap();
    let m = f.matmul(&s, &s, false, true).unwrap();
    let g = f
        .op(
            "gelu",
            "g",
            &[("x", (&m).into()), ("mode", Arg::string("EXACT"))],
        )
        .unwrap();
    f.output(&g[0]).unwrap();
    f.finish().unwrap()
}

fn random_value_type(rng: &mut Rng) -> ValueType {
    match rng.below(8) {
        0 => ValueType::Tuple(vec![]),
        _ => ValueType::Tensor(random_type(rng)),
    }
}

/// One random corruption of the function.
fn mutate(rng: &mut Rng, f: &mut Function) {
    let names: Vec<String> = f
        .body
        .iter()
        .flat_map(|o| o.outputs.iter().map(|n| n.name.clone()))
        .collect();
    if f.body.is_empty() {
        f.outputs.push("nothing".into());
        return;
    }
    let i = rng.below(f.body.len());
    let all_ops = ops::all_op_types();
    let op = &mut f.body[i];
    let arg_names: Vec<String> = op.inputs.keys().cloned().collect();
    match rng.below(12) {
        0 => {
            if let Some(a) = arg_names.get(rng.below(arg_names.len().max(1))) {
                op.inputs.remove(a);
            }
        }
        1 => {
            if let Some(a) = arg_names.get(rng.below(arg_names.len().max(1))) {
                let target = if rng.coin() {
                    rng.pick(&names).clone()
                } else {
                    "undefined_zz".into()
                };
                op.inputs.insert(a.clone(), Argument::var(target));
            }
        }
        2 => {
            let a = arg_names
                .get(rng.below(arg_names.len().max(1)))
                .cloned()
                .unwrap_or_else(|| "x".into());
            op.inputs.insert(
                a,
                Argument::Single(Binding::Value(random_literal(rng).into())),
            );
        }
        3 => {
            if let Some(out) = op.outputs.first_mut() {
                out.ty = random_value_type(rng);
            }
        }
        4 => {
            op.op_type = if rng.coin() {
                rng.pick(&all_ops).to_string()
            } else {
                "bogus".into()
            }
        }
        5 => {
            if rng.coin() {
                op.attributes.remove("name");
            } else {
                op.attributes
                    .insert("name".into(), TensorValue::int32(1).into());
            }
        }
        6 => {
            op.attributes
                .insert("val".into(), random_literal(rng).into());
        }
        7 => {
            f.body.remove(i);
        }
        8 => {
            let j = rng.below(f.body.len());
            f.body.swap(i, j);
        }
        9 => op.opset = Some(*rng.pick(&Opset::ALL)),
        10 => {
            let items = (0..rng.below(3))
                .map(|_| Binding::Var(rng.pick(&names).clone()))
                .collect();
            op.inputs.insert("values".into(), Argument::Tuple(items));
        }
        _ => {
            let extra = NamedType {
                name: rng.pick(&names).clone(),
                ty: random_value_type(rng),
                pos: Default::default(),
            };
            op.outputs.push(extra);
            if rng.coin() {
                op.attributes.insert(
                    "val".into(),
                    Value::Dict {
                        key_type: random_value_type(rng),
                        value_type: random_value_type(rng),
                        entries: vec![],
                    },
                );
            }
        }
    }
}
