//! `ane-sim`: executes a parsed, validated MIL program the way the ANE would (fp16 storage,
//! f32 compute per op). It is the executable specification of every op ane-trainer emits.

mod buffers;
mod error;
mod exec;
mod io;
mod kernel;
mod ops;
mod options;
mod prepare;
mod prepared;
mod storage;

pub use error::SimError;
pub use io::TensorDesc;
pub use ops::supported_ops;
pub use options::SimOptions;
pub use prepare::Simulator;
pub use prepared::PreparedProgram;
