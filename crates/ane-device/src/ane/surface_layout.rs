//! IOSurface sizes for a kernel's inputs and outputs, from its function signature.
//!
//! ane-facts §5: one flat one-row byte buffer per input and output (Width = bytes, Height 1,
//! BytesPerElement 1, BytesPerRow = bytes, AllocSize = bytes, PixelFormat 0), holding the tensor
//! dense and row-major, fp16 or fp32 as the MIL parameter says. Sizes are rounded up to
//! [`SURFACE_ALIGNMENT`] bytes (PR #35's M5 claim, harmless elsewhere); callers only ever see the
//! first `bytes` bytes.

use crate::chip::SURFACE_ALIGNMENT;
use crate::device::{DeviceError, KernelIo};
use ane_mil::{DType, Program, TensorType, ValueType};

/// The buffer of one kernel input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurfaceSpec {
    /// The MIL name of the parameter or output.
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<usize>,
    /// Bytes of tensor data (what `write_input` / `read_output` expose).
    pub bytes: usize,
    /// Bytes allocated: `bytes` rounded up to the alignment. Used for Width, BytesPerRow and
    /// AllocSize of the IOSurface.
    pub alloc_bytes: usize,
}

impl SurfaceSpec {
    /// The spec of a named tensor; only fp16 and fp32 tensors of known, non-empty shape can be
    /// ANE kernel I/O.
    pub fn new(name: &str, ty: &TensorType) -> Result<SurfaceSpec, DeviceError> {
        let bad = |why: String| DeviceError::Compile {
            message: format!("kernel buffer {name:?} of type {ty}: {why}"),
            dump_path: None,
        };
        let elem = match ty.dtype {
            DType::Fp16 => 2,
            DType::Fp32 => 4,
            other => {
                return Err(bad(format!(
                    "the ANE exchanges only fp16 or fp32 tensors, not {other}"
                )))
            }
        };
        let shape = ty
            .known_shape()
            .ok_or_else(|| bad("every dimension must be known".into()))?;
        let count = ty
            .num_elements()
            .ok_or_else(|| bad("element count overflows".into()))?;
        if count == 0 {
            return Err(bad("a kernel buffer cannot be empty".into()));
        }
        let bytes = count
            .checked_mul(elem)
            .ok_or_else(|| bad("byte size overflows".into()))?;
        let alloc_bytes =
            align_up(bytes, SURFACE_ALIGNMENT).ok_or_else(|| bad("byte size overflows".into()))?;
        Ok(SurfaceSpec {
            name: name.to_string(),
            dtype: ty.dtype,
            shape,
            bytes,
            alloc_bytes,
        })
    }
}

/// `n` rounded up to a multiple of `align` (a power of two); `None` on overflow.
pub fn align_up(n: usize, align: usize) -> Option<usize> {
    debug_assert!(align.is_power_of_two());
    n.checked_add(align - 1).map(|m| m & !(align - 1))
}

/// The surfaces of one kernel, in parameter / output order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurfacePlan {
    pub inputs: Vec<SurfaceSpec>,
    pub outputs: Vec<SurfaceSpec>,
}

impl SurfacePlan {
    /// The plan for a kernel's buffer types. A kernel needs at least one input and one output
    /// (every working reference kernel has both; a request without them is untested).
    pub fn for_kernel(io: &KernelIo) -> Result<SurfacePlan, DeviceError> {
        let specs = |list: &[(String, TensorType)]| {
            list.iter()
                .map(|(n, t)| SurfaceSpec::new(n, t))
                .collect::<Result<Vec<_>, _>>()
        };
        let plan = SurfacePlan {
            inputs: specs(&io.inputs)?,
            outputs: specs(&io.outputs)?,
        };
        if plan.inputs.is_empty() || plan.outputs.is_empty() {
            return Err(DeviceError::Compile {
                message: format!(
                    "an ANE kernel needs at least one input and one output (this one has {} and {})",
                    plan.inputs.len(),
                    plan.outputs.len()
                ),
                dump_path: None,
            });
        }
        Ok(plan)
    }

    /// Total bytes allocated for this kernel's surfaces.
    pub fn total_alloc_bytes(&self) -> usize {
        self.inputs
            .iter()
            .chain(&self.outputs)
            .map(|s| s.alloc_bytes)
            .sum()
    }

