//! The command loop: replays one `.wast` script on a [`Backend`] and gives
//! every directive a [`Verdict`].

use crate::value::{self, Value};
use std::collections::HashMap;
use wasmi::TrapCode;
use wast::{QuoteWat, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

/// How a command failed on a backend.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The guest trapped (stack exhaustion included).
    Trap(TrapCode),
    /// Instantiation failed at link time: a missing or incompatible import.
    Link(String),
    /// Anything else.
    Other(String),
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Trap(code) => write!(f, "trap: {code}"),
            Self::Link(message) => write!(f, "link error: {message}"),
            Self::Other(message) => f.write_str(message),
        }
    }
}

/// What a script needs from an engine. One backend value runs one script.
pub trait Backend {
    /// An instance of a module in the backend's store.
    type Instance: Clone;

    /// Compiles and validates a binary module without instantiating it.
    fn compile(&mut self, wasm: &[u8]) -> Result<(), String>;

    /// Compiles and instantiates a binary module with the `spectest` imports
    /// and the registered instances, and runs its start function.
    fn instantiate(&mut self, wasm: &[u8]) -> Result<Self::Instance, Failure>;

    /// Makes `instance`'s exports importable by later modules as `name`.
    fn register(&mut self, name: &str, instance: &Self::Instance) -> Result<(), String>;

    /// Calls an exported function with dynamic values.
    fn invoke(
        &mut self,
        instance: &Self::Instance,
        name: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, Failure>;

    /// Reads an exported global.
    fn global(&mut self, instance: &Self::Instance, name: &str) -> Result<Value, Failure>;

    /// Compares what the host sees of `instance`'s exported memories with
    /// what the guest's own loads return; returns the number of reads
    /// compared. Backends without a view check nothing.
    fn check_memory(&mut self, _instance: &Self::Instance) -> Result<u64, String> {
        Ok(0)
    }
}

/// The outcome of one directive on one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

/// One directive of a script and its verdict.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// 1-based line in the script.
    pub line: usize,
    /// The directive, e.g. `assert_return`.
    pub kind: &'static str,
    pub verdict: Verdict,
}

/// What one script gave on one backend.
#[derive(Debug, Default)]
pub struct ScriptReport {
    pub outcomes: Vec<Outcome>,
    /// Memory reads compared between the view and the guest's loads.
    pub memory_reads: u64,
}

/// The trap codes a spec message accepts (`assert_trap` and
/// `assert_exhaustion`). As in the reference interpreter, the script's
/// message is a prefix of the engine's (`out of bounds` stands for memory
/// and table accesses alike); wasmi's message for a null table entry is
/// `uninitialized element 2`.
pub fn trap_codes_for(message: &str) -> Vec<TrapCode> {
    const CODES: &[(&str, TrapCode)] = &[
        ("unreachable", TrapCode::UnreachableCodeReached),
        ("integer divide by zero", TrapCode::IntegerDivisionByZero),
        ("integer overflow", TrapCode::IntegerOverflow),
        (
            "invalid conversion to integer",
            TrapCode::BadConversionToInteger,
        ),
        ("out of bounds memory access", TrapCode::MemoryOutOfBounds),
        ("out of bounds table access", TrapCode::TableOutOfBounds),
        ("undefined element", TrapCode::TableOutOfBounds),
        ("uninitialized element", TrapCode::IndirectCallToNull),
        ("indirect call type mismatch", TrapCode::BadSignature),
        ("call stack exhausted", TrapCode::StackOverflow),
    ];
    let message = message.trim_end_matches(" 2");
    CODES
        .iter()
        .filter(|(spec, _)| spec.starts_with(message))
        .map(|(_, code)| *code)
        .collect()
}

/// Replays `text` (a script named `name`, for messages) on `backend`.
///
/// `skip` gives every directive a skip with that reason instead (a proposal
/// the engine does not implement), so that skips are counted too.
pub fn run<B: Backend>(
    text: &str,
    backend: &mut B,
    skip: Option<&str>,
    check_memory: bool,
) -> Result<ScriptReport, String> {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = wast::parser::ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())?;
    let script = wast::parser::parse::<wast::Wast<'_>>(&buffer).map_err(|e| e.to_string())?;
    let mut runner = Runner {
        backend,
        current: None,
        named: HashMap::new(),
        definitions: HashMap::new(),
        check_memory,
        report: ScriptReport::default(),
    };
    for directive in script.directives {
        let line = directive.span().linecol_in(text).0 + 1;
        let kind = kind(&directive);
        let verdict = match skip {
            Some(reason) => Verdict::Skip(reason.to_owned()),
            None => runner.directive(directive),
        };
        runner.report.outcomes.push(Outcome {
            line,
            kind,
            verdict,
        });
        if skip.is_none() {
            runner.memory_check(line);
        }
    }
    Ok(runner.report)
}

