//! The lint on hand-built programs: each bad program is rejected by the rule it breaks, with the
//! op, tensor and limit named; good programs pass on both chip classes.

use crate::builder::{
    BuildError, ConvParams, FunctionBuilder, PadSpec, PoolParams, ProgramBuilder, Var,
};
use crate::chip::{ChipCaps, ChipFamily, LintError, Rule};
use crate::{DType, Dialect, Program, TensorType, TensorValue};

/// The I/O-form rules, which small hand-built programs break on purpose; the tests of other rules
/// leave them out, and `io_rules_*` test them.
const IO_FORM_RULES: [Rule; 3] = [Rule::IoRank, Rule::IoRowAlignment, Rule::IoWidth];

/// The lint's rejecting findings without the I/O-form rules.
fn lint(p: &Program, caps: &ChipCaps) -> Vec<LintError> {
    crate::chip::lint(p, caps)
        .into_iter()
        .filter(|e| !IO_FORM_RULES.contains(&e.rule))
        .collect()
}

/// Every finding but the I/O-form rules and the proven-ness tiers.
fn lint_all(p: &Program, caps: &ChipCaps) -> Vec<LintError> {
    crate::chip::lint_all(p, caps)
        .into_iter()
        .filter(|e| {
            !IO_FORM_RULES.contains(&e.rule)
                && !matches!(e.rule, Rule::UnprovenOp | Rule::UnprovenForm)
        })
        .collect()
}

fn fp16(dims: &[usize]) -> TensorType {
    TensorType::new(DType::Fp16, dims.iter().copied())
}

/// A one-function program in the dialect of `family`, built by `body` (which returns the output).
fn program(
    family: ChipFamily,
    body: impl FnOnce(&mut FunctionBuilder) -> Result<Var, BuildError>,
) -> Program {
    let dialect = family.caps().dialect;
    let mut f = FunctionBuilder::new("main", dialect.opset());
    let out = body(&mut f).expect("the test program builds");
    f.output(&out).unwrap();
    ProgramBuilder::new(dialect)
        .function(f.finish().unwrap())
        .build()
        .unwrap()
}

/// The rules of the rejecting findings.
fn rejected(p: &Program, family: ChipFamily) -> Vec<Rule> {
    lint(p, &family.caps())
        .into_iter()
        .map(|e| e.rule)
        .collect()
}

/// A kernel in the style of ane-facts §7.2: packed fp16 input, slices, matmul, concat output.
fn packed_matmul(f: &mut FunctionBuilder, inner: usize) -> Result<Var, BuildError> {
    let x = f.input("x", fp16(&[1, inner, 1, 64 + 128]))?;
    let act = f.slice_by_size(&x, &[0, 0, 0, 0], &[1, inner as i32, 1, 64])?;
    let w = f.slice_by_size(&x, &[0, 0, 0, 64], &[1, inner as i32, 1, 128])?;
    let act = f.reshape(&act, &[1, 1, inner as i32, 64])?;
    let w = f.reshape(&w, &[1, 1, inner as i32, 128])?;
    let y = f.matmul(&act, &w, true, false)?;
    let y = f.transpose(&y, &[0, 3, 1, 2])?;
    f.reshape(&y, &[1, 128, 1, 64])
}

#[test]
fn a_well_formed_packed_kernel_passes_on_every_family() {
    for family in [
        ChipFamily::M1,
        ChipFamily::M3,
        ChipFamily::M4,
        ChipFamily::M5,
    ] {
        let p = program(family, |f| packed_matmul(f, 64));
        assert_eq!(lint(&p, &family.caps()), vec![], "{family}");
    }
}

#[test]
fn matmul_inner_dims_off_the_multiple_of_32_are_rejected() {
    let p = program(ChipFamily::M4, |f| packed_matmul(f, 48));
    let errors = lint(&p, &ChipFamily::M4.caps());
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.rule, Rule::MatmulInnerDim);
    assert!(e.op.as_deref().unwrap().contains("matmul"), "{e}");
    assert!(e.message.contains("48") && e.message.contains("32"), "{e}");
    assert!(e.to_string().contains("issue #47"), "{e}");
}

