//! Fuzzes `--init` loading (`checkpoint::load_init_weights`): any file must load into the model
//! or fail with an error, never panic; a failed load leaves the parameters unchanged.
#![no_main]

use ane_trainer::checkpoint::load_init_weights;
use ane_trainer::params::ParamStore;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One scratch file per process (the loader takes a path); in RAM where possible.
fn scratch_file() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = ["/dev/shm", "/tmp"]
            .iter()
            .map(PathBuf::from)
            .find(|d| d.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        dir.join(format!("ane-trainer-fuzz-init-{}.safetensors", std::process::id()))
    })
}

fn params() -> ParamStore {
    ParamStore::from_tensors([
        ("fc.weight", vec![2, 3], vec![0.5; 6]),
        ("fc.bias", vec![3], vec![0.25; 3]),
    ])
    .expect("valid parameters")
}

fuzz_target!(|data: &[u8]| {
    let path = scratch_file();
    std::fs::write(path, data).expect("write the scratch file");
    for allow_missing in [false, true] {
        let mut store = params();
        if load_init_weights(path, &mut store, allow_missing).is_err() {
            let fresh = params();
            for (a, b) in store.params().iter().zip(fresh.params()) {
                assert_eq!(a.master(), b.master(), "a failed load changed {}", a.name());
            }
        }
    }
});
