//! `Model`: a module tree plus what it reads, turned into the graphs the executor compiles.
//!
//! One model gives three things that always agree with one another:
//! - the parameters ([`Model::param_specs`], [`Model::init_params`] → [`ParamStore`]), in
//!   declaration order, which is PyTorch's `named_parameters()` order;
//! - the training-step graph ([`Model::build_training_graph`]): forward, loss and the gradient of
//!   every parameter (outputs `loss`, optionally `logits`, then `grad.<param>`);
//! - the evaluation graph ([`Model::build_eval_graph`]): dropout off, outputs `logits` (and
//!   `loss` when a loss is given).
//!
//! Both graphs declare the same parameter inputs (same names, shapes and order as the store), so
//! a training plan and an evaluation plan compiled from them run on one `ParamStore`.

use super::error::NnError;
use super::module::{declare_in_graph, Ctx, Module, ParamSpec};
use crate::params::ParamStore;
use crate::rng::Rng;
use ane_compiler::autodiff::{grad_name, training_graph, GradOptions};
use ane_compiler::{DType, Graph, GraphError, GraphMode, ValueId, DROPOUT_RNG_INPUT};
use std::collections::HashSet;
use std::fmt;

/// Output name of the scalar loss.
pub const LOSS_OUTPUT: &str = "loss";
/// Output name of the model's output (logits for classifiers, predictions for regression).
pub const LOGITS_OUTPUT: &str = "logits";
/// Input name of the `i32` class labels of [`Loss::CrossEntropy`].
pub const LABELS_INPUT: &str = "labels";
/// Input name of the `f32` regression targets of [`Loss::Mse`].
pub const TARGETS_INPUT: &str = "targets";
/// The purpose string for [`Rng::derive`] that seeds initialization.
pub const INIT_RNG_PURPOSE: &str = "init";

/// What one example of the model's input looks like; graphs prepend the batch axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    /// `f32` features of shape `[B, ..shape]` (`[B, 784]` flattened images, `[B, 1, 28, 28]`).
    Dense {
        /// Graph input name (`images`).
        name: String,
        /// Shape of one example.
        shape: Vec<usize>,
    },
    /// `i32` token ids of shape `[B, seq_len]`, each below `vocab_size`.
    Tokens {
        /// Graph input name (`tokens`).
        name: String,
        /// Tokens per sequence.
        seq_len: usize,
        /// Number of distinct ids.
        vocab_size: usize,
    },
}

impl InputSpec {
    /// Images named `images` with per-example shape `shape`.
    pub fn images(shape: &[usize]) -> Self {
        InputSpec::Dense {
            name: "images".into(),
            shape: shape.to_vec(),
        }
    }

    /// Token ids named `tokens`.
    pub fn tokens(seq_len: usize, vocab_size: usize) -> Self {
        InputSpec::Tokens {
            name: "tokens".into(),
            seq_len,
            vocab_size,
        }
    }

    /// The graph input name.
    pub fn name(&self) -> &str {
        match self {
            InputSpec::Dense { name, .. } | InputSpec::Tokens { name, .. } => name,
        }
    }

    /// The full input shape for a batch.
    pub fn batch_shape(&self, batch_size: usize) -> Vec<usize> {
        match self {
            InputSpec::Dense { shape, .. } => std::iter::once(batch_size)
                .chain(shape.iter().copied())
                .collect(),
            InputSpec::Tokens { seq_len, .. } => vec![batch_size, *seq_len],
        }
    }

    /// The element type (`f32` features, `i32` ids).
    pub fn dtype(&self) -> DType {
        match self {
            InputSpec::Dense { .. } => DType::F32,
            InputSpec::Tokens { .. } => DType::I32,
        }
    }

    fn check(&self) -> Result<(), NnError> {
        let ok = match self {
            InputSpec::Dense { shape, .. } => !shape.contains(&0),
            InputSpec::Tokens {
                seq_len,
                vocab_size,
                ..
            } => *seq_len > 0 && *vocab_size > 0,
        };
        if ok {
            Ok(())
        } else {
            Err(NnError::BadInput(format!(
                "input `{}` has a zero size: {self:?}",
                self.name()
            )))
        }
    }
}

/// The training objective, applied to the model output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Mean softmax cross-entropy of logits `[..., C]` against `i32` labels `[...]` (input
    /// [`LABELS_INPUT`]), e.g. `[B]` for classifiers, `[B, S]` for language models.
    CrossEntropy,
    /// Mean squared error against `f32` targets shaped like the output (input [`TARGETS_INPUT`]).
    Mse,
}

