//! Guest allocators: the three conventions (and malloc/free) on bump
//! allocator fixtures, memory growth during allocation, taking buffers back,
//! and lying allocators (null, out of bounds, misaligned, wrapping).
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

use linmem::{AllocationFault, Allocator, AllocatorKind, Error, Guest, GuestPtr, GuestSlice};

const PAGE: u64 = 65_536;
const PLAIN: &str = include_str!("../fixtures/alloc_plain.wat");
const WBINDGEN: &str = include_str!("../fixtures/alloc_wbindgen.wat");
const CABI: &str = include_str!("../fixtures/alloc_cabi.wat");
const LIAR: &str = include_str!("../fixtures/alloc_liar.wat");

linmem::memory_record! {
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Header { magic: u32, qty: u32, price: f64 }
}

fn get(guest: &mut Guest, name: &str) -> i32 {
    guest.call::<(), i32>(name, ()).unwrap()
}

fn assert_bad_allocation<T: std::fmt::Debug>(
    result: linmem::Result<T>,
    func: &str,
    addr: u64,
    size: u64,
    align: u64,
    fault: AllocationFault,
) {
    match result {
        Err(Error::BadAllocation {
            func: f,
            addr: a,
            size: s,
            align: al,
            fault: fa,
        }) => {
            assert_eq!(
                (&*f, a, s, al, fa),
                (func, addr, size, align, fault),
                "wrong context in the error"
            )
        }
        other => panic!("expected BadAllocation from {func}, got {other:?}"),
    }
}

#[test]
fn plain_alloc_moves_bytes_in_and_the_guest_sees_them() {
    let mut guest = Guest::new(PLAIN).unwrap();
    let allocator = Allocator::new(&guest, AllocatorKind::AllocDealloc).unwrap();
    assert_eq!(allocator.kind(), AllocatorKind::AllocDealloc);
    let data = allocator
        .alloc_bytes(&mut guest, &[10, 20, 30, 40])
        .unwrap();
    assert_eq!((data.addr(), data.len()), (1024, 4));
    assert_eq!(guest.view().slice(data).unwrap(), &[10, 20, 30, 40]);
    let sum: i32 = guest.call("sum", data.to_i32_pair().unwrap()).unwrap();
    assert_eq!(sum, 100);
    let text = allocator.alloc_str(&mut guest, "héllo").unwrap();
    assert_eq!(text.addr(), 1032, "8-byte aligned bump");
    assert_eq!(guest.view().str(text.addr(), text.len()).unwrap(), "héllo");
}

#[test]
fn an_allocator_that_grows_memory_is_followed_by_a_fresh_view() {
    let mut guest = Guest::new(PLAIN).unwrap();
    let allocator = Allocator::detect(&guest).unwrap();
    assert_eq!(guest.view().pages(), 1);
    let big: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let slice = allocator.alloc_bytes(&mut guest, &big).unwrap();
    assert_eq!(
        guest.view().pages(),
        3,
        "the allocator grew the memory to fit 1024 + 150 000 bytes"
    );
    assert_eq!(slice.addr(), 1024);
    assert_eq!(guest.view().slice(slice).unwrap(), &big[..]);
    let sum: i32 = guest.call("sum", slice.to_i32_pair().unwrap()).unwrap();
    assert_eq!(sum as u64, big.iter().map(|&b| u64::from(b)).sum::<u64>());
    // Past the maximum of 16 pages, the allocator returns 0.
    assert_bad_allocation(
        allocator.alloc(&mut guest, 2 * 1024 * 1024, 1),
        "alloc",
        0,
        2 * 1024 * 1024,
        1,
        AllocationFault::Null,
    );
    // A size of 2 GiB goes to the guest as a negative i32 and comes back null.
    assert_bad_allocation(
        allocator.alloc(&mut guest, 1 << 31, 1),
        "alloc",
        0,
        1 << 31,
        1,
        AllocationFault::Null,
    );
}

