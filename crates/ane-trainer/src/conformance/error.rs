//! Why a conformance kernel could not be built or run.

use ane_compiler::abi::AbiError;
use ane_compiler::eval::EvalError;
use ane_compiler::lower::LowerError;
use ane_compiler::GraphError;
use ane_device::DeviceError;
use thiserror::Error;

/// A failure building or running one conformance kernel.
#[derive(Debug, Error)]
pub enum ConformanceError {
    /// The case's graph did not build (a bug in the catalog).
    #[error("{case}: building the graph: {source}")]
    Graph {
        /// The case.
        case: String,
        /// Why.
        source: GraphError,
    },
    /// The compiler could not lower the case.
    #[error("{case}: lowering: {source}")]
    Lower {
        /// The case.
        case: String,
        /// Why.
        source: LowerError,
    },
    /// The f64 reference evaluator failed.
    #[error("{case}: reference evaluation: {source}")]
    Reference {
        /// The case.
        case: String,
        /// Why.
        source: EvalError,
    },
    /// The device failed at one stage (compile, write, run, read).
    #[error("{stage}: {source}{}", dump_note(.source))]
    Device {
        /// `compile`, `write input`, `run` or `read output`.
        stage: &'static str,
        /// The device's error.
        source: DeviceError,
    },
    /// Packing inputs or unpacking outputs failed (the device's buffers do not match the ABI).
    #[error("{stage}: {source}")]
    Abi {
        /// `pack input` or `unpack output`.
        stage: &'static str,
        /// Why.
        source: AbiError,
    },
    /// The device's buffers are not the ones the kernel's ABI describes.
    #[error("the device's buffers do not match the kernel ABI: {0}")]
    BufferMismatch(String),
}

/// Names the dumped program of a failed compile, which is what a bug report needs.
fn dump_note(error: &DeviceError) -> String {
    match error {
        DeviceError::Compile {
            dump_path: Some(path),
            ..
        } => format!(" (program dumped to {})", path.display()),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_failures_name_the_dump() {
        let err = ConformanceError::Device {
            stage: "compile",
            source: DeviceError::Compile {
                message: "ANECCompile() FAILED".into(),
                dump_path: Some("/tmp/dumps/abc/model.mil".into()),
            },
        };
        let text = err.to_string();
        assert!(
            text.starts_with("compile: compile failed: ANECCompile() FAILED"),
            "{text}"
        );
        assert!(text.contains("/tmp/dumps/abc/model.mil"), "{text}");
        let err = ConformanceError::Device {
            stage: "run",
            source: DeviceError::Run("timeout".into()),
        };
        assert_eq!(err.to_string(), "run: run failed: timeout");
    }
}