#[test]
fn axis_caps_depend_on_the_chip_class() {
    let wide = |f: &mut FunctionBuilder| {
        let x = f.input("x", fp16(&[1, 32, 1, 20_000]))?;
        f.relu(&x)
    };
    let m1 = program(ChipFamily::M1, wide);
    let errors = lint(&m1, &ChipFamily::M1.caps());
    assert!(errors.iter().all(|e| e.rule == Rule::AxisSize));
    // The parameter and the relu output both break the cap.
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].tensor.as_deref(), Some("x"));
    assert!(errors[0].message.contains("20000") && errors[0].message.contains("16384"));
    let m4 = program(ChipFamily::M4, wide);
    assert_eq!(rejected(&m4, ChipFamily::M4), vec![]);
    let huge = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[1, 151_936, 1, 1]))?;
        f.relu(&x)
    });
    assert!(rejected(&huge, ChipFamily::M4).contains(&Rule::AxisSize));
}

#[test]
fn cast_is_rejected_on_m1_and_m2_only() {
    let build = |f: &mut FunctionBuilder| {
        let x = f.input("x", TensorType::new(DType::Fp32, [1, 64, 1, 32]))?;
        f.cast(&x, DType::Fp16)
    };
    for family in [ChipFamily::M1, ChipFamily::M2] {
        let p = program(family, build);
        let errors = lint(&p, &family.caps());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].rule, Rule::Cast);
        assert!(errors[0].message.contains(&family.to_string()));
    }
    let p = program(ChipFamily::M3, build);
    assert_eq!(rejected(&p, ChipFamily::M3), vec![]);
}

#[test]
fn conv_with_a_runtime_weight_is_rejected_and_a_constant_one_passes() {
    let runtime = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[1, 64, 1, 32]))?;
        let w = f.input("w", fp16(&[64, 64, 1, 1]))?;
        f.conv(&x, &w, &ConvParams::new(2))
    });
    let errors = lint(&runtime, &ChipFamily::M4.caps());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].rule, Rule::ConvRuntimeWeight);
    assert_eq!(errors[0].tensor.as_deref(), Some("w"));

    let constant = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[1, 64, 1, 32]))?;
        let w = f.constant(
            "w",
            TensorValue {
                ty: fp16(&[64, 64, 1, 1]),
                data: crate::TensorData::Fp16(vec![half::f16::ONE; 64 * 64]),
            },
        )?;
        f.conv(&x, &w, &ConvParams::new(2))
    });
    assert_eq!(rejected(&constant, ChipFamily::M4), vec![]);
}

#[test]
fn wide_conv_kernels_are_rejected_below_m5() {
    let build = |f: &mut FunctionBuilder| {
        let x = f.input("x", fp16(&[1, 64, 1, 64]))?;
        let w = f.constant(
            "w",
            TensorValue {
                ty: fp16(&[64, 64, 1, 14]),
                data: crate::TensorData::Fp16(vec![half::f16::ONE; 64 * 64 * 14]),
            },
        )?;
        f.conv(&x, &w, &ConvParams::new(2))
    };
    let m4 = program(ChipFamily::M4, build);
    assert_eq!(rejected(&m4, ChipFamily::M4), vec![Rule::ConvKernelWidth]);
    let m5 = program(ChipFamily::M5, build);
    assert_eq!(rejected(&m5, ChipFamily::M5), vec![]);
}

#[test]
fn pooling_windows_above_13_and_strides_above_2_are_rejected() {
    let pool = |kernel: usize, stride: usize| {
        program(ChipFamily::M4, move |f| {
            let x = f.input("x", fp16(&[1, 64, 32, 32]))?;
            f.max_pool(
                &x,
                &PoolParams {
                    kernel_sizes: vec![kernel, kernel],
                    strides: vec![stride, stride],
                    pad: PadSpec::Valid,
                    ceil_mode: false,
                },
            )
        })
    };
    assert_eq!(rejected(&pool(2, 2), ChipFamily::M4), vec![]);
    assert_eq!(rejected(&pool(13, 1), ChipFamily::M4), vec![]);
    assert_eq!(
        rejected(&pool(14, 2), ChipFamily::M4),
        vec![Rule::PoolWindow]
    );
    assert_eq!(
        rejected(&pool(3, 3), ChipFamily::M4),
        vec![Rule::PoolStride]
    );
}