#[test]
fn plain_take_reads_back_and_deallocates() {
    let mut guest = Guest::new(PLAIN).unwrap();
    let allocator = Allocator::detect(&guest).unwrap();
    let input = allocator.alloc_bytes(&mut guest, b"stressed").unwrap();
    let out: i32 = guest.call("reverse", input.to_i32_pair().unwrap()).unwrap();
    let result = GuestSlice::<u8>::from_i32(out, 8);
    assert_eq!(
        allocator.take_string(&mut guest, result).unwrap(),
        "desserts"
    );
    assert_eq!(get(&mut guest, "dealloc_calls"), 1);
    assert_eq!(
        i64::from(get(&mut guest, "last_dealloc_ptr")),
        i64::from(out)
    );
    assert_eq!(get(&mut guest, "last_dealloc_size"), 8);
    assert_eq!(
        allocator.take_bytes(&mut guest, input).unwrap(),
        b"stressed"
    );
    assert_eq!(get(&mut guest, "dealloc_calls"), 2);
    assert_eq!(get(&mut guest, "last_dealloc_size"), 8);
}

#[test]
fn take_checks_the_range_before_freeing_and_frees_invalid_text() {
    let mut guest = Guest::new(PLAIN).unwrap();
    let allocator = Allocator::detect(&guest).unwrap();
    let wild = GuestSlice::<u8>::from_i32(-100, 50);
    assert!(matches!(
        allocator.take_bytes(&mut guest, wild),
        Err(Error::OutOfBounds { .. })
    ));
    assert!(matches!(
        allocator.take_string(&mut guest, wild),
        Err(Error::OutOfBounds { .. })
    ));
    let huge = GuestSlice::<u64>::new(GuestPtr::new(8), u64::MAX / 4);
    assert!(matches!(
        allocator.take_vec(&mut guest, huge),
        Err(Error::PtrOverflow { .. })
    ));
    assert_eq!(
        get(&mut guest, "dealloc_calls"),
        0,
        "nothing freed for a bad range"
    );

    let bad = allocator
        .alloc_bytes(&mut guest, &[b'a', b'b', 0xFF])
        .unwrap();
    match allocator.take_string(&mut guest, bad) {
        Err(Error::InvalidUtf8 {
            addr,
            len: 3,
            valid_up_to,
            ..
        }) => {
            assert_eq!((addr, valid_up_to), (bad.addr(), bad.addr() + 2))
        }
        other => panic!("expected InvalidUtf8, got {other:?}"),
    }
    assert_eq!(
        get(&mut guest, "dealloc_calls"),
        1,
        "invalid text is freed all the same"
    );
}

#[test]
fn wasm_bindgen_malloc_honours_alignment() {
    let mut guest = Guest::new(WBINDGEN).unwrap();
    let allocator = Allocator::detect(&guest).unwrap();
    assert_eq!(allocator.kind(), AllocatorKind::WasmBindgen);
    let byte = allocator.alloc_bytes(&mut guest, b"!").unwrap();
    assert_eq!(byte.addr(), 1001, "alignment 1 for bytes");
    let words = allocator
        .alloc_slice(&mut guest, &[1u32, 2, 3, 400])
        .unwrap();
    assert_eq!(words.addr(), 1004);
    let sum: i32 = guest.call("sum_u32", words.to_i32_pair().unwrap()).unwrap();
    assert_eq!(sum, 406);
    let headers = [
        Header {
            magic: 7,
            qty: 2,
            price: 0.5,
        },
        Header {
            magic: 8,
            qty: 3,
            price: 1.5,
        },
    ];
    let records = allocator.alloc_slice(&mut guest, &headers).unwrap();
    assert_eq!(records.addr(), 1024, "8-byte aligned record");
    assert_eq!(guest.view().load_vec(records).unwrap(), headers);

    allocator.free(&mut guest, words).unwrap();
    assert_eq!(get(&mut guest, "last_free_ptr"), 1004);
    assert_eq!(get(&mut guest, "last_free_size"), 16);
    assert_eq!(get(&mut guest, "last_free_align"), 4);
    assert_eq!(allocator.take_vec(&mut guest, records).unwrap(), headers);
    assert_eq!(get(&mut guest, "last_free_ptr"), 1024);
    assert_eq!(get(&mut guest, "last_free_size"), 32);
    assert_eq!(get(&mut guest, "last_free_align"), 8);

    // The memory is one page and never grows: the allocator says null.
    assert_bad_allocation(
        allocator.alloc(&mut guest, PAGE, 4),
        "__wbindgen_malloc",
        0,
        PAGE,
        4,
        AllocationFault::Null,
    );
}