impl Loss {
    /// The short name (`cross_entropy`, `mse`).
    pub fn name(self) -> &'static str {
        match self {
            Loss::CrossEntropy => "cross_entropy",
            Loss::Mse => "mse",
        }
    }

    /// The loss named `name` (`cross_entropy`/`ce`, `mse`).
    pub fn from_name(name: &str) -> Option<Loss> {
        match name {
            "cross_entropy" | "ce" | "cross-entropy" => Some(Loss::CrossEntropy),
            "mse" => Some(Loss::Mse),
            _ => None,
        }
    }

    /// The name of the graph input holding labels or targets.
    pub fn target_input(self) -> &'static str {
        match self {
            Loss::CrossEntropy => LABELS_INPUT,
            Loss::Mse => TARGETS_INPUT,
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Options of [`Model::build_training_graph_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainingGraphOptions {
    /// The objective.
    pub loss: Loss,
    /// Also output [`LOGITS_OUTPUT`] (for training accuracy); costs a device→host copy per step.
    pub output_logits: bool,
}

/// A parameter and the training-graph output carrying its gradient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradOutput {
    /// The parameter name (`0.weight`).
    pub param: String,
    /// The output name (`grad.0.weight`).
    pub output: String,
}

/// A traced graph and the names the executor needs to feed it and read it.
#[derive(Debug, Clone)]
pub struct ModelGraph {
    /// The graph (training mode with gradients, or evaluation mode).
    pub graph: Graph,
    /// The batch size it was traced for.
    pub batch_size: usize,
    /// Name of the data input ([`InputSpec::name`]).
    pub input: String,
    /// Name of the labels/targets input, when the graph computes a loss.
    pub target: Option<String>,
    /// Name of the loss output ([`LOSS_OUTPUT`]), when the graph computes a loss.
    pub loss: Option<String>,
    /// Name of the model-output output ([`LOGITS_OUTPUT`]), when it is an output.
    pub logits: Option<String>,
    /// Name of the `i32[2]` `(seed, step)` input driving dropout masks, when the graph has
    /// active dropout ([`DROPOUT_RNG_INPUT`]).
    pub dropout_rng: Option<String>,
    /// Gradient outputs, one per parameter in declaration order (empty for evaluation graphs).
    pub grads: Vec<GradOutput>,
}

/// A module tree plus its input specification, with its parameters declared and checked.
#[derive(Debug)]
pub struct Model {
    root: Box<dyn Module>,
    input: InputSpec,
    specs: Vec<ParamSpec>,
}

impl Model {
    /// Declares `root`'s parameters and checks them: valid sizes and initializers, unique names
    /// that the parameter store accepts.
    pub fn new(root: impl Module + 'static, input: InputSpec) -> Result<Model, NnError> {
        Model::from_boxed(Box::new(root), input)
    }

    /// [`Model::new`] for an already boxed module.
    pub fn from_boxed(root: Box<dyn Module>, input: InputSpec) -> Result<Model, NnError> {
        input.check()?;
        let mut specs = Vec::new();
        root.declare_params(&Ctx::root(), &mut specs)?;
        let mut seen = HashSet::new();
        for spec in &specs {
            crate::params::validate_name(&spec.name)?;
            crate::params::element_count(&spec.name, &spec.shape)?;
            if !seen.insert(spec.name.as_str()) {
                return Err(NnError::DuplicateParam(spec.name.clone()));
            }
            if !spec.init.is_valid() {
                return Err(NnError::BadModule {
                    module: spec.name.clone(),
                    message: format!("invalid initializer {}", spec.init),
                });
            }
        }
        Ok(Model { root, input, specs })
    }

    /// The top module.
    pub fn root(&self) -> &dyn Module {
        self.root.as_ref()
    }

    /// What the model reads.
    pub fn input_spec(&self) -> &InputSpec {
        &self.input
    }

    /// Every parameter, in declaration order.
    pub fn param_specs(&self) -> &[ParamSpec] {
        &self.specs
    }

    /// Total number of scalar parameters.
    pub fn num_parameters(&self) -> usize {
        self.specs.iter().map(ParamSpec::numel).sum()
    }

    /// Fresh parameters: each spec's initializer filled in declaration order from one stream,
    /// `Rng::derive(seed, "init")`, so the same seed gives bit-identical values. Weight decay is
    /// set per [`ParamSpec::weight_decay`].
    ///
    /// Refuses, before allocating anything, parameters that do not fit in the memory the
    /// operating system reports available ([`NnError::TooLarge`] with the sizes), since sizes
    /// come from user flags (`--widths 784,2000000000,10`).
    pub fn init_params(&self, seed: u64) -> Result<ParamStore, NnError> {
        self.check_params_fit(ane_mil::host::available_memory())?;
        let mut rng = Rng::derive(seed, INIT_RNG_PURPOSE);
        let mut store = ParamStore::new();
        for spec in &self.specs {
            let mut values = Vec::new();
            values.try_reserve_exact(spec.numel()).map_err(|_| {
                NnError::TooLarge(format!(
                    "cannot reserve memory for parameter `{}` of shape {:?}",
                    spec.name, spec.shape
                ))
            })?;
            values.resize(spec.numel(), 0.0f32);
            spec.init.fill(&mut rng, &mut values);
            let index = store.push(spec.name.clone(), spec.shape.clone(), values)?;
            store.params_mut()[index].set_weight_decay(spec.weight_decay);
        }
        Ok(store)
    }

    /// Bytes a [`ParamStore`] of this model's parameters holds: per element an fp32 master
    /// copy, an fp32 gradient and an fp16 copy (10 bytes); `None` when that overflows.
    pub fn param_store_bytes(&self) -> Option<u64> {
        self.specs.iter().try_fold(0u64, |acc, spec| {
            let elements = spec
                .shape
                .iter()
                .try_fold(1u64, |n, &d| n.checked_mul(d as u64))?;
            acc.checked_add(elements.checked_mul(10)?)
        })
    }

    /// Refuses parameters whose store ([`Model::param_store_bytes`]) overflows or exceeds
    /// `available` bytes (`None`: only overflow is checked).
    pub fn check_params_fit(&self, available: Option<u64>) -> Result<(), NnError> {
        let count: u64 = self
            .specs
            .iter()
            .map(|s| {
                s.shape
                    .iter()
                    .fold(1u64, |n, &d| n.saturating_mul(d as u64))
            })
            .fold(0, u64::saturating_add);
        let Some(bytes) = self.param_store_bytes() else {
            return Err(NnError::TooLarge(format!(
                "its {count} parameters overflow 64-bit sizes; use smaller dimensions"
            )));
        };
        match available {
            Some(available) if bytes > available => Err(NnError::TooLarge(format!(
                "its {count} parameters need {} (fp32 weights and gradients, fp16 copies) but \
                 only {} of memory is available; use smaller dimensions",
                ane_mil::host::format_bytes(bytes),
                ane_mil::host::format_bytes(available)
            ))),
            _ => Ok(()),
        }
    }

    /// Checks that `store` holds exactly this model's parameters with the same shapes (after
    /// loading a checkpoint or importing weights), naming the first difference.
    pub fn check_params(&self, store: &ParamStore) -> Result<(), NnError> {
        for spec in &self.specs {
            let param = store
                .get(&spec.name)
                .ok_or_else(|| NnError::ParamMismatch(format!("`{}` is missing", spec.name)))?;
            if param.shape() != spec.shape.as_slice() {
                return Err(NnError::ParamMismatch(format!(
                    "`{}` has shape {:?}, the model needs {:?}",
                    spec.name,
                    param.shape(),
                    spec.shape
                )));
            }
        }
        if store.len() != self.specs.len() {
            let known: HashSet<&str> = self.specs.iter().map(|s| s.name.as_str()).collect();
            let extra = store
                .params()
                .iter()
                .map(|p| p.name())
                .find(|n| !known.contains(n))
                .unwrap_or("?");
            return Err(NnError::ParamMismatch(format!(
                "`{extra}` is not a parameter of this model"
            )));
        }
        Ok(())
    }

    /// The forward graph in `mode`: data input, parameters (declaration order), the traced
    /// modules; outputs `loss` first (when `loss` is given) and then `logits` (when
    /// `output_logits`).
    pub fn build_forward_graph(
        &self,
        batch_size: usize,
        mode: GraphMode,
        loss: Option<Loss>,
        output_logits: bool,
    ) -> Result<ModelGraph, NnError> {
        if batch_size == 0 {
            return Err(NnError::BadInput(
                "the batch size must be at least 1".into(),
            ));
        }
        if loss.is_none() && !output_logits {
            return Err(NnError::BadInput(
                "a graph needs an output: give a loss or ask for the logits".into(),
            ));
        }
        let mut g = Graph::with_mode(mode);
        let input_name = self.input.name().to_string();
        let x = g
            .add_input(
                &input_name,
                ane_compiler::InputKind::Data,
                &self.input.batch_shape(batch_size),
                self.input.dtype(),
            )
            .map_err(build_err(format!("declaring the input `{input_name}`")))?;
        declare_in_graph(&mut g, &self.specs)?;
        let out = self.root.forward(&mut g, x, &Ctx::root())?;
        self.check_all_params_used(&g)?;

        let mut target = None;
        let mut loss_name = None;
        if let Some(loss) = loss {
            let (labels, value) = add_loss(&mut g, out, loss)?;
            target = Some(labels);
            g.output(LOSS_OUTPUT, value)
                .map_err(build_err("declaring the loss output"))?;
            loss_name = Some(LOSS_OUTPUT.to_string());
        }
        let mut logits = None;
        if output_logits {
            g.output(LOGITS_OUTPUT, out)
                .map_err(build_err("declaring the logits output"))?;
            logits = Some(LOGITS_OUTPUT.to_string());
        }
        let dropout_rng = g
            .input_value(DROPOUT_RNG_INPUT)
            .ok()
            .map(|_| DROPOUT_RNG_INPUT.to_string());
        Ok(ModelGraph {
            graph: g,
            batch_size,
            input: input_name,
            target,
            loss: loss_name,
            logits,
            dropout_rng,
            grads: Vec::new(),
        })
    }

    /// The training-step graph for `batch_size` examples: outputs `loss`, then `grad.<param>`
    /// for every parameter in declaration order.
    pub fn build_training_graph(
        &self,
        batch_size: usize,
        loss: Loss,
    ) -> Result<ModelGraph, NnError> {
        self.build_training_graph_with(
            batch_size,
            TrainingGraphOptions {
                loss,
                output_logits: false,
            },
        )
    }

    /// The training-step graph with options: outputs `loss`, `logits` if asked, then
    /// `grad.<param>` for every parameter in declaration order.
    pub fn build_training_graph_with(
        &self,
        batch_size: usize,
        options: TrainingGraphOptions,
    ) -> Result<ModelGraph, NnError> {
        let forward = self.build_forward_graph(
            batch_size,
            GraphMode::Train,
            Some(options.loss),
            options.output_logits,
        )?;
        let graph = training_graph(&forward.graph, LOSS_OUTPUT, &GradOptions::default())
            .map_err(build_err("autodiff"))?;
        let grads = self
            .specs
            .iter()
            .map(|s| GradOutput {
                param: s.name.clone(),
                output: grad_name(&s.name),
            })
            .collect();
        Ok(ModelGraph {
            graph,
            grads,
            ..forward
        })
    }

    /// The evaluation graph (dropout off) for `batch_size` examples: outputs `loss` when `loss`
    /// is given (validation loss), and `logits`.
    pub fn build_eval_graph(
        &self,
        batch_size: usize,
        loss: Option<Loss>,
    ) -> Result<ModelGraph, NnError> {
        self.build_forward_graph(batch_size, GraphMode::Eval, loss, true)
    }

    /// A table of the parameters: name, shape, element count and initializer, then the total.
    pub fn summary(&self) -> String {
        let width = self.specs.iter().map(|s| s.name.len()).max().unwrap_or(4);
        let mut out = String::new();
        for s in &self.specs {
            out.push_str(&format!(
                "{:<width$}  {:<20}  {:>12}  {}\n",
                s.name,
                format!("{:?}", s.shape),
                s.numel(),
                s.init
            ));
        }
        out.push_str(&format!(
            "{} tensors, {} parameters\n",
            self.specs.len(),
            self.num_parameters()
        ));
        out
    }

    fn check_all_params_used(&self, g: &Graph) -> Result<(), NnError> {
        let consumers = g.consumers();
        for p in g.params() {
            if consumers[p.value.index()].is_empty() {
                return Err(NnError::UnusedParam(p.name.clone()));
            }
        }
        Ok(())
    }
}

fn build_err(context: impl Into<String>) -> impl FnOnce(GraphError) -> NnError {
    let context = context.into();
    move |source| NnError::Build { context, source }
}

/// Declares the labels/targets input that fits `out` and appends the loss; returns the input's
/// name and the loss value.
fn add_loss(g: &mut Graph, out: ValueId, loss: Loss) -> Result<(String, ValueId), NnError> {
    let out_ty = g
        .value_type(out)
        .map_err(build_err("reading the model output"))?
        .clone();
    let dims = out_ty.shape.dims();
    let bad = |message: String| NnError::BadLoss {
        loss: loss.name().into(),
        message,
    };
    if out_ty.dtype != DType::F32 {
        return Err(bad(format!("the model output must be f32, got {out_ty}")));
    }
    let name = loss.target_input();
    let value = match loss {
        Loss::CrossEntropy => {
            if dims.len() < 2 {
                return Err(bad(format!(
                    "needs logits of shape [B, ..., classes], the model outputs {out_ty}"
                )));
            }
            let labels = g
                .input_ids(name, &dims[..dims.len() - 1])
                .map_err(build_err("declaring the labels input"))?;
            g.cross_entropy(out, labels)
                .map_err(build_err("building the cross-entropy loss"))?
        }
        Loss::Mse => {
            let targets = g
                .input(name, dims, DType::F32)
                .map_err(build_err("declaring the targets input"))?;
            g.mse_loss(out, targets)
                .map_err(build_err("building the MSE loss"))?
        }
    };
    Ok((name.to_string(), value))
}
