//! `ane-trainer doctor`: what this machine offers the Neural Engine backend, then the op
//! conformance suite — every kernel kind the compiler emits, at small shapes — on the simulator
//! and, where there is one, on the ANE (each against the f64 reference, then the ANE against the
//! simulator). Exits non-zero when any kernel fails.

use super::output::emit;
use ane_device::ane::probe::{probe_system, ChipProbe, FrameworkProbe, SystemProbe};
use ane_device::Device;
use ane_device::{AneDevice, SimDevice};
use ane_mil::chip::parse_dialect;
use ane_mil::chip::{ChipCaps, ChipFamily};
use ane_mil::Dialect;
use ane_trainer::conformance::probes::{build_probes, probe_rules, ProbeRules};
use ane_trainer::conformance::{
    build_suite, compare_runs, dialect_name, dump::dump_kernel, run_suite, summarize,
    ConformanceKernel, KernelResult, Summary, Tolerance, DEFAULT_SEED,
};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `ane-trainer doctor`.
#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// MIL dialect of the kernels: ios16 or ios18 (default: the chip's on a Mac; both elsewhere).
    #[arg(long, value_name = "ios16|ios18")]
    dialect: Option<String>,
    /// Print one JSON document instead of the report (for scripts and bug reports).
    #[arg(long)]
    json: bool,
    /// Write every conformance kernel (`model.mil`, weights, `kernel.txt`) under DIR.
    #[arg(long, value_name = "DIR")]
    dump: Option<PathBuf>,
    /// Seed of the kernels' random inputs.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
}

/// One dialect's pass: the simulator's results, and the ANE's when it ran.
struct DialectPass {
    dialect: Dialect,
    sim: Vec<KernelResult>,
    ane: Vec<KernelResult>,
    ane_vs_sim: Vec<KernelResult>,
    /// Per conformance kernel, the unproven ops and forms in it (what its ANE result settles).
    unproven: Vec<(String, Vec<String>)>,
    probes: Vec<ProbeReport>,
}

/// One hardware probe's results.
#[derive(serde::Serialize)]
struct ProbeReport {
    name: String,
    rule: String,
    question: String,
    /// What the capability table says of it on the chip of this dialect.
    rules: ProbeRules,
    /// The simulator with the rules lifted (is the kernel itself right?).
    sim: KernelResult,
    /// The Neural Engine, when there is one: its answer to the question.
    ane: Option<KernelResult>,
}

/// The chip whose rules the simulator enforces for a dialect when no Neural Engine says which:
/// M4 for ios18, M1 for ios16.
fn rules_chip(dialect: Dialect, ane: Option<&AneDevice>) -> ChipCaps {
    match ane {
        Some(device) => device.chip().family.caps(),
        None => match dialect {
            Dialect::Ios18 => ChipFamily::M4.caps(),
            Dialect::Ios16 => ChipFamily::M1.caps(),
        },
    }
}

