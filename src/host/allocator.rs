//! Moving host buffers into a guest through the guest's own allocator, and
//! guest buffers back out.

use crate::error::{AllocationFault, Error, Result};
use crate::lifecycle::access::GuestAccess;
use crate::lifecycle::func::GuestFunc;
use crate::lifecycle::guest::Guest;
use crate::lifecycle::instance::GuestInstance;
use crate::memory::handle::GuestMemory;
use crate::memory::ptr::{GuestPtr, GuestSlice, to_u64};
use crate::memory::record::RecordField;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// The allocator convention a guest's exports follow.
///
/// Sizes, alignments and pointers are `i32`s for a 32-bit memory and `i64`s
/// for a memory64 one; [`Allocator`] picks the width from the index type of
/// the memory it works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AllocatorKind {
    /// `alloc(size) -> ptr` and, optionally, `dealloc(ptr, size)`: the
    /// exports hand-written Rust and Zig guests commonly have.
    AllocDealloc,
    /// `malloc(size) -> ptr` and, optionally, `free(ptr)`: C guests
    /// (wasi-libc, Emscripten) that export their libc allocator.
    MallocFree,
    /// wasm-bindgen's `__wbindgen_malloc(size, align) -> ptr` and,
    /// optionally, `__wbindgen_free(ptr, size, align)`.
    WasmBindgen,
    /// The component model's canonical ABI:
    /// `cabi_realloc(old_ptr, old_size, align, new_size) -> ptr`, called
    /// with `old_ptr = old_size = 0` to allocate. There is no free: memory
    /// the host allocates this way belongs to the callee, and what a guest
    /// returns is freed by its `cabi_post_*` functions.
    CanonicalAbi,
}

impl AllocatorKind {
    /// The name of the allocating export.
    #[must_use]
    pub fn alloc_export(self) -> &'static str {
        match self {
            Self::AllocDealloc => "alloc",
            Self::MallocFree => "malloc",
            Self::WasmBindgen => "__wbindgen_malloc",
            Self::CanonicalAbi => "cabi_realloc",
        }
    }

    /// The name of the freeing export, if the convention has one.
    #[must_use]
    pub fn free_export(self) -> Option<&'static str> {
        match self {
            Self::AllocDealloc => Some("dealloc"),
            Self::MallocFree => Some("free"),
            Self::WasmBindgen => Some("__wbindgen_free"),
            Self::CanonicalAbi => None,
        }
    }
}

/// The order in which [`Allocator::detect`] looks for conventions.
const DETECTION_ORDER: [AllocatorKind; 4] = [
    AllocatorKind::CanonicalAbi,
    AllocatorKind::WasmBindgen,
    AllocatorKind::AllocDealloc,
    AllocatorKind::MallocFree,
];

/// A pointer-sized integer of the guest's ABI: `i32` for a 32-bit memory,
/// `i64` for a memory64 one.
trait Word: wasmi::WasmTy + Copy + Send + Sync + 'static {
    /// The null pointer.
    const ZERO: Self;

    /// A host address, size or alignment as this word (its bits), or
    /// `None` if it does not fit.
    fn from_u64(value: u64) -> Option<Self>;

    /// The word's bits read as an unsigned address or size.
    fn to_u64(self) -> u64;

    /// A host address, size or alignment as this word.
    fn to_word(value: u64) -> Result<Self> {
        Self::from_u64(value).ok_or(Error::TooLargeForI32 { value })
    }
}

impl Word for i32 {
    const ZERO: Self = 0;

    fn from_u64(value: u64) -> Option<Self> {
        u32::try_from(value).ok().map(u32::cast_signed)
    }

    fn to_u64(self) -> u64 {
        u64::from(self.cast_unsigned())
    }
}

impl Word for i64 {
    const ZERO: Self = 0;

    fn from_u64(value: u64) -> Option<Self> {
        Some(value.cast_signed())
    }

    fn to_u64(self) -> u64 {
        self.cast_unsigned()
    }
}

