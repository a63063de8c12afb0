//! A module's imports and exports with their types, and linking one
//! instance's exports to the imports of modules added later.

use crate::dynamic::types::ExternType;
use crate::error::{Error, Result};
use crate::lifecycle::guest::Guest;
use crate::lifecycle::instance::GuestInstance;
use crate::lifecycle::module::Module;
use core::fmt;

/// One import of a [`Module`]: what the host (or another instance) must
/// provide, from [`Module::imports`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportType<'m> {
    module: &'m str,
    name: &'m str,
    ty: ExternType,
}

impl<'m> ImportType<'m> {
    /// The import's module name, e.g. `env`.
    #[must_use]
    pub fn module(&self) -> &'m str {
        self.module
    }

    /// The import's field name, e.g. `memory`.
    #[must_use]
    pub fn name(&self) -> &'m str {
        self.name
    }

    /// What the module expects.
    #[must_use]
    pub fn ty(&self) -> &ExternType {
        &self.ty
    }
}

/// `env.memory: memory 1 4`
impl fmt::Display for ImportType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {}", self.module, self.name, self.ty)
    }
}

/// One export of a [`Module`], from [`Module::exports`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportType<'m> {
    name: &'m str,
    ty: ExternType,
}

impl<'m> ExportType<'m> {
    /// The export's name.
    #[must_use]
    pub fn name(&self) -> &'m str {
        self.name
    }

    /// The exported item's type.
    #[must_use]
    pub fn ty(&self) -> &ExternType {
        &self.ty
    }
}

/// `add: func (i32, i32) -> i32`
impl fmt::Display for ExportType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.ty)
    }
}

impl Module {
    /// The module's imports with their types: the functions first, then
    /// the tables, memories and globals, each in the module's order.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let module = linmem::Module::new(r#"(module
    ///     (import "env" "log" (func (param i32 i32)))
    ///     (import "env" "memory" (memory 1 4))
    ///     (func (export "run") (result i32) (i32.const 0)))"#)?;
    /// let imports: Vec<String> = module.imports().map(|i| i.to_string()).collect();
    /// assert_eq!(imports, ["env.log: func (i32, i32) -> ()", "env.memory: memory 1 4"]);
    /// let exports: Vec<String> = module.exports().map(|e| e.to_string()).collect();
    /// assert_eq!(exports, ["run: func () -> i32"]);
    /// # Ok(()) }
    /// ```
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> {
        self.as_wasmi().imports().map(|import| ImportType {
            module: import.module(),
            name: import.name(),
            ty: ExternType::from_wasmi(import.ty()),
        })
    }

    /// The module's exports with their types, sorted by name (without the
    /// export linmem gives the start function, see
    /// [`start_export`](Module::start_export)).
    pub fn exports(&self) -> impl Iterator<Item = ExportType<'_>> {
        let start = self.start_export();
        self.as_wasmi()
            .exports()
            .filter(move |export| Some(export.name()) != start)
            .map(|export| ExportType {
                name: export.name(),
                ty: ExternType::from_wasmi(export.ty()),
            })
    }

    /// The type of the export `name`, if the module has one.
    #[must_use]
    pub fn export(&self, name: &str) -> Option<ExternType> {
        if Some(name) == self.start_export() {
            return None;
        }
        self.as_wasmi()
            .get_export(name)
            .map(|ty| ExternType::from_wasmi(&ty))
    }
}

impl<T> Guest<T> {
    /// Makes every export of `instance` importable, as `module_name`.`export`,
    /// by the modules added later with
    /// [`add_instance`](Guest::add_instance) (what the spec test scripts
    /// call `register`).
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::Module;
    /// let lib = Module::new(r#"(module (func (export "seven") (result i32) (i32.const 7)))"#)?;
    /// let app = Module::with_engine(lib.engine(), r#"(module
    ///     (import "lib" "seven" (func $seven (result i32)))
    ///     (func (export "run") (result i32) (i32.add (call $seven) (i32.const 1))))"#)?;
    /// let mut guest = lib.instantiate()?;
    /// guest.register("lib", guest.main_instance())?;
    /// let app = guest.add_instance(&app)?;
    /// assert_eq!(guest.export_func_in::<(), i32>(app, "run")?.call(&mut guest, ())?, 8);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `instance` belongs to another guest;
    /// [`Error::Instantiate`] if one of its exports is already defined
    /// under that name.
    pub fn register(&mut self, module_name: &str, instance: GuestInstance) -> Result<()> {
        let instance = self.own_instance(instance, module_name)?;
        self.linker
            .instance(&mut self.store, module_name, instance)
            .map_err(|source| Error::Instantiate { error: source })?;
        Ok(())
    }
}
