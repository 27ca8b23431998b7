//! Naive f64 references for the window and matrix ops (written for clarity, not speed).

/// Multi-indices over `extents`, row-major.
pub fn indices(extents: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &n in extents {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..n).map(move |i| {
                    let mut v = prefix.clone();
                    v.push(i);
                    v
                })
            })
            .collect();
    }
    out
}

fn flat(index: &[usize], shape: &[usize]) -> usize {
    index.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

/// Geometry of a convolution for the references.
pub struct ConvRef<'a> {
    pub x_shape: &'a [usize],
    pub w_shape: &'a [usize],
    pub out_sp: &'a [usize],
    pub strides: &'a [usize],
    pub dilations: &'a [usize],
    pub pads_before: &'a [usize],
    pub groups: usize,
}

/// MIL `conv`: cross-correlation with zero padding.
pub fn conv(g: &ConvRef<'_>, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f64> {
    let (n, cin, cout) = (g.x_shape[0], g.x_shape[1], g.w_shape[0]);
    let (cin_g, cout_g) = (cin / g.groups, cout / g.groups);
    let in_sp = &g.x_shape[2..];
    let kernel = &g.w_shape[2..];
    let mut out = Vec::new();
    for b in 0..n {
        for co in 0..cout {
            let grp = co / cout_g;
            for o in indices(g.out_sp) {
                let mut s = bias.map_or(0.0, |bv| f64::from(bv[co]));
                for cl in 0..cin_g {
                    let ci = grp * cin_g + cl;
                    for k in indices(kernel) {
                        let pos: Vec<isize> = (0..o.len())
                            .map(|d| {
                                (o[d] * g.strides[d] + k[d] * g.dilations[d]) as isize
                                    - g.pads_before[d] as isize
                            })
                            .collect();
                        if pos
                            .iter()
                            .zip(in_sp)
                            .all(|(&p, &dim)| p >= 0 && (p as usize) < dim)
                        {
                            let pos: Vec<usize> = pos.iter().map(|&p| p as usize).collect();
                            let xv = x[(b * cin + ci) * in_sp.iter().product::<usize>()
                                + flat(&pos, in_sp)];
                            let wv = w[(co * cin_g + cl) * kernel.iter().product::<usize>()
                                + flat(&k, kernel)];
                            s += f64::from(xv) * f64::from(wv);
                        }
                    }
                }
                out.push(s);
            }
        }
    }
    out
}

/// MIL `conv_transpose` (`w_shape = [C_in, C_out/groups, *K]`).
pub fn conv_transpose(g: &ConvRef<'_>, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f64> {
    let (n, cin) = (g.x_shape[0], g.x_shape[1]);
    let cout_g = g.w_shape[1];
    let cout = cout_g * g.groups;
    let cin_g = cin / g.groups;
    let in_sp = &g.x_shape[2..];
    let kernel = &g.w_shape[2..];
    let out_plane: usize = g.out_sp.iter().product();
    let mut out = vec![0f64; n * cout * out_plane];
    for b in 0..n {
        for co in 0..cout {
            let base = (b * cout + co) * out_plane;
            out[base..base + out_plane].fill(bias.map_or(0.0, |bv| f64::from(bv[co])));
        }
        for ci in 0..cin {
            let grp = ci / cin_g;
            for i in indices(in_sp) {
                let xv = f64::from(
                    x[(b * cin + ci) * in_sp.iter().product::<usize>() + flat(&i, in_sp)],
                );
                for cl in 0..cout_g {
                    let co = grp * cout_g + cl;
                    for k in indices(kernel) {
                        let pos: Vec<isize> = (0..i.len())
                            .map(|d| {
                                (i[d] * g.strides[d] + k[d] * g.dilations[d]) as isize
                                    - g.pads_before[d] as isize
                            })
                            .collect();
                        if pos
                            .iter()
                            .zip(g.out_sp)
                            .all(|(&p, &dim)| p >= 0 && (p as usize) < dim)
                        {
                            let pos: Vec<usize> = pos.iter().map(|&p| p as usize).collect();
                            let wv = f64::from(
                                w[(ci * cout_g + cl) * kernel.iter().product::<usize>()
                                    + flat(&k, kernel)],
                            );
                            out[(b * cout + co) * out_plane + flat(&pos, g.out_sp)] += xv * wv;
                        }
                    }
                }
            }
        }
    }
    out
}

/// `[b, m, k] · [b, k, n]` products with broadcast batch offsets already applied.
pub fn matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Vec<f64> {
    let mut out = vec![0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k)
                .map(|p| {
                    let av = if ta { a[p * m + i] } else { a[i * k + p] };
                    let bv = if tb { b[j * k + p] } else { b[p * n + j] };
                    f64::from(av) * f64::from(bv)
                })
                .sum();
        }
    }
    out
}
