//! Generated tensors: fills and the causal mask become constants; dropout masks are host-only
//! (rejected by `check_supported` before lowering starts).

use super::NodeArgs;
use crate::lower::context::{mil_dims, to_i32, LowerCx, INLINE_TABLE_LIMIT};
use crate::lower::error::LowerError;
use crate::op::{Op, CAUSAL_MASK_VALUE};
use ane_mil::builder::Var;

pub(super) fn lower(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    let shape = mil_dims(n.out);
    match n.op {
        Op::Full { value, .. } => {
            let count: usize = shape.iter().product();
            if count <= INLINE_TABLE_LIMIT {
                return cx.table("full", &shape, &vec![*value as f64; count]);
            }
            // A large fill is one element tiled out, not a weight file of repeated values.
            let ones = vec![1; shape.len()];
            let seed = cx.table("fill", &ones, &[*value as f64])?;
            let reps = to_i32(&shape)?;
            let r = cx.f.tile(&seed, &reps);
            cx.ok(r)
        }
        Op::CausalMask { size } => {
            let size = *size;
            let data: Vec<f64> = (0..size * size)
                .map(|i| {
                    if i % size > i / size {
                        CAUSAL_MASK_VALUE as f64
                    } else {
                        0.0
                    }
                })
                .collect();
            cx.table(&format!("causal_mask_{size}"), &shape, &data)
        }
        _ => Err(LowerError::Unsupported {
            op: n.op.to_string(),
            target: cx.opts.target_name(),
            reason: "computed by the executor on the host".to_string(),
        }),
    }
}
