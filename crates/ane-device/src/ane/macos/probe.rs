//! The macOS half of [`crate::ane::probe`]: OS version and CPU brand from sysctl, then the
//! framework, each class by name, and the selector check the device itself runs. No `unsafe`
//! here: every foreign call goes through the helpers of [`super::chip_detect`] and
//! [`super::framework`].

use super::chip_detect::{ane_subtype, brand_string, os_description};
use super::framework::{ane_classes, class_registered, open_framework, CLASS_NAMES};
use crate::ane::probe::{ChipProbe, ClassProbe, FrameworkProbe};
use ane_mil::chip::parse_brand_string;

/// The OS version, the chip and the framework, as [`crate::ane::probe_system`] reports them.
pub(crate) fn probe_platform() -> (Option<String>, ChipProbe, FrameworkProbe) {
    let framework = probe_framework();
    let brand = brand_string();
    let chip = match brand.as_deref().and_then(parse_brand_string) {
        Some((family, tier)) => ChipProbe::AppleSilicon {
            brand: brand.clone().unwrap_or_default(),
            family,
            tier,
            // Only ask the framework once it resolved cleanly: `aneSubType` is sent to a class
            // of the same private API.
            ane_subtype: ane_classes().ok().and_then(|c| ane_subtype(&c)),
        },
        None => ChipProbe::NotAppleSilicon { brand },
    };
    (Some(os_description()), chip, framework)
}

fn probe_framework() -> FrameworkProbe {
    let loaded = open_framework();
    let classes = CLASS_NAMES
        .iter()
        .map(|&(name, required)| ClassProbe {
            name: name.to_string_lossy().into_owned(),
            required,
            available: loaded.is_ok() && class_registered(name),
        })
        .collect();
    let api = match &loaded {
        Ok(()) => ane_classes().map(|_| ()).map_err(|e| match e {
            crate::DeviceError::Unavailable(message) => message,
            other => other.to_string(),
        }),
        Err(message) => Err(message.clone()),
    };
    FrameworkProbe::Checked {
        loaded,
        classes,
        api,
    }
}