#[test]
fn integer_gathers_and_inputs_are_rejected() {
    let p = program(ChipFamily::M4, |f| {
        let table = f.input("table", fp16(&[100, 64]))?;
        let ids = f.input("ids", TensorType::new(DType::Int32, [32]))?;
        f.gather(&table, &ids, 0)
    });
    let rules = rejected(&p, ChipFamily::M4);
    // The int32 parameter, then the gather itself.
    assert_eq!(rules, vec![Rule::IntegerTensor, Rule::IntegerTensor]);
    let errors = lint(&p, &ChipFamily::M4.caps());
    assert_eq!(errors[0].tensor.as_deref(), Some("ids"));
    assert!(errors[1].message.contains("gather"), "{}", errors[1]);
}

#[test]
fn unknown_ops_and_reduce_mean_are_rejected() {
    let p = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[1, 64, 1, 32]))?;
        let m = f.reduce_mean(&x, &[1], true)?;
        f.band_part(&m, 0, -1)
    });
    assert_eq!(
        rejected(&p, ChipFamily::M4),
        vec![Rule::ReduceMean, Rule::OpSet]
    );
}

#[test]
fn rsqrt_of_a_reduction_is_rejected_and_pow_is_not() {
    let norm = |use_rsqrt: bool| {
        program(ChipFamily::M4, move |f| {
            let x = f.input("x", fp16(&[1, 64, 1, 32]))?;
            let sq = f.mul(&x, &x)?;
            let sum = f.reduce_sum(&sq, &[1], true)?;
            let inv_n = f.scalar(1.0 / 64.0, DType::Fp16)?;
            let mean = f.mul(&sum, &inv_n)?;
            let eps = f.scalar(1e-5, DType::Fp16)?;
            let mean = f.add(&mean, &eps)?;
            let r = if use_rsqrt {
                f.rsqrt(&mean, 1e-12)?
            } else {
                let half = f.scalar(-0.5, DType::Fp16)?;
                f.pow(&mean, &half)?
            };
            f.mul(&x, &r)
        })
    };
    assert_eq!(
        rejected(&norm(true), ChipFamily::M4),
        vec![Rule::RsqrtAfterReduce]
    );
    assert_eq!(rejected(&norm(false), ChipFamily::M4), vec![]);
}

#[test]
fn multiplying_a_reduction_by_zero_is_rejected() {
    let p = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[1, 64, 1, 32]))?;
        let sum = f.reduce_sum(&x, &[1], true)?;
        let zero = f.scalar(0.0, DType::Fp16)?;
        f.mul(&sum, &zero)
    });
    assert_eq!(rejected(&p, ChipFamily::M4), vec![Rule::MulZeroAfterReduce]);
}

#[test]
fn sdpa_with_a_mask_is_rejected() {
    let sdpa = |with_mask: bool| {
        program(ChipFamily::M4, move |f| {
            let q = f.input("q", fp16(&[1, 4, 32, 64]))?;
            let mask = f.constant(
                "mask",
                TensorValue {
                    ty: fp16(&[1, 1, 32, 32]),
                    data: crate::TensorData::Fp16(vec![half::f16::ZERO; 32 * 32]),
                },
            )?;
            f.scaled_dot_product_attention(&q, &q, &q, with_mask.then_some(&mask))
        })
    };
    assert_eq!(rejected(&sdpa(true), ChipFamily::M4), vec![Rule::SdpaMask]);
    assert_eq!(rejected(&sdpa(false), ChipFamily::M4), vec![]);
}

