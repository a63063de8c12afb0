//! Nothing: this package only holds linmem's tests and benchmarks that need
//! heavy dev-dependencies (see its Cargo.toml).
