//! `nn`: define models in a few lines, with PyTorch's names, layouts and default initializers,
//! and trace them into the compiler's graph IR.
//!
//! - Layers, one file per concept: [`Linear`], [`Conv2d`], [`MaxPool2d`], [`AvgPool2d`],
//!   activations ([`Relu`], [`Gelu`], [`Silu`], [`Sigmoid`], [`Tanh`]), [`Flatten`], [`Dropout`],
//!   [`LayerNorm`], [`RmsNorm`], [`Embedding`], and the transformer parts
//!   [`CausalSelfAttention`] and [`SwiGlu`]; [`Sequential`] chains them with children named
//!   `0`, `1`, ….
//! - [`Module`]: declares parameters ([`ParamSpec`]: name, shape, [`Init`]) and traces the forward
//!   pass; [`Ctx`] carries the hierarchical name prefix.
//! - [`Model`]: a module tree plus its [`InputSpec`]; gives the [`ParamStore`](crate::params::ParamStore)
//!   ([`Model::init_params`]), the training-step graph and the evaluation graph ([`ModelGraph`]).
//! - [`presets`]: `mlp`, `cnn`, `llama` and the Stories shapes, by name and flags.
//!
//! ```
//! use ane_trainer::nn::{InputSpec, Linear, Loss, Model, Relu, Sequential};
//! let net = Sequential::new().then(Linear::new(784, 256)).then(Relu).then(Linear::new(256, 10));
//! let model = Model::new(net, InputSpec::images(&[784])).unwrap();
//! let params = model.init_params(42).unwrap();          // 0.weight, 0.bias, 2.weight, 2.bias
//! let train = model.build_training_graph(32, Loss::CrossEntropy).unwrap();
//! let eval = model.build_eval_graph(32, None).unwrap();
//! assert_eq!(params.len(), 4);
//! assert_eq!(train.grads[0].output, "grad.0.weight");
//! assert_eq!(eval.logits.as_deref(), Some("logits"));
//! ```

mod activation;
mod attention;
mod conv;
mod dropout;
mod embedding;
mod error;
mod feed_forward;
mod flatten;
mod init;
mod linear;
pub mod llama;
mod model;
mod module;
mod norm;
mod pool;
pub mod presets;
mod sequential;
mod spec;

pub use activation::{Gelu, Relu, Sigmoid, Silu, Tanh};
pub use attention::CausalSelfAttention;
pub use conv::Conv2d;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use error::NnError;
pub use feed_forward::SwiGlu;
pub use flatten::Flatten;
pub use init::Init;
pub use linear::Linear;
pub use llama::{Llama, LlamaBlock, LlamaConfig};
pub use model::{
    GradOutput, InputSpec, Loss, Model, ModelGraph, TrainingGraphOptions, INIT_RNG_PURPOSE,
    LABELS_INPUT, LOGITS_OUTPUT, LOSS_OUTPUT, TARGETS_INPUT,
};
pub use module::{declare_in_graph, Ctx, InModule, Module, ParamSpec};
pub use norm::{LayerNorm, RmsNorm};
pub use pool::{AvgPool2d, MaxPool2d};
pub use presets::{Preset, PresetFlags, PRESET_NAMES};
pub use sequential::Sequential;
pub use spec::ModuleSpec;
