//! Fuzz target `view`: arbitrary sequences of view operations on a real
//! guest and on a `Vec<u8>` model (tests/support/view_model.rs, shared
//! with the proptest suite): same bytes and same errors after every op.
//!
//! Run: `cargo +nightly fuzz run view -- -max_total_time=600`
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/view_model.rs"]
mod view_model;

use view_model::{Addr, Base, Op, WIDTHS};

fn addr(u: &mut Unstructured<'_>) -> Result<Addr> {
    let base = *u.choose(&[Base::Zero, Base::End, Base::U32Max, Base::U64Max])?;
    let offset = i64::from(u.int_in_range(-40i32..=40)?);
    Ok(Addr { base, offset })
}

fn len(u: &mut Unstructured<'_>) -> Result<u64> {
    Ok(match u.int_in_range(0u8..=9)? {
        0 => u64::MAX,
        1 => u64::from(u32::MAX),
        2 => 65_536,
        _ => u64::from(u.int_in_range(0u16..=300)?),
    })
}

fn op(u: &mut Unstructured<'_>) -> Result<Op> {
    Ok(match u.int_in_range(0u8..=7)? {
        0 => Op::Read(*u.choose(&WIDTHS)?, addr(u)?),
        1 => Op::Write(*u.choose(&WIDTHS)?, addr(u)?, u.arbitrary()?),
        2 => Op::ReadBytes(addr(u)?, len(u)?),
        3 => {
            let n = u.int_in_range(0usize..=64)?;
            Op::WriteBytes(addr(u)?, u.bytes(n)?.to_vec())
        }
        4 => Op::Fill(addr(u)?, len(u)?, u.arbitrary()?),
        5 => Op::Copy(addr(u)?, addr(u)?, len(u)?),
        6 => Op::Str(addr(u)?, len(u)?),
        _ => Op::Grow(match u.int_in_range(0u8..=5)? {
            0 => u64::MAX,
            1 => u64::from(u32::MAX),
            2 => 65_536,
            n => u64::from(n - 3),
        }),
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < 256 {
        match op(&mut u) {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    if let Err(disagreement) = view_model::check(&ops) {
        panic!("{disagreement}");
    }
});
