//! The registry: every op's signature revisions, built once, looked up by op type and opset. A
//! revision registered at opset N applies to every later opset until a newer revision of the same
//! op (the coremltools registry rule, mil-ops §0.1).

use crate::ops::defs;
use crate::ops::error::InferError;
use crate::ops::signature::OpSignature;
use crate::program::Opset;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Revisions of each op, oldest first.
struct Registry {
    ops: BTreeMap<&'static str, Vec<OpSignature>>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut ops: BTreeMap<&'static str, Vec<OpSignature>> = BTreeMap::new();
        for sig in defs::all() {
            ops.entry(sig.op_type).or_default().push(sig);
        }
        for revisions in ops.values_mut() {
            revisions.sort_by_key(|s| s.since);
        }
        Registry { ops }
    })
}

/// The signature of `op_type` that applies in `opset`, or `None` when the op is unknown or only
/// introduced later.
pub fn signature(op_type: &str, opset: Opset) -> Option<&'static OpSignature> {
    revisions(op_type).iter().rev().find(|s| s.since <= opset)
}

/// Like [`signature`], with an error saying whether the op is unknown or not yet available.
pub fn lookup(op_type: &str, opset: Opset) -> Result<&'static OpSignature, InferError> {
    let revisions = revisions(op_type);
    match revisions.first() {
        None => Err(InferError::UnknownOp {
            op: op_type.to_string(),
        }),
        Some(first) => signature(op_type, opset).ok_or_else(|| InferError::NotInOpset {
            op: op_type.to_string(),
            opset,
            since: first.since,
        }),
    }
}

/// Every revision of `op_type`, oldest first (empty for unknown ops).
pub fn revisions(op_type: &str) -> &'static [OpSignature] {
    registry()
        .ops
        .get(op_type)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Every op type, sorted.
pub fn all_op_types() -> Vec<&'static str> {
    registry().ops.keys().copied().collect()
}

/// Every signature revision of every op, sorted by op type then opset.
pub fn all_signatures() -> impl Iterator<Item = &'static OpSignature> {
    registry().ops.values().flatten()
}
