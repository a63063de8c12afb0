//! The thread guarantees the crate documents, checked at compile time.

use linmem::{
    Error, Guest, GuestFunc, GuestInstance, GuestMemory, LinearMemoryView, LinearMemoryViewMut,
    Module,
};

fn send_sync<T: Send + Sync>() {}

#[test]
fn documented_types_are_send_and_sync() {
    send_sync::<Module>();
    send_sync::<Guest<()>>();
    send_sync::<Guest<Vec<u8>>>();
    send_sync::<GuestFunc<(i32, i64), f64>>();
    send_sync::<GuestMemory>();
    send_sync::<GuestInstance>();
    send_sync::<LinearMemoryView<'static>>();
    send_sync::<LinearMemoryViewMut<'static>>();
    send_sync::<Error>();
}

#[test]
fn a_guest_moves_to_another_thread_and_back() {
    let mut guest = Guest::linear_memory().unwrap();
    guest.view_mut().write(1, 77u8).unwrap();
    let mut guest = std::thread::spawn(move || {
        let value: i32 = guest.call("readWasmMemoryAndReturnIndexOne", ()).unwrap();
        assert_eq!(value, 77);
        guest
    })
    .join()
    .unwrap();
    assert_eq!(
        guest
            .call::<(), i32>("readWasmMemoryAndReturnIndexOne", ())
            .unwrap(),
        77
    );
}
