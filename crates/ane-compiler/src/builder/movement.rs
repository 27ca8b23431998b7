//! Builder methods for reductions and data movement.

use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;
use crate::shape::{normalize_axis, Shape};

impl Graph {
    /// Sum over `axes` (any order, negatives allowed); `keep_dims` keeps them as size 1.
    pub fn reduce_sum(
        &mut self,
        x: ValueId,
        axes: &[isize],
        keep_dims: bool,
    ) -> Result<ValueId, GraphError> {
        let mut normalized = axes
            .iter()
            .map(|&a| self.resolve_axis("reduce_sum", x, a))
            .collect::<Result<Vec<_>, _>>()?;
        normalized.sort_unstable();
        normalized.dedup();
        self.add_node(
            Op::ReduceSum {
                axes: normalized,
                keep_dims,
            },
            &[x],
        )
    }

    /// Sum of every element, as a scalar `[]`.
    pub fn sum_all(&mut self, x: ValueId) -> Result<ValueId, GraphError> {
        let rank = self.shape(x)?.rank();
        if rank == 0 {
            return Ok(x);
        }
        let axes = (0..rank as isize).collect::<Vec<_>>();
        self.reduce_sum(x, &axes, false)
    }

    /// Sums `x` down to `shape`, undoing a numpy broadcast from `shape` to `x`'s shape (the
    /// gradient of a broadcast). Returns `x` when the shapes already match.
    pub fn sum_to(&mut self, x: ValueId, shape: &Shape) -> Result<ValueId, GraphError> {
        let from = self.shape(x)?.clone();
        if from == *shape {
            return Ok(x);
        }
        let lead = from.rank().checked_sub(shape.rank());
        let Some(lead) = lead else {
            return Err(GraphError::BadAttribute {
                op: "sum_to".into(),
                message: format!("cannot sum {from} down to the higher-rank {shape}"),
            });
        };
        let mut axes = (0..lead).collect::<Vec<_>>();
        for (i, &d) in shape.dims().iter().enumerate() {
            let src = from.dims()[lead + i];
            if d == 1 && src != 1 {
                axes.push(lead + i);
            } else if d != src {
                return Err(GraphError::BadAttribute {
                    op: "sum_to".into(),
                    message: format!("{shape} does not broadcast to {from}"),
                });
            }
        }
        let summed = self.add_node(
            Op::ReduceSum {
                axes,
                keep_dims: true,
            },
            &[x],
        )?;
        self.reshape(summed, shape.dims())
    }

    /// Broadcasts `x` to `shape` (numpy rules).
    pub fn broadcast_to(&mut self, x: ValueId, shape: &[usize]) -> Result<ValueId, GraphError> {
        self.add_node(
            Op::BroadcastTo {
                shape: Shape::from(shape),
            },
            &[x],
        )
    }

    /// Same elements, row-major, new shape. Returns `x` when the shape is unchanged.
    pub fn reshape(&mut self, x: ValueId, shape: &[usize]) -> Result<ValueId, GraphError> {
        if self.shape(x)?.dims() == shape {
            return Ok(x);
        }
        self.add_node(
            Op::Reshape {
                shape: Shape::from(shape),
            },
            &[x],
        )
    }

    /// Reorders axes: output axis `i` is input axis `perm[i]`.
    pub fn permute(&mut self, x: ValueId, perm: &[usize]) -> Result<ValueId, GraphError> {
        self.add_node(
            Op::Permute {
                perm: perm.to_vec(),
            },
            &[x],
        )
    }

    /// Swaps two axes.
    pub fn transpose(&mut self, x: ValueId, a: isize, b: isize) -> Result<ValueId, GraphError> {
        let a = self.resolve_axis("transpose", x, a)?;
        let b = self.resolve_axis("transpose", x, b)?;
        let mut perm = (0..self.shape(x)?.rank()).collect::<Vec<_>>();
        perm.swap(a, b);
        self.permute(x, &perm)
    }

    /// Joins `values` along `axis`.
    pub fn concat(&mut self, values: &[ValueId], axis: isize) -> Result<ValueId, GraphError> {
        let Some(&first) = values.first() else {
            return Err(GraphError::BadAttribute {
                op: "concat".into(),
                message: "needs at least one value".into(),
            });
        };
        let axis = self.resolve_axis("concat", first, axis)?;
        self.add_node(Op::Concat { axis }, values)
    }

    /// The range `start..end` of `axis`.
    pub fn slice(
        &mut self,
        x: ValueId,
        axis: isize,
        start: usize,
        end: usize,
    ) -> Result<ValueId, GraphError> {
        let axis = self.resolve_axis("slice", x, axis)?;
        self.add_node(Op::Slice { axis, start, end }, &[x])
    }

    /// Zero padding of `before` and `after` elements along `axis`.
    pub fn pad(
        &mut self,
        x: ValueId,
        axis: isize,
        before: usize,
        after: usize,
    ) -> Result<ValueId, GraphError> {
        let axis = self.resolve_axis("pad", x, axis)?;
        self.add_node(
            Op::Pad {
                axis,
                before,
                after,
            },
            &[x],
        )
    }

    /// Resolves a possibly negative axis of `x`, or an error naming the op.
    pub(crate) fn resolve_axis(
        &self,
        op: &str,
        x: ValueId,
        axis: isize,
    ) -> Result<usize, GraphError> {
        let shape = self.shape(x)?;
        normalize_axis(axis, shape.rank()).ok_or_else(|| GraphError::BadAttribute {
            op: op.to_string(),
            message: format!("axis {axis} is out of range for {x} of shape {shape}"),
        })
    }
}
