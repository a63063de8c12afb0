//! Read-only preopened directories: wasi-common's directory and file types,
//! wrapped so that everything that would change the host's file system
//! fails with `EROFS`.
//!
//! wasi-common declares `WasiDir` and `WasiFile` with `async_trait`; the
//! impls below spell out what that macro generates (a method returning a
//! boxed `Send` future) so that linmem needs no proc-macro dependency of
//! its own. Every future wasi-common's sync implementation returns is ready
//! at its first poll.

use core::future::Future;
use core::pin::Pin;
use std::any::Any;
use std::path::PathBuf;
use wasmi_wasi::wasi_common::dir::{OpenResult, ReaddirCursor, ReaddirEntity};
use wasmi_wasi::wasi_common::file::{Advice, FdFlags, FileType, Filestat, OFlags};
use wasmi_wasi::wasi_common::snapshots::preview_1::types::Errno;
use wasmi_wasi::wasi_common::{Error, SystemTimeSpec, WasiDir, WasiFile};

/// What an `async_trait` method returns.
type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// The future of a refused operation.
fn read_only<'a, T: Send + 'a>() -> Boxed<'a, T> {
    Box::pin(core::future::ready(Err(Error::from(Errno::Rofs))))
}

/// A directory the guest may read but not change.
pub(crate) struct ReadOnlyDir(pub(crate) Box<dyn WasiDir>);

impl WasiDir for ReadOnlyDir {
    /// The wrapper itself, not the directory inside: wasi-common's
    /// `rename` and `hard_link` downcast the target directory to their own
    /// type, so a read-only target is refused there too.
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn open_file<'life0, 'life1, 'async_trait>(
        &'life0 self,
        symlink_follow: bool,
        path: &'life1 str,
        oflags: OFlags,
        read: bool,
        write: bool,
        fdflags: FdFlags,
    ) -> Boxed<'async_trait, OpenResult>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        if write
            || oflags.intersects(OFlags::CREATE | OFlags::TRUNCATE)
            || fdflags.contains(FdFlags::APPEND)
        {
            return read_only();
        }
        let open = self
            .0
            .open_file(symlink_follow, path, oflags, read, false, fdflags);
        Box::pin(async move {
            Ok(match open.await? {
                OpenResult::File(file) => OpenResult::File(Box::new(ReadOnlyFile(file))),
                OpenResult::Dir(dir) => OpenResult::Dir(Box::new(ReadOnlyDir(dir))),
            })
        })
    }

    fn create_dir<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _path: &'life1 str,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        read_only()
    }

    fn readdir<'life0, 'async_trait>(
        &'life0 self,
        cursor: ReaddirCursor,
    ) -> Boxed<'async_trait, Box<dyn Iterator<Item = Result<ReaddirEntity, Error>> + Send>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.0.readdir(cursor)
    }

    fn symlink<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        _old_path: &'life1 str,
        _new_path: &'life2 str,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        read_only()
    }

    fn remove_dir<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _path: &'life1 str,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        read_only()
    }

    fn unlink_file<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _path: &'life1 str,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        read_only()
    }

    fn read_link<'life0, 'life1, 'async_trait>(
        &'life0 self,
        path: &'life1 str,
    ) -> Boxed<'async_trait, PathBuf>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.0.read_link(path)
    }

    fn get_filestat<'life0, 'async_trait>(&'life0 self) -> Boxed<'async_trait, Filestat>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.0.get_filestat()
    }

    fn get_path_filestat<'life0, 'life1, 'async_trait>(
        &'life0 self,
        path: &'life1 str,
        follow_symlinks: bool,
    ) -> Boxed<'async_trait, Filestat>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.0.get_path_filestat(path, follow_symlinks)
    }

    fn rename<'life0, 'life1, 'life2, 'life3, 'async_trait>(
        &'life0 self,
        _path: &'life1 str,
        _dest_dir: &'life2 dyn WasiDir,
        _dest_path: &'life3 str,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        Self: 'async_trait,
    {
        read_only()
    }

    fn hard_link<'life0, 'life1, 'life2, 'life3, 'async_trait>(
        &'life0 self,
        _path: &'life1 str,
        _target_dir: &'life2 dyn WasiDir,
        _target_path: &'life3 str,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        Self: 'async_trait,
    {
        read_only()
    }

    fn set_times<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _path: &'life1 str,
        _atime: Option<SystemTimeSpec>,
        _mtime: Option<SystemTimeSpec>,
        _follow_symlinks: bool,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        read_only()
    }
}

/// A file opened (for reading only) from a [`ReadOnlyDir`]: reads go to the
/// file; setting its size or times fails with `EROFS`, writing with
/// `EBADF` (wasi-common already refuses writes to a file opened for reading).
pub(crate) struct ReadOnlyFile(Box<dyn WasiFile>);

/// A method of [`WasiFile`] with `&self` and no reference parameter that
/// goes straight to the wrapped file.
macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        fn $name<'life0, 'async_trait>(&'life0 self $(, $arg: $ty)*) -> Boxed<'async_trait, $out>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            self.0.$name($($arg),*)
        }
    )*};
}

impl WasiFile for ReadOnlyFile {
    fn as_any(&self) -> &dyn Any {
        self
    }

    delegate! {
        get_filetype() -> FileType;
        datasync() -> ();
        sync() -> ();
        get_fdflags() -> FdFlags;
        get_filestat() -> Filestat;
        advise(offset: u64, len: u64, advice: Advice) -> ();
        seek(pos: std::io::SeekFrom) -> u64;
        readable() -> ();
    }

    #[cfg(unix)]
    fn pollable(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.0.pollable()
    }

    fn set_fdflags<'life0, 'async_trait>(
        &'life0 mut self,
        flags: FdFlags,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.0.set_fdflags(flags)
    }

    fn isatty(&self) -> bool {
        self.0.isatty()
    }

    fn set_filestat_size<'life0, 'async_trait>(&'life0 self, _size: u64) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        read_only()
    }

    fn set_times<'life0, 'async_trait>(
        &'life0 self,
        _atime: Option<SystemTimeSpec>,
        _mtime: Option<SystemTimeSpec>,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        read_only()
    }

    fn read_vectored<'a, 'life0, 'life1, 'async_trait>(
        &'life0 self,
        bufs: &'life1 mut [std::io::IoSliceMut<'a>],
    ) -> Boxed<'async_trait, u64>
    where
        'a: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.0.read_vectored(bufs)
    }

    fn read_vectored_at<'a, 'life0, 'life1, 'async_trait>(
        &'life0 self,
        bufs: &'life1 mut [std::io::IoSliceMut<'a>],
        offset: u64,
    ) -> Boxed<'async_trait, u64>
    where
        'a: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.0.read_vectored_at(bufs, offset)
    }

    fn peek<'life0, 'life1, 'async_trait>(
        &'life0 self,
        buf: &'life1 mut [u8],
    ) -> Boxed<'async_trait, u64>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.0.peek(buf)
    }

    fn num_ready_bytes(&self) -> Result<u64, Error> {
        self.0.num_ready_bytes()
    }
}
