//! A minimal single-threaded executor written with `core` and `alloc`
//! only — what a `no_std` host has — for the async tests: it polls only
//! the tasks that were woken, so a call that forgets to wake its task is
//! reported as a stall instead of being polled anyway.
#![allow(dead_code)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};

/// A task's "woken" flag, set by its waker.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Every task was pending and none was woken: a lost wake-up (or a task
/// waiting for something outside the executor).
#[derive(Debug, PartialEq, Eq)]
pub struct Stalled {
    /// The tasks still pending.
    pub pending: usize,
}

/// What [`run_all`] reports for one task.
#[derive(Debug)]
pub struct Finished<T> {
    /// The task's index in the input.
    pub index: usize,
    /// How many times it was polled.
    pub polls: u64,
    /// Its output.
    pub output: T,
}

/// A boxed future for [`run_all`].
pub type Task<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs the futures concurrently on this thread, round robin over the woken
/// ones, and returns them in completion order.
///
/// # Errors
///
/// [`Stalled`] if every remaining task is pending and none was woken.
pub fn run_all<'a, T>(futures: Vec<Task<'a, T>>) -> Result<Vec<Finished<T>>, Stalled> {
    struct Slot<'a, T> {
        index: usize,
        future: Task<'a, T>,
        flag: Arc<Flag>,
        waker: Waker,
        polls: u64,
    }
    let mut slots: Vec<Slot<'a, T>> = futures
        .into_iter()
        .enumerate()
        .map(|(index, future)| {
            let flag = Arc::new(Flag(AtomicBool::new(true)));
            let waker = Waker::from(Arc::clone(&flag));
            Slot {
                index,
                future,
                flag,
                waker,
                polls: 0,
            }
        })
        .collect();
    let mut done = Vec::new();
    while !slots.is_empty() {
        let mut progressed = false;
        let mut i = 0;
        while i < slots.len() {
            let slot = &mut slots[i];
            if !slot.flag.0.swap(false, Ordering::AcqRel) {
                i += 1;
                continue;
            }
            progressed = true;
            slot.polls += 1;
            let mut cx = Context::from_waker(&slot.waker);
            if let Poll::Ready(output) = slot.future.as_mut().poll(&mut cx) {
                let slot = slots.remove(i);
                done.push(Finished {
                    index: slot.index,
                    polls: slot.polls,
                    output,
                });
            } else {
                i += 1;
            }
        }
        if !progressed {
            return Err(Stalled {
                pending: slots.len(),
            });
        }
    }
    Ok(done)
}

/// Runs one future to completion on this thread, returning its output and
/// the number of times it was polled.
///
/// # Errors
///
/// [`Stalled`] if it is pending and was not woken.
pub fn block_on<'a, T>(future: impl Future<Output = T> + 'a) -> Result<(T, u64), Stalled> {
    let mut done = run_all(alloc::vec![Box::pin(future) as Task<'a, T>])?;
    let finished = done.pop().ok_or(Stalled { pending: 0 })?;
    Ok((finished.output, finished.polls))
}

/// A future that is pending `n` times (waking itself each time), then
/// ready: stands for I/O that takes a few turns of the executor.
pub struct Turns(pub u32);

impl Future for Turns {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            Poll::Ready(())
        } else {
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
