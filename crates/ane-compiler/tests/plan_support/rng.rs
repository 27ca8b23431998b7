//! A deterministic test RNG (SplitMix64) and random tensors.

use ane_compiler::eval::Tensor;

/// SplitMix64.
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> Self {
        TestRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    pub fn tensor(&mut self, shape: &[usize], lo: f64, hi: f64) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::new(
            shape.to_vec(),
            (0..n).map(|_| self.uniform(lo, hi)).collect(),
        )
        .unwrap()
    }

    pub fn ids(&mut self, shape: &[usize], limit: usize) -> Tensor {
        let n: usize = shape.iter().product();
        let ids: Vec<i32> = (0..n)
            .map(|_| (self.next_u64() % limit as u64) as i32)
            .collect();
        Tensor::from_ids(shape.to_vec(), &ids).unwrap()
    }
}
