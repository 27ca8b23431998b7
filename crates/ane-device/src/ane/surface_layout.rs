//! IOSurface sizes for a kernel's inputs and outputs, from its function signature.
//!
//! ane-facts §5: one flat one-row byte buffer per input and output (Width = bytes, Height 1,
//! BytesPerElement 1, BytesPerRow = bytes, AllocSize = bytes, PixelFormat 0), holding the tensor
//! dense and row-major, fp16 or fp32 as the MIL parameter says. Sizes are rounded up to
//! [`SURFACE_ALIGNMENT`] bytes (PR #35's M5 claim, harmless elsewhere); callers only ever see the
//! first `bytes` bytes.
//!
//! A buffer's rows can also sit further apart than dense ([`RowLayout`]), when a loaded model's
//! attributes report a row stride (see [`super::model_attributes`]); the device then copies rows
//! between the caller's dense bytes and the strided surface on every write and read.

use crate::chip::SURFACE_ALIGNMENT;
use crate::device::{DeviceError, KernelIo};
use ane_mil::{DType, Program, TensorType, ValueType};

const OUT_OF_RANGE: &str = "a row of the strided layout lies outside the surface";

/// The buffer of one kernel input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurfaceSpec {
    /// The MIL name of the parameter or output.
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<usize>,
    /// Bytes of tensor data (what `write_input` / `read_output` expose).
    pub bytes: usize,
    /// Bytes allocated: the layout's extent (`bytes` when dense) rounded up to the alignment.
    /// Used for Width, BytesPerRow and AllocSize of the IOSurface.
    pub alloc_bytes: usize,
    /// Where the tensor's rows sit in the surface (dense unless a model reported strides).
    pub layout: RowLayout,
}

/// Where the rows of one buffer sit in its surface.
///
/// The tensor is viewed as `planes × rows × row_bytes`: a row is the last axis, a plane the
/// second-to-last axis (1 for tensors of rank below 2), and `planes` is the product of the other
/// axes — for the ANE's `[1, C, H, W]` that is C planes of H rows of W values. Dense layouts have
/// `row_stride == row_bytes` and `plane_stride == rows × row_stride`; a model may report wider
/// strides (padding after each row or plane), which the device then honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLayout {
    /// Bytes of data in one row: the last axis × the element size.
    pub row_bytes: usize,
    /// Rows per plane.
    pub rows: usize,
    /// Planes in the buffer.
    pub planes: usize,
    /// Bytes from the start of one row to the start of the next in the surface.
    pub row_stride: usize,
    /// Bytes from the start of one plane to the start of the next in the surface.
    pub plane_stride: usize,
}

impl RowLayout {
    /// The dense layout of a tensor of `shape` with `element_bytes`-byte values; `None` if a
    /// size overflows.
    pub fn dense(shape: &[usize], element_bytes: usize) -> Option<RowLayout> {
        let (row_len, rows, outer): (usize, usize, &[usize]) = match shape {
            [] => (1, 1, &[]),
            [w] => (*w, 1, &[]),
            [outer @ .., h, w] => (*w, *h, outer),
        };
        let planes = outer
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
        let row_bytes = row_len.checked_mul(element_bytes)?;
        let layout = RowLayout {
            row_bytes,
            rows,
            planes,
            row_stride: row_bytes,
            plane_stride: rows.checked_mul(row_bytes)?,
        };
        layout.extent()?;
        Some(layout)
    }

    /// Whether rows and planes follow each other without gaps.
    pub fn is_dense(&self) -> bool {
        self.row_stride == self.row_bytes
            && Some(self.plane_stride) == self.rows.checked_mul(self.row_stride)
    }

    /// Bytes of tensor data (what callers read and write).
    pub fn data_bytes(&self) -> Option<usize> {
        self.planes
            .checked_mul(self.rows)?
            .checked_mul(self.row_bytes)
    }

    /// Bytes of surface the layout spans: every plane at its full stride.
    pub fn extent(&self) -> Option<usize> {
        self.planes.checked_mul(self.plane_stride)
    }

