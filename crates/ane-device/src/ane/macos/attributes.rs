//! `-[model modelAttributes]` as a plain [`AttrValue`] tree, for the platform-independent parser
//! in [`crate::ane::model_attributes`].
//!
//! ane-facts §7: the in-memory model may not answer `modelAttributes` at all (maderix PR #40 saw
//! no symbol or stride information on it), so the selector is asked about first with
//! `respondsToSelector:` and its signature checked before it is sent. The property list is
//! converted by kind (dictionary, array, string, number, null); anything else keeps only its
//! description, and nesting deeper than [`MAX_DEPTH`] is cut off, so an odd or cyclic tree
//! cannot recurse without bound.

use super::framework::check_model_attributes_signature;
use crate::ane::model_attributes::{AttrValue, MAX_DEPTH};
use objc2::rc::{autoreleasepool, Retained};
use objc2::runtime::AnyObject;
use objc2::{msg_send, sel};
use objc2_foundation::{NSArray, NSDictionary, NSNull, NSNumber, NSString};
use std::collections::BTreeMap;

/// The model's attributes: `Ok(None)` when it does not answer `modelAttributes`,
/// `Ok(Some(Null))` when it answers nil, an error when the selector has an unexpected signature.
pub(crate) fn read_model_attributes(model: &AnyObject) -> Result<Option<AttrValue>, String> {
    autoreleasepool(|_| {
        // SAFETY: every NSObject answers `-respondsToSelector:`, which takes a selector and
        // returns BOOL (objc2 converts it to `bool`); `model` is a live framework object.
        let answers: bool = unsafe { msg_send![model, respondsToSelector: sel!(modelAttributes)] };
        if !answers {
            return Ok(None);
        }
        check_model_attributes_signature(model.class())?;
        // SAFETY: the object answers `-modelAttributes`, whose signature was just checked to take
        // nothing and return an object or nil; the result is retained before the pool drains.
        let attributes: Option<Retained<AnyObject>> = unsafe { msg_send![model, modelAttributes] };
        Ok(Some(match attributes {
            Some(a) => convert(&a, MAX_DEPTH),
            None => AttrValue::Null,
        }))
    })
}

/// `obj` as a tree, at most `depth` levels deep.
fn convert(obj: &AnyObject, depth: usize) -> AttrValue {
    if depth == 0 {
        return AttrValue::Other("(nested too deeply)".into());
    }
    if let Some(dict) = obj.downcast_ref::<NSDictionary>() {
        let (keys, values) = dict.to_vecs();
        let map: BTreeMap<String, AttrValue> = keys
            .iter()
            .zip(&values)
            .map(|(k, v)| {
                let key = match k.downcast_ref::<NSString>() {
                    Some(s) => s.to_string(),
                    None => describe(k),
                };
                (key, convert(v, depth - 1))
            })
            .collect();
        AttrValue::Dict(map)
    } else if let Some(array) = obj.downcast_ref::<NSArray>() {
        AttrValue::Array(array.iter().map(|v| convert(&v, depth - 1)).collect())
    } else if let Some(s) = obj.downcast_ref::<NSString>() {
        AttrValue::String(s.to_string())
    } else if let Some(n) = obj.downcast_ref::<NSNumber>() {
        AttrValue::Number(n.doubleValue())
    } else if obj.downcast_ref::<NSNull>().is_some() {
        AttrValue::Null
    } else {
        AttrValue::Other(describe(obj))
    }
}

/// `[obj description]`.
fn describe(obj: &AnyObject) -> String {
    // SAFETY: every NSObject answers `description` with an NSString.
    let text: Retained<NSString> = unsafe { msg_send![obj, description] };
    text.to_string()
}
