//! Property tests: random sequences of view operations (typed reads and
//! writes of every width near 0, the end, `u32::MAX` and `u64::MAX`;
//! byte reads and writes; fills; copies; text; grows) on a real guest and
//! on a plain `Vec<u8>` model give the same bytes and the same errors,
//! field by field. The model is tests/support/view_model.rs, shared with
//! the `view` fuzz target.

#[path = "../../tests/support/view_model.rs"]
mod view_model;

use proptest::prelude::*;
use view_model::{Addr, Base, Op, WIDTHS, Width};

fn addr() -> impl Strategy<Value = Addr> {
    (
        prop_oneof![
            Just(Base::Zero),
            Just(Base::End),
            Just(Base::U32Max),
            Just(Base::U64Max)
        ],
        -40i64..=40,
    )
        .prop_map(|(base, offset)| Addr { base, offset })
}

fn len() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0u64..=300,
        1 => Just(u64::MAX),
        1 => Just(u64::from(u32::MAX)),
        1 => Just(65_536u64),
        1 => 65_500u64..=65_600,
    ]
}

fn width() -> impl Strategy<Value = Width> {
    proptest::sample::select(WIDTHS.to_vec())
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (width(), addr()).prop_map(|(w, a)| Op::Read(w, a)),
        4 => (width(), addr(), any::<u128>()).prop_map(|(w, a, v)| Op::Write(w, a, v)),
        2 => (addr(), len()).prop_map(|(a, n)| Op::ReadBytes(a, n)),
        2 => (addr(), proptest::collection::vec(any::<u8>(), 0..64)).prop_map(|(a, d)| Op::WriteBytes(a, d)),
        2 => (addr(), len(), any::<u8>()).prop_map(|(a, n, b)| Op::Fill(a, n, b)),
        2 => (addr(), addr(), len()).prop_map(|(s, d, n)| Op::Copy(s, d, n)),
        1 => (addr(), len()).prop_map(|(a, n)| Op::Str(a, n)),
        1 => prop_oneof![Just(0u64), Just(1), Just(2), Just(3), Just(u64::MAX), Just(u64::from(u32::MAX)), Just(65_536)]
            .prop_map(Op::Grow),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn view_matches_the_vec_model(ops in proptest::collection::vec(op(), 1..64)) {
        if let Err(disagreement) = view_model::check(&ops) {
            prop_assert!(false, "{}", disagreement);
        }
    }
}

#[test]
fn model_and_guest_agree_on_known_cases() {
    // The harness on cases worked out by hand: a write shows in both only
    // once applied to both, and an out-of-bounds read fails alike.
    let mut model = view_model::Model::new();
    let op = Op::Write(
        Width::U32,
        Addr {
            base: Base::Zero,
            offset: 0,
        },
        7,
    );
    assert_eq!(model.apply(&op), Ok(Vec::new()));
    let mut guest = linmem::Guest::new(view_model::GUEST_WAT).unwrap();
    assert_ne!(guest.view().as_slice(), model.bytes.as_slice());
    assert_eq!(view_model::apply_to_guest(&mut guest, &op), Ok(Vec::new()));
    assert_eq!(guest.view().as_slice(), model.bytes.as_slice());
    // And a known out-of-bounds case, field by field.
    let far = Op::Read(
        Width::U64,
        Addr {
            base: Base::End,
            offset: -4,
        },
    );
    let expected = Err(view_model::Failure::OutOfBounds {
        addr: 65_532,
        len: 8,
        size: 65_536,
    });
    assert_eq!(model.apply(&far), expected);
    assert_eq!(view_model::apply_to_guest(&mut guest, &far), expected);
    assert!(view_model::check(&[op, far]).is_ok());
}