    /// This layout with rows `row_stride` bytes apart and planes `plane_stride` bytes apart (by
    /// default `rows × row_stride`). Errors when rows or planes would overlap or a size
    /// overflows: such a layout cannot hold the tensor.
    pub fn with_strides(
        &self,
        row_stride: usize,
        plane_stride: Option<usize>,
    ) -> Result<RowLayout, String> {
        if row_stride < self.row_bytes {
            return Err(format!(
                "a row stride of {row_stride} bytes is narrower than a row of {} bytes",
                self.row_bytes
            ));
        }
        let min_plane = self
            .rows
            .checked_mul(row_stride)
            .ok_or_else(|| format!("{} rows of {row_stride} bytes overflow", self.rows))?;
        let plane_stride = plane_stride.unwrap_or(min_plane);
        if plane_stride < min_plane {
            return Err(format!(
                "a plane stride of {plane_stride} bytes is smaller than {} rows of {row_stride} \
                 bytes",
                self.rows
            ));
        }
        let layout = RowLayout {
            row_stride,
            plane_stride,
            ..*self
        };
        layout
            .extent()
            .ok_or_else(|| format!("{} planes of {plane_stride} bytes overflow", self.planes))?;
        Ok(layout)
    }

    /// The surface range of every row, in tensor order (`None` where the arithmetic overflows,
    /// which only a hand-built inconsistent layout can cause).
    fn row_ranges(&self) -> impl Iterator<Item = Option<std::ops::Range<usize>>> + '_ {
        (0..self.planes).flat_map(move |p| {
            (0..self.rows).map(move |r| {
                let start = p
                    .checked_mul(self.plane_stride)?
                    .checked_add(r.checked_mul(self.row_stride)?)?;
                Some(start..start.checked_add(self.row_bytes)?)
            })
        })
    }

    /// Copies dense tensor bytes into a surface laid out by `self`. Bytes between rows are left
    /// as they are. Errors (never panics) when either slice is too small.
    pub fn scatter(&self, dense: &[u8], surface: &mut [u8]) -> Result<(), String> {
        self.check_sizes(dense.len(), surface.len())?;
        if self.row_bytes == 0 {
            return Ok(());
        }
        for (row, range) in dense.chunks_exact(self.row_bytes).zip(self.row_ranges()) {
            surface
                .get_mut(range.ok_or(OUT_OF_RANGE)?)
                .ok_or(OUT_OF_RANGE)?
                .copy_from_slice(row);
        }
        Ok(())
    }

    /// Copies the tensor's rows out of a surface laid out by `self` into dense bytes.
    pub fn gather(&self, surface: &[u8], dense: &mut [u8]) -> Result<(), String> {
        self.check_sizes(dense.len(), surface.len())?;
        if self.row_bytes == 0 {
            return Ok(());
        }
        for (row, range) in dense
            .chunks_exact_mut(self.row_bytes)
            .zip(self.row_ranges())
        {
            row.copy_from_slice(
                surface
                    .get(range.ok_or(OUT_OF_RANGE)?)
                    .ok_or(OUT_OF_RANGE)?,
            );
        }
        Ok(())
    }

    fn check_sizes(&self, dense: usize, surface: usize) -> Result<(), String> {
        let data = self.data_bytes().ok_or("tensor size overflows")?;
        let extent = self.extent().ok_or("surface size overflows")?;
        if dense != data || surface < extent {
            return Err(format!(
                "strided copy of {data} tensor bytes over {extent} surface bytes given {dense} \
                 and {surface} bytes"
            ));
        }
        Ok(())
    }
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
        let layout =
            RowLayout::dense(&shape, elem).ok_or_else(|| bad("byte size overflows".into()))?;
        Ok(SurfaceSpec {
            name: name.to_string(),
            dtype: ty.dtype,
            shape,
            bytes,
            alloc_bytes,
            layout,
        })
    }

    /// This buffer laid out by `layout` (same tensor, so the same dense byte count), with the
    /// allocation grown to the layout's extent.
    pub fn with_layout(&self, layout: RowLayout) -> Result<SurfaceSpec, String> {
        if layout.data_bytes() != Some(self.bytes) {
            return Err(format!(
                "a layout of {:?} bytes does not hold the {} bytes of {:?}",
                layout.data_bytes(),
                self.bytes,
                self.name
            ));
        }
        let alloc_bytes = layout
            .extent()
            .and_then(|e| align_up(e, SURFACE_ALIGNMENT))
            .ok_or_else(|| format!("the surface of {:?} overflows", self.name))?;
        Ok(SurfaceSpec {
            alloc_bytes,
            layout,
            ..self.clone()
        })
    }

    /// Bytes of surface the tensor's rows span (`bytes` when dense): what a write or read has
    /// to lock.
    pub fn span_bytes(&self) -> usize {
        if self.layout.is_dense() {
            self.bytes
        } else {
            // `with_layout` checked the extent; fall back to the allocation if it somehow did not.
            self.layout.extent().unwrap_or(self.alloc_bytes)
        }
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

    #[test]
    fn dense_layouts_view_the_tensor_as_planes_of_rows() {
        let l = RowLayout::dense(&[1, 64, 1, 32], 2).unwrap();
        assert_eq!((l.row_bytes, l.rows, l.planes), (64, 1, 64));
        assert_eq!((l.row_stride, l.plane_stride), (64, 64));
        assert!(l.is_dense());
        assert_eq!((l.data_bytes(), l.extent()), (Some(4096), Some(4096)));
        let l = RowLayout::dense(&[2, 3, 5, 7], 4).unwrap();
        assert_eq!(
            (l.row_bytes, l.rows, l.planes, l.plane_stride),
            (28, 5, 6, 140)
        );
        let scalar = RowLayout::dense(&[], 2).unwrap();
        assert_eq!((scalar.row_bytes, scalar.rows, scalar.planes), (2, 1, 1));
        let vector = RowLayout::dense(&[9], 2).unwrap();
        assert_eq!((vector.row_bytes, vector.rows, vector.planes), (18, 1, 1));
        assert_eq!(RowLayout::dense(&[usize::MAX, 2, 2], 2), None);
        let s = SurfaceSpec::new("x", &t(DType::Fp16, &[1, 4, 1, 8])).unwrap();
        assert!(s.layout.is_dense());
        assert_eq!(s.span_bytes(), s.bytes);
    }

    #[test]
    fn strides_must_leave_room_for_every_row() {
        let dense = RowLayout::dense(&[1, 4, 2, 8], 2).unwrap(); // rows of 16 bytes, 2 per plane
        let wide = dense.with_strides(64, None).unwrap();
        assert_eq!((wide.row_stride, wide.plane_stride), (64, 128));
        assert!(!wide.is_dense());
        assert_eq!(wide.extent(), Some(512));
        assert_eq!(wide.data_bytes(), dense.data_bytes());
        let planes = dense.with_strides(16, Some(4096)).unwrap();
        assert!(!planes.is_dense());
        assert_eq!(planes.extent(), Some(4 * 4096));
        assert_eq!(dense.with_strides(16, None).unwrap(), dense);

        let err = dense.with_strides(8, None).unwrap_err();
        assert!(err.contains("narrower than a row of 16"), "{err}");
        let err = dense.with_strides(0, None).unwrap_err();
        assert!(err.contains("narrower"), "{err}");
        let err = dense.with_strides(64, Some(100)).unwrap_err();
        assert!(err.contains("smaller than 2 rows of 64"), "{err}");
        assert!(dense.with_strides(usize::MAX, None).is_err());
        assert!(dense.with_strides(16, Some(usize::MAX)).is_err());
    }

    #[test]
    fn scatter_and_gather_move_rows_to_and_from_their_strides() {
        // Two planes of two 4-byte rows, rows 8 bytes apart, planes 20 bytes apart.
        let layout = RowLayout::dense(&[2, 2, 2], 2)
            .unwrap()
            .with_strides(8, Some(20))
            .unwrap();
        let dense: Vec<u8> = (1..=16).collect();
        let mut surface = vec![0xAAu8; 40];
        layout.scatter(&dense, &mut surface).unwrap();
        let mut expected = vec![0xAAu8; 40];
        for (i, start) in [0usize, 8, 20, 28].into_iter().enumerate() {
            expected[start..start + 4].copy_from_slice(&dense[i * 4..i * 4 + 4]);
        }
        assert_eq!(surface, expected, "padding is left untouched");
        let mut back = vec![0u8; 16];
        layout.gather(&surface, &mut back).unwrap();
        assert_eq!(back, dense);

        assert!(
            layout.scatter(&dense, &mut [0u8; 39]).is_err(),
            "short surface"
        );
        assert!(
            layout.scatter(&dense[..15], &mut surface).is_err(),
            "short tensor"
        );
        assert!(
            layout.gather(&surface, &mut [0u8; 17]).is_err(),
            "long tensor"
        );
        // A hand-built inconsistent layout is an error, not a panic.
        let broken = RowLayout {
            row_stride: usize::MAX,
            ..layout
        };
        assert!(broken.scatter(&dense, &mut surface).is_err());
        assert!(broken.gather(&surface, &mut back).is_err());
    }

    #[test]
    fn a_strided_spec_allocates_its_extent() {
        let s = SurfaceSpec::new("x", &t(DType::Fp16, &[1, 4, 1, 8])).unwrap();
        let strided = s
            .with_layout(s.layout.with_strides(48, None).unwrap())
            .unwrap();
        assert_eq!(strided.bytes, 64);
        assert_eq!(strided.span_bytes(), 4 * 48);
        assert_eq!(strided.alloc_bytes, 256, "192 rounded up to 128");
        let other = RowLayout::dense(&[1, 2, 1, 8], 2).unwrap();
        assert!(s.with_layout(other).is_err(), "a layout of another tensor");
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
