//! The committed `.wasm` fixtures are the compiled form of their `.wat` sources.
//!
//! Run with `LINMEM_BLESS=1` to rewrite a `.wasm` after editing its `.wat`.
#![cfg(feature = "wat")]

use std::path::Path;

fn check(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let wat = std::fs::read_to_string(dir.join(format!("{name}.wat"))).unwrap();
    let compiled = wat::parse_str(&wat).unwrap();
    let wasm_path = dir.join(format!("{name}.wasm"));
    if std::env::var_os("LINMEM_BLESS").is_some() {
        std::fs::write(&wasm_path, &compiled).unwrap();
    }
    let committed = std::fs::read(&wasm_path).unwrap();
    assert_eq!(
        committed, compiled,
        "{name}.wasm is stale: run LINMEM_BLESS=1 cargo test --test fixtures"
    );
}

#[test]
fn linear_memory_wasm_matches_its_wat() {
    check("linear_memory");
    assert_eq!(
        linmem::LINEAR_MEMORY_WASM,
        wat::parse_str(linmem::LINEAR_MEMORY_WAT).unwrap()
    );
}
