//! Kernel input/output buffers: flat IOSurfaces wrapped as `_ANEIOSurfaceObject`s.
//!
//! ane-facts §5: created with Width = bytes, Height = 1, BytesPerElement = 1, BytesPerRow = bytes,
//! AllocSize = bytes, PixelFormat = 0 (here `bytes` is the size rounded up to 128); written under
//! `IOSurfaceLock(s, 0, NULL)` and read under `kIOSurfaceLockReadOnly`, with the same options
//! passed to the matching unlock.

use super::framework::AneClasses;
use crate::ane::surface_layout::SurfaceSpec;
use objc2::msg_send;
use objc2::rc::Retained;
use objc2::runtime::AnyObject;
use objc2_core_foundation::{CFDictionary, CFNumber, CFRetained, CFString};
use objc2_io_surface::{
    kIOSurfaceAllocSize, kIOSurfaceBytesPerElement, kIOSurfaceBytesPerRow, kIOSurfaceHeight,
    kIOSurfacePixelFormat, kIOSurfaceWidth, IOSurfaceLockOptions, IOSurfaceRef,
};
use std::ptr;

/// One kernel buffer.
pub(crate) struct Surface {
    /// The `_ANEIOSurfaceObject` wrapping `surface`, as requests take it.
    pub object: Retained<AnyObject>,
    surface: CFRetained<IOSurfaceRef>,
    alloc_bytes: usize,
}

impl Surface {
    /// A zero-filled surface of `spec.alloc_bytes` bytes, wrapped for requests.
    pub fn new(classes: &AneClasses, spec: &SurfaceSpec) -> Result<Surface, String> {
        let size = isize::try_from(spec.alloc_bytes)
            .map_err(|_| format!("surface of {} bytes is too large", spec.alloc_bytes))?;
        let bytes = CFNumber::new_isize(size);
        let one = CFNumber::new_isize(1);
        let zero = CFNumber::new_i32(0);
        // SAFETY: the `kIOSurface*` keys are immutable CFString constants exported by
        // IOSurface.framework, initialised before any Rust code runs.
        let keys: [&CFString; 6] = unsafe {
            [
                kIOSurfaceWidth,
                kIOSurfaceHeight,
                kIOSurfaceBytesPerElement,
                kIOSurfaceBytesPerRow,
                kIOSurfaceAllocSize,
                kIOSurfacePixelFormat,
            ]
        };
        let values: [&CFNumber; 6] = [&bytes, &one, &one, &bytes, &bytes, &zero];
        let properties = CFDictionary::<CFString, CFNumber>::from_slices(&keys, &values);
        // SAFETY: IOSurfaceCreate takes a dictionary of CFString keys to CFNumber values, which
        // is exactly what `properties` is; it returns a +1 reference or NULL.
        let surface = unsafe { IOSurfaceRef::new(properties.as_opaque()) }
            .ok_or("IOSurfaceCreate returned NULL")?;
        if surface.alloc_size() < spec.alloc_bytes {
            return Err(format!(
                "IOSurface holds {} bytes, {} were asked for",
                surface.alloc_size(),
                spec.alloc_bytes
            ));
        }
        let surface = Surface {
            object: wrap(classes, &surface)?,
            surface,
            alloc_bytes: spec.alloc_bytes,
        };
        // Padding past the tensor bytes must never hold garbage the ANE could read.
        surface.write(spec.alloc_bytes, &mut |b| b.fill(0))?;
        Ok(surface)
    }

    /// Locks for writing and lends the first `len` bytes to `fill`.
    pub fn write(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), String> {
        let lock = SurfaceLock::new(&self.surface, IOSurfaceLockOptions::empty())?;
        let base = self.checked_base(len)?;
        // SAFETY: the surface is locked for writing until `lock` is dropped, its base address
        // is valid for `alloc_size() >= self.alloc_bytes >= len` bytes (checked at creation and
        // by `checked_base`), and this is the only Rust reference to that memory while locked.
        let bytes = unsafe { std::slice::from_raw_parts_mut(base, len) };
        fill(bytes);
        lock.unlock()
    }

    /// Locks read-only and lends the first `len` bytes to `read`.
    pub fn read(&self, len: usize, read: &mut dyn FnMut(&[u8])) -> Result<(), String> {
        let lock = SurfaceLock::new(&self.surface, IOSurfaceLockOptions::ReadOnly)?;
        let base = self.checked_base(len)?;
        // SAFETY: as in `write`, with a read-only lock and a shared slice.
        let bytes = unsafe { std::slice::from_raw_parts(base.cast_const(), len) };
        read(bytes);
        lock.unlock()
    }

    fn checked_base(&self, len: usize) -> Result<*mut u8, String> {
        if len > self.alloc_bytes {
            return Err(format!(
                "{len} bytes requested from a {}-byte surface",
                self.alloc_bytes
            ));
        }
        Ok(self.surface.base_address().as_ptr().cast::<u8>())
    }
}

fn wrap(classes: &AneClasses, surface: &IOSurfaceRef) -> Result<Retained<AnyObject>, String> {
    // SAFETY: `+[_ANEIOSurfaceObject objectWithIOSurface:]` takes an IOSurfaceRef and returns an
    // autoreleased object (signature checked at framework load); `surface` is a live surface the
    // returned object may retain.
    let object: Option<Retained<AnyObject>> = unsafe {
        msg_send![classes.io_surface_object, objectWithIOSurface: ptr::from_ref(surface)]
    };
    object.ok_or_else(|| "objectWithIOSurface: returned nil".to_string())
}

/// A held IOSurface lock; unlocks on drop if [`SurfaceLock::unlock`] was not called (e.g. when
/// a caller's closure panics).
struct SurfaceLock<'a> {
    surface: &'a IOSurfaceRef,
    options: IOSurfaceLockOptions,
    held: bool,
}

impl<'a> SurfaceLock<'a> {
    fn new(surface: &'a IOSurfaceRef, options: IOSurfaceLockOptions) -> Result<Self, String> {
        // SAFETY: a NULL seed pointer is documented as allowed.
        let status = unsafe { surface.lock(options, ptr::null_mut()) };
        if status != 0 {
            return Err(format!("IOSurfaceLock failed with kern_return {status}"));
        }
        Ok(SurfaceLock {
            surface,
            options,
            held: true,
        })
    }

    fn unlock(mut self) -> Result<(), String> {
        self.held = false;
        // SAFETY: this lock is held with these options; a NULL seed pointer is allowed.
        let status = unsafe { self.surface.unlock(self.options, ptr::null_mut()) };
        if status != 0 {
            return Err(format!("IOSurfaceUnlock failed with kern_return {status}"));
        }
        Ok(())
    }
}

impl Drop for SurfaceLock<'_> {
    fn drop(&mut self) {
        if self.held {
            // SAFETY: as in `unlock`; the status cannot be reported from a drop.
            let _ = unsafe { self.surface.unlock(self.options, ptr::null_mut()) };
        }
    }
}
