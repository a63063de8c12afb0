//! A WASI output stream captured into a host buffer, with a cap on its size.

use std::io;
use std::sync::{Arc, PoisonError, RwLock};
use wasmi_wasi::wasi_common::pipe::WritePipe;

/// The bytes a guest wrote to a captured stream, up to a limit.
#[derive(Debug)]
pub(crate) struct CaptureBuffer {
    bytes: Vec<u8>,
    limit: usize,
    /// Bytes the guest tried to write past the limit.
    dropped: u64,
}

impl io::Write for CaptureBuffer {
    /// Accepts what fits under the limit: a write past it is short, and once
    /// the buffer is full a write accepts 0 bytes (the guest's libc then
    /// reports a failed write; nothing grows past the limit).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.limit.saturating_sub(self.bytes.len());
        let taken = buf.len().min(room);
        self.bytes.extend_from_slice(&buf[..taken]);
        let dropped = u64::try_from(buf.len() - taken).unwrap_or(u64::MAX);
        self.dropped = self.dropped.saturating_add(dropped);
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The host's handle on a captured stream; the guest's WASI context holds
/// a [`WritePipe`] on the same buffer.
#[derive(Debug, Clone)]
pub(crate) struct Capture(Arc<RwLock<CaptureBuffer>>);

impl Capture {
    pub(crate) fn new(limit: usize) -> Self {
        Self(Arc::new(RwLock::new(CaptureBuffer {
            bytes: Vec::new(),
            limit,
            dropped: 0,
        })))
    }

    /// The pipe to give the guest's WASI context.
    pub(crate) fn pipe(&self) -> WritePipe<CaptureBuffer> {
        WritePipe::from_shared(Arc::clone(&self.0))
    }

    /// A copy of what was captured so far.
    pub(crate) fn contents(&self) -> Vec<u8> {
        // A poisoned lock only means a writer panicked; the bytes are intact.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes
            .clone()
    }

    /// What was captured so far, leaving the buffer empty (its limit
    /// applies afresh).
    pub(crate) fn take(&self) -> Vec<u8> {
        let mut buffer = self.0.write().unwrap_or_else(PoisonError::into_inner);
        buffer.dropped = 0;
        core::mem::take(&mut buffer.bytes)
    }

    /// How many bytes the guest tried to write past the limit since the
    /// last `take`.
    pub(crate) fn dropped(&self) -> u64 {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .dropped
    }
}
