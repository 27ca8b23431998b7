//! The `ane-trainer` command-line tool.

fn main() -> std::process::ExitCode {
    ane_trainer_cli::main()
}
