//! Evaluation of `conv2d` and its backward ops, as direct sums over the convolution's index space.

use super::Tensor;
use crate::op::{Conv2dParams, Op};
use crate::shape::ValueType;

/// The index space shared by the forward and both backward computations.
struct Geometry {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    p: Conv2dParams,
}

impl Geometry {
    fn in_channels_per_group(&self) -> usize {
        self.c / self.p.groups
    }

    fn out_channels_per_group(&self) -> usize {
        self.o / self.p.groups
    }

    /// Calls `f(x_offset, w_offset, y_offset)` for every (input, weight, output) triple that
    /// contributes, i.e. `y[n,o,i,j] += x[n,c,ih,iw]·w[o,c',a,b]` with the input inside the padding.
    fn for_each_tap(&self, mut f: impl FnMut(usize, usize, usize)) {
        let (cg, og) = (self.in_channels_per_group(), self.out_channels_per_group());
        for n in 0..self.n {
            for o in 0..self.o {
                let group = o / og;
                for i in 0..self.oh {
                    for j in 0..self.ow {
                        let y_off = ((n * self.o + o) * self.oh + i) * self.ow + j;
                        for ci in 0..cg {
                            let c = group * cg + ci;
                            for a in 0..self.kh {
                                let Some(ih) =
                                    (i * self.p.stride[0] + a).checked_sub(self.p.padding[0])
                                else {
                                    continue;
                                };
                                if ih >= self.h {
                                    continue;
                                }
                                for b in 0..self.kw {
                                    let Some(iw) =
                                        (j * self.p.stride[1] + b).checked_sub(self.p.padding[1])
                                    else {
                                        continue;
                                    };
                                    if iw >= self.w {
                                        continue;
                                    }
                                    let x_off = ((n * self.c + c) * self.h + ih) * self.w + iw;
                                    let w_off = ((o * cg + ci) * self.kh + a) * self.kw + b;
                                    f(x_off, w_off, y_off);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn eval(op: &Op, x: &[&Tensor], out: &ValueType) -> Tensor {
    let mut result = Tensor::zeros(out.shape.clone());
    match op {
        Op::Conv2d(p) => {
            let (input, w) = (x[0], x[1]);
            let (xd, wd, yd) = (input.shape().dims(), w.shape().dims(), out.shape.dims());
            let g = Geometry {
                n: xd[0],
                c: xd[1],
                h: xd[2],
                w: xd[3],
                o: wd[0],
                kh: wd[2],
                kw: wd[3],
                oh: yd[2],
                ow: yd[3],
                p: *p,
            };
            let y = result.data_mut();
            g.for_each_tap(|xo, wo, yo| y[yo] += input.data()[xo] * w.data()[wo]);
            if let Some(bias) = x.get(2) {
                let plane = g.oh * g.ow;
                for (i, v) in y.iter_mut().enumerate() {
                    *v += bias.data()[(i / plane) % g.o];
                }
            }
        }
        Op::Conv2dBackwardData { params, .. } => {
            let (dy, w) = (x[0], x[1]);
            let (dd, wd, xd) = (dy.shape().dims(), w.shape().dims(), out.shape.dims());
            let g = Geometry {
                n: xd[0],
                c: xd[1],
                h: xd[2],
                w: xd[3],
                o: wd[0],
                kh: wd[2],
                kw: wd[3],
                oh: dd[2],
                ow: dd[3],
                p: *params,
            };
            let dx = result.data_mut();
            g.for_each_tap(|xo, wo, yo| dx[xo] += dy.data()[yo] * w.data()[wo]);
        }
        Op::Conv2dBackwardWeight { params, .. } => {
            let (input, dy) = (x[0], x[1]);
            let (xd, dd, wd) = (input.shape().dims(), dy.shape().dims(), out.shape.dims());
            let g = Geometry {
                n: xd[0],
                c: xd[1],
                h: xd[2],
                w: xd[3],
                o: wd[0],
                kh: wd[2],
                kw: wd[3],
                oh: dd[2],
                ow: dd[3],
                p: *params,
            };
            let dw = result.data_mut();
            g.for_each_tap(|xo, wo, yo| dw[wo] += dy.data()[yo] * input.data()[xo]);
        }
        _ => unreachable!("conv::eval called for {}", op.name()),
    }
    result
}
