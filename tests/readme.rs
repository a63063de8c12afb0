//! The README's and the guides' Rust blocks are what a user copies: they
//! must compile as written in the user's own crate. rustdoc runs them (see
//! the doctest structs in src/lib.rs); this checks what rustdoc would hide.

use std::path::Path;

/// The Rust code blocks of a Markdown file, with their first line number.
fn rust_blocks(text: &str) -> Vec<(usize, Vec<&str>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, Vec<&str>)> = None;
    for (n, line) in text.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match (&mut current, fence) {
            (None, true) if line.trim_start() == "```rust" => current = Some((n + 1, Vec::new())),
            (Some(_), true) => blocks.extend(current.take()),
            (Some((_, lines)), false) => lines.push(line),
            _ => {}
        }
    }
    blocks
}

#[test]
fn readme_blocks_compile_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for file in ["README.md", "docs/HOSTILE_GUESTS.md"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        for (line, block) in rust_blocks(&text) {
            for code in &block {
                let trimmed = code.trim_start();
                assert!(
                    trimmed != "#" && !trimmed.starts_with("# "),
                    "{file}:{line}: a hidden rustdoc line shows literally outside rustdoc: {code}"
                );
                assert!(
                    !code.contains("CARGO_MANIFEST_DIR") && !code.contains("fixtures/"),
                    "{file}:{line}: reads this repository's files: {code}"
                );
            }
            assert!(
                block.iter().any(|code| code.starts_with("fn main()")),
                "{file}:{line}: no `fn main()`: a user's crate needs one"
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} Rust blocks found");
}
