//! Shared support of the plan tests: the test models.
#![allow(dead_code)]

pub mod models;
