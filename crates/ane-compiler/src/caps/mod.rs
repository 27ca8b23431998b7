//! The compiler's reading of the capability table ([`ane_mil::chip`]): the lowering options and
//! limits of ANE and host kernels on one chip, and the IR-level facts placement needs before any
//! MIL exists (which ops can never reach the ANE).
//!
//! The table itself lives in `ane-mil` so the compiler, the device and the lint read the same
//! numbers; this module only translates them into [`LowerOptions`].

use crate::dtype::DType;
use crate::graph::{Graph, Node};
use crate::lower::{Abi, LowerOptions, LoweringLimits, Precision};
use crate::op::Op;
pub use ane_mil::chip::{ChipCaps, ChipFamily};

/// The limits the lowering must respect for ANE kernels on a chip with `caps`: the per-axis cap,
/// the width-offset cap for packed-input slices (M1/M2), binary concat trees (ANEForge's report,
/// harmless elsewhere), matmul contractions padded to the multiple issue #47 needs, and softmax
/// kept to power-of-two sizes when the table says to avoid the disputed case.
pub fn lowering_limits(caps: &ChipCaps) -> LoweringLimits {
    LoweringLimits {
        max_axis_size: Some(caps.max_axis_size),
        max_slice_begin: caps.max_slice_width_offset,
        max_concat_inputs: caps.concat_inputs_reported.max(2),
        matmul_inner_multiple: caps.matmul_inner_multiple,
        softmax_power_of_two_only: caps.avoid_softmax_non_power_of_two,
        io_row_alignment_bytes: caps.io_row_alignment_bytes,
        min_io_width: caps.min_io_width,
        max_io_width: Some(caps.max_io_width),
    }
}

/// Lowering options of an ANE kernel on a chip with `caps`.
pub fn ane_lower_options(caps: &ChipCaps, precision: Precision, abi: Abi) -> LowerOptions {
    LowerOptions {
        precision,
        dialect: caps.dialect,
        abi,
        limits: lowering_limits(caps),
    }
}

/// Lowering options of a host kernel: fp32, one buffer per tensor, no chip limits (host kernels
/// run on the simulator's CPU interpreter).
pub fn host_lower_options() -> LowerOptions {
    LowerOptions::host()
}

/// Why an op can never run on the ANE, whatever its shapes: it reads or produces integer tensors
/// (ids, labels; the ANE computes in fp16 — `Rule::IntegerTensor`), or it is computed by the
/// executor (dropout masks). `None` when only its shapes can decide.
pub fn host_only_reason(graph: &Graph, node: &Node) -> Option<String> {
    if let Op::DropoutMask { .. } = node.op {
        return Some(
            "dropout masks come from a counter-based hash the executor computes each step".into(),
        );
    }
    let integer = node
        .inputs
        .iter()
        .chain(std::iter::once(&node.output))
        .any(|&v| graph.value_type(v).is_ok_and(|t| t.dtype == DType::I32));
    integer.then(|| {
        format!(
            "`{}` reads or produces integer tensors (ids, labels): the ANE computes in fp16 only \
             (capability rule `integer-tensor`)",
            node.op.name()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_the_chip_table() {
        let m1 = lowering_limits(&ChipFamily::M1.caps());
        assert_eq!(m1.max_axis_size, Some(16_384));
        assert_eq!(m1.max_slice_begin, Some(4094));
        assert_eq!(m1.matmul_inner_multiple, 32);
        let m4 = lowering_limits(&ChipFamily::M4.caps());
        assert_eq!(m4.max_axis_size, Some(65_536));
        assert_eq!(m4.max_slice_begin, None);
        assert!(m4.softmax_power_of_two_only);
        let opts = ane_lower_options(&ChipFamily::M1.caps(), Precision::Fp16, Abi::Packed);
        assert_eq!(opts.dialect, ane_mil::Dialect::Ios16);
    }

    #[test]
    fn integer_ops_are_host_only() {
        let mut g = Graph::new();
        let ids = g.input_ids("ids", &[4]).unwrap();
        let table = g.param("emb", &[10, 8]).unwrap();
        let x = g.embedding(ids, table).unwrap();
        let y = g.relu(x).unwrap();
        let _ = y;
        let reason = host_only_reason(&g, &g.nodes()[0]).unwrap();
        assert!(reason.contains("integer"), "{reason}");
        assert_eq!(host_only_reason(&g, &g.nodes()[1]), None);
    }
}
