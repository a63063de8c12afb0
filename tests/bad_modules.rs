//! Bad modules: truncated and mutated bytes, invalid text, wrong exports,
//! missing imports, no memory, trapping start functions, the nasty corpus
//! and the fuzzers' findings. Each gives an error naming the problem; none
//! panics.
#![cfg(feature = "wat")] // WAT text modules; tests/binary_only.rs covers builds without it

#[path = "support/run_module.rs"]
mod run_module;

use linmem::{Error, Guest, Module};
use run_module::Reached;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every fixture as wasm bytes: `.wasm` files as they are, `.wat` files
/// compiled (those that are valid text), with their names.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in [
        fixtures(),
        fixtures().join("nasty"),
        fixtures().join("nasty/fuzz"),
    ] {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("wasmi_") {
                // Open wasmi bugs that still panic the host: replayed by the
                // ignored `known_wasmi_bug_*` tests instead.
                continue;
            }
            match path.extension().and_then(|e| e.to_str()) {
                Some("wasm") => out.push((name, bytes)),
                Some("wat") => out.push((name, wat::parse_bytes(&bytes).unwrap().into_owned())),
                _ => {}
            }
        }
    }
    assert!(out.len() >= 20, "corpus has {} modules", out.len());
    out
}

/// Checks that a failed compile says what kind of input it was.
fn assert_compile_error(input: &[u8], err: &Error) {
    match err {
        Error::Compile { error: source } => {
            assert!(input.starts_with(b"\0asm"));
            assert!(!source.to_string().is_empty());
        }
        Error::Wat { message, .. } => {
            assert!(!input.starts_with(b"\0asm"));
            assert!(!message.is_empty());
        }
        Error::NotWasm { len, .. } => {
            assert!(!input.starts_with(b"\0asm"));
            assert_eq!(*len, input.len());
        }
        other => panic!("compiling gave {other:?}"),
    }
}

#[test]
fn every_prefix_of_every_fixture() {
    let mut compiled = 0;
    let mut prefixes = 0;
    for (name, wasm) in corpus() {
        for end in 0..wasm.len() {
            let prefix = &wasm[..end];
            prefixes += 1;
            match Module::new(prefix) {
                Err(err) => assert_compile_error(prefix, &err),
                Ok(_) => {
                    compiled += 1;
                    // A prefix ending at a section boundary is a valid module.
                    assert!(
                        run_module::run(prefix) != Reached::Compile,
                        "{name}[..{end}]"
                    );
                }
            }
        }
        // The whole file: `run` must get through it whatever it is.
        run_module::run(&wasm);
    }
    assert!(prefixes > 1_000);
    assert!(
        compiled > 0 && compiled < prefixes / 4,
        "{compiled} of {prefixes}"
    );
}

/// xorshift64*: a deterministic generator, so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }
}

fn mutate(rng: &mut Rng, wasm: &[u8]) -> Vec<u8> {
    let mut out = wasm.to_vec();
    for _ in 0..=rng.below(4) {
        if out.is_empty() {
            out.push(rng.byte());
            continue;
        }
        let at = rng.below(out.len());
        match rng.below(5) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => out[at] = rng.byte(),
            2 => out.insert(at, rng.byte()),
            3 => {
                out.remove(at);
            }
            // Interesting values: LEB128 continuation bytes, 0, max.
            _ => out[at] = [0x00, 0x7f, 0x80, 0xff, 0x40, 0x41][rng.below(6)],
        }
    }
    out
}

#[test]
fn random_mutations_of_every_fixture() {
    const PER_FILE: usize = 400;
    let mut rng = Rng(0x6C69_6E6D_656D_2121);
    let (mut compile, mut instantiate, mut called) = (0, 0, 0);
    for (_name, wasm) in corpus() {
        for _ in 0..PER_FILE {
            let mutant = mutate(&mut rng, &wasm);
            match run_module::run(&mutant) {
                Reached::Compile => {
                    compile += 1;
                    assert_compile_error(&mutant, &Module::new(&mutant).unwrap_err());
                }
                Reached::Instantiate => instantiate += 1,
                Reached::Called(_) => called += 1,
            }
        }
    }
    // Mutations reach every stage, so each stage's error paths are exercised.
    assert!(
        compile > 0 && instantiate > 0 && called > 0,
        "{compile}/{instantiate}/{called}"
    );
}

