//! Models whose parameters cannot fit in memory are refused with the sizes before anything is
//! allocated, instead of aborting (`train --widths 784,2000000000,10`, issue 15).

use ane_trainer::nn::{NnError, Preset, PresetFlags};

fn model(preset: &str, flags: &[&str]) -> ane_trainer::nn::Model {
    let flags = PresetFlags::parse(flags.iter().copied()).unwrap();
    Preset::from_name_and_flags(preset, &flags)
        .unwrap()
        .model()
        .unwrap()
}

#[test]
fn huge_mlp_parameters_are_refused_with_their_size() {
    let huge = model("mlp", &["widths=784,2000000000,10"]);
    assert_eq!(
        huge.param_store_bytes(),
        Some(10 * (784 * 2_000_000_000 + 2_000_000_000 + 20_000_000_010))
    );
    let err = huge.check_params_fit(Some(16 << 30)).unwrap_err();
    assert!(matches!(err, NnError::TooLarge(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "the model is too large: its 1590000000010 parameters need 14.5 TiB (fp32 weights and \
         gradients, fp16 copies) but only 16.0 GiB of memory is available; use smaller dimensions"
    );
    // With the machine's own memory, init_params refuses rather than aborting.
    if ane_mil::host::available_memory().is_some() {
        assert!(matches!(huge.init_params(1), Err(NnError::TooLarge(_))));
    }
}

#[test]
fn huge_cnn_channels_are_refused() {
    let huge = model("cnn", &["channels=100000,100000"]);
    assert!(huge.check_params_fit(Some(16 << 30)).is_err());
    let small = model("cnn", &[]);
    assert!(small.check_params_fit(Some(16 << 30)).is_ok());
    assert!(small.init_params(1).is_ok());
}
