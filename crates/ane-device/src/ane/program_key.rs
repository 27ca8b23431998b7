//! The identity of a compiled program: a SHA-256 over its MIL text and weight files.
//!
//! Two compile requests with the same key produce the same kernel, so the device compiles once and
//! shares the loaded model; the on-disk cache and the dump directory are named by it too. Unlike
//! the framework's `hexStringIdentifier` (ane-facts §4: apparently a content hash, of unknown
//! inputs), this key provably covers the weights.

use ane_mil::WeightFiles;
use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 digest identifying one program plus its weights.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProgramKey([u8; 32]);

/// Domain separator, so a key can never collide with a hash of something else.
const KEY_DOMAIN: &[u8] = b"ane-trainer program key v1\0";

impl ProgramKey {
    /// The key of `mil_text` compiled with `weights`. Every field is length-prefixed, so moving
    /// bytes between the text, a path and a file always changes the key.
    pub fn of(mil_text: &str, weights: &WeightFiles) -> ProgramKey {
        let mut hasher = Sha256::new();
        hasher.update(KEY_DOMAIN);
        update_field(&mut hasher, mil_text.as_bytes());
        hasher.update((weights.len() as u64).to_le_bytes());
        for (path, bytes) in weights.iter() {
            update_field(&mut hasher, path.as_bytes());
            update_field(&mut hasher, bytes);
        }
        ProgramKey(hasher.finalize().into())
    }

    /// A key from raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> ProgramKey {
        ProgramKey(bytes)
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// All 64 lowercase hex digits.
    pub fn hex(&self) -> String {
        hex(&self.0)
    }

    /// The first 16 hex digits: enough to name a directory.
    pub fn short(&self) -> String {
        hex(&self.0[..8])
    }
}

fn update_field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// SHA-256 of `parts` (each length-prefixed), as 64 hex digits.
pub(crate) fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        update_field(&mut hasher, part);
    }
    let digest: [u8; 32] = hasher.finalize().into();
    hex(&digest)
}

impl fmt::Display for ProgramKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

impl fmt::Debug for ProgramKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProgramKey({})", self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights(files: &[(&str, &[u8])]) -> WeightFiles {
        let mut w = WeightFiles::new();
        for (p, b) in files {
            w.insert(*p, b.to_vec());
        }
        w
    }

    #[test]
    fn identical_programs_and_weights_give_identical_keys() {
        let w = weights(&[("@model_path/weights/a.bin", &[1, 2, 3])]);
        assert_eq!(
            ProgramKey::of("prog", &w),
            ProgramKey::of("prog", &w.clone())
        );
    }

    #[test]
    fn text_weight_bytes_and_paths_all_change_the_key() {
        let base = ProgramKey::of("prog", &weights(&[("@model_path/weights/a.bin", &[1, 2])]));
        let others = [
            ProgramKey::of("prog ", &weights(&[("@model_path/weights/a.bin", &[1, 2])])),
            ProgramKey::of("prog", &weights(&[("@model_path/weights/a.bin", &[1, 3])])),
            ProgramKey::of("prog", &weights(&[("@model_path/weights/b.bin", &[1, 2])])),
            ProgramKey::of("prog", &WeightFiles::new()),
        ];
        for k in others {
            assert_ne!(base, k);
        }
    }

    #[test]
    fn bytes_moved_between_fields_change_the_key() {
        let a = weights(&[("p", b"xy"), ("q", b"")]);
        let b = weights(&[("p", b"x"), ("q", b"y")]);
        assert_ne!(ProgramKey::of("m", &a), ProgramKey::of("m", &b));
    }

    #[test]
    fn hex_forms_have_the_documented_lengths() {
        let k = ProgramKey::of("prog", &WeightFiles::new());
        assert_eq!(k.hex().len(), 64);
        assert!(k.hex().starts_with(&k.short()));
        assert_eq!(k.short().len(), 16);
        assert!(k.hex().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }

    #[test]
    fn the_key_matches_a_known_sha256_layout() {
        // Recompute by hand: domain, then length-prefixed text, weight count, no files.
        let mut h = Sha256::new();
        h.update(KEY_DOMAIN);
        h.update(4u64.to_le_bytes());
        h.update(b"prog");
        h.update(0u64.to_le_bytes());
        let expected: [u8; 32] = h.finalize().into();
        assert_eq!(
            ProgramKey::of("prog", &WeightFiles::new()).as_bytes(),
            &expected
        );
    }
}