#[test]
fn advisory_findings_are_reported_but_do_not_reject() {
    let p = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[1, 16, 1, 8192]))?;
        let a = f.slice_by_size(&x, &[0, 0, 0, 0], &[1, 16, 1, 100])?;
        let b = f.slice_by_size(&x, &[0, 0, 0, 5000], &[1, 16, 1, 100])?;
        let c = f.slice_by_size(&x, &[0, 0, 0, 6000], &[1, 16, 1, 100])?;
        let s = f.softmax(&a, -1)?;
        f.concat(&[&s, &b, &c], 1, false)
    });
    let caps = ChipFamily::M4.caps();
    assert_eq!(lint(&p, &caps), vec![]);
    let all: Vec<Rule> = lint_all(&p, &caps).into_iter().map(|e| e.rule).collect();
    assert_eq!(
        all,
        vec![
            Rule::MinIoChannels,
            Rule::MinIoChannels,
            Rule::SoftmaxNonPowerOfTwo,
            Rule::ConcatArity,
        ]
    );
    // M1 and M2 saturate width offsets above 4094: both far slices are rejected there.
    let mut p = p;
    p.set_dialect(Dialect::Ios16);
    let m1 = lint(&p, &ChipFamily::M1.caps());
    assert_eq!(m1.len(), 2, "{m1:?}");
    assert!(m1.iter().all(|e| e.rule == Rule::SliceWidthOffset));
    assert!(m1[0].message.contains("5000") && m1[0].message.contains("4094"));
}

#[test]
fn multi_input_kernels_are_advised_about_size_order() {
    let p = program(ChipFamily::M4, |f| {
        let a = f.input("a", fp16(&[1, 64, 1, 64]))?;
        let b = f.input("b", fp16(&[1, 64, 1, 32]))?;
        let b2 = f.concat(&[&b, &b], 3, false)?;
        f.add(&a, &b2)
    });
    let all = lint_all(&p, &ChipFamily::M4.caps());
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].rule, Rule::MultiInputOrder);
    assert!(all[0].message.contains("not strictly ascending"));
}

#[test]
fn a_program_in_the_wrong_dialect_is_rejected() {
    let p = program(ChipFamily::M4, |f| packed_matmul(f, 64));
    let errors = lint(&p, &ChipFamily::M1.caps());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].rule, Rule::Dialect);
    assert!(errors[0].message.contains("program(1.0)"), "{}", errors[0]);
    let mut fixed = p.clone();
    fixed.set_dialect(Dialect::Ios16);
    assert_eq!(lint(&fixed, &ChipFamily::M1.caps()), vec![]);
}

#[test]
fn the_lint_reads_parsed_text_in_both_dialects() {
    for family in [ChipFamily::M1, ChipFamily::M4] {
        let p = program(family, |f| packed_matmul(f, 40));
        let text = crate::print(&p);
        let parsed = crate::parse(&text).unwrap();
        assert_eq!(rejected(&parsed, family), vec![Rule::MatmulInnerDim]);
        let expected_dialect = if family == ChipFamily::M1 {
            Dialect::Ios16
        } else {
            Dialect::Ios18
        };
        assert_eq!(family.caps().dialect, expected_dialect);
    }
}

#[test]
fn a_configured_io_byte_cap_rejects_larger_kernels() {
    let p = program(ChipFamily::M4, |f| packed_matmul(f, 64));
    let mut caps = ChipFamily::M4.caps();
    assert_eq!(caps.max_kernel_io_bytes, Some(16 << 20));
    // Input 64 × 192 fp16 = 24576 bytes; output 128 × 64 fp16 = 16384 bytes: 40960 in all.
    caps.max_kernel_io_bytes = Some(40_000);
    let errors = lint(&p, &caps);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].rule, Rule::KernelIoBytes);
    assert!(
        errors[0]
            .message
            .contains("inputs (24576 bytes) and outputs (16384 bytes)"),
        "{}",
        errors[0]
    );
    caps.max_kernel_io_bytes = Some(40_960);
    assert_eq!(lint(&p, &caps), vec![]);
}

