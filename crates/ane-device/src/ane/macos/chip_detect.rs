//! What this Mac is: CPU brand string and OS build from `sysctl`, and the ANE sub-type from
//! `+[_ANEDeviceInfo aneSubType]` (ane-facts §4; M4 reports "H16G"). The brand string decides the
//! chip family ([`crate::chip::parse_brand_string`]); the sub-type is only descriptive.

use super::framework::{device_info_answers_subtype, AneClasses};
use objc2::msg_send;
use objc2::rc::{autoreleasepool, Retained};
use objc2::runtime::AnyObject;
use objc2_foundation::NSString;
use std::ffi::CStr;
use std::ptr;

/// A string-valued sysctl, without its trailing NULs; `None` if it cannot be read.
fn sysctl_string(name: &CStr) -> Option<String> {
    let mut len: libc::size_t = 0;
    // SAFETY: `name` is NUL-terminated; a NULL old-value buffer asks only for the length, which
    // is written to `len`; no new value is set.
    let status =
        unsafe { libc::sysctlbyname(name.as_ptr(), ptr::null_mut(), &mut len, ptr::null_mut(), 0) };
    if status != 0 || len == 0 {
        return None;
    }
    let mut buffer = vec![0u8; len];
    // SAFETY: `buffer` is writable for `len` bytes and `len` says so; the kernel writes at most
    // `len` bytes and updates `len` to the number written.
    let status = unsafe {
        libc::sysctlbyname(
            name.as_ptr(),
            buffer.as_mut_ptr().cast(),
            &mut len,
            ptr::null_mut(),
            0,
        )
    };
    if status != 0 {
        return None;
    }
    buffer.truncate(len);
    while buffer.last() == Some(&0) {
        buffer.pop();
    }
    String::from_utf8(buffer).ok()
}

/// `machdep.cpu.brand_string`, e.g. "Apple M4 Pro".
pub(crate) fn brand_string() -> Option<String> {
    sysctl_string(c"machdep.cpu.brand_string")
}

/// `kern.osproductversion`, e.g. "26.3.1": what the dialect choice reads
/// ([`crate::ane::dialect_choice::parse_macos_version`]).
pub(crate) fn os_product_version() -> Option<String> {
    sysctl_string(c"kern.osproductversion")
}

/// The macOS version and build, e.g. "26.3 (25D125)"; parts that cannot be read are "?".
pub(crate) fn os_description() -> String {
    let version = os_product_version().unwrap_or_else(|| "?".into());
    let build = sysctl_string(c"kern.osversion").unwrap_or_else(|| "?".into());
    format!("{version} ({build})")
}

/// `+[_ANEDeviceInfo aneSubType]` as text, when the class exists and answers.
pub(crate) fn ane_subtype(classes: &AneClasses) -> Option<String> {
    let class = classes.device_info?;
    if !device_info_answers_subtype(class) {
        return None;
    }
    autoreleasepool(|_| {
        // SAFETY: `+aneSubType` takes nothing and returns an object or nil (checked just above).
        let subtype: Option<Retained<AnyObject>> = unsafe { msg_send![class, aneSubType] };
        let subtype = subtype?;
        // SAFETY: every NSObject answers `description` with an NSString.
        let text: Retained<NSString> = unsafe { msg_send![&*subtype, description] };
        Some(text.to_string())
    })
}
