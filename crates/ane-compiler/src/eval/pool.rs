//! Evaluation of max/avg pooling and their backward ops.

use super::Tensor;
use crate::op::{Op, Pool2dParams};
use crate::shape::ValueType;

/// The in-bounds input positions `(ih, iw)` of window `(i, j)` in row-major window order, and the
/// full window size (padding included).
fn window(p: &Pool2dParams, hw: [usize; 2], i: usize, j: usize) -> Vec<(usize, usize)> {
    let mut taps = Vec::with_capacity(p.kernel[0] * p.kernel[1]);
    for a in 0..p.kernel[0] {
        for b in 0..p.kernel[1] {
            let ih = (i * p.stride[0] + a).checked_sub(p.padding[0]);
            let iw = (j * p.stride[1] + b).checked_sub(p.padding[1]);
            if let (Some(ih), Some(iw)) = (ih, iw) {
                if ih < hw[0] && iw < hw[1] {
                    taps.push((ih, iw));
                }
            }
        }
    }
    taps
}

/// Index of the window's maximum among `taps`: the first one in window order on ties.
fn argmax(plane: &[f64], width: usize, taps: &[(usize, usize)]) -> usize {
    let mut best = 0;
    for (k, &(ih, iw)) in taps.iter().enumerate() {
        let (bh, bw) = taps[best];
        if plane[ih * width + iw] > plane[bh * width + bw] {
            best = k;
        }
    }
    best
}

pub(super) fn eval(op: &Op, x: &[&Tensor], out: &ValueType) -> Tensor {
    let mut result = Tensor::zeros(out.shape.clone());
    match op {
        Op::MaxPool2d(p) | Op::AvgPool2d { pool: p, .. } => {
            let (xd, yd) = (x[0].shape().dims(), out.shape.dims());
            let (hw, ohw) = ([xd[2], xd[3]], [yd[2], yd[3]]);
            let include_pad = matches!(
                op,
                Op::AvgPool2d {
                    count_include_pad: true,
                    ..
                }
            );
            let y = result.data_mut();
            for plane_index in 0..xd[0] * xd[1] {
                let plane =
                    &x[0].data()[plane_index * hw[0] * hw[1]..(plane_index + 1) * hw[0] * hw[1]];
                for i in 0..ohw[0] {
                    for j in 0..ohw[1] {
                        let taps = window(p, hw, i, j);
                        let value = if let Op::MaxPool2d(_) = op {
                            let (ih, iw) = taps[argmax(plane, hw[1], &taps)];
                            plane[ih * hw[1] + iw]
                        } else {
                            let sum: f64 =
                                taps.iter().map(|&(ih, iw)| plane[ih * hw[1] + iw]).sum();
                            let count = if include_pad {
                                p.kernel[0] * p.kernel[1]
                            } else {
                                taps.len()
                            };
                            sum / count as f64
                        };
                        y[(plane_index * ohw[0] + i) * ohw[1] + j] = value;
                    }
                }
            }
        }
        Op::MaxPool2dBackward(p) => {
            let (xd, dyd) = (x[0].shape().dims(), x[1].shape().dims());
            let (hw, ohw) = ([xd[2], xd[3]], [dyd[2], dyd[3]]);
            let dx = result.data_mut();
            for plane_index in 0..xd[0] * xd[1] {
                let base = plane_index * hw[0] * hw[1];
                let plane = &x[0].data()[base..base + hw[0] * hw[1]];
                for i in 0..ohw[0] {
                    for j in 0..ohw[1] {
                        let taps = window(p, hw, i, j);
                        let (ih, iw) = taps[argmax(plane, hw[1], &taps)];
                        dx[base + ih * hw[1] + iw] +=
                            x[1].data()[(plane_index * ohw[0] + i) * ohw[1] + j];
                    }
                }
            }
        }
        Op::AvgPool2dBackward {
            pool: p,
            count_include_pad,
            input_hw: hw,
        } => {
            let dyd = x[0].shape().dims();
            let ohw = [dyd[2], dyd[3]];
            let dx = result.data_mut();
            for plane_index in 0..dyd[0] * dyd[1] {
                let base = plane_index * hw[0] * hw[1];
                for i in 0..ohw[0] {
                    for j in 0..ohw[1] {
                        let taps = window(p, *hw, i, j);
                        let count = if *count_include_pad {
                            p.kernel[0] * p.kernel[1]
                        } else {
                            taps.len()
                        };
                        let g = x[0].data()[(plane_index * ohw[0] + i) * ohw[1] + j] / count as f64;
                        for (ih, iw) in taps {
                            dx[base + ih * hw[1] + iw] += g;
                        }
                    }
                }
            }
        }
        _ => unreachable!("pool::eval called for {}", op.name()),
    }
    result
}