#[test]
fn invalid_wat_is_a_wat_error_with_a_position() {
    let cases = [
        "(module",
        "(module (func (export \"f\") (result i32)))",
        "(module (memory 1) (func i32.const))",
        "(modul)",
        "(module (func $f (call $g)))",
        "\u{feff}(module)",
        "(module (memory 99999999999999999999))",
        "(module (data (i32.const 0) \"\\zz\"))",
    ];
    for text in cases {
        match Module::new(text) {
            Err(
                err @ Error::Wat {
                    line: 1, column, ..
                },
            ) => {
                // The message names the line and column, on one line.
                let message = err.to_string();
                let want = format!("invalid WAT text at line 1, column {column}: ");
                assert!(
                    column > 0 && message.starts_with(&want),
                    "{text}: {message}"
                );
                assert!(!message.contains('\n'), "{text}: {message}");
            }
            // Valid text whose module is invalid is a compile error.
            Err(Error::Compile { .. }) => {}
            other => panic!("{text}: {other:?}"),
        }
    }
    // Binary garbage that is not wasm is not text either, and says so.
    for bytes in [
        &b"\xff\xfe\x00"[..],
        b"\0as",
        b"\0asn\x01\0\0\0",
        &[0x80; 64],
    ] {
        match Module::new(bytes) {
            Err(err @ Error::NotWasm { .. }) => {
                let message = err.to_string();
                assert!(message.contains("neither a wasm module"), "{message}");
                assert!(message.contains(&format!("{} bytes starting with", bytes.len())));
            }
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
}

#[test]
fn nasty_binaries_are_compile_errors() {
    for name in [
        "huge_section_length.wasm",
        "too_many_locals.wasm",
        "huge_type_count.wasm",
        "bad_version.wasm",
        "memory_min_over_max.wasm",
        "op_after_end.wasm",
    ] {
        let bytes = std::fs::read(fixtures().join("nasty").join(name)).unwrap();
        let err = Module::new(&bytes).unwrap_err();
        let Error::Compile { error } = &err else {
            panic!("{name}: {err:?}")
        };
        // The message carries wasmi's, with its byte offset, and is not
        // repeated by a source.
        let message = err.to_string();
        assert_eq!(message, format!("invalid wasm module: {error}"), "{name}");
        assert!(message.contains("offset"), "{name}: {message}");
        assert!(std::error::Error::source(&err).is_none(), "{name}");
    }
    let bytes = std::fs::read(fixtures().join("nasty/bad_magic.wasm")).unwrap();
    let err = Module::new(&bytes).unwrap_err();
    assert!(
        matches!(err, Error::NotWasm { .. } | Error::Wat { .. }),
        "{err:?}"
    );
}

const EXPORTS: &str = r#"(module
  (memory (export "memory") 1)
  (global (export "g") i32 (i32.const 1))
  (table (export "t") 1 funcref)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;

#[test]
fn wrong_export_kinds_and_signatures() -> linmem::Result<()> {
    let mut guest = Guest::new(EXPORTS)?;
    for (name, found) in [("memory", "memory"), ("g", "global"), ("t", "table")] {
        match guest.call::<(), ()>(name, ()) {
            Err(Error::WrongExportKind {
                name: n,
                expected: "function",
                found: f,
            }) => {
                assert_eq!(&*n, name);
                assert_eq!(f, found);
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    let err = guest.call::<(i32, i32), i64>("add", (1, 2)).unwrap_err();
    assert!(
        matches!(&err, Error::SignatureMismatch { name, .. } if &**name == "add"),
        "{err:?}"
    );
    assert!(err.to_string().contains("`add`"));
    assert!(matches!(
        guest.export_func::<i32, i32>("add"),
        Err(Error::SignatureMismatch { .. })
    ));
    assert!(matches!(
        guest.call::<(), ()>("missing", ()),
        Err(Error::MissingExport {
            expected: "function",
            ..
        })
    ));
    assert_eq!(guest.call::<(i32, i32), i32>("add", (2, 3))?, 5);
    let module = Module::new(EXPORTS)?;
    for (name, found) in [("add", "function"), ("g", "global"), ("t", "table")] {
        match module.guest().default_memory(name).instantiate() {
            Err(err @ Error::MissingMemory { found: Some(f), .. }) => {
                assert_eq!(f, found);
                assert!(
                    err.to_string()
                        .contains(&format!("(`{name}` is a {found})"))
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn missing_imports_are_named() {
    let bytes = std::fs::read(fixtures().join("nasty/imports.wat")).unwrap();
    match Guest::new(bytes) {
        Err(Error::MissingImport { module, name, kind }) => {
            assert_eq!((&*module, &*name, kind), ("env", "log", "function"));
        }
        other => panic!("{other:?}"),
    }
    for (wat, name, kind) in [
        (r#"(module (import "env" "m" (memory 1)))"#, "m", "memory"),
        (
            r#"(module (import "env" "t" (table 1 funcref)))"#,
            "t",
            "table",
        ),
        (r#"(module (import "env" "g" (global i32)))"#, "g", "global"),
    ] {
        match Guest::new(wat) {
            Err(err @ Error::MissingImport { .. }) => {
                let text = err.to_string();
                assert!(text.contains(name) && text.contains(kind), "{text}");
            }
            other => panic!("{wat}: {other:?}"),
        }
    }
}

#[test]
fn a_module_without_memory_runs_and_its_views_say_so() {
    let bytes = std::fs::read(fixtures().join("nasty/no_memory.wat")).unwrap();
    let mut guest = Guest::new(bytes).unwrap();
    assert_eq!(guest.call::<(), i32>("answer", ()).unwrap(), 42);
    let view = guest.view();
    assert!(!view.has_memory());
    assert_eq!((view.len(), view.pages(), view.page_size()), (0, 0, 0));
    assert!(matches!(view.read::<u8>(0), Err(Error::NoMemory)));
    assert!(matches!(view.c_bytes(0, 8), Err(Error::NoMemory)));
    assert!(matches!(
        guest.view_mut().write(0, 1u8),
        Err(Error::NoMemory)
    ));
    assert!(matches!(guest.grow(1), Err(Error::NoMemory)));
    assert!(matches!(guest.default_memory(), Err(Error::NoMemory)));
    assert!(guest.as_wasmi_memory().is_none());
    assert!(matches!(
        linmem::Allocator::detect(&guest),
        Err(Error::NoMemory)
    ));
    let text = Error::NoMemory.to_string();
    assert!(text.contains("no memory"), "{text}");
    // asking for a memory by name lists what there is to choose from
    let module =
        Module::new(std::fs::read(fixtures().join("nasty/no_memory.wat")).unwrap()).unwrap();
    let err = module
        .guest()
        .default_memory("memory")
        .instantiate()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the guest exports no memory named `memory`; it exports no memory at all, \
         so leave the default memory unset and the guest runs without one"
    );
}

#[test]
fn fuzz_findings_replay() {
    // module target, finding 1: an endless loop that overflowed the host
    // stack under AddressSanitizer (wasmi's tail-call dispatch). Here it
    // must end on its fuel budget like any other loop.
    let wasm = std::fs::read(fixtures().join("nasty/fuzz/asan_tail_dispatch_loop.wasm")).unwrap();
    assert_eq!(run_module::run(&wasm), Reached::Called(1));
    let module = Module::with_engine(&linmem::metered_engine(), &wasm).unwrap();
    let mut guest = module
        .guest()
        .default_memory("22")
        .fuel(100_000)
        .instantiate()
        .unwrap();
    let err = guest.call::<(), i32>("2", ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(linmem::TrapCode::OutOfFuel));
}

#[test]
fn an_instruction_after_the_final_end_is_a_compile_error_on_every_engine() {
    // Found by random_mutations_of_every_fixture: under wasmi's Eager
    // compilation this trips a debug assertion in wasmi 2.0's translator (a
    // host panic in debug builds); linmem's engines validate first.
    let wasm = std::fs::read(fixtures().join("nasty/op_after_end.wasm")).unwrap();
    for engine in [linmem::Engine::default(), linmem::metered_engine()] {
        match Module::with_engine(&engine, &wasm) {
            Err(Error::Compile { error: source }) => {
                assert!(
                    source.to_string().contains("operators remaining after end"),
                    "{source}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(run_module::run(&wasm), Reached::Compile);
}

/// Upstream bug (fuzz finding 3, SECURITY.md, wasmi bug W3): this valid
/// module makes wasmi 2.0's translator hit `unreachable!()`. linmem's
/// engines translate eagerly inside `catch_unwind`, so the module is
/// refused with `Error::TranslatorPanic` (once wasmi is fixed it compiles
/// and `f` traps out of bounds: this test then needs updating).
#[test]
fn known_wasmi_bug_store_unreachable_is_contained() {
    let wat = std::fs::read(fixtures().join("nasty/fuzz/wasmi_store_unreachable.wat")).unwrap();
    match Guest::new(wat) {
        Err(Error::TranslatorPanic { message }) => {
            assert!(message.contains("unreachable"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