#[test]
fn canonical_abi_realloc_allocates_grows_and_has_no_free() {
    let mut guest = Guest::new(CABI).unwrap();
    let allocator = Allocator::detect(&guest).unwrap();
    assert_eq!(allocator.kind(), AllocatorKind::CanonicalAbi);
    let name = allocator.alloc_str(&mut guest, "wasm").unwrap();
    assert_eq!(name.addr(), 2048);
    let args: Vec<i32> = [
        "last_old_ptr",
        "last_old_size",
        "last_align",
        "last_new_size",
    ]
    .iter()
    .map(|n| get(&mut guest, n))
    .collect();
    assert_eq!(args, [0, 0, 1, 4], "cabi_realloc(0, 0, align, size)");

    let out: i32 = guest.call("greet", name.to_i32_pair().unwrap()).unwrap();
    let greeting = GuestSlice::<u8>::from_i32(out, 7);
    assert_eq!(
        allocator.take_string(&mut guest, greeting).unwrap(),
        "hi wasm"
    );
    // No free in the canonical ABI: nothing was called.
    assert_eq!(
        get(&mut guest, "last_new_size"),
        7,
        "the last call is still greet's"
    );

    let words = allocator.alloc_slice(&mut guest, &[u64::MAX, 1]).unwrap();
    assert_eq!(words.addr() % 8, 0);
    assert_eq!(get(&mut guest, "last_align"), 8);
    // Freeing is the callee's business in the canonical ABI: no call, no error,
    // even for an address a 32-bit guest could not take.
    let high = GuestSlice::<u8>::new(GuestPtr::new(1 << 40), 1);
    allocator.free(&mut guest, high).unwrap();
    assert_eq!(
        get(&mut guest, "last_align"),
        8,
        "cabi_realloc was not called"
    );
    // A zero-sized allocation gets the alignment back, a valid empty slice.
    let empty = allocator.alloc_bytes(&mut guest, &[]).unwrap();
    assert_eq!((empty.addr(), empty.len()), (1, 0));
    // Growth: 100 000 bytes do not fit in the first page.
    let big = vec![0xA5u8; 100_000];
    let slice = allocator.alloc_bytes(&mut guest, &big).unwrap();
    assert_eq!(guest.view().pages(), 2);
    assert_eq!(guest.view().slice(slice).unwrap(), &big[..]);
}

#[test]
fn malloc_free_convention() {
    let mut guest = Guest::new(
        r#"(module (memory (export "memory") 1)
            (global $next (mut i32) (i32.const 4096))
            (global $freed (mut i32) (i32.const 0))
            (func (export "malloc") (param $size i32) (result i32)
                (global.get $next)
                (global.set $next (i32.add (global.get $next) (i32.and (i32.add (local.get $size) (i32.const 15)) (i32.const -16)))))
            (func (export "free") (param $ptr i32) (global.set $freed (local.get $ptr)))
            (func (export "freed") (result i32) (global.get $freed)))"#,
    )
    .unwrap();
    let allocator = Allocator::detect(&guest).unwrap();
    assert_eq!(allocator.kind(), AllocatorKind::MallocFree);
    let a = allocator.alloc_slice(&mut guest, &[1i16, -1]).unwrap();
    let b = allocator.alloc_bytes(&mut guest, b"x").unwrap();
    assert_eq!((a.addr(), b.addr()), (4096, 4112));
    assert_eq!(allocator.take_vec(&mut guest, a).unwrap(), [1, -1]);
    assert_eq!(get(&mut guest, "freed"), 4096);
}