fn kind(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

struct Runner<'b, B: Backend> {
    backend: &'b mut B,
    /// The most recent module instance, which unnamed commands address.
    current: Option<B::Instance>,
    named: HashMap<String, B::Instance>,
    /// `module definition $name`: binaries to instantiate later.
    definitions: HashMap<String, Vec<u8>>,
    check_memory: bool,
    report: ScriptReport,
}

/// A binary module from a script's module text, or why it is not replayed.
enum Encoded {
    Wasm(Vec<u8>),
    /// The text did not parse or encode: a text-format matter.
    TextError(String),
    Unsupported(&'static str),
}

fn encode(module: &mut QuoteWat<'_>) -> Encoded {
    if matches!(
        module,
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
    ) {
        return Encoded::Unsupported("component model");
    }
    match module.encode() {
        Ok(wasm) => Encoded::Wasm(wasm),
        Err(error) => Encoded::TextError(error.to_string()),
    }
}

fn encode_wat(module: &mut Wat<'_>) -> Encoded {
    if matches!(module, Wat::Component(_)) {
        return Encoded::Unsupported("component model");
    }
    match module.encode() {
        Ok(wasm) => Encoded::Wasm(wasm),
        Err(error) => Encoded::TextError(error.to_string()),
    }
}

impl<B: Backend> Runner<'_, B> {
    fn instance(&self, name: Option<wast::token::Id<'_>>) -> Result<B::Instance, String> {
        match name {
            Some(id) => self
                .named
                .get(id.name())
                .cloned()
                .ok_or_else(|| format!("no module named ${}", id.name())),
            None => self
                .current
                .clone()
                .ok_or_else(|| "no current module (an earlier module failed?)".to_owned()),
        }
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Verdict {
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|id| id.name().to_owned());
                match encode(&mut module) {
                    Encoded::Wasm(wasm) => self.module(name, &wasm),
                    Encoded::TextError(error) => Verdict::Fail(format!("module text: {error}")),
                    Encoded::Unsupported(what) => {
                        self.current = None;
                        Verdict::Skip(what.to_owned())
                    }
                }
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_owned());
                match encode(&mut module) {
                    Encoded::Wasm(wasm) => match self.backend.compile(&wasm) {
                        Ok(()) => {
                            if let Some(name) = name {
                                self.definitions.insert(name, wasm);
                            }
                            Verdict::Pass
                        }
                        Err(error) => Verdict::Fail(format!("module definition: {error}")),
                    },
                    Encoded::TextError(error) => Verdict::Fail(format!("module text: {error}")),
                    Encoded::Unsupported(what) => Verdict::Skip(what.to_owned()),
                }
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let Some(wasm) = module.and_then(|id| self.definitions.get(id.name()).cloned())
                else {
                    return Verdict::Fail("module instance of an unknown definition".into());
                };
                self.module(instance.map(|id| id.name().to_owned()), &wasm)
            }
            WastDirective::Register { name, module, .. } => match self.instance(module) {
                Ok(instance) => match self.backend.register(name, &instance) {
                    Ok(()) => Verdict::Pass,
                    Err(error) => Verdict::Fail(format!("register: {error}")),
                },
                Err(error) => Verdict::Fail(error),
            },
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(Ok(_)) => Verdict::Pass,
                Ok(Err(failure)) => Verdict::Fail(format!("invoke failed: {failure}")),
                Err(verdict) => verdict,
            },
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec, message, .. } => self.assert_trap(exec, message),
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Ok(Err(Failure::Trap(TrapCode::StackOverflow))) => Verdict::Pass,
                Ok(Err(failure)) => Verdict::Fail(format!("expected {message:?}, got {failure}")),
                Ok(Ok(values)) => {
                    Verdict::Fail(format!("expected {message:?}, returned {values:?}"))
                }
                Err(verdict) => verdict,
            },
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            }
            | WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => match encode(&mut module) {
                Encoded::Wasm(wasm) => match self.backend.compile(&wasm) {
                    Err(_) => Verdict::Pass,
                    Ok(()) => Verdict::Fail(format!("compiled, expected {message:?}")),
                },
                // A module the text parser refuses never reaches the engine.
                Encoded::TextError(_) => {
                    Verdict::Skip("malformed text, refused by the wast parser".into())
                }
                Encoded::Unsupported(what) => Verdict::Skip(what.to_owned()),
            },
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                Verdict::Skip("custom-section assertion (annotations)".into())
            }
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => match encode_wat(&mut module) {
                Encoded::Wasm(wasm) => match self.backend.instantiate(&wasm) {
                    Err(Failure::Link(_)) => Verdict::Pass,
                    Err(failure) => {
                        Verdict::Fail(format!("expected link error {message:?}, got {failure}"))
                    }
                    Ok(_) => Verdict::Fail(format!("instantiated, expected {message:?}")),
                },
                Encoded::TextError(error) => Verdict::Fail(format!("module text: {error}")),
                Encoded::Unsupported(what) => Verdict::Skip(what.to_owned()),
            },
            WastDirective::AssertException { .. } => {
                Verdict::Skip("exception handling (not in wasmi 2.0)".into())
            }
            WastDirective::AssertSuspension { .. } => {
                Verdict::Skip("stack switching (not in wasmi 2.0)".into())
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Verdict::Skip("threads (not in wasmi 2.0)".into())
            }
        }
    }

    fn module(&mut self, name: Option<String>, wasm: &[u8]) -> Verdict {
        match self.backend.instantiate(wasm) {
            Ok(instance) => {
                if let Some(name) = name {
                    self.named.insert(name, instance.clone());
                }
                self.current = Some(instance);
                Verdict::Pass
            }
            Err(failure) => {
                self.current = None;
                Verdict::Fail(format!("module failed: {failure}"))
            }
        }
    }

    /// Runs an invocation; `Err` is the verdict when it cannot be run.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Result<Vec<Value>, Failure>, Verdict> {
        let mut args = Vec::with_capacity(invoke.args.len());
        for arg in &invoke.args {
            args.push(value::arg(arg).map_err(Verdict::Skip)?);
        }
        let instance = self.instance(invoke.module).map_err(Verdict::Fail)?;
        Ok(self.backend.invoke(&instance, invoke.name, &args))
    }

    /// Runs what an assertion executes; `Err` is the verdict when it cannot
    /// be run.
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Result<Vec<Value>, Failure>, Verdict> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module).map_err(Verdict::Fail)?;
                Ok(self
                    .backend
                    .global(&instance, global)
                    .map(|value| vec![value]))
            }
            WastExecute::Wat(mut module) => match encode_wat(&mut module) {
                Encoded::Wasm(wasm) => Ok(self.backend.instantiate(&wasm).map(|_| Vec::new())),
                Encoded::TextError(error) => Err(Verdict::Fail(format!("module text: {error}"))),
                Encoded::Unsupported(what) => Err(Verdict::Skip(what.to_owned())),
            },
        }
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, results: &[WastRet<'_>]) -> Verdict {
        let mut expected = Vec::with_capacity(results.len());
        for result in results {
            match value::expected(result) {
                Ok(result) => expected.push(result),
                Err(reason) => return Verdict::Skip(reason),
            }
        }
        let actual = match self.execute(exec) {
            Ok(Ok(actual)) => actual,
            Ok(Err(failure)) => return Verdict::Fail(format!("failed: {failure}")),
            Err(verdict) => return verdict,
        };
        if actual.len() == expected.len() && expected.iter().zip(&actual).all(|(e, a)| e.matches(a))
        {
            Verdict::Pass
        } else {
            Verdict::Fail(format!(
                "expected [{}], got [{}]",
                join(&expected),
                join(&actual)
            ))
        }
    }

    fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str) -> Verdict {
        let codes = trap_codes_for(message);
        if codes.is_empty() {
            return Verdict::Fail(format!("no trap code known for {message:?}"));
        }
        match self.execute(exec) {
            Ok(Err(Failure::Trap(actual))) if codes.contains(&actual) => Verdict::Pass,
            Ok(Err(failure)) => Verdict::Fail(format!("expected trap {message:?}, got {failure}")),
            Ok(Ok(values)) => {
                Verdict::Fail(format!("expected trap {message:?}, returned {values:?}"))
            }
            Err(verdict) => verdict,
        }
    }

    /// The memory cross-check after a command, recorded as an outcome of
    /// its own when it fails.
    fn memory_check(&mut self, line: usize) {
        if !self.check_memory {
            return;
        }
        let Some(instance) = self.current.clone() else {
            return;
        };
        match self.backend.check_memory(&instance) {
            Ok(reads) => self.report.memory_reads += reads,
            Err(error) => self.report.outcomes.push(Outcome {
                line,
                kind: "memory cross-check",
                verdict: Verdict::Fail(error),
            }),
        }
    }
}

fn join<T: core::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