/// Runs `doctor`.
pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let forced = match &args.dialect {
        Some(name) => Some(parse_dialect(name).map_err(|e| anyhow::anyhow!("--dialect: {e}"))?),
        None => None,
    };
    let probe = probe_system();
    if !args.json {
        emit(&describe_probe(&probe))?;
    }
    let mut ane = AneDevice::new();
    let dialects = match forced {
        Some(dialect) => vec![dialect],
        None => match &ane {
            Ok(device) => vec![device.dialect()],
            // The simulator accepts both; a Mac of either family will send one of them.
            Err(_) => vec![Dialect::Ios16, Dialect::Ios18],
        },
    };
    let ane_skipped = ane.as_ref().err().map(|e| e.to_string());
    if !args.json {
        match &ane_skipped {
            Some(reason) => emit(&format!("ANE part: skipped — {reason}"))?,
            None => emit("ANE part: will run on the Neural Engine")?,
        }
    }

    let mut passes = Vec::new();
    for dialect in dialects {
        let kernels = build_suite(dialect, args.seed)?;
        if let Some(root) = &args.dump {
            for kernel in &kernels {
                dump_kernel(root, kernel).map_err(|e| {
                    anyhow::anyhow!(
                        "writing kernel {} under {}: {e}",
                        kernel.name,
                        root.display()
                    )
                })?;
            }
        }
        passes.push(run_dialect(
            dialect,
            &kernels,
            ane.as_mut().ok(),
            args.json,
        )?);
    }

    let all: Vec<&KernelResult> = passes
        .iter()
        .flat_map(|p| p.sim.iter().chain(&p.ane).chain(&p.ane_vs_sim))
        .collect();
    let summary = summarize(all.iter().copied());
    if args.json {
        emit(&serde_json::to_string_pretty(&json_report(
            &probe,
            &passes,
            ane_skipped.as_deref(),
            &summary,
        ))?)?;
    } else {
        if let Some(root) = &args.dump {
            emit(&format!("kernels written under {}", root.display()))?;
        }
        emit(&format!(
            "\n{} of {} checks passed, {} failed{}",
            summary.passed,
            summary.total,
            summary.failed,
            match &ane_skipped {
                Some(_) => " (simulator only: the ANE part was skipped, see above)",
                None => "",
            }
        ))?;
        if summary.failed > 0 {
            emit(
                "attach this output and the directory of `ane-trainer doctor --dump DIR` to a bug report",
            )?;
        }
    }
    Ok(if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs one dialect's kernels on the simulator, then on the ANE when there is one.
fn run_dialect(
    dialect: Dialect,
    kernels: &[ConformanceKernel],
    ane: Option<&mut AneDevice>,
    quiet: bool,
) -> anyhow::Result<DialectPass> {
    let tolerance = Tolerance::FP16;
    let print = |r: &KernelResult| {
        if !quiet {
            // A closed stdout only loses the report; the exit code still tells.
            let _ = emit(&result_line(r));
        }
    };
    if !quiet {
        emit(&format!(
            "\nconformance, MIL dialect {}: {} kernels, pass when max error ≤ {} + {} × scale",
            dialect_name(dialect),
            kernels.len(),
            tolerance.abs,
            tolerance.rel
        ))?;
    }
    // The simulator refuses what the Neural Engine would, so every conformance kernel is also
    // checked against the hardware rules.
    let caps = rules_chip(dialect, ane.as_deref());
    let mut sim_device = SimDevice::new();
    sim_device.enforce_hardware_rules(Some(caps.with_dialect(dialect)));
    let sim = run_suite(&mut sim_device, "sim", kernels, &tolerance, print);
    let unproven = kernels
        .iter()
        .map(|k| {
            let found: Vec<String> = ane_mil::chip::lint_all(&k.lowered.program, &caps)
                .into_iter()
                .filter(|e| e.rule.is_unproven())
                .map(|e| e.message)
                .collect();
            (k.name.to_string(), found)
        })
        .filter(|(_, found)| !found.is_empty())
        .collect();
    let (mut ane_results, mut cross) = (Vec::new(), Vec::new());
    let mut ane = ane;
    if let Some(device) = ane.as_deref_mut() {
        let on_ane = run_suite(device, "ane", kernels, &tolerance, print);
        for warning in device.take_warnings() {
            if !quiet {
                emit(&format!("  warning: {warning}"))?;
            }
        }
        cross = compare_runs(
            kernels,
            ("ane", &on_ane),
            ("sim", &sim),
            &Tolerance::FP16_CROSS_DEVICE,
        );
        cross.iter().for_each(print);
        ane_results = on_ane.results;
    }
    let probes = run_probes(dialect, &caps, ane, quiet)?;
    Ok(DialectPass {
        dialect,
        sim: sim.results,
        ane: ane_results,
        ane_vs_sim: cross,
        unproven,
        probes,
    })
}

/// Runs the hardware probes: on the simulator with the rules lifted, and on the Neural Engine
/// when there is one. Their failures are findings for the capability table, not doctor failures.
fn run_probes(
    dialect: Dialect,
    caps: &ChipCaps,
    mut ane: Option<&mut AneDevice>,
    quiet: bool,
) -> anyhow::Result<Vec<ProbeReport>> {
    let probes = build_probes(dialect, DEFAULT_SEED)?;
    if !quiet {
        emit(&format!(
            "
hardware probes, MIL dialect {} ({} kernels at and past the rules' edges; their \
             ANE results tell which rules to keep — not counted as failures):",
            dialect_name(dialect),
            probes.len()
        ))?;
    }
    let mut reports = Vec::with_capacity(probes.len());
    for (probe, kernel) in &probes {
        let one = std::slice::from_ref(kernel);
        let mut lax = SimDevice::new();
        let sim = run_suite(&mut lax, "sim", one, &Tolerance::FP16, |_| {})
            .results
            .remove(0);
        let on_ane = ane.as_deref_mut().map(|device| {
            run_suite(device, "ane", one, &Tolerance::FP16, |_| {})
                .results
                .remove(0)
        });
        let rules = probe_rules(kernel, caps);
        if !quiet {
            let table = if rules.rejected_by.is_empty() {
                "legal".to_string()
            } else {
                format!("refused by {}", rules.rejected_by.join(", "))
            };
            let answer = match &on_ane {
                Some(r) if r.passed => "ANE: works".to_string(),
                Some(r) => format!(
                    "ANE: fails ({})",
                    r.failure.as_deref().unwrap_or("wrong values")
                ),
                None => "ANE: not run".to_string(),
            };
            emit(&format!(
                "  {:<24} {:<18} table: {table}; sim: {}; {answer} — {}",
                probe.case.name,
                probe.rule.id(),
                if sim.passed { "ok" } else { "FAIL" },
                probe.question
            ))?;
        }
        reports.push(ProbeReport {
            name: probe.case.name.to_string(),
            rule: probe.rule.id().to_string(),
            question: probe.question.to_string(),
            rules,
            sim,
            ane: on_ane,
        });
    }
    Ok(reports)
}

/// One line per result: verdict, kernel, device, error.
fn result_line(r: &KernelResult) -> String {
    let verdict = if r.passed { "PASS" } else { "FAIL" };
    let detail = match (&r.error, &r.failure) {
        (_, Some(failure)) => format!("did not run: {failure}"),
        (Some(e), None) => format!(
            "max error {:.3e} (scale {:.3e}, {:.2e} relative) vs {}",
            e.max_abs_error, e.scale, e.max_rel_error, r.reference
        ),
        (None, None) => String::new(),
    };
    format!(
        "  {verdict}  {:<34} {:<12} {:<11} {detail}",
        r.kernel, r.family, r.device
    )
}

/// The platform part of the report.
fn describe_probe(probe: &SystemProbe) -> String {
    let mut lines = vec![
        format!("ane-trainer {} doctor", env!("CARGO_PKG_VERSION")),
        format!(
            "platform: {}/{}{}",
            probe.os,
            probe.arch,
            probe
                .os_version
                .as_ref()
                .map(|v| format!(" ({v})"))
                .unwrap_or_default()
        ),
        format!("chip: {}", probe.chip.describe()),
    ];
    match &probe.framework {
        FrameworkProbe::NotApplicable(reason) => lines.push(format!(
            "AppleNeuralEngine.framework: not probed — {reason}"
        )),
        FrameworkProbe::Checked {
            loaded,
            classes,
            api,
        } => {
            lines.push(format!(
                "AppleNeuralEngine.framework: {}",
                match loaded {
                    Ok(()) => "loaded".to_string(),
                    Err(e) => format!("NOT loaded: {e}"),
                }
            ));
            for class in classes {
                lines.push(format!(
                    "  {:<30} {}{}",
                    class.name,
                    if class.available { "found" } else { "MISSING" },
                    if class.required { "" } else { " (optional)" }
                ));
            }
            lines.push(match api {
                Ok(()) => "private API: every class and selector the backend uses answers".into(),
                Err(e) => format!("private API: UNUSABLE — {e}"),
            });
        }
    }
    lines.join("\n")
}

/// Everything as one JSON document.
fn json_report(
    probe: &SystemProbe,
    passes: &[DialectPass],
    ane_skipped: Option<&str>,
    summary: &Summary,
) -> serde_json::Value {
    let framework = match &probe.framework {
        FrameworkProbe::NotApplicable(reason) => json!({ "probed": false, "reason": reason }),
        FrameworkProbe::Checked {
            loaded,
            classes,
            api,
        } => json!({
            "probed": true,
            "loaded": loaded.is_ok(),
            "load_error": loaded.as_ref().err(),
            "classes": classes.iter().map(|c| json!({
                "name": c.name, "required": c.required, "available": c.available,
            })).collect::<Vec<_>>(),
            "api_usable": api.is_ok(),
            "api_error": api.as_ref().err(),
        }),
    };
    let chip = match &probe.chip {
        ChipProbe::AppleSilicon {
            brand,
            family,
            ane_subtype,
            ..
        } => json!({ "brand": brand, "family": family.to_string(), "ane_subtype": ane_subtype }),
        other => json!({ "description": other.describe() }),
    };
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "platform": { "os": probe.os, "arch": probe.arch, "os_version": probe.os_version },
        "chip": chip,
        "framework": framework,
        "ane_skipped": ane_skipped,
        "passes": passes.iter().map(|p| json!({
            "dialect": dialect_name(p.dialect),
            "sim": p.sim,
            "ane": p.ane,
            "ane_vs_sim": p.ane_vs_sim,
            "unproven_in_kernels": p.unproven.iter().map(|(k, u)| json!({
                "kernel": k, "unproven": u,
            })).collect::<Vec<_>>(),
            "probes": p.probes,
        })).collect::<Vec<_>>(),
        "summary": summary,
    })
}
