//! Progress output on stderr: an indicatif bar with the smoothed loss and throughput when stderr
//! is a terminal, plain periodic lines otherwise (logs, CI, tests), or nothing.

use ane_trainer::trainer::{RunObserver, StepStatus};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// A bar on a terminal, plain lines otherwise (logs, CI, tests).
    #[default]
    Auto,
    /// Nothing but errors.
    Quiet,
}

/// The progress display of one run.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    every: u64,
    total: u64,
}

impl Progress {
    /// A display for a run of `total` updates starting after `start` of them, printing a plain
    /// line every `every` updates (`None`: about twenty lines per run).
    pub fn new(mode: ProgressMode, total: u64, start: u64, every: Option<u64>) -> Progress {
        let every = every.unwrap_or_else(|| (total / 20).max(1));
        let terminal = std::io::stderr().is_terminal();
        match mode {
            ProgressMode::Auto if terminal => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                    .with_position(start);
                let style = ProgressStyle::with_template(
                    "{bar:30.cyan/blue} {pos}/{len} steps {elapsed_precise} (eta {eta}) {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("█▉▊▋▌▍▎▏ ");
                bar.set_style(style);
                Progress {
                    bar: Some(bar),
                    plain: false,
                    every,
                    total,
                }
            }
            ProgressMode::Quiet => Progress {
                bar: None,
                plain: false,
                every,
                total,
            },
            _ => Progress {
                bar: None,
                plain: true,
                every,
                total,
            },
        }
    }

    /// Shows a finished update.
    pub fn step(&self, s: &StepStatus) {
        let loss = s.loss.map_or("-".to_string(), |l| format!("{l:.4}"));
        let rate = s
            .samples_per_sec
            .map_or("-".to_string(), |r| format!("{r:.0}"));
        if let Some(bar) = &self.bar {
            bar.set_position(s.step);
            bar.set_message(format!("loss {loss}  {rate} samples/s"));
        } else if self.plain && (s.step % self.every == 0 || s.step == self.total) {
            eprintln!(
                "step {}/{}  epoch {}  loss {loss}  lr {:.3e}  loss scale {}  {rate} samples/s",
                s.step, self.total, s.epoch, s.lr, s.loss_scale
            );
        }
    }

    /// Prints a line (above the bar when there is one).
    pub fn message(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None if self.plain => eprintln!("{text}"),
            None => {}
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The CLI's [`RunObserver`]: setup lines on stderr, then the progress display.
#[derive(Debug)]
pub struct CliProgress {
    mode: ProgressMode,
    display: Option<Progress>,
}

impl CliProgress {
    /// Progress shown as `mode` says.
    pub fn new(mode: ProgressMode) -> Self {
        CliProgress {
            mode,
            display: None,
        }
    }
}

impl RunObserver for CliProgress {
    fn info(&mut self, line: &str) {
        if self.mode != ProgressMode::Quiet {
            eprintln!("{line}");
        }
    }

    fn begin(&mut self, total: u64, start: u64, log_every: Option<u64>) {
        self.display = Some(Progress::new(self.mode, total, start, log_every));
    }

    fn step(&mut self, status: &StepStatus) {
        if let Some(display) = &self.display {
            display.step(status);
        }
    }

    fn message(&mut self, line: &str) {
        if let Some(display) = &self.display {
            display.message(line);
        }
    }

    fn finish(&mut self) {
        if let Some(display) = &self.display {
            display.finish();
        }
    }
}
