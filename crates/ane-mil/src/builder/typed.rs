//! Typed helpers on [`FunctionBuilder`] for every op the compiler emits. Each one passes its
//! parameters to the generic [`FunctionBuilder::op`], which adds every omitted default explicitly.

use super::error::BuildError;
use super::function::{Arg, FunctionBuilder, Var};
use super::params::{
    size, sizes, ConvParams, ConvTransposeParams, GeluMode, PadMode, PadSpec, PoolParams,
    ScatterMode, SliceByIndex, Split,
};
use crate::dtype::DType;
use crate::ops::number_literal;

/// Adds the window arguments shared by conv and conv_transpose.
fn window_args(
    args: &mut Vec<(&'static str, Arg)>,
    strides: &[usize],
    pad: &PadSpec,
    dilations: &[usize],
    groups: usize,
    bias: Option<&Var>,
) -> Result<(), BuildError> {
    args.push(("strides", sizes("strides", strides)?));
    args.push(("pad_type", Arg::string(pad.pad_type())));
    if let PadSpec::Custom(p) = pad {
        args.push(("pad", sizes("pad", p)?));
    }
    args.push(("dilations", sizes("dilations", dilations)?));
    args.push(("groups", size("groups", groups)?));
    if let Some(b) = bias {
        args.push(("bias", b.into()));
    }
    Ok(())
}

macro_rules! unary_ops {
    ($($(#[$doc:meta])* $name:ident => $op:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&mut self, x: &Var) -> Result<Var, BuildError> {
                self.single($op, &[("x", x.into())])
            }
        )*
    };
}

macro_rules! binary_ops {
    ($($(#[$doc:meta])* $name:ident => $op:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&mut self, x: &Var, y: &Var) -> Result<Var, BuildError> {
                self.single($op, &[("x", x.into()), ("y", y.into())])
            }
        )*
    };
}

macro_rules! reductions {
    ($($(#[$doc:meta])* $name:ident => $op:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&mut self, x: &Var, axes: &[i32], keep_dims: bool) -> Result<Var, BuildError> {
                self.single($op, &[("x", x.into()), ("axes", Arg::ints(axes)), ("keep_dims", Arg::bool(keep_dims))])
            }
        )*
    };
}

impl FunctionBuilder {
    /// `conv`: `x` `[n, C_in, *D]` with `weight` `[C_out, C_in/groups, *K]`.
    pub fn conv(&mut self, x: &Var, weight: &Var, p: &ConvParams) -> Result<Var, BuildError> {
        let mut args = vec![("x", x.into()), ("weight", weight.into())];
        window_args(
            &mut args,
            &p.strides,
            &p.pad,
            &p.dilations,
            p.groups,
            p.bias.as_ref(),
        )?;
        self.single("conv", &args)
    }

    /// `conv_transpose`: `weight` `[C_in, C_out/groups, *K]`.
    pub fn conv_transpose(
        &mut self,
        x: &Var,
        weight: &Var,
        p: &ConvTransposeParams,
    ) -> Result<Var, BuildError> {
        let mut args = vec![("x", x.into()), ("weight", weight.into())];
        window_args(
            &mut args,
            &p.strides,
            &p.pad,
            &p.dilations,
            p.groups,
            p.bias.as_ref(),
        )?;
        if let Some(shape) = &p.output_shape {
            args.push(("output_shape", sizes("output_shape", shape)?));
        }
        self.single("conv_transpose", &args)
    }

    /// `matmul` with optional transposes of the last two dims.
    pub fn matmul(
        &mut self,
        x: &Var,
        y: &Var,
        transpose_x: bool,
        transpose_y: bool,
    ) -> Result<Var, BuildError> {
        self.single(
            "matmul",
            &[
                ("x", x.into()),
                ("y", y.into()),
                ("transpose_x", Arg::bool(transpose_x)),
                ("transpose_y", Arg::bool(transpose_y)),
            ],
        )
    }

    /// `linear`: `x · weightᵀ + bias` (the bias defaults to zeros, emitted explicitly).
    pub fn linear(&mut self, x: &Var, weight: &Var, bias: Option<&Var>) -> Result<Var, BuildError> {
        let mut args = vec![("x", x.into()), ("weight", weight.into())];
        if let Some(b) = bias {
            args.push(("bias", b.into()));
        }
        self.single("linear", &args)
    }

    binary_ops! {
        /// `add`: `x + y` with broadcasting.
        add => "add";
        /// `sub`: `x − y`.
        sub => "sub";
        /// `mul`: `x · y`.
        mul => "mul";
        /// `real_div`: `x / y`.
        real_div => "real_div";
        /// `pow`: `x ^ y`.
        pow => "pow";
        /// `maximum`.
        maximum => "maximum";
        /// `minimum`.
        minimum => "minimum";
        /// `equal` (bool output).
        equal => "equal";
        /// `not_equal`.
        not_equal => "not_equal";
        /// `greater`.
        greater => "greater";
        /// `greater_equal`.
        greater_equal => "greater_equal";
        /// `less`.
        less => "less";
        /// `less_equal`.
        less_equal => "less_equal";
    }

    unary_ops! {
        /// `relu`.
        relu => "relu";
        /// `sigmoid`.
        sigmoid => "sigmoid";
        /// `silu`: `x · sigmoid(x)`.
        silu => "silu";
        /// `tanh`.
        tanh => "tanh";
        /// `exp`.
        exp => "exp";
        /// `sqrt`.
        sqrt => "sqrt";
        /// `abs`.
        abs => "abs";
        /// `square`.
        square => "square";
        /// `identity`.
        identity => "identity";
        /// `logical_not`.
        logical_not => "logical_not";
    }

    /// `gelu` in the given mode.
    pub fn gelu(&mut self, x: &Var, mode: GeluMode) -> Result<Var, BuildError> {
        self.single(
            "gelu",
            &[("x", x.into()), ("mode", Arg::string(mode.name()))],
        )
    }

    /// `softmax` along `axis`.
    pub fn softmax(&mut self, x: &Var, axis: i32) -> Result<Var, BuildError> {
        self.single("softmax", &[("x", x.into()), ("axis", Arg::int(axis))])
    }

    /// `log(x + epsilon)`, epsilon in `x`'s dtype.
    pub fn log(&mut self, x: &Var, epsilon: f64) -> Result<Var, BuildError> {
        self.single("log", &[("x", x.into()), ("epsilon", Arg::Number(epsilon))])
    }

    /// `1 / sqrt(x + epsilon)`, epsilon in `x`'s dtype.
    pub fn rsqrt(&mut self, x: &Var, epsilon: f64) -> Result<Var, BuildError> {
        self.single(
            "rsqrt",
            &[("x", x.into()), ("epsilon", Arg::Number(epsilon))],
        )
    }

    /// `1 / (x + epsilon)`, epsilon in `x`'s dtype.
    pub fn inverse(&mut self, x: &Var, epsilon: f64) -> Result<Var, BuildError> {
        self.single(
            "inverse",
            &[("x", x.into()), ("epsilon", Arg::Number(epsilon))],
        )
    }

    /// `clip` to `[alpha, beta]`, both in `x`'s dtype.
    pub fn clip(&mut self, x: &Var, alpha: f64, beta: f64) -> Result<Var, BuildError> {
        self.single(
            "clip",
            &[
                ("x", x.into()),
                ("alpha", Arg::Number(alpha)),
                ("beta", Arg::Number(beta)),
            ],
        )
    }

    /// `cast` to `dtype`.
    pub fn cast(&mut self, x: &Var, dtype: DType) -> Result<Var, BuildError> {
        self.single(
            "cast",
            &[("x", x.into()), ("dtype", Arg::string(dtype.name()))],
        )
    }

    /// `layer_norm` over `axes`; epsilon takes the dtype of `gamma`/`beta` (else of `x`).
    pub fn layer_norm(
        &mut self,
        x: &Var,
        axes: &[i32],
        gamma: Option<&Var>,
        beta: Option<&Var>,
        epsilon: f64,
    ) -> Result<Var, BuildError> {
        let mut args = vec![
            ("x", x.into()),
            ("axes", Arg::ints(axes)),
            ("epsilon", Arg::Number(epsilon)),
        ];
        args.extend(gamma.map(|g| ("gamma", g.into())));
        args.extend(beta.map(|b| ("beta", b.into())));
        self.single("layer_norm", &args)
    }

    /// `batch_norm` with per-channel `mean` and `variance`.
    pub fn batch_norm(
        &mut self,
        x: &Var,
        mean: &Var,
        variance: &Var,
        gamma: Option<&Var>,
        beta: Option<&Var>,
        epsilon: f64,
    ) -> Result<Var, BuildError> {
        let mut args = vec![
            ("x", x.into()),
            ("mean", mean.into()),
            ("variance", variance.into()),
            ("epsilon", Arg::Number(epsilon)),
        ];
        args.extend(gamma.map(|g| ("gamma", g.into())));
        args.extend(beta.map(|b| ("beta", b.into())));
        self.single("batch_norm", &args)
    }

    /// `instance_norm`.
    pub fn instance_norm(
        &mut self,
        x: &Var,
        gamma: Option<&Var>,
        beta: Option<&Var>,
        epsilon: f64,
    ) -> Result<Var, BuildError> {
        let mut args = vec![("x", x.into()), ("epsilon", Arg::Number(epsilon))];
        args.extend(gamma.map(|g| ("gamma", g.into())));
        args.extend(beta.map(|b| ("beta", b.into())));
        self.single("instance_norm", &args)
    }

    reductions! {
        /// `reduce_sum` over `axes`.
        reduce_sum => "reduce_sum";
        /// `reduce_mean` over `axes`.
        reduce_mean => "reduce_mean";
        /// `reduce_max` over `axes`.
        reduce_max => "reduce_max";
        /// `reduce_min` over `axes`.
        reduce_min => "reduce_min";
        /// `reduce_l2_norm` over `axes`.
        reduce_l2_norm => "reduce_l2_norm";
    }

    /// `reduce_argmax` along `axis` (int32 output; iOS17+ emits `output_dtype = "int32"`).
    pub fn reduce_argmax(
        &mut self,
        x: &Var,
        axis: i32,
        keep_dims: bool,
    ) -> Result<Var, BuildError> {
        self.single(
            "reduce_argmax",
            &[
                ("x", x.into()),
                ("axis", Arg::int(axis)),
                ("keep_dims", Arg::bool(keep_dims)),
            ],
        )
    }

    /// `slice_by_size` (`-1` sizes run to the end).
    pub fn slice_by_size(
        &mut self,
        x: &Var,
        begin: &[i32],
        size: &[i32],
    ) -> Result<Var, BuildError> {
        self.single(
            "slice_by_size",
            &[
                ("x", x.into()),
                ("begin", Arg::ints(begin)),
                ("size", Arg::ints(size)),
            ],
        )
    }

    /// `slice_by_index` (numpy-style `x[b:e:s, …]`).
    pub fn slice_by_index(&mut self, x: &Var, s: &SliceByIndex) -> Result<Var, BuildError> {
        let mut args = vec![
            ("x", x.into()),
            ("begin", Arg::ints(&s.begin)),
            ("end", Arg::ints(&s.end)),
        ];
        args.extend(s.stride.as_deref().map(|v| ("stride", Arg::ints(v))));
        args.extend(
            s.begin_mask
                .as_deref()
                .map(|v| ("begin_mask", Arg::bools(v))),
        );
        args.extend(s.end_mask.as_deref().map(|v| ("end_mask", Arg::bools(v))));
        args.extend(
            s.squeeze_mask
                .as_deref()
                .map(|v| ("squeeze_mask", Arg::bools(v))),
        );
        self.single("slice_by_index", &args)
    }

    /// `reshape` to `shape` (`-1` infers one dim, `0` copies per the opset's rule).
    pub fn reshape(&mut self, x: &Var, shape: &[i32]) -> Result<Var, BuildError> {
        self.single("reshape", &[("x", x.into()), ("shape", Arg::ints(shape))])
    }

    /// `transpose` by `perm`.
    pub fn transpose(&mut self, x: &Var, perm: &[i32]) -> Result<Var, BuildError> {
        self.single("transpose", &[("x", x.into()), ("perm", Arg::ints(perm))])
    }

    /// `concat` along `axis`, optionally interleaved.
    pub fn concat(
        &mut self,
        values: &[&Var],
        axis: i32,
        interleave: bool,
    ) -> Result<Var, BuildError> {
        let values: Vec<Var> = values.iter().map(|&v| v.clone()).collect();
        self.single(
            "concat",
            &[
                ("values", Arg::Tuple(values)),
                ("axis", Arg::int(axis)),
                ("interleave", Arg::bool(interleave)),
            ],
        )
    }

    /// `split` along `axis`; one output per part.
    pub fn split(&mut self, x: &Var, axis: i32, split: &Split) -> Result<Vec<Var>, BuildError> {
        let parts = match split {
            Split::Count(n) => ("num_splits", size("num_splits", *n)?),
            Split::Sizes(s) => ("split_sizes", sizes("split_sizes", s)?),
        };
        self.op(
            "split",
            "split",
            &[("x", x.into()), ("axis", Arg::int(axis)), parts],
        )
    }

    /// `squeeze` the listed size-1 `axes`.
    pub fn squeeze(&mut self, x: &Var, axes: &[i32]) -> Result<Var, BuildError> {
        self.single("squeeze", &[("x", x.into()), ("axes", Arg::ints(axes))])
    }

    /// `expand_dims` at `axes` (of the output).
    pub fn expand_dims(&mut self, x: &Var, axes: &[i32]) -> Result<Var, BuildError> {
        self.single("expand_dims", &[("x", x.into()), ("axes", Arg::ints(axes))])
    }

    /// `tile` by `reps`.
    pub fn tile(&mut self, x: &Var, reps: &[i32]) -> Result<Var, BuildError> {
        self.single("tile", &[("x", x.into()), ("reps", Arg::ints(reps))])
    }

    /// `pad` the last `pads.len() / 2` dims; `constant_val` in `x`'s dtype.
    pub fn pad(
        &mut self,
        x: &Var,
        pads: &[i32],
        mode: PadMode,
        constant_val: f64,
    ) -> Result<Var, BuildError> {
        self.single(
            "pad",
            &[
                ("x", x.into()),
                ("pad", Arg::ints(pads)),
                ("mode", Arg::string(mode.name())),
                ("constant_val", Arg::Number(constant_val)),
            ],
        )
    }

    fn pool(
        &mut self,
        op: &str,
        x: &Var,
        p: &PoolParams,
        extra: Option<(&'static str, Arg)>,
    ) -> Result<Var, BuildError> {
        let mut args = vec![
            ("x", x.into()),
            ("kernel_sizes", sizes("kernel_sizes", &p.kernel_sizes)?),
            ("strides", sizes("strides", &p.strides)?),
            ("pad_type", Arg::string(p.pad.pad_type())),
            ("ceil_mode", Arg::bool(p.ceil_mode)),
        ];
        if let PadSpec::Custom(pads) = &p.pad {
            args.push(("pad", sizes("pad", pads)?));
        }
        args.extend(extra);
        self.single(op, &args)
    }

    /// `max_pool`.
    pub fn max_pool(&mut self, x: &Var, p: &PoolParams) -> Result<Var, BuildError> {
        self.pool("max_pool", x, p, None)
    }

    /// `avg_pool`; `exclude_padding` divides by the real elements of each window only.
    pub fn avg_pool(
        &mut self,
        x: &Var,
        p: &PoolParams,
        exclude_padding: bool,
    ) -> Result<Var, BuildError> {
        self.pool(
            "avg_pool",
            x,
            p,
            Some(("exclude_padding_from_average", Arg::bool(exclude_padding))),
        )
    }

    /// `gather` along `axis` (no batch dims).
    pub fn gather(&mut self, x: &Var, indices: &Var, axis: i32) -> Result<Var, BuildError> {
        self.single(
            "gather",
            &[
                ("x", x.into()),
                ("indices", indices.into()),
                ("axis", Arg::int(axis)),
            ],
        )
    }

    /// `gather_along_axis` (`take_along_axis`).
    pub fn gather_along_axis(
        &mut self,
        x: &Var,
        indices: &Var,
        axis: i32,
    ) -> Result<Var, BuildError> {
        self.single(
            "gather_along_axis",
            &[
                ("x", x.into()),
                ("indices", indices.into()),
                ("axis", Arg::int(axis)),
            ],
        )
    }

    /// `scatter_along_axis`.
    pub fn scatter_along_axis(
        &mut self,
        data: &Var,
        indices: &Var,
        updates: &Var,
        axis: i32,
        mode: ScatterMode,
    ) -> Result<Var, BuildError> {
        self.single(
            "scatter_along_axis",
            &[
                ("data", data.into()),
                ("indices", indices.into()),
                ("updates", updates.into()),
                ("axis", Arg::int(axis)),
                ("mode", Arg::string(mode.name())),
            ],
        )
    }

    /// `one_hot` with `depth` classes inserted at `axis`; `on`/`off` values of `dtype`.
    pub fn one_hot(
        &mut self,
        indices: &Var,
        depth: usize,
        axis: i32,
        on: f64,
        off: f64,
        dtype: DType,
    ) -> Result<Var, BuildError> {
        let value = |v: f64, arg: &str| {
            number_literal(dtype, &[], &[v])
                .map(Arg::from)
                .ok_or_else(|| BuildError::InvalidLiteral {
                    op: "one_hot".to_string(),
                    arg: arg.to_string(),
                    message: format!("{v} cannot be a {dtype} scalar"),
                })
        };
        self.single(
            "one_hot",
            &[
                ("indices", indices.into()),
                ("one_hot_vector_size", size("one_hot_vector_size", depth)?),
                ("axis", Arg::int(axis)),
                ("on_value", value(on, "on_value")?),
                ("off_value", value(off, "off_value")?),
            ],
        )
    }

    /// `select`: `a` where `cond`, else `b`.
    pub fn select(&mut self, cond: &Var, a: &Var, b: &Var) -> Result<Var, BuildError> {
        self.single(
            "select",
            &[("cond", cond.into()), ("a", a.into()), ("b", b.into())],
        )
    }

    /// `band_part` keeping `lower` sub- and `upper` super-diagonals (negative = all).
    pub fn band_part(&mut self, x: &Var, lower: i32, upper: i32) -> Result<Var, BuildError> {
        self.single(
            "band_part",
            &[
                ("x", x.into()),
                ("lower", Arg::int(lower)),
                ("upper", Arg::int(upper)),
            ],
        )
    }

    /// `cumsum` along `axis`.
    pub fn cumsum(
        &mut self,
        x: &Var,
        axis: i32,
        exclusive: bool,
        reverse: bool,
    ) -> Result<Var, BuildError> {
        self.single(
            "cumsum",
            &[
                ("x", x.into()),
                ("axis", Arg::int(axis)),
                ("exclusive", Arg::bool(exclusive)),
                ("reverse", Arg::bool(reverse)),
            ],
        )
    }

    /// `scaled_dot_product_attention` (ios18).
    pub fn scaled_dot_product_attention(
        &mut self,
        query: &Var,
        key: &Var,
        value: &Var,
        attn_mask: Option<&Var>,
    ) -> Result<Var, BuildError> {
        let mut args = vec![
            ("query", query.into()),
            ("key", key.into()),
            ("value", value.into()),
        ];
        args.extend(attn_mask.map(|m| ("attn_mask", m.into())));
        self.single("scaled_dot_product_attention", &args)
    }
}