#[test]
fn detection_order_missing_and_mismatched_exports() {
    // Every convention exported: the canonical ABI wins.
    let liar = Guest::new(LIAR).unwrap();
    assert_eq!(
        Allocator::detect(&liar).unwrap().kind(),
        AllocatorKind::CanonicalAbi
    );
    for kind in [
        AllocatorKind::AllocDealloc,
        AllocatorKind::MallocFree,
        AllocatorKind::WasmBindgen,
        AllocatorKind::CanonicalAbi,
    ] {
        assert_eq!(Allocator::new(&liar, kind).unwrap().kind(), kind);
        assert!(
            liar.export_func::<(), ()>(kind.alloc_export()).is_err(),
            "the name is an export with another type"
        );
    }
    assert_eq!(
        AllocatorKind::WasmBindgen.free_export(),
        Some("__wbindgen_free")
    );
    assert_eq!(AllocatorKind::CanonicalAbi.free_export(), None);

    let none = Guest::new(r#"(module (memory (export "memory") 1))"#).unwrap();
    assert!(matches!(
        Allocator::detect(&none),
        Err(Error::MissingExport { .. })
    ));
    assert!(matches!(
        Allocator::new(&none, AllocatorKind::WasmBindgen),
        Err(Error::MissingExport { name, .. }) if &*name == "__wbindgen_malloc"
    ));

    // A memory64-style `alloc(i64) -> i64` is a signature mismatch, not skipped.
    let wide = Guest::new(
        r#"(module (memory (export "memory") 1)
            (func (export "alloc") (param i64) (result i64) (i64.const 8))
            (func (export "malloc") (param i32) (result i32) (i32.const 8)))"#,
    )
    .unwrap();
    assert!(
        matches!(Allocator::detect(&wide), Err(Error::SignatureMismatch { name, .. }) if &*name == "alloc")
    );
    // A free function of the wrong type is reported too.
    let bad_free = Guest::new(
        r#"(module (memory (export "memory") 1)
            (func (export "alloc") (param i32) (result i32) (i32.const 8))
            (func (export "dealloc") (param i32)))"#,
    )
    .unwrap();
    assert!(
        matches!(Allocator::detect(&bad_free), Err(Error::SignatureMismatch { name, .. }) if &*name == "dealloc")
    );
}

#[test]
fn a_missing_free_function_is_an_error_when_freeing() {
    let mut guest = Guest::new(
        r#"(module (memory (export "memory") 1)
            (func (export "alloc") (param i32) (result i32) (i32.const 64)))"#,
    )
    .unwrap();
    let allocator = Allocator::detect(&guest).unwrap();
    let slice = allocator.alloc_bytes(&mut guest, b"abc").unwrap();
    match allocator.take_bytes(&mut guest, slice) {
        Err(Error::MissingExport {
            name,
            expected: "function",
        }) => assert_eq!(&*name, "dealloc"),
        other => panic!("expected MissingExport, got {other:?}"),
    }
    // Reading without freeing works.
    assert_eq!(guest.view().slice(slice).unwrap(), b"abc");
}

#[test]
fn lying_allocators_are_caught_before_anything_is_written() {
    let kinds = [
        (AllocatorKind::AllocDealloc, "alloc"),
        (AllocatorKind::MallocFree, "malloc"),
        (AllocatorKind::WasmBindgen, "__wbindgen_malloc"),
        (AllocatorKind::CanonicalAbi, "cabi_realloc"),
    ];
    for (kind, func) in kinds {
        let mut guest = Guest::new(LIAR).unwrap();
        let allocator = Allocator::new(&guest, kind).unwrap();
        let lie =
            |guest: &mut Guest, answer: i32| guest.call::<i32, ()>("set_answer", answer).unwrap();

        // Null.
        lie(&mut guest, 0);
        assert_bad_allocation(
            allocator.alloc_bytes(&mut guest, b"data"),
            func,
            0,
            4,
            1,
            AllocationFault::Null,
        );
        // Past the end of the one-page memory.
        lie(&mut guest, 65_530);
        let oob = AllocationFault::OutOfBounds { memory_size: PAGE };
        assert_bad_allocation(
            allocator.alloc_bytes(&mut guest, &[1; 16]),
            func,
            65_530,
            16,
            1,
            oob,
        );
        // A negative i32 is an address near 4 GiB, never sign-extended; its
        // range passes the 32-bit address space.
        lie(&mut guest, -16);
        assert_bad_allocation(
            allocator.alloc_bytes(&mut guest, &[1; 32]),
            func,
            0xFFFF_FFF0,
            32,
            1,
            oob,
        );
        lie(&mut guest, -1);
        assert_bad_allocation(
            allocator.alloc_bytes(&mut guest, &[1]),
            func,
            0xFFFF_FFFF,
            1,
            1,
            oob,
        );
        // Misaligned for the type asked.
        lie(&mut guest, 1001);
        assert_bad_allocation(
            allocator.alloc_slice(&mut guest, &[1u64]),
            func,
            1001,
            8,
            8,
            AllocationFault::Misaligned,
        );
        assert_bad_allocation(
            allocator.alloc(&mut guest, 4, 2),
            func,
            1001,
            4,
            2,
            AllocationFault::Misaligned,
        );
        // The same address is fine for bytes.
        assert_eq!(
            allocator.alloc_bytes(&mut guest, b"ok").unwrap().addr(),
            1001
        );
        let view = guest.view();
        let written: Vec<u64> = (0..PAGE)
            .filter(|&a| view.read::<u8>(a).unwrap() != 0)
            .collect();
        assert_eq!(
            written,
            [1001, 1002],
            "only the good allocation was written ({kind:?})"
        );
    }
}

