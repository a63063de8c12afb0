//! The guest loops of fixtures/bench_loops.wat written in Rust, the
//! `native` rows of `guest_loop/*` (shared with bench-engines/).

pub fn sum_bytes(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0u32, |acc, &b| acc.wrapping_add(u32::from(b)))
}

pub fn sum_u64(bytes: &[u8]) -> u64 {
    bytes.chunks_exact(8).fold(0u64, |acc, c| {
        acc.wrapping_add(u64::from_le_bytes(c.try_into().expect("8 bytes")))
    })
}

pub fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

pub fn fill_loop(bytes: &mut [u8], byte: u8) {
    for b in bytes {
        *b = byte;
    }
}

pub fn copy_loop(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}