/// The rules of the I/O-form findings of `p` on M4.
fn io_rules(p: &Program) -> Vec<(Rule, Option<String>)> {
    crate::chip::lint(p, &ChipFamily::M4.caps())
        .into_iter()
        .filter(|e| IO_FORM_RULES.contains(&e.rule))
        .map(|e| (e.rule, e.tensor))
        .collect()
}

#[test]
fn io_rules_accept_aligned_rank_4_rows_within_the_width_bounds() {
    for width in [64, 96, 16_384] {
        let p = program(ChipFamily::M4, |f| {
            let x = f.input("x", fp16(&[1, 64, 1, width]))?;
            f.relu(&x)
        });
        assert_eq!(io_rules(&p), vec![], "width {width}");
    }
    // fp32 rows align at 16 values.
    let p = program(ChipFamily::M4, |f| {
        let x = f.input("x", TensorType::new(DType::Fp32, [1, 64, 1, 80]))?;
        f.relu(&x)
    });
    assert_eq!(io_rules(&p), vec![]);
}

#[test]
fn io_rules_reject_unaligned_narrow_wide_and_non_rank_4_io() {
    let unaligned = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[1, 64, 1, 673]))?;
        f.relu(&x)
    });
    let errors = crate::chip::lint(&unaligned, &ChipFamily::M4.caps());
    let e = errors
        .iter()
        .find(|e| e.rule == Rule::IoRowAlignment && e.tensor.as_deref() == Some("x"))
        .expect("the input row is unaligned");
    assert!(e.message.contains("673 values (1346 bytes)"), "{e}");
    assert!(e.to_string().contains("maderix/ANE"), "{e}");
    let narrow = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[1, 1280, 1, 16]))?;
        f.relu(&x)
    });
    assert!(io_rules(&narrow).contains(&(Rule::IoWidth, Some("x".into()))));
    assert!(io_rules(&narrow).contains(&(Rule::IoRowAlignment, Some("x".into()))));
    let wide = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[1, 64, 1, 16_416]))?;
        f.relu(&x)
    });
    assert_eq!(
        io_rules(&wide)
            .iter()
            .filter(|(r, _)| *r == Rule::IoWidth)
            .count(),
        2,
        "the input and the output are both too wide"
    );
    let batched = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[64, 1, 28, 32]))?;
        f.relu(&x)
    });
    assert!(io_rules(&batched).contains(&(Rule::IoRank, Some("x".into()))));
    let rank2 = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[64, 32]))?;
        f.relu(&x)
    });
    assert!(io_rules(&rank2).contains(&(Rule::IoRank, Some("x".into()))));
}

#[test]
fn unproven_ops_and_forms_are_reported_not_rejected() {
    let p = program(ChipFamily::M4, |f| {
        let x = f.input("x", fp16(&[1, 64, 1, 64]))?;
        let r = f.relu(&x)?;
        let t = f.transpose(&r, &[0, 2, 1, 3])?;
        f.reshape(&t, &[1, 64, 1, 64])
    });
    let caps = ChipFamily::M4.caps();
    assert_eq!(crate::chip::lint(&p, &caps), vec![]);
    let advisory: Vec<Rule> = crate::chip::lint_all(&p, &caps)
        .into_iter()
        .map(|e| e.rule)
        .collect();
    assert!(advisory.contains(&Rule::UnprovenOp), "{advisory:?}");
    assert!(advisory.contains(&Rule::UnprovenForm), "{advisory:?}");
    let proven = program(ChipFamily::M4, |f| packed_matmul(f, 64));
    let forms: Vec<String> = crate::chip::lint_all(&proven, &caps)
        .into_iter()
        .filter(|e| e.rule == Rule::UnprovenForm)
        .map(|e| e.message)
        .collect();
    // packed_matmul transposes with [0, 3, 1, 2]: the one unproven form in it.
    assert_eq!(forms.len(), 1, "{forms:?}");
    assert!(forms[0].contains("[0, 3, 1, 2]"), "{forms:?}");
}