/// The cached handles of one convention, with pointers of type `W`.
#[derive(Debug, Clone)]
enum Funcs<W> {
    AllocDealloc {
        alloc: GuestFunc<W, W>,
        dealloc: Option<GuestFunc<(W, W), ()>>,
    },
    MallocFree {
        malloc: GuestFunc<W, W>,
        free: Option<GuestFunc<W, ()>>,
    },
    WasmBindgen {
        malloc: GuestFunc<(W, W), W>,
        free: Option<GuestFunc<(W, W, W), ()>>,
    },
    CanonicalAbi {
        realloc: GuestFunc<(W, W, W, W), W>,
    },
}

impl<W: Word> Funcs<W> {
    /// Looks up the exports of convention `kind` in `instance`.
    fn resolve(lookup: &impl Lookup, kind: AllocatorKind) -> Result<Self> {
        Ok(match kind {
            AllocatorKind::AllocDealloc => Self::AllocDealloc {
                alloc: lookup.func("alloc")?,
                dealloc: optional_func(lookup, "dealloc")?,
            },
            AllocatorKind::MallocFree => Self::MallocFree {
                malloc: lookup.func("malloc")?,
                free: optional_func(lookup, "free")?,
            },
            AllocatorKind::WasmBindgen => Self::WasmBindgen {
                malloc: lookup.func("__wbindgen_malloc")?,
                free: optional_func(lookup, "__wbindgen_free")?,
            },
            AllocatorKind::CanonicalAbi => Self::CanonicalAbi {
                realloc: lookup.func("cabi_realloc")?,
            },
        })
    }

    fn kind(&self) -> AllocatorKind {
        match self {
            Self::AllocDealloc { .. } => AllocatorKind::AllocDealloc,
            Self::MallocFree { .. } => AllocatorKind::MallocFree,
            Self::WasmBindgen { .. } => AllocatorKind::WasmBindgen,
            Self::CanonicalAbi { .. } => AllocatorKind::CanonicalAbi,
        }
    }

    /// Calls the allocating export; returns its name and the address.
    fn alloc(&self, guest: &mut impl GuestAccess, size: u64, align: u64) -> Result<(&str, u64)> {
        let invalid = || Error::InvalidLayout { size, align };
        let size_word = W::from_u64(size).ok_or_else(invalid)?;
        let align_word = W::from_u64(align).ok_or_else(invalid)?;
        let (name, returned) = match self {
            Self::AllocDealloc { alloc, .. } => (alloc.name(), alloc.call(guest, size_word)?),
            Self::MallocFree { malloc, .. } => (malloc.name(), malloc.call(guest, size_word)?),
            Self::WasmBindgen { malloc, .. } => {
                (malloc.name(), malloc.call(guest, (size_word, align_word))?)
            }
            Self::CanonicalAbi { realloc } => (
                realloc.name(),
                realloc.call(guest, (W::ZERO, W::ZERO, align_word, size_word))?,
            ),
        };
        Ok((name, returned.to_u64()))
    }

    /// Calls the freeing export, if the convention has one.
    fn dealloc(
        &self,
        guest: &mut impl GuestAccess,
        addr: u64,
        size: u64,
        align: u64,
    ) -> Result<()> {
        let kind = self.kind();
        let missing = || Error::MissingExport {
            name: Box::from(kind.free_export().unwrap_or_default()),
            expected: "function",
        };
        match self {
            Self::AllocDealloc { dealloc, .. } => {
                let func = dealloc.as_ref().ok_or_else(missing)?;
                func.call(guest, (W::to_word(addr)?, W::to_word(size)?))
            }
            Self::MallocFree { free, .. } => {
                let func = free.as_ref().ok_or_else(missing)?;
                func.call(guest, W::to_word(addr)?)
            }
            Self::WasmBindgen { free, .. } => {
                let func = free.as_ref().ok_or_else(missing)?;
                let args = (W::to_word(addr)?, W::to_word(size)?, W::to_word(align)?);
                func.call(guest, args)
            }
            Self::CanonicalAbi { .. } => Ok(()),
        }
    }
}

