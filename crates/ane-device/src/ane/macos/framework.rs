//! Loading `AppleNeuralEngine.framework` and resolving its private classes, once per process.
//!
//! ane-facts §4: `dlopen` the framework with `RTLD_NOW`, then look up `_ANEInMemoryModelDescriptor`,
//! `_ANEInMemoryModel`, `_ANERequest` and `_ANEIOSurfaceObject` by name. Because these are private
//! classes whose signatures may change with any macOS release, every selector the backend sends
//! is checked here against the argument and return types the backend passes — the same check
//! `objc2` runs (and panics on) in debug builds — so a changed API becomes a clear
//! [`DeviceError::Unavailable`] instead of a panic or undefined behaviour.

use crate::device::DeviceError;
use objc2::encode::{EncodeArguments, EncodeReturn};
use objc2::runtime::{AnyClass, AnyObject, Bool, Sel};
use objc2::sel;
use objc2_io_surface::IOSurfaceRef;
use std::ffi::CStr;
use std::sync::OnceLock;

/// Where the private framework lives.
pub(crate) const FRAMEWORK_PATH: &str = crate::ane::probe::FRAMEWORK_PATH;

/// The quality-of-service argument of every call (ane-facts §4: 21 = `QOS_CLASS_DEFAULT`, used
/// everywhere; all values 0–63 measured equal on M5). Passed as `unsigned int`, as every
/// reference caller casts it.
pub(crate) const ANE_QOS: u32 = 21;

/// The resolved private classes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AneClasses {
    pub descriptor: &'static AnyClass,
    pub in_memory_model: &'static AnyClass,
    pub request: &'static AnyClass,
    pub io_surface_object: &'static AnyClass,
    /// `_ANEDeviceInfo`, used only to describe the chip; absent on some systems.
    pub device_info: Option<&'static AnyClass>,
}

static CLASSES: OnceLock<Result<AneClasses, String>> = OnceLock::new();
static FRAMEWORK: OnceLock<Result<(), String>> = OnceLock::new();

/// The private classes the backend needs (`true`) or only uses to describe the chip (`false`),
/// in the order `ane-trainer doctor` reports them.
pub(crate) const CLASS_NAMES: [(&CStr, bool); 5] = [
    (c"_ANEInMemoryModelDescriptor", true),
    (c"_ANEInMemoryModel", true),
    (c"_ANERequest", true),
    (c"_ANEIOSurfaceObject", true),
    (c"_ANEDeviceInfo", false),
];

/// The framework's classes, loading it on first use.
pub(crate) fn ane_classes() -> Result<AneClasses, DeviceError> {
    CLASSES
        .get_or_init(load)
        .clone()
        .map_err(DeviceError::Unavailable)
}

/// Loads the framework (once per process) without resolving anything in it.
pub(crate) fn open_framework() -> Result<(), String> {
    FRAMEWORK.get_or_init(open).clone()
}

/// Whether the Objective-C runtime knows a class of this name (the framework must be open for
/// its classes to be registered).
pub(crate) fn class_registered(name: &CStr) -> bool {
    AnyClass::get(name).is_some()
}

fn open() -> Result<(), String> {
    // SAFETY: dlopen runs the framework's initialisers. It is Apple's own system framework, which
    // Core ML loads into ordinary processes the same way; we never unload it (see below), so
    // its termination routines never run while its classes are in use.
    let library = unsafe {
        libloading::os::unix::Library::open(Some(FRAMEWORK_PATH), libloading::os::unix::RTLD_NOW)
    }
    .map_err(|e| format!("cannot load {FRAMEWORK_PATH}: {e}"))?;
    // Classes registered by the framework must outlive every object made from them: keep the
    // framework loaded for the life of the process.
    std::mem::forget(library);
    Ok(())
}

fn load() -> Result<AneClasses, String> {
    open_framework()?;
    let class = |name: &CStr| {
        AnyClass::get(name).ok_or_else(|| {
            format!(
                "class {} not found in AppleNeuralEngine.framework (this macOS may have changed \
                 its private API)",
                name.to_string_lossy()
            )
        })
    };
    let classes = AneClasses {
        descriptor: class(c"_ANEInMemoryModelDescriptor")?,
        in_memory_model: class(c"_ANEInMemoryModel")?,
        request: class(c"_ANERequest")?,
        io_surface_object: class(c"_ANEIOSurfaceObject")?,
        device_info: AnyClass::get(c"_ANEDeviceInfo"),
    };
    verify_signatures(&classes)?;
    Ok(classes)
}

/// An object argument or return (`@`), nullable or not: the encoding is the same.
type Obj = *mut AnyObject;
/// Readability alias for arguments and returns that may be nil.
type OptObj = *mut AnyObject;
/// An `NSError **` out-parameter (`^@`).
type ErrorOut = *mut *mut AnyObject;

fn check<A: EncodeArguments, R: EncodeReturn>(
    class: &AnyClass,
    class_method: bool,
    sel: Sel,
) -> Result<(), String> {
    let target = if class_method {
        class.metaclass()
    } else {
        class
    };
    target.verify_sel::<A, R>(sel).map_err(|e| {
        format!(
            "{}[{} {}]: {e} (this macOS may have changed the private ANE API)",
            if class_method { "+" } else { "-" },
            class.name().to_string_lossy(),
            sel.name().to_string_lossy()
        )
    })
}

/// Checks every selector the backend sends, with the exact Rust types it passes.
fn verify_signatures(c: &AneClasses) -> Result<(), String> {
    check::<(Obj, Obj, OptObj), OptObj>(
        c.descriptor,
        true,
        sel!(modelWithMILText:weights:optionsPlist:),
    )?;
    check::<(Obj,), OptObj>(c.in_memory_model, true, sel!(inMemoryModelWithDescriptor:))?;
    check::<(), OptObj>(c.in_memory_model, false, sel!(hexStringIdentifier))?;
    check::<(u32, Obj, ErrorOut), Bool>(
        c.in_memory_model,
        false,
        sel!(compileWithQoS:options:error:),
    )?;
    check::<(u32, Obj, ErrorOut), Bool>(
        c.in_memory_model,
        false,
        sel!(loadWithQoS:options:error:),
    )?;
    check::<(u32, Obj, Obj, ErrorOut), Bool>(
        c.in_memory_model,
        false,
        sel!(evaluateWithQoS:options:request:error:),
    )?;
    check::<(u32, ErrorOut), Bool>(c.in_memory_model, false, sel!(unloadWithQoS:error:))?;
    check::<(*const IOSurfaceRef,), OptObj>(c.io_surface_object, true, sel!(objectWithIOSurface:))?;
    check::<(Obj, Obj, Obj, Obj, OptObj, OptObj, Obj), OptObj>(
        c.request,
        true,
        sel!(requestWithInputs:inputIndices:outputs:outputIndices:weightsBuffer:perfStats:procedureIndex:),
    )?;
    Ok(())
}

/// Whether `+[_ANEDeviceInfo aneSubType]` exists and returns an object, so it may be sent.
pub(crate) fn device_info_answers_subtype(class: &AnyClass) -> bool {
    check::<(), OptObj>(class, true, sel!(aneSubType)).is_ok()
}

/// Checks that `-modelAttributes` on instances of `class` takes nothing and returns an object
/// (or nil), so it may be sent with those types. Private and undocumented: a model class that
/// answers it differently is reported rather than messaged.
pub(crate) fn check_model_attributes_signature(class: &AnyClass) -> Result<(), String> {
    check::<(), OptObj>(class, false, sel!(modelAttributes))
}
