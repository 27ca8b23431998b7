//! The `ane-trainer` command-line tool: flags and TOML layering, progress bars, `doctor`, the
//! `mil` tools — everything the library (`ane-trainer`) leaves to its callers. The binary and
//! the Python package's `python -m ane_trainer` both run [`main_from`].

mod cli;

pub use cli::{main, main_from};