#[test]
fn invalid_requests_and_trapping_or_foreign_allocators() {
    let mut liar = Guest::new(LIAR).unwrap();
    let allocator = Allocator::new(&liar, AllocatorKind::AllocDealloc).unwrap();
    for (size, align) in [(1 << 32, 1), (u64::MAX, 1), (4, 3), (4, 0), (4, 1 << 32)] {
        assert!(matches!(
            allocator.alloc(&mut liar, size, align),
            Err(Error::InvalidLayout { size: s, align: a }) if (s, a) == (size, align)
        ));
    }
    // The liar's dealloc and free trap.
    let slice = GuestSlice::<u8>::from_i32(16, 4);
    assert!(
        matches!(allocator.take_bytes(&mut liar, slice), Err(Error::Trap { func, .. }) if &*func == "dealloc")
    );
    let malloc = Allocator::new(&liar, AllocatorKind::MallocFree).unwrap();
    assert!(
        matches!(malloc.free(&mut liar, slice), Err(Error::Trap { func, .. }) if &*func == "free")
    );
    // Freeing an address above 4 GiB cannot be expressed to a 32-bit guest.
    let high = GuestSlice::<u8>::new(GuestPtr::new(1 << 32), 1);
    assert!(matches!(
        malloc.free(&mut liar, high),
        Err(Error::TooLargeForI32 { .. })
    ));
    // The guest stays usable after the trap.
    liar.call::<i32, ()>("set_answer", 64).unwrap();
    assert_eq!(
        allocator.alloc_bytes(&mut liar, b"again").unwrap().addr(),
        64
    );

    // An allocator belongs to the guest it was resolved from.
    let mut other = Guest::new(LIAR).unwrap();
    assert!(matches!(
        allocator.alloc_bytes(&mut other, b"x"),
        Err(Error::ForeignHandle { .. })
    ));
}

#[test]
fn an_allocator_in_another_memory_checks_and_writes_that_memory() {
    // A multi-memory guest whose allocator hands out addresses in "heap".
    let mut guest = Guest::new(
        r#"(module
            (memory (export "memory") 1)
            (memory $heap (export "heap") 2)
            (global $next (mut i32) (i32.const 70000))
            (func (export "alloc") (param $size i32) (result i32)
                (global.get $next)
                (global.set $next (i32.add (global.get $next) (local.get $size))))
            (func (export "heap_byte") (param i32) (result i32) (i32.load8_u $heap (local.get 0))))"#,
    )
    .unwrap();
    let heap = guest.export_memory("heap").unwrap();
    // With the default memory (one page), 70 000 is out of bounds.
    let wrong = Allocator::detect(&guest).unwrap();
    assert_bad_allocation(
        wrong.alloc_bytes(&mut guest, b"x"),
        "alloc",
        70_000,
        1,
        1,
        AllocationFault::OutOfBounds { memory_size: PAGE },
    );
    let allocator = Allocator::detect_in(&guest, guest.main_instance(), heap).unwrap();
    let slice = allocator.alloc_bytes(&mut guest, &[42, 43]).unwrap();
    assert_eq!(slice.addr(), 70_001);
    assert_eq!(guest.call::<i32, i32>("heap_byte", 70_002).unwrap(), 43);
    assert_eq!(
        guest.view_of(heap).unwrap().slice(slice).unwrap(),
        &[42, 43]
    );
    assert!(
        guest.view().as_slice().iter().all(|&b| b == 0),
        "the default memory is untouched"
    );
}