/// The handles for the memory's index type.
#[derive(Debug, Clone)]
enum Resolved {
    Memory32(Funcs<i32>),
    Memory64(Funcs<i64>),
}

/// A guest's own allocator, resolved once: moves host buffers into the
/// guest's memory where the guest's code can own them, and reads buffers
/// the guest returns back into host values.
///
/// Every allocation calls into the guest, which may grow its memory, so the
/// allocator takes the view again after the call, and checks the address
/// it got: null, out of the memory, or not aligned as asked is an
/// [`Error::BadAllocation`] and nothing is written. The `i32` a 32-bit
/// guest returns is read as a `u32`, never sign-extended; a memory64
/// guest's allocator takes and returns `i64`s.
///
/// The handles belong to the guest they were resolved from; using the
/// allocator with another guest is an [`Error::ForeignHandle`].
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{Allocator, AllocatorKind, Guest};
///
/// // A Rust-style guest: `alloc(size) -> ptr`, `dealloc(ptr, size)`, and a
/// // function that sums the bytes it is given.
/// let mut guest = Guest::new(r#"(module (memory (export "memory") 1)
///     (global $next (mut i32) (i32.const 1024))
///     (func (export "alloc") (param $size i32) (result i32)
///         (global.get $next)
///         (global.set $next (i32.add (global.get $next) (local.get $size))))
///     (func (export "dealloc") (param i32 i32))
///     (func (export "sum") (param $ptr i32) (param $len i32) (result i32)
///         (local $acc i32)
///         (block $done (loop $next
///             (br_if $done (i32.eqz (local.get $len)))
///             (local.set $acc (i32.add (local.get $acc) (i32.load8_u (local.get $ptr))))
///             (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
///             (local.set $len (i32.sub (local.get $len) (i32.const 1)))
///             (br $next)))
///         (local.get $acc)))"#)?;
///
/// let allocator = Allocator::detect(&guest)?;
/// assert_eq!(allocator.kind(), AllocatorKind::AllocDealloc);
/// let data = allocator.alloc_bytes(&mut guest, &[1, 2, 3, 4])?;
/// assert_eq!(data.addr(), 1024);
/// let sum: i32 = guest.call("sum", data.to_i32_pair()?)?;
/// assert_eq!(sum, 10);
///
/// // And back: copy it out and free it in the guest.
/// assert_eq!(allocator.take_bytes(&mut guest, data)?, [1, 2, 3, 4]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Allocator {
    funcs: Resolved,
    memory: GuestMemory,
}

