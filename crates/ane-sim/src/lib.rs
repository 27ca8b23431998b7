//! `ane-sim`: executes a parsed, validated MIL program the way the ANE would (fp16 storage,
//! f32 compute per op). It is the executable specification of every op ane-trainer emits.
