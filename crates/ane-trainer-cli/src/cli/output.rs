//! Writing results to stdout without panicking when the reader has gone away (`| head`).

use std::io::Write;

/// Writes `text` and a newline to stdout. A closed pipe is not an error: the reader has what it
/// wanted.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
