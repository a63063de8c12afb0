//! The reserved host region: bump allocation with alignment, full and
//! invalid regions, writes through any view, reset, and a region over pages
//! the host grew.
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

use linmem::{Error, Guest, GuestPtr, HostRegion};

const PAGE: u64 = 65_536;

fn one_page() -> Guest {
    Guest::new(r#"(module (memory (export "memory") 1 2))"#).unwrap()
}

#[test]
fn allocations_bump_and_align() {
    let mut region = HostRegion::new(16, 1024).unwrap();
    assert_eq!(
        (
            region.start(),
            region.end(),
            region.used(),
            region.remaining()
        ),
        (16, 1024, 0, 1008)
    );
    let a = region.alloc(3, 1).unwrap();
    assert_eq!((a.addr(), a.len()), (16, 3));
    let b = region.alloc(8, 8).unwrap();
    assert_eq!(b.addr(), 24);
    let c = region.alloc(1, 1).unwrap();
    assert_eq!(c.addr(), 32);
    let d = region.alloc(0, 16).unwrap();
    assert_eq!((d.addr(), d.len()), (48, 0));
    assert_eq!(region.used(), 32);
    assert!(
        region.contains(16)
            && region.contains(1023)
            && !region.contains(1024)
            && !region.contains(15)
    );
    region.reset();
    assert_eq!((region.used(), region.alloc(4, 4).unwrap().addr()), (0, 16));
}

#[test]
fn a_full_region_is_an_error_and_unchanged() {
    let mut region = HostRegion::new(100, 132).unwrap();
    region.alloc(30, 1).unwrap();
    let before = region.clone();
    match region.alloc(4, 4) {
        Err(Error::RegionFull {
            start: 100,
            end: 132,
            next: 130,
            size: 4,
            align: 4,
        }) => {}
        other => panic!("expected RegionFull, got {other:?}"),
    }
    assert_eq!(region, before);
    // What fits exactly still fits.
    assert_eq!(region.alloc(2, 2).unwrap().addr(), 130);
    assert_eq!(region.remaining(), 0);
    assert!(matches!(region.alloc(1, 1), Err(Error::RegionFull { .. })));
    // The empty allocation at the very end is fine.
    assert_eq!(region.alloc(0, 1).unwrap().addr(), 132);
}

#[test]
fn overflowing_requests_are_errors_not_panics() {
    let mut region = HostRegion::new(u64::MAX - 10, u64::MAX).unwrap();
    assert!(matches!(
        region.alloc(u64::MAX, 1),
        Err(Error::RegionFull { .. })
    ));
    assert!(matches!(
        region.alloc(1, 1 << 63),
        Err(Error::RegionFull { .. })
    ));
    assert_eq!(region.alloc(10, 1).unwrap().addr(), u64::MAX - 10);
    assert!(
        matches!(region.alloc(0, 2), Err(Error::RegionFull { .. })),
        "rounding up u64::MAX overflows"
    );
    for align in [0, 3, 12, u64::MAX] {
        assert!(
            matches!(region.alloc(1, align), Err(Error::InvalidLayout { size: 1, align: a }) if a == align)
        );
    }
    assert!(matches!(
        HostRegion::new(10, 9),
        Err(Error::InvalidRegion { start: 10, end: 9 })
    ));
    assert_eq!(HostRegion::new(7, 7).unwrap().remaining(), 0);
}

#[test]
fn writes_go_through_the_view_and_are_checked() {
    let mut guest = one_page();
    let mut region = HostRegion::new(16, 1024).unwrap();
    let mut view = guest.view_mut();
    let text = region.alloc_str(&mut view, "hello").unwrap();
    let bytes = region.alloc_bytes(&mut view, &[9, 8, 7]).unwrap();
    let number = region.alloc_value(&mut view, 0x1122_3344u32).unwrap();
    let floats = region.alloc_slice(&mut view, &[0.5f64, 2.0]).unwrap();
    assert_eq!(
        (text.addr(), bytes.addr(), number.addr(), floats.addr()),
        (16, 21, 24, 32)
    );
    assert_eq!(view.str(text.addr(), text.len()).unwrap(), "hello");
    assert_eq!(view.slice(bytes).unwrap(), &[9, 8, 7]);
    assert_eq!(view.load(number).unwrap(), 0x1122_3344);
    assert_eq!(view.load_vec(floats).unwrap(), [0.5, 2.0]);
    assert_eq!(region.used(), 32);
}

#[test]
fn a_region_beyond_the_memory_fails_the_write_and_stays_unchanged() {
    let mut guest = one_page();
    let mut region = HostRegion::new(PAGE - 4, PAGE + 100).unwrap();
    let mut view = guest.view_mut();
    match region.alloc_bytes(&mut view, b"too long") {
        Err(Error::OutOfBounds { addr, len: 8, size }) => {
            assert_eq!((addr, size), (PAGE - 4, PAGE))
        }
        other => panic!("expected OutOfBounds, got {other:?}"),
    }
    assert_eq!(region.used(), 0, "a failed write allocates nothing");
    assert!(view.bytes(PAGE - 4, 4).unwrap().iter().all(|&b| b == 0));
    assert!(region.alloc_slice(&mut view, &[1u64]).is_err());
    assert_eq!(
        region.alloc_str(&mut view, "fits").unwrap().addr(),
        PAGE - 4
    );
    assert!(matches!(
        region.alloc_slice(&mut view, &[0u64; 0][..]),
        Ok(s) if s.is_empty() && s.addr() == PAGE
    ));
}

#[test]
fn zero_sized_elements_take_no_room() {
    let mut guest = one_page();
    let mut region = HostRegion::new(0, 64).unwrap();
    let zst = region
        .alloc_slice(&mut guest.view_mut(), &[[0u8; 0]; 5])
        .unwrap();
    assert_eq!(
        (zst.len(), zst.byte_len().unwrap(), region.used()),
        (5, 0, 0)
    );
}

#[test]
fn a_region_over_pages_the_host_grew() {
    let mut guest = one_page();
    let mut region = HostRegion::grow(&mut guest, 1).unwrap();
    assert_eq!((region.start(), region.end()), (PAGE, 2 * PAGE));
    assert_eq!(guest.view().pages(), 2);
    let ptr: GuestPtr<u64> = region.alloc_value(&mut guest.view_mut(), u64::MAX).unwrap();
    assert_eq!(ptr.addr(), PAGE);
    assert_eq!(guest.view().load(ptr).unwrap(), u64::MAX);
    // The memory's maximum is 2 pages: growing again fails and no region is made.
    assert!(matches!(
        HostRegion::grow(&mut guest, 1),
        Err(Error::GrowPastMaximum { .. })
    ));
    assert!(matches!(
        region.alloc(PAGE, 1),
        Err(Error::RegionFull { .. })
    ));
}
