//! Arithmetic shorthands on [`LowerCx`] for the decomposed ops (norms, activations' derivatives,
//! losses): each emits one MIL op and names the current IR op in any error.

use super::context::LowerCx;
use super::error::LowerError;
use ane_mil::builder::Var;

impl LowerCx<'_> {
    /// `a + b`.
    pub fn add(&mut self, a: &Var, b: &Var) -> Result<Var, LowerError> {
        let r = self.f.add(a, b);
        self.ok(r)
    }

    /// `a − b`.
    pub fn sub(&mut self, a: &Var, b: &Var) -> Result<Var, LowerError> {
        let r = self.f.sub(a, b);
        self.ok(r)
    }

    /// `a · b`.
    pub fn mul(&mut self, a: &Var, b: &Var) -> Result<Var, LowerError> {
        let r = self.f.mul(a, b);
        self.ok(r)
    }

    /// `a / b`.
    pub fn div(&mut self, a: &Var, b: &Var) -> Result<Var, LowerError> {
        let r = self.f.real_div(a, b);
        self.ok(r)
    }

    /// `a · c` for a constant `c`.
    pub fn mul_const(&mut self, a: &Var, c: f64) -> Result<Var, LowerError> {
        let c = self.scalar(c)?;
        self.mul(a, &c)
    }

    /// `a + c` for a constant `c`.
    pub fn add_const(&mut self, a: &Var, c: f64) -> Result<Var, LowerError> {
        let c = self.scalar(c)?;
        self.add(a, &c)
    }

    /// `c − a` for a constant `c`.
    pub fn const_sub(&mut self, c: f64, a: &Var) -> Result<Var, LowerError> {
        let c = self.scalar(c)?;
        self.sub(&c, a)
    }

    /// `x ^ p` for a constant exponent (`pow(x, −0.5)` is the ANE-safe rsqrt).
    pub fn pow_const(&mut self, x: &Var, p: f64) -> Result<Var, LowerError> {
        let p = self.scalar(p)?;
        let r = self.f.pow(x, &p);
        self.ok(r)
    }

    /// `Σ x` over `axes`, kept as size-1 axes.
    pub fn sum_keep(&mut self, x: &Var, axes: &[usize]) -> Result<Var, LowerError> {
        let axes: Vec<i32> = axes.iter().map(|&a| a as i32).collect();
        let r = self.f.reduce_sum(x, &axes, true);
        self.ok(r)
    }

    /// `Σ x / count` over the last axis, kept (the ANE's MIL has no `reduce_mean`).
    pub fn mean_last_keep(&mut self, x: &Var) -> Result<Var, LowerError> {
        let rank = x.ty.rank();
        let count = super::context::dims(x)[rank - 1];
        let s = self.sum_keep(x, &[rank - 1])?;
        self.mul_const(&s, 1.0 / count as f64)
    }

    /// `exp(x)`.
    pub fn exp(&mut self, x: &Var) -> Result<Var, LowerError> {
        let r = self.f.exp(x);
        self.ok(r)
    }

    /// `max(x, lo)` then `min(·, hi)`.
    pub fn clip(&mut self, x: &Var, lo: f64, hi: f64) -> Result<Var, LowerError> {
        let r = self.f.clip(x, lo, hi);
        self.ok(r)
    }
}
