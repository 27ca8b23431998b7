//! The seam between kernel bookkeeping and the private framework.
//!
//! [`AneRuntime`] is the handful of framework calls of ane-facts §4, one method each, with no
//! policy: [`super::KernelManager`] decides when to call them (cache, budget, directories,
//! retries, dumps), so that logic is tested on any OS with a fake runtime, and the macOS backend
//! only translates calls to Objective-C. Errors are the framework's own descriptions
//! (`[NSError description]`) as strings; the manager turns them into [`crate::DeviceError`]s.

use super::model_attributes::AttrValue;
use super::surface_layout::SurfaceSpec;
use super::weights_dict::WeightsDict;
use std::path::Path;

/// The private-framework calls a kernel needs.
pub trait AneRuntime {
    /// A compiled-or-not in-memory model (`_ANEInMemoryModel`).
    type Model;
    /// An input or output buffer (an IOSurface and its `_ANEIOSurfaceObject`).
    type Surface;
    /// A reusable evaluation request (`_ANERequest`) binding surfaces to a model's I/O.
    type Request;

    /// The directory holding model directories (`NSTemporaryDirectory()`).
    fn temp_root(&self) -> &Path;

    /// The chip and OS build: compiler output is only reusable where both match.
    fn platform(&self) -> &str;

    /// `modelWithMILText:weights:optionsPlist:` then `inMemoryModelWithDescriptor:`. The MIL
    /// goes in as UTF-8 data; `weights` becomes the weights dictionary (empty, never nil).
    fn create_model(
        &mut self,
        mil_text: &str,
        weights: &WeightsDict<'_>,
    ) -> Result<Self::Model, String>;

    /// `hexStringIdentifier`: names the model directory under [`Self::temp_root`].
    fn model_identifier(&mut self, model: &Self::Model) -> Result<String, String>;

    /// `compileWithQoS:options:error:` (the model directory is populated beforehand).
    fn compile(&mut self, model: &Self::Model) -> Result<(), String>;

    /// `loadWithQoS:options:error:` (one attempt; the manager retries).
    fn load(&mut self, model: &Self::Model) -> Result<(), String>;

    /// `unloadWithQoS:error:`.
    fn unload(&mut self, model: &Self::Model) -> Result<(), String>;

    /// `modelAttributes` of a loaded model, converted to a plain tree: `Ok(None)` when the
    /// object does not answer the selector (`respondsToSelector:` says no), `Ok(Some(Null))`
    /// when it answers nil.
    fn model_attributes(&mut self, model: &Self::Model) -> Result<Option<AttrValue>, String>;

    /// A zero-filled flat buffer of `spec.alloc_bytes` bytes, wrapped for requests.
    fn create_surface(&mut self, spec: &SurfaceSpec) -> Result<Self::Surface, String>;

    /// `requestWithInputs:inputIndices:outputs:outputIndices:weightsBuffer:perfStats:procedureIndex:`
    /// with indices `0..n` in order, no weights buffer, no perf stats, procedure 0.
    fn create_request(
        &mut self,
        inputs: &[Self::Surface],
        outputs: &[Self::Surface],
    ) -> Result<Self::Request, String>;

    /// `evaluateWithQoS:options:request:error:` (synchronous).
    fn evaluate(&mut self, model: &Self::Model, request: &Self::Request) -> Result<(), String>;

    /// Locks `surface` for writing and lends its first `len` bytes to `fill`.
    fn write_surface(
        &mut self,
        surface: &Self::Surface,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), String>;

    /// Locks `surface` read-only and lends its first `len` bytes to `read`.
    fn read_surface(
        &mut self,
        surface: &Self::Surface,
        len: usize,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), String>;
}
