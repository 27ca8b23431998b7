//! AdamW, following `torch.optim.AdamW`: Adam's moments and bias correction with decoupled
//! weight decay `p ← p·(1 − lr·wd)` applied before the adaptive step (Loshchilov & Hutter).
//! The kernel is [`AdamCore`](super::adam) with [`DecayStyle::Decoupled`].

use super::adam::{impl_adam_family_optimizer, AdamConfig, AdamCore, DecayStyle};
use super::{OptimError, OptimizerConfig};

/// `torch.optim.AdamW` (decoupled weight decay).
#[derive(Debug, Clone)]
pub struct AdamW {
    core: AdamCore,
}

impl AdamW {
    /// Validates the hyper-parameters and creates the optimizer with no state yet.
    /// [`AdamConfig::adamw_default`] gives PyTorch's defaults (weight decay 0.01).
    pub fn new(config: AdamConfig) -> Result<Self, OptimError> {
        Ok(AdamW {
            core: AdamCore::new(config)?,
        })
    }
}

impl_adam_family_optimizer!(
    AdamW,
    "adamw",
    OptimizerConfig::AdamW,
    DecayStyle::Decoupled
);

#[cfg(test)]
mod tests {
    use super::super::adam::tests::run_against_reference;
    use super::super::test_support::max_difference;
    use super::super::Adam;
    use super::*;

    #[test]
    fn adamw_matches_reference() {
        let config = AdamConfig::adamw_default();
        run_against_reference(
            Box::new(AdamW::new(config.clone()).unwrap()),
            config,
            DecayStyle::Decoupled,
        );
    }

    #[test]
    fn adamw_differs_from_adam_only_through_weight_decay() {
        let decayed = AdamConfig {
            weight_decay: 0.1,
            ..Default::default()
        };
        let adam = run_against_reference(
            Box::new(Adam::new(decayed.clone()).unwrap()),
            decayed.clone(),
            DecayStyle::L2,
        );
        let adamw = run_against_reference(
            Box::new(AdamW::new(decayed.clone()).unwrap()),
            decayed,
            DecayStyle::Decoupled,
        );
        assert!(max_difference(&adam, &adamw) > 1e-4);
        // The bias has weight decay disabled, so both optimizers move it identically.
        assert_eq!(
            adam.get("0.bias").unwrap().master(),
            adamw.get("0.bias").unwrap().master()
        );

        // Without weight decay the two are the same algorithm, bit for bit.
        let plain = AdamConfig::default();
        let adam = run_against_reference(
            Box::new(Adam::new(plain.clone()).unwrap()),
            plain.clone(),
            DecayStyle::L2,
        );
        let adamw = run_against_reference(
            Box::new(AdamW::new(plain.clone()).unwrap()),
            plain,
            DecayStyle::Decoupled,
        );
        assert_eq!(max_difference(&adam, &adamw), 0.0);
    }
}
