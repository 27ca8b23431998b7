#!/bin/sh
# Runs every fuzz target (or the ones named) for SECONDS each (default 300), one after another,
# starting from the committed seeds in fuzz/seeds/<target> and growing fuzz/corpus/<target>
# (not committed). Crashes land in fuzz/artifacts/<target>/. Needs nightly and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")"
seconds=${1:-300}
[ $# -gt 0 ] && shift
targets=${*:-"parse_mil blob_reader idx npy safetensors_init toml_config"}
for t in $targets; do
    mkdir -p "corpus/$t"
    # `-s none`: the targets are safe Rust; without AddressSanitizer they build and run several
    # times faster, and overflow checks (debug assertions, on in `cargo fuzz`) still panic.
    cargo +nightly fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        2>&1 | tee "corpus/$t.log" | grep -E "^(Done|stat::number_of_executed_units|==|SUMMARY)|panicked" || true
done
