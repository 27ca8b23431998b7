//! Errors of model definition, graph building, parameter initialization and preset parsing.

use crate::params::ParamError;
use ane_compiler::GraphError;
use thiserror::Error;

/// Why a model could not be defined, traced into a graph or configured.
///
/// Every variant names what was wrong and where (the module path, the flag, the preset).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum NnError {
    /// A graph op rejected its inputs while a module was being traced.
    #[error("in module `{module}`: {source}")]
    Graph {
        /// The module's hierarchical name (`layers.3.attention`; `<root>` for the top module).
        module: String,
        /// What the graph builder said.
        source: GraphError,
    },
    /// A graph-level step outside any module failed (declaring inputs, the loss, autodiff).
    #[error("{context}: {source}")]
    Build {
        /// The step that failed (`declaring the labels input`, `autodiff`).
        context: String,
        /// What the graph builder said.
        source: GraphError,
    },
    /// The parameter store rejected a parameter.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// A layer was configured with impossible sizes or settings.
    #[error("module `{module}`: {message}")]
    BadModule {
        /// The module's hierarchical name.
        module: String,
        /// What is wrong.
        message: String,
    },
    /// A module used a parameter it did not declare.
    #[error("module `{module}` uses parameter `{name}`, which no module declared")]
    UndeclaredParam {
        /// The module's hierarchical name.
        module: String,
        /// The full parameter name.
        name: String,
    },
    /// A module used a parameter with a shape other than the declared one.
    #[error("module `{module}` uses parameter `{name}` as {used:?}, but it was declared as {declared:?}")]
    ParamShape {
        /// The module's hierarchical name.
        module: String,
        /// The full parameter name.
        name: String,
        /// The declared shape.
        declared: Vec<usize>,
        /// The shape the module expected.
        used: Vec<usize>,
    },
    /// A declared parameter that the forward pass never reads (its gradient would always be zero).
    #[error("parameter `{0}` is declared but the forward pass never uses it")]
    UnusedParam(String),
    /// Two modules declared the same parameter name.
    #[error("two parameters are named `{0}`")]
    DuplicateParam(String),
    /// A parameter store does not match the model (missing, extra or differently shaped tensors).
    #[error("the parameters do not match the model: {0}")]
    ParamMismatch(String),
    /// The model's input specification or a build argument is invalid.
    #[error("{0}")]
    BadInput(String),
    /// The parameters do not fit in memory (or their size overflows); nothing was allocated.
    #[error("the model is too large: {0}")]
    TooLarge(String),
    /// The chosen loss does not fit the model's output.
    #[error("loss {loss}: {message}")]
    BadLoss {
        /// The loss (`cross_entropy`, `mse`).
        loss: String,
        /// Why it does not fit.
        message: String,
    },
    /// A preset name that does not exist.
    #[error("unknown model preset `{name}`; known presets: {known}")]
    UnknownPreset {
        /// The name given.
        name: String,
        /// The accepted names, comma separated.
        known: String,
    },
    /// A preset flag that does not exist.
    #[error("unknown model flag `{flag}`; known flags: {known}")]
    UnknownFlag {
        /// The flag given.
        flag: String,
        /// The accepted flags, comma separated.
        known: String,
    },
    /// A flag whose value could not be parsed.
    #[error("model flag `{flag}`: cannot use `{value}`: {reason}")]
    BadFlagValue {
        /// The flag.
        flag: String,
        /// The value given.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A flag that the chosen preset does not have (e.g. `dim` for `mlp`).
    #[error(
        "model flag `{flag}` does not apply to the `{preset}` preset (its flags: {applicable})"
    )]
    FlagNotApplicable {
        /// The flag.
        flag: String,
        /// The preset.
        preset: String,
        /// The flags that preset accepts, comma separated.
        applicable: String,
    },
    /// A preset configuration that cannot be built (dim not divisible by heads, odd head dim, …).
    #[error("{preset} configuration: {message}")]
    BadConfig {
        /// The preset.
        preset: String,
        /// What is wrong.
        message: String,
    },
}
