//! Evaluation of reductions and data movement.

use super::index::{broadcast_offset, ravel, split_at_axis, unravel};
use super::Tensor;
use crate::op::Op;
use crate::shape::ValueType;

pub(super) fn eval(op: &Op, x: &[&Tensor], out: &ValueType) -> Tensor {
    let input = x[0];
    let data = match op {
        Op::ReduceSum { axes, .. } => {
            // Map every input element to its output slot by zeroing the summed axes; the kept-dims
            // output has the same flat layout as the squeezed one.
            let mut kept = input.shape().dims().to_vec();
            for &a in axes {
                kept[a] = 1;
            }
            let kept_strides = crate::shape::Shape::from(kept).strides();
            let mut data = vec![0.0; out.shape.numel()];
            for (flat, v) in input.data().iter().enumerate() {
                let mut index = unravel(flat, input.shape());
                for &a in axes {
                    index[a] = 0;
                }
                data[ravel(&index, &kept_strides)] += v;
            }
            data
        }
        Op::BroadcastTo { shape } => {
            let strides = input.shape().strides();
            (0..shape.numel())
                .map(|flat| {
                    input.data()[broadcast_offset(&unravel(flat, shape), input.shape(), &strides)]
                })
                .collect()
        }
        Op::Reshape { .. } => input.data().to_vec(),
        Op::Permute { perm } => {
            let in_strides = input.shape().strides();
            (0..out.shape.numel())
                .map(|flat| {
                    let index = unravel(flat, &out.shape);
                    perm.iter()
                        .zip(&index)
                        .map(|(&p, &i)| i * in_strides[p])
                        .sum::<usize>()
                })
                .map(|offset| input.data()[offset])
                .collect()
        }
        Op::Concat { axis } => {
            let (outer, total, inner) = split_at_axis(&out.shape, *axis);
            let mut data = vec![0.0; outer * total * inner];
            let mut start = 0;
            for part in x {
                let (_, len, _) = split_at_axis(part.shape(), *axis);
                for o in 0..outer {
                    let src = &part.data()[o * len * inner..(o + 1) * len * inner];
                    let dst = (o * total + start) * inner;
                    data[dst..dst + len * inner].copy_from_slice(src);
                }
                start += len;
            }
            data
        }
        Op::Slice { axis, start, end } => {
            let (outer, len, inner) = split_at_axis(input.shape(), *axis);
            let mut data = Vec::with_capacity(out.shape.numel());
            for o in 0..outer {
                data.extend_from_slice(
                    &input.data()[(o * len + start) * inner..(o * len + end) * inner],
                );
            }
            data
        }
        Op::Pad {
            axis,
            before,
            after,
        } => {
            let (outer, len, inner) = split_at_axis(input.shape(), *axis);
            let total = before + len + after;
            let mut data = vec![0.0; outer * total * inner];
            for o in 0..outer {
                let dst = (o * total + before) * inner;
                data[dst..dst + len * inner]
                    .copy_from_slice(&input.data()[o * len * inner..(o + 1) * len * inner]);
            }
            data
        }
        _ => unreachable!("movement::eval called for {}", op.name()),
    };
    Tensor::from_parts(out.shape.clone(), data)
}