    /// A note for error messages when the surfaces break issue #47's UNVERIFIED rule: with several
    /// inputs, sizes strictly ascending across inputs and descending across outputs, or the
    /// result is silently zero (ane-facts §5).
    pub fn size_order_caveat(&self) -> Option<String> {
        let ascending =
            |s: &[SurfaceSpec]| s.windows(2).all(|w| w[0].alloc_bytes < w[1].alloc_bytes);
        let descending =
            |s: &[SurfaceSpec]| s.windows(2).all(|w| w[0].alloc_bytes > w[1].alloc_bytes);
        let inputs_ok = ascending(&self.inputs);
        let outputs_ok = descending(&self.outputs);
        (!inputs_ok || !outputs_ok).then(|| {
            "note: a contributor reports (issue #47, unverified) that several inputs must have \
             strictly ascending sizes and several outputs strictly descending sizes"
                .to_string()
        })
    }
}

/// The buffer types of a program's `main` function: its parameters, and the types of the values
/// it returns.
pub fn kernel_io_of_program(program: &Program) -> Result<KernelIo, DeviceError> {
    let bad = |message: String| DeviceError::Compile {
        message,
        dump_path: None,
    };
    let main = program
        .main()
        .ok_or_else(|| bad("the program has no `main` function".into()))?;
    let tensor = |name: &str, ty: &ValueType| {
        ty.as_tensor()
            .cloned()
            .ok_or_else(|| bad(format!("`main` value {name:?} is not a tensor")))
    };
    let inputs = main
        .params
        .iter()
        .map(|p| Ok((p.name.clone(), tensor(&p.name, &p.ty)?)))
        .collect::<Result<Vec<_>, DeviceError>>()?;
    let outputs = main
        .outputs
        .iter()
        .map(|out| {
            let defined = main
                .body
                .iter()
                .rev()
                .flat_map(|op| op.outputs.iter())
                .chain(main.params.iter())
                .find(|v| &v.name == out)
                .ok_or_else(|| bad(format!("`main` returns {out:?}, which it never defines")))?;
            Ok((out.clone(), tensor(out, &defined.ty)?))
        })
        .collect::<Result<Vec<_>, DeviceError>>()?;
    Ok(KernelIo { inputs, outputs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ane_mil::{Argument, Dialect, Function, NamedType, Operation, SourcePos};
    use std::collections::BTreeMap;

    fn t(dtype: DType, shape: &[usize]) -> TensorType {
        TensorType::new(dtype, shape.iter().copied())
    }

    #[test]
    fn fp16_and_fp32_sizes_round_up_to_128_bytes() {
        let s = SurfaceSpec::new("x", &t(DType::Fp16, &[1, 64, 1, 32])).unwrap();
        assert_eq!((s.bytes, s.alloc_bytes), (4096, 4096));
        assert_eq!(s.shape, [1, 64, 1, 32]);

        let s = SurfaceSpec::new("x", &t(DType::Fp16, &[1, 3, 1, 5])).unwrap();
        assert_eq!((s.bytes, s.alloc_bytes), (30, 128));

        let s = SurfaceSpec::new("y", &t(DType::Fp32, &[1, 10, 1, 33])).unwrap();
        assert_eq!((s.bytes, s.alloc_bytes), (1320, 1408));
        assert_eq!(s.alloc_bytes % 128, 0);

        let s = SurfaceSpec::new("s", &TensorType::scalar(DType::Fp16)).unwrap();
        assert_eq!((s.bytes, s.alloc_bytes), (2, 128));
    }

    #[test]
    fn unsupported_buffers_are_errors() {
        use ane_mil::Dim;
        let unknown = TensorType {
            dtype: DType::Fp16,
            shape: vec![Dim::Known(1), Dim::Unknown],
        };
        for (ty, needle) in [
            (t(DType::Int32, &[4]), "fp16 or fp32"),
            (t(DType::Fp16, &[1, 0, 1, 4]), "empty"),
            (unknown, "known"),
            (t(DType::Fp16, &[usize::MAX, 2]), "overflows"),
        ] {
            match SurfaceSpec::new("v", &ty) {
                Err(DeviceError::Compile { message, .. }) => {
                    assert!(message.contains(needle), "{message}")
                }
                other => panic!("expected an error, got {other:?}"),
            }
        }
    }

    #[test]
    fn align_up_rounds_to_multiples() {
        assert_eq!(align_up(0, 128), Some(0));
        assert_eq!(align_up(1, 128), Some(128));
        assert_eq!(align_up(128, 128), Some(128));
        assert_eq!(align_up(129, 128), Some(256));
        assert_eq!(align_up(usize::MAX, 128), None);
    }

    fn io(inputs: &[(&str, TensorType)], outputs: &[(&str, TensorType)]) -> KernelIo {
        let own = |l: &[(&str, TensorType)]| {
            l.iter()
                .map(|(n, t)| (n.to_string(), t.clone()))
                .collect::<Vec<_>>()
        };
        KernelIo {
            inputs: own(inputs),
            outputs: own(outputs),
        }
    }

    #[test]
    fn plans_follow_parameter_and_output_order() {
        let plan = SurfacePlan::for_kernel(&io(
            &[
                ("a", t(DType::Fp16, &[1, 8, 1, 8])),
                ("b", t(DType::Fp32, &[1, 64, 1, 8])),
            ],
            &[("y", t(DType::Fp16, &[1, 16, 1, 8]))],
        ))
        .unwrap();
        assert_eq!(plan.inputs[0].name, "a");
        assert_eq!(plan.inputs[1].bytes, 2048);
        assert_eq!(plan.outputs[0].bytes, 256);
        assert_eq!(plan.total_alloc_bytes(), 128 + 2048 + 256);
        assert_eq!(plan.size_order_caveat(), None);
    }

    #[test]
    fn kernels_without_inputs_or_outputs_are_rejected() {
        let x = t(DType::Fp16, &[1, 8, 1, 8]);
        assert!(SurfacePlan::for_kernel(&io(&[], &[("y", x.clone())])).is_err());
        assert!(SurfacePlan::for_kernel(&io(&[("x", x)], &[])).is_err());
    }

    #[test]
    fn size_order_caveat_flags_descending_inputs_and_ascending_outputs() {
        let small = t(DType::Fp16, &[1, 64, 1, 1]);
        let big = t(DType::Fp16, &[1, 64, 1, 64]);
        let bad_in = SurfacePlan::for_kernel(&io(
            &[("a", big.clone()), ("b", small.clone())],
            &[("y", small.clone())],
        ))
        .unwrap();
        assert!(bad_in.size_order_caveat().unwrap().contains("issue #47"));
        let bad_out = SurfacePlan::for_kernel(&io(
            &[("a", small.clone())],
            &[("y", small.clone()), ("z", big.clone())],
        ))
        .unwrap();
        assert!(bad_out.size_order_caveat().is_some());
        let equal_in = SurfacePlan::for_kernel(&io(
            &[("a", small.clone()), ("b", small.clone())],
            &[("y", big)],
        ))
        .unwrap();
        assert!(equal_in.size_order_caveat().is_some());
    }

    fn op(out: &str, ty: TensorType, input: &str) -> Operation {
        Operation {
            op_type: "sigmoid".into(),
            opset: None,
            outputs: vec![NamedType::tensor(out, ty)],
            inputs: BTreeMap::from([("x".to_string(), Argument::var(input))]),
            attributes: BTreeMap::new(),
            pos: SourcePos::default(),
        }
    }

    fn program(outputs: &[&str]) -> Program {
        let mut p = Program::new(Dialect::Ios18);
        p.functions.push(Function {
            name: "main".into(),
            opset: Dialect::Ios18.opset(),
            params: vec![NamedType::tensor("x", t(DType::Fp16, &[1, 64, 1, 32]))],
            attributes: BTreeMap::new(),
            body: vec![
                op("h", t(DType::Fp16, &[1, 64, 1, 32]), "x"),
                op("y", t(DType::Fp32, &[1, 64, 1, 32]), "h"),
            ],
            outputs: outputs.iter().map(|s| s.to_string()).collect(),
            pos: SourcePos::default(),
        });
        p
    }

    #[test]
    fn kernel_io_reads_params_and_output_types_from_main() {
        let io = kernel_io_of_program(&program(&["y", "h"])).unwrap();
        assert_eq!(io.inputs, [("x".into(), t(DType::Fp16, &[1, 64, 1, 32]))]);
        assert_eq!(
            io.outputs,
            [
                ("y".into(), t(DType::Fp32, &[1, 64, 1, 32])),
                ("h".into(), t(DType::Fp16, &[1, 64, 1, 32])),
            ]
        );
    }

    #[test]
    fn kernel_io_errors_name_the_problem() {
        let err = kernel_io_of_program(&program(&["nope"])).unwrap_err();
        assert!(err.to_string().contains("never defines"), "{err}");
        let err = kernel_io_of_program(&Program::new(Dialect::Ios18)).unwrap_err();
        assert!(err.to_string().contains("no `main`"), "{err}");
    }
}