impl Allocator {
    /// Resolves the exports of convention `kind` in `guest`, once; the
    /// allocator works in the guest's default memory (the one
    /// [`Guest::view`] shows). `guest` is a [`Guest`], or the
    /// [`HostContext`](crate::HostContext) of a host function, whose
    /// calling instance's exports are used (see [`GuestAccess`]).
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`] or [`Error::WrongExportKind`] if the
    /// allocating export is missing or not a function;
    /// [`Error::SignatureMismatch`] if it or the freeing export (when
    /// present) does not have the convention's signature.
    pub fn new(guest: &impl GuestAccess, kind: AllocatorKind) -> Result<Self> {
        Self::resolve(guest, guest, guest.default_memory_handle()?, kind)
    }

    /// Resolves the exports of convention `kind` in `instance` (the main one
    /// or one from [`Guest::add_instance`]), for an allocator that works in
    /// `memory` (another exported memory, or the memory of that instance).
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `instance` or `memory` belongs to another
    /// guest; then those of [`Allocator::new`].
    pub fn new_in<D>(
        guest: &Guest<D>,
        instance: GuestInstance,
        memory: GuestMemory,
        kind: AllocatorKind,
    ) -> Result<Self> {
        Self::resolve(guest, &(guest, instance), memory, kind)
    }

    /// Resolves the exports found by `lookup`, for memory `memory` of `guest`.
    fn resolve(
        guest: &impl GuestAccess,
        lookup: &impl Lookup,
        memory: GuestMemory,
        kind: AllocatorKind,
    ) -> Result<Self> {
        // Check the memory is this guest's before wasmi looks at it (wasmi
        // panics on a memory of another store).
        guest.memory_view(memory)?;
        let is_64 = memory.as_wasmi().ty(guest.store()).is_64();
        let funcs = if is_64 {
            Resolved::Memory64(Funcs::resolve(lookup, kind)?)
        } else {
            Resolved::Memory32(Funcs::resolve(lookup, kind)?)
        };
        Ok(Self { funcs, memory })
    }

    /// Finds the guest's allocator: the first of `cabi_realloc`,
    /// `__wbindgen_malloc`, `alloc` and `malloc` it exports, with the
    /// matching free function. The allocator works in the guest's default
    /// memory.
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`] (naming all four) if the guest exports none
    /// of them; otherwise the errors of [`Allocator::new`] for the first
    /// one found (a wrong signature is reported, not skipped).
    pub fn detect(guest: &impl GuestAccess) -> Result<Self> {
        let memory = guest.default_memory_handle()?;
        Self::detect_with(|kind| Self::resolve(guest, guest, memory, kind))
    }

    /// Finds the allocator exported by `instance`, working in `memory`; see
    /// [`detect`](Self::detect) and [`new_in`](Self::new_in).
    ///
    /// # Errors
    ///
    /// Those of [`detect`](Self::detect) and [`new_in`](Self::new_in).
    pub fn detect_in<D>(
        guest: &Guest<D>,
        instance: GuestInstance,
        memory: GuestMemory,
    ) -> Result<Self> {
        Self::detect_with(|kind| Self::new_in(guest, instance, memory, kind))
    }

    /// The first convention `resolve` finds.
    fn detect_with(resolve: impl Fn(AllocatorKind) -> Result<Self>) -> Result<Self> {
        for kind in DETECTION_ORDER {
            match resolve(kind) {
                Err(Error::MissingExport { .. }) => {}
                found => return found,
            }
        }
        Err(Error::MissingExport {
            name: Box::from("cabi_realloc, __wbindgen_malloc, alloc or malloc"),
            expected: "allocator function",
        })
    }

    /// The memory the allocator's pointers point into.
    #[must_use]
    pub fn memory(&self) -> GuestMemory {
        self.memory
    }

    /// The convention of the guest's exports.
    #[must_use]
    pub fn kind(&self) -> AllocatorKind {
        match &self.funcs {
            Resolved::Memory32(funcs) => funcs.kind(),
            Resolved::Memory64(funcs) => funcs.kind(),
        }
    }

    /// Allocates `size` bytes aligned to `align` in the guest and returns
    /// them, after checking the address the guest's allocator returned. The
    /// bytes hold whatever the guest left there. (`alloc` and `malloc` take
    /// no alignment; their result is checked against `align` all the same.)
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLayout`] if `align` is not a power of two, or `size`
    /// or `align` is above `u32::MAX` for a 32-bit memory; [`Error::Trap`],
    /// [`Error::HostFunc`] or [`Error::Call`] if the allocator fails;
    /// [`Error::BadAllocation`] if it returns null, a range outside the
    /// memory, or a misaligned address; [`Error::ForeignHandle`] if `guest`
    /// is not the one the allocator was resolved from.
    pub fn alloc(
        &self,
        guest: &mut impl GuestAccess,
        size: u64,
        align: u64,
    ) -> Result<GuestSlice<u8>> {
        if !align.is_power_of_two() {
            return Err(Error::InvalidLayout { size, align });
        }
        let (func, addr) = match &self.funcs {
            Resolved::Memory32(funcs) => funcs.alloc(guest, size, align)?,
            Resolved::Memory64(funcs) => funcs.alloc(guest, size, align)?,
        };
        let fault = |fault| Error::BadAllocation {
            func: Box::from(func),
            addr,
            size,
            align,
            fault,
        };
        if addr == 0 {
            return Err(fault(AllocationFault::Null));
        }
        if !addr.is_multiple_of(align) {
            return Err(fault(AllocationFault::Misaligned));
        }
        // The allocator may have grown the memory: look at it as it is now.
        let view = guest.memory_view(self.memory)?;
        if view.bytes(addr, size).is_err() {
            return Err(fault(AllocationFault::OutOfBounds {
                memory_size: view.len(),
            }));
        }
        Ok(GuestSlice::new(GuestPtr::new(addr), size))
    }

    /// Frees `size` bytes aligned to `align` at `ptr`, which the guest's
    /// allocator returned, with the convention's free function. Does
    /// nothing for [`AllocatorKind::CanonicalAbi`], which has none.
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`] if the guest does not export the free
    /// function; [`Error::TooLargeForI32`] if the address, size or
    /// alignment is above `u32::MAX` for a 32-bit memory; [`Error::Trap`],
    /// [`Error::HostFunc`] or [`Error::Call`] if the free function fails;
    /// [`Error::ForeignHandle`] if `guest` is not the one the allocator was
    /// resolved from.
    pub fn dealloc(
        &self,
        guest: &mut impl GuestAccess,
        ptr: GuestPtr<u8>,
        size: u64,
        align: u64,
    ) -> Result<()> {
        match &self.funcs {
            Resolved::Memory32(funcs) => funcs.dealloc(guest, ptr.addr(), size, align),
            Resolved::Memory64(funcs) => funcs.dealloc(guest, ptr.addr(), size, align),
        }
    }

    /// Allocates room for `data` in the guest (alignment 1) and copies it
    /// there.
    ///
    /// # Errors
    ///
    /// Those of [`alloc`](Self::alloc).
    pub fn alloc_bytes(&self, guest: &mut impl GuestAccess, data: &[u8]) -> Result<GuestSlice<u8>> {
        let slice = self.alloc(guest, to_u64(data.len()), 1)?;
        guest
            .memory_view_mut(self.memory)?
            .slice_mut(slice)?
            .copy_from_slice(data);
        Ok(slice)
    }

    /// Allocates room for `text` in the guest and copies it there as UTF-8
    /// (no terminator).
    ///
    /// # Errors
    ///
    /// Those of [`alloc`](Self::alloc).
    pub fn alloc_str(&self, guest: &mut impl GuestAccess, text: &str) -> Result<GuestSlice<u8>> {
        self.alloc_bytes(guest, text.as_bytes())
    }

    /// Allocates room for `values` in the guest, aligned to
    /// [`RecordField::ALIGN`], and writes them there, little-endian.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// # let mut guest = linmem::Guest::new(r#"(module (memory (export "memory") 1)
    /// #     (global $next (mut i32) (i32.const 1024))
    /// #     (func (export "__wbindgen_malloc") (param $size i32) (param $align i32) (result i32)
    /// #         (local $ptr i32)
    /// #         (local.set $ptr (i32.and
    /// #             (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
    /// #             (i32.sub (i32.const 0) (local.get $align))))
    /// #         (global.set $next (i32.add (local.get $ptr) (local.get $size)))
    /// #         (local.get $ptr)))"#)?;
    /// // `guest` exports wasm-bindgen's `__wbindgen_malloc(size, align)`.
    /// let allocator = linmem::Allocator::detect(&guest)?;
    /// allocator.alloc_bytes(&mut guest, b"x")?; // leaves the bump pointer odd
    /// let values = allocator.alloc_slice(&mut guest, &[1.5f64, -2.0])?;
    /// assert_eq!(values.addr() % 8, 0);
    /// assert_eq!(guest.view().load_vec(values)?, [1.5, -2.0]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if the values' byte length overflows; the
    /// errors of [`alloc`](Self::alloc).
    pub fn alloc_slice<T: RecordField>(
        &self,
        guest: &mut impl GuestAccess,
        values: &[T],
    ) -> Result<GuestSlice<T>> {
        let count = to_u64(values.len());
        let size = GuestSlice::<T>::new(GuestPtr::new(0), count).byte_len()?;
        let bytes = self.alloc(guest, size, to_u64(T::ALIGN))?;
        let slice = GuestSlice::new(bytes.ptr().cast(), count);
        guest
            .memory_view_mut(self.memory)?
            .store_slice(slice, values)?;
        Ok(slice)
    }

    /// Frees a typed slice the guest's allocator returned, as allocated by
    /// [`alloc_slice`](Self::alloc_slice) (size `len * size_of::<T>()`,
    /// alignment [`RecordField::ALIGN`]). See [`dealloc`](Self::dealloc).
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if the slice's byte length overflows; the
    /// errors of [`dealloc`](Self::dealloc).
    pub fn free<T: RecordField>(
        &self,
        guest: &mut impl GuestAccess,
        slice: GuestSlice<T>,
    ) -> Result<()> {
        let size = slice.byte_len()?;
        self.dealloc(guest, slice.ptr().cast(), size, to_u64(T::ALIGN))
    }

    /// Copies a byte buffer the guest owns into a `Vec`, then frees it in
    /// the guest with [`free`](Self::free).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory (nothing is
    /// freed then); the errors of [`free`](Self::free).
    pub fn take_bytes(
        &self,
        guest: &mut impl GuestAccess,
        slice: GuestSlice<u8>,
    ) -> Result<Vec<u8>> {
        let bytes = guest.memory_view(self.memory)?.slice(slice)?.to_vec();
        self.free(guest, slice)?;
        Ok(bytes)
    }

    /// Copies a UTF-8 string the guest owns into a `String`, then frees it
    /// in the guest with [`free`](Self::free).
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory (nothing is
    /// freed then); the errors of [`free`](Self::free);
    /// [`Error::InvalidUtf8`] if the bytes are not UTF-8 (they are freed
    /// all the same).
    pub fn take_string(
        &self,
        guest: &mut impl GuestAccess,
        slice: GuestSlice<u8>,
    ) -> Result<String> {
        let bytes = self.take_bytes(guest, slice)?;
        String::from_utf8(bytes).map_err(|err| {
            let source = err.utf8_error();
            Error::InvalidUtf8 {
                addr: slice.addr(),
                len: slice.len(),
                valid_up_to: slice.addr().saturating_add(to_u64(source.valid_up_to())),
                source,
            }
        })
    }

    /// Copies a typed slice the guest owns into a `Vec`, then frees it in
    /// the guest with [`free`](Self::free).
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] or [`Error::OutOfBounds`] if the slice's
    /// range is invalid (nothing is freed then); the errors of
    /// [`free`](Self::free).
    pub fn take_vec<T: RecordField>(
        &self,
        guest: &mut impl GuestAccess,
        slice: GuestSlice<T>,
    ) -> Result<Vec<T>> {
        let values = guest.memory_view(self.memory)?.load_vec(slice)?;
        self.free(guest, slice)?;
        Ok(values)
    }
}

/// Where the allocator's exports are looked up: an instance of a guest, or
/// the guest (main instance) or host context (calling instance) itself.
trait Lookup {
    fn func<P: wasmi::WasmParams, R: wasmi::WasmResults>(
        &self,
        name: &str,
    ) -> Result<GuestFunc<P, R>>;
}

impl<G: GuestAccess> Lookup for G {
    fn func<P: wasmi::WasmParams, R: wasmi::WasmResults>(
        &self,
        name: &str,
    ) -> Result<GuestFunc<P, R>> {
        self.lookup_func(name)
    }
}

impl<D> Lookup for (&Guest<D>, GuestInstance) {
    fn func<P: wasmi::WasmParams, R: wasmi::WasmResults>(
        &self,
        name: &str,
    ) -> Result<GuestFunc<P, R>> {
        self.0.export_func_in(self.1, name)
    }
}

/// The handle to the export `name` if the guest has one of that name.
fn optional_func<P, R>(lookup: &impl Lookup, name: &str) -> Result<Option<GuestFunc<P, R>>>
where
    P: wasmi::WasmParams,
    R: wasmi::WasmResults,
{
    match lookup.func(name) {
        Ok(func) => Ok(Some(func)),
        Err(Error::MissingExport { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}
