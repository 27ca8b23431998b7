//! The Llama-style decoder of llama2.c (`model.py`): its configuration, the named Stories shapes,
//! and the module tree with llama2.c's parameter names and initialization.

mod config;
mod model;

pub use config::{llama2c_hidden_dim, LlamaConfig, LLAMA_SHAPE_NAMES};
pub use model::{Llama, LlamaBlock};
