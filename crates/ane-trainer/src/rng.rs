//! A small deterministic random number generator whose whole state is one `u64` pair, so it can
//! be written into a checkpoint and resumed bit-exactly on every platform.
//!
//! The generator is xoshiro128++-style mixing over SplitMix64 seeding: fast, well distributed, and
//! (unlike external crates) guaranteed never to change its stream between versions of this code.

use serde::{Deserialize, Serialize};

/// The state of a [`Rng`]; serializable into checkpoint sidecars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    pub s0: u64,
    pub s1: u64,
}

/// A seeded pseudo-random generator (xorshift128+ family with a SplitMix64 seeder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    s0: u64,
    s1: u64,
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator seeded from `seed`; different seeds give unrelated streams.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let s0 = splitmix64(&mut x);
        let mut s1 = splitmix64(&mut x);
        if s0 == 0 && s1 == 0 {
            s1 = 1;
        }
        Rng { s0, s1 }
    }

    /// An independent generator for a named purpose (`"init"`, `"shuffle"`, `"dropout"`), so that
    /// changing how often one consumer draws never shifts another's stream.
    pub fn derive(seed: u64, purpose: &str) -> Self {
        // FNV-1a over the purpose, mixed with the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in purpose.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        Rng::new(seed ^ h.rotate_left(17))
    }

    /// The current state.
    pub fn state(&self) -> RngState {
        RngState {
            s0: self.s0,
            s1: self.s1,
        }
    }

    /// A generator continuing from a saved state.
    pub fn from_state(state: RngState) -> Self {
        let s1 = if state.s0 == 0 && state.s1 == 0 {
            1
        } else {
            state.s1
        };
        Rng { s0: state.s0, s1 }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let (s0, mut s1) = (self.s0, self.s1);
        let result = s0.wrapping_add(s1).rotate_left(17).wrapping_add(s0);
        s1 ^= s0;
        self.s0 = s0.rotate_left(49) ^ s1 ^ (s1 << 21);
        self.s1 = s1.rotate_left(28);
        result
    }

    /// A uniform float in `[0, 1)` with 24 random bits.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform float in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next_f32()
    }

    /// A standard normal sample (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = self.next_f64().max(f64::MIN_POSITIVE);
        let u2 = self.next_f64();
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }

    /// A uniform integer in `[0, n)`; `n` must be positive. Uses rejection so there is no bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below needs a positive bound");
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// Shuffles a slice in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_state_resumes() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..10 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let saved = a.state();
        let next: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let mut c = Rng::from_state(saved);
        let again: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(next, again);
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn uniform_is_in_range_and_roughly_centred() {
        let mut r = Rng::new(7);
        let n = 100_000;
        let mut sum = 0.0f64;
        for _ in 0..n {
            let x = r.next_f32();
            assert!((0.0..1.0).contains(&x));
            sum += x as f64;
        }
        let mean = sum / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut r = Rng::new(3);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal() as f64).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            "{mean} {var}"
        );
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<u32> = (0..1000).collect();
        Rng::new(9).shuffle(&mut v);
        let mut s = v.clone();
        s.sort();
        assert_eq!(s, (0..1000).collect::<Vec<_>>());
        assert_ne!(v, s);
    }
}
