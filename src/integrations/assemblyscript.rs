//! AssemblyScript's `env.abort` import.

use crate::error::{Error, Result};
use crate::host::context::HostContext;
use crate::lifecycle::builder::GuestBuilder;
use crate::memory::view::LinearMemoryView;
use alloc::string::String;

/// An AssemblyScript string argument of `abort`; a null pointer means none.
fn optional_string(view: &LinearMemoryView<'_>, ptr: u32) -> Result<String> {
    match ptr {
        0 => Ok(String::new()),
        ptr => view.assemblyscript_string(ptr),
    }
}

impl<T: 'static> GuestBuilder<'_, T> {
    /// Provides AssemblyScript's `env.abort(message, fileName, line,
    /// column)` import: it decodes the guest's message and file name (UTF-16
    /// strings with their byte length at `ptr - 4`) and fails the guest's
    /// call with [`Error::Abort`] inside [`Error::HostFunc`]. A string that
    /// cannot be decoded fails the call with that decoding error instead.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// // What asc emits for `assert(false, "boom")` in index.ts, line 3, column 5.
    /// let module = linmem::Module::new(r#"(module
    ///     (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
    ///     (memory (export "memory") 1)
    ///     (data (i32.const 12) "\08\00\00\00b\00o\00o\00m\00")
    ///     (data (i32.const 28) "\10\00\00\00i\00n\00d\00e\00x\00.\00t\00s\00")
    ///     (func (export "run") (call $abort (i32.const 16) (i32.const 32) (i32.const 3) (i32.const 5))))"#)?;
    /// let mut guest = module.guest().assemblyscript_abort()?.instantiate()?;
    /// let err = guest.call::<(), ()>("run", ()).unwrap_err();
    /// let linmem::Error::HostFunc { error: source, .. } = err else { panic!("{err}") };
    /// assert_eq!(source.to_string(), "the guest aborted: boom at index.ts:3:5");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Instantiate`] if `env`.`abort` is already defined.
    pub fn assemblyscript_abort(self) -> Result<Self> {
        self.host_func(
            "env",
            "abort",
            |cx: HostContext<'_, T>,
             message: u32,
             file: u32,
             line: u32,
             column: u32|
             -> Result<()> {
                let view = cx.view()?;
                Err(Error::Abort {
                    message: optional_string(&view, message)?,
                    file: optional_string(&view, file)?,
                    line,
                    column,
                })
            },
        )
    }
}
