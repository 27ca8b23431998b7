//! Shared support of the plan tests: the test models, a deterministic RNG and a minimal plan
//! runner on the simulator.
#![allow(dead_code)]

pub mod models;
pub mod rng;
pub mod runner;