#[test]
fn an_allocator_in_a_second_instance() {
    let main = linmem::Module::new(r#"(module (memory (export "memory") 1))"#).unwrap();
    let plain = linmem::Module::with_engine(main.engine(), PLAIN).unwrap();
    let mut guest = main.instantiate().unwrap();
    let second = guest.add_instance(&plain).unwrap();
    let memory = guest.export_memory_in(second, "memory").unwrap();
    let allocator = Allocator::new_in(&guest, second, memory, AllocatorKind::AllocDealloc).unwrap();
    let slice = allocator.alloc_str(&mut guest, "second").unwrap();
    let sum = guest
        .export_func_in::<(i32, i32), i32>(second, "sum")
        .unwrap();
    let (ptr, len) = slice.to_i32_pair().unwrap();
    assert_eq!(
        sum.call(&mut guest, (ptr, len)).unwrap(),
        "second".bytes().map(i32::from).sum::<i32>()
    );
    assert!(
        guest.view().as_slice().iter().all(|&b| b == 0),
        "the main memory is untouched"
    );
    assert_eq!(
        guest
            .view_of(allocator.memory())
            .unwrap()
            .slice(slice)
            .unwrap(),
        b"second"
    );
}

#[test]
fn a_memory64_guest_allocates_with_i64s() {
    let mut guest = Guest::new(include_str!("../fixtures/alloc_memory64.wat")).unwrap();
    let allocator = Allocator::detect(&guest).unwrap();
    assert_eq!(allocator.kind(), AllocatorKind::AllocDealloc);
    let data = allocator.alloc_bytes(&mut guest, &[5, 6, 7]).unwrap();
    assert_eq!((data.addr(), data.len()), (4096, 3));
    let sum: i64 = guest
        .call("sum", (data.addr() as i64, data.len() as i64))
        .unwrap();
    assert_eq!(sum, 18);
    let words = allocator.alloc_slice(&mut guest, &[u64::MAX, 3]).unwrap();
    assert_eq!(words.addr(), 4104);
    // Growth past the first page.
    let big = vec![1u8; 100_000];
    let slice = allocator.alloc_bytes(&mut guest, &big).unwrap();
    assert_eq!(guest.view().pages(), 2);
    assert_eq!(guest.view().slice(slice).unwrap(), &big[..]);
    // Back out, freed with i64 arguments.
    assert_eq!(
        allocator.take_vec(&mut guest, words).unwrap(),
        [u64::MAX, 3]
    );
    assert_eq!(guest.call::<(), i64>("last_dealloc_ptr", ()).unwrap(), 4104);
    assert_eq!(guest.call::<(), i64>("last_dealloc_size", ()).unwrap(), 16);
    // Sizes above 4 GiB reach a 64-bit allocator, which says null (max 4 pages).
    assert_bad_allocation(
        allocator.alloc(&mut guest, 1 << 40, 8),
        "alloc",
        0,
        1 << 40,
        8,
        AllocationFault::Null,
    );
    assert_bad_allocation(
        allocator.alloc(&mut guest, u64::MAX, 1),
        "alloc",
        0,
        u64::MAX,
        1,
        AllocationFault::Null,
    );
    // A 32-bit convention in a memory64 guest is a signature mismatch.
    let wrong = Guest::new(
        r#"(module (memory (export "memory") i64 1)
            (func (export "alloc") (param i32) (result i32) (i32.const 8)))"#,
    )
    .unwrap();
    assert!(matches!(
        Allocator::detect(&wrong),
        Err(Error::SignatureMismatch { .. })
    ));
}

#[test]
fn a_memory_of_another_guest_is_a_foreign_handle_not_a_panic() {
    let guest = Guest::new(PLAIN).unwrap();
    let other = Guest::new(PLAIN).unwrap();
    assert!(matches!(
        Allocator::detect_in(
            &guest,
            guest.main_instance(),
            other.default_memory().unwrap()
        ),
        Err(Error::ForeignHandle { .. })
    ));
    assert!(matches!(
        Allocator::new_in(
            &guest,
            other.main_instance(),
            guest.default_memory().unwrap(),
            AllocatorKind::AllocDealloc
        ),
        Err(Error::ForeignHandle { .. })
    ));
}
