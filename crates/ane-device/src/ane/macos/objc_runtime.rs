//! [`AneRuntime`] over the real framework: each method is one step of ane-facts §4, sent through
//! `objc2` with the types checked at load time ([`super::framework`]). Every BOOL result and
//! NSError is checked; errors carry `[NSError description]`, the framework's only diagnostic.
//! Each call runs in its own autorelease pool, so objects the framework autoreleases internally
//! (every evaluation makes some) are freed per call rather than piling up for the whole run.

use super::attributes::read_model_attributes;
use super::framework::{AneClasses, ANE_QOS};
use super::surface::Surface;
use crate::ane::model_attributes::AttrValue;
use crate::ane::runtime::AneRuntime;
use crate::ane::surface_layout::SurfaceSpec;
use crate::ane::weights_dict::{WeightsDict, DATA_KEY, OFFSET_KEY};
use objc2::msg_send;
use objc2::rc::{autoreleasepool, Retained};
use objc2::runtime::AnyObject;
use objc2_foundation::{NSArray, NSData, NSDictionary, NSError, NSNumber, NSString};
use std::path::{Path, PathBuf};

/// The framework behind the [`AneRuntime`] seam.
pub(crate) struct ObjcRuntime {
    classes: AneClasses,
    temp_root: PathBuf,
    platform: String,
}

impl ObjcRuntime {
    /// A runtime whose model directories live in `temp_root` (`NSTemporaryDirectory()`).
    pub fn new(classes: AneClasses, temp_root: PathBuf, platform: String) -> Self {
        ObjcRuntime {
            classes,
            temp_root,
            platform,
        }
    }
}

/// `[error description]`.
fn describe(error: &NSError) -> String {
    // SAFETY: every NSObject answers `description` with an NSString.
    let text: Retained<NSString> = unsafe { msg_send![error, description] };
    text.to_string()
}

/// An empty `NSDictionary` for the `options:` arguments (`@{}` in the reference code).
fn no_options() -> Retained<NSDictionary<NSString, AnyObject>> {
    NSDictionary::new()
}

/// The weights dictionary of ane-facts §4 step 1: path → `{"offset": @0, "data": bytes}`.
/// The weights dictionary type: file path → per-file entry.
type WeightsNsDictionary = NSDictionary<NSString, NSDictionary<NSString, AnyObject>>;

fn weights_dictionary(weights: &WeightsDict<'_>) -> Result<Retained<WeightsNsDictionary>, String> {
    let offset_key = NSString::from_str(OFFSET_KEY);
    let data_key = NSString::from_str(DATA_KEY);
    let mut keys = Vec::with_capacity(weights.len());
    let mut entries = Vec::with_capacity(weights.len());
    for e in weights.entries() {
        // `@0` in the reference is `numberWithInt:`.
        let offset = i32::try_from(e.offset)
            .map_err(|_| format!("weight offset {} of {} is too large", e.offset, e.key))?;
        let offset = NSNumber::new_i32(offset);
        let data = NSData::with_bytes(e.data);
        let offset_obj: &AnyObject = &offset;
        let data_obj: &AnyObject = &data;
        let entry: Retained<NSDictionary<NSString, AnyObject>> =
            NSDictionary::from_slices(&[&*offset_key, &*data_key], &[offset_obj, data_obj]);
        keys.push(NSString::from_str(e.key));
        entries.push(entry);
    }
    let key_refs: Vec<&NSString> = keys.iter().map(|k| &**k).collect();
    Ok(NSDictionary::from_retained_objects(&key_refs, &entries))
}

impl AneRuntime for ObjcRuntime {
    type Model = Retained<AnyObject>;
    type Surface = Surface;
    type Request = Retained<AnyObject>;

    fn temp_root(&self) -> &Path {
        &self.temp_root
    }

    fn platform(&self) -> &str {
        &self.platform
    }

    fn create_model(
        &mut self,
        mil_text: &str,
        weights: &WeightsDict<'_>,
    ) -> Result<Self::Model, String> {
        autoreleasepool(|_| {
            let mil = NSData::with_bytes(mil_text.as_bytes());
            // Empty, never nil, when there are no weights (ane-facts §4 step 1).
            let dict = weights_dictionary(weights)?;
            let no_plist: Option<&AnyObject> = None;
            // SAFETY: `+modelWithMILText:weights:optionsPlist:` takes (NSData, NSDictionary,
            // nullable object) and returns an autoreleased object or nil — signature checked at
            // framework load; both arguments are live objects.
            let descriptor: Option<Retained<AnyObject>> = unsafe {
                msg_send![self.classes.descriptor,
                    modelWithMILText: &*mil,
                    weights: &*dict,
                    optionsPlist: no_plist]
            };
            let descriptor = descriptor.ok_or(
                "modelWithMILText:weights:optionsPlist: returned nil (MIL or weights rejected)",
            )?;
            // SAFETY: `+inMemoryModelWithDescriptor:` takes the descriptor object and returns an
            // autoreleased model or nil (checked at load).
            let model: Option<Retained<AnyObject>> = unsafe {
                msg_send![self.classes.in_memory_model, inMemoryModelWithDescriptor: &*descriptor]
            };
            model.ok_or_else(|| "inMemoryModelWithDescriptor: returned nil".to_string())
        })
    }

    fn model_identifier(&mut self, model: &Self::Model) -> Result<String, String> {
        autoreleasepool(|_| {
            // SAFETY: `-hexStringIdentifier` takes nothing and returns an NSString or nil
            // (checked at load); `model` is a live `_ANEInMemoryModel`.
            let hex: Option<Retained<NSString>> =
                unsafe { msg_send![&**model, hexStringIdentifier] };
            hex.map(|h| h.to_string())
                .ok_or_else(|| "hexStringIdentifier returned nil".to_string())
        })
    }

    fn compile(&mut self, model: &Self::Model) -> Result<(), String> {
        autoreleasepool(|_| {
            let options = no_options();
            // SAFETY: `-compileWithQoS:options:error:` takes (unsigned int, NSDictionary,
            // NSError**) and returns BOOL (checked at load); objc2 passes a valid out-pointer
            // and turns NO into the returned NSError.
            let result: Result<(), Retained<NSError>> = unsafe {
                msg_send![&**model, compileWithQoS: ANE_QOS, options: &*options, error: _]
            };
            result.map_err(|e| describe(&e))
        })
    }

    fn load(&mut self, model: &Self::Model) -> Result<(), String> {
        autoreleasepool(|_| {
            let options = no_options();
            // SAFETY: as for compile, with `-loadWithQoS:options:error:`.
            let result: Result<(), Retained<NSError>> =
                unsafe { msg_send![&**model, loadWithQoS: ANE_QOS, options: &*options, error: _] };
            result.map_err(|e| describe(&e))
        })
    }

    fn unload(&mut self, model: &Self::Model) -> Result<(), String> {
        autoreleasepool(|_| {
            // SAFETY: `-unloadWithQoS:error:` takes (unsigned int, NSError**) and returns BOOL
            // (checked at load).
            let result: Result<(), Retained<NSError>> =
                unsafe { msg_send![&**model, unloadWithQoS: ANE_QOS, error: _] };
            result.map_err(|e| describe(&e))
        })
    }

    fn model_attributes(&mut self, model: &Self::Model) -> Result<Option<AttrValue>, String> {
        read_model_attributes(model)
    }

    fn create_surface(&mut self, spec: &SurfaceSpec) -> Result<Self::Surface, String> {
        autoreleasepool(|_| Surface::new(&self.classes, spec))
    }

    fn create_request(
        &mut self,
        inputs: &[Self::Surface],
        outputs: &[Self::Surface],
    ) -> Result<Self::Request, String> {
        autoreleasepool(|_| {
            let objects = |surfaces: &[Surface]| {
                let refs: Vec<&AnyObject> = surfaces.iter().map(|s| &*s.object).collect();
                NSArray::from_slice(&refs)
            };
            let indices = |n: usize| -> Result<Retained<NSArray<NSNumber>>, String> {
                let numbers = (0..n)
                    .map(|i| {
                        i32::try_from(i)
                            .map(NSNumber::new_i32)
                            .map_err(|_| format!("too many buffers ({n})"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(NSArray::from_retained_slice(&numbers))
            };
            let input_objects = objects(inputs);
            let input_indices = indices(inputs.len())?;
            let output_objects = objects(outputs);
            let output_indices = indices(outputs.len())?;
            let procedure = NSNumber::new_i32(0);
            let none: Option<&AnyObject> = None;
            // SAFETY: `+requestWithInputs:inputIndices:outputs:outputIndices:weightsBuffer:
            // perfStats:procedureIndex:` takes seven objects (nil allowed for the weights buffer
            // and perf stats, as every reference caller passes) and returns an autoreleased
            // request or nil (checked at load). The arrays retain the surface objects.
            let request: Option<Retained<AnyObject>> = unsafe {
                msg_send![self.classes.request,
                    requestWithInputs: &*input_objects,
                    inputIndices: &*input_indices,
                    outputs: &*output_objects,
                    outputIndices: &*output_indices,
                    weightsBuffer: none,
                    perfStats: none,
                    procedureIndex: &*procedure]
            };
            request.ok_or_else(|| "requestWithInputs:… returned nil".to_string())
        })
    }

    fn evaluate(&mut self, model: &Self::Model, request: &Self::Request) -> Result<(), String> {
        autoreleasepool(|_| {
            let options = no_options();
            // SAFETY: `-evaluateWithQoS:options:request:error:` takes (unsigned int,
            // NSDictionary, _ANERequest, NSError**) and returns BOOL (checked at load); it runs
            // synchronously, so the surfaces the request references stay valid throughout.
            let result: Result<(), Retained<NSError>> = unsafe {
                msg_send![&**model,
                    evaluateWithQoS: ANE_QOS,
                    options: &*options,
                    request: &**request,
                    error: _]
            };
            result.map_err(|e| describe(&e))
        })
    }

    fn write_surface(
        &mut self,
        surface: &Self::Surface,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), String> {
        surface.write(len, fill)
    }

    fn read_surface(
        &mut self,
        surface: &Self::Surface,
        len: usize,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), String> {
        surface.read(len, read)
    }
}
