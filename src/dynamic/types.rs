//! The types of wasm values, functions, memories, tables and globals, with
//! a `Display` in wasm notation.

use alloc::boxed::Box;
use core::fmt;

/// The type of a wasm value.
///
/// ```
/// assert_eq!(linmem::ValueType::I32.to_string(), "i32");
/// assert_eq!(linmem::ValueType::FuncRef.to_string(), "funcref");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueType {
    /// A 32-bit integer.
    I32,
    /// A 64-bit integer.
    I64,
    /// A 32-bit float.
    F32,
    /// A 64-bit float.
    F64,
    /// A 128-bit vector (the SIMD proposal, which linmem's engines do not enable).
    V128,
    /// A nullable function reference.
    FuncRef,
    /// A nullable external reference.
    ExternRef,
}

impl ValueType {
    /// The type's name in wasm text: `i32`, `funcref`, ...
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::V128 => "v128",
            Self::FuncRef => "funcref",
            Self::ExternRef => "externref",
        }
    }

    pub(crate) fn from_wasmi(ty: wasmi::ValType) -> Self {
        match ty {
            wasmi::ValType::I32 => Self::I32,
            wasmi::ValType::I64 => Self::I64,
            wasmi::ValType::F32 => Self::F32,
            wasmi::ValType::F64 => Self::F64,
            wasmi::ValType::V128 => Self::V128,
            wasmi::ValType::FuncRef => Self::FuncRef,
            wasmi::ValType::ExternRef => Self::ExternRef,
        }
    }

    pub(crate) fn to_wasmi(self) -> wasmi::ValType {
        match self {
            Self::I32 => wasmi::ValType::I32,
            Self::I64 => wasmi::ValType::I64,
            Self::F32 => wasmi::ValType::F32,
            Self::F64 => wasmi::ValType::F64,
            Self::V128 => wasmi::ValType::V128,
            Self::FuncRef => wasmi::ValType::FuncRef,
            Self::ExternRef => wasmi::ValType::ExternRef,
        }
    }

    pub(crate) fn from_ref(ty: wasmi::RefType) -> Self {
        match ty {
            wasmi::RefType::Func => Self::FuncRef,
            wasmi::RefType::Extern => Self::ExternRef,
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A list of value types in wasm notation: `(i32, i64)`, `()`.
pub(crate) struct TypeList<'a>(pub(crate) &'a [ValueType]);

impl fmt::Display for TypeList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, ty) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{ty}")?;
        }
        f.write_str(")")
    }
}

/// The type of a wasm function: its parameter and result types.
///
/// Its `Display` is `(params) -> results`, with a single result bare:
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// let module = linmem::Module::new(r#"(module
///     (func (export "f") (param i32 i64) (result f32) (f32.const 0))
///     (func (export "g")))"#)?;
/// let f = module.export("f").and_then(|ty| ty.func().cloned()).expect("a function");
/// assert_eq!(f.to_string(), "(i32, i64) -> f32");
/// assert_eq!(f.params(), [linmem::ValueType::I32, linmem::ValueType::I64]);
/// let g = module.export("g").and_then(|ty| ty.func().cloned()).expect("a function");
/// assert_eq!(g.to_string(), "() -> ()");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Box<[ValueType]>,
    results: Box<[ValueType]>,
}

impl FuncType {
    /// A function type of these parameters and results.
    pub fn new(
        params: impl IntoIterator<Item = ValueType>,
        results: impl IntoIterator<Item = ValueType>,
    ) -> Self {
        Self {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    /// The parameter types.
    #[must_use]
    pub fn params(&self) -> &[ValueType] {
        &self.params
    }

    /// The result types.
    #[must_use]
    pub fn results(&self) -> &[ValueType] {
        &self.results
    }

    pub(crate) fn from_wasmi(ty: &wasmi::FuncType) -> Self {
        Self::new(
            ty.params().iter().copied().map(ValueType::from_wasmi),
            ty.results().iter().copied().map(ValueType::from_wasmi),
        )
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> ", TypeList(&self.params))?;
        match &*self.results {
            [one] => write!(f, "{one}"),
            many => write!(f, "{}", TypeList(many)),
        }
    }
}

/// The index type of a memory or table: 32-bit addresses, or 64-bit ones
/// (the memory64 proposal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexType {
    /// `i32` addresses.
    I32,
    /// `i64` addresses.
    I64,
}

impl IndexType {
    fn from_is_64(is_64: bool) -> Self {
        if is_64 { Self::I64 } else { Self::I32 }
    }
}

impl fmt::Display for IndexType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::I32 => "i32",
            Self::I64 => "i64",
        })
    }
}

/// Writes ` min` or ` min max`, with the index type first when it is `i64`.
fn write_limits(
    f: &mut fmt::Formatter<'_>,
    index: IndexType,
    minimum: u64,
    maximum: Option<u64>,
) -> fmt::Result {
    if index == IndexType::I64 {
        f.write_str(" i64")?;
    }
    write!(f, " {minimum}")?;
    if let Some(maximum) = maximum {
        write!(f, " {maximum}")?;
    }
    Ok(())
}

/// The type of a linear memory: its limits in pages and its index type.
///
/// Its `Display` is in wasm text without the parentheses, `memory 1 4`,
/// `memory i64 1`:
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// let module = linmem::Module::new(r#"(module (memory (export "memory") 1 4))"#)?;
/// let ty = module.export("memory").and_then(|ty| ty.memory().copied()).expect("a memory");
/// assert_eq!((ty.minimum, ty.maximum, ty.page_size), (1, Some(4), 65_536));
/// assert_eq!(ty.to_string(), "memory 1 4");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MemoryType {
    /// The initial size in pages.
    pub minimum: u64,
    /// The maximum size in pages, if declared.
    pub maximum: Option<u64>,
    /// 32- or 64-bit addresses.
    pub index: IndexType,
    /// The size of a page in bytes: 65 536 (linmem's engines do not enable
    /// the custom-page-sizes proposal).
    pub page_size: u64,
}

impl MemoryType {
    pub(crate) fn from_wasmi(ty: &wasmi::MemoryType) -> Self {
        Self {
            minimum: ty.minimum(),
            maximum: ty.maximum(),
            index: IndexType::from_is_64(ty.is_64()),
            page_size: 65_536,
        }
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("memory")?;
        write_limits(f, self.index, self.minimum, self.maximum)?;
        if self.page_size != 65_536 {
            write!(f, " (pagesize {})", self.page_size)?;
        }
        Ok(())
    }
}

/// The type of a table: its element type, limits and index type.
///
/// `Display`: `table 1 10 funcref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TableType {
    /// The element type, [`ValueType::FuncRef`] or [`ValueType::ExternRef`].
    pub element: ValueType,
    /// The initial number of elements.
    pub minimum: u64,
    /// The maximum number of elements, if declared.
    pub maximum: Option<u64>,
    /// 32- or 64-bit indices.
    pub index: IndexType,
}

impl TableType {
    pub(crate) fn from_wasmi(ty: &wasmi::TableType) -> Self {
        Self {
            element: ValueType::from_ref(ty.element()),
            minimum: ty.minimum(),
            maximum: ty.maximum(),
            index: IndexType::from_is_64(ty.is_64()),
        }
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("table")?;
        write_limits(f, self.index, self.minimum, self.maximum)?;
        write!(f, " {}", self.element)
    }
}

/// The type of a global: its value type and whether it is mutable.
///
/// `Display`: `global i32`, `global (mut i64)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GlobalType {
    /// The type of the global's value.
    pub content: ValueType,
    /// Whether the global can be set.
    pub mutable: bool,
}

impl GlobalType {
    pub(crate) fn from_wasmi(ty: &wasmi::GlobalType) -> Self {
        Self {
            content: ValueType::from_wasmi(ty.content()),
            mutable: ty.mutability().is_mut(),
        }
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mutable {
            write!(f, "global (mut {})", self.content)
        } else {
            write!(f, "global {}", self.content)
        }
    }
}

/// The type of an import or export: a function, memory, table or global.
///
/// `Display`: `func (i32) -> i32`, `memory 1`, `table 0 funcref`, `global i32`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A linear memory.
    Memory(MemoryType),
    /// A table.
    Table(TableType),
    /// A global.
    Global(GlobalType),
}

impl ExternType {
    /// `function`, `memory`, `table` or `global`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Func(_) => "function",
            Self::Memory(_) => "memory",
            Self::Table(_) => "table",
            Self::Global(_) => "global",
        }
    }

    /// The function type, if it is a function.
    #[must_use]
    pub fn func(&self) -> Option<&FuncType> {
        match self {
            Self::Func(ty) => Some(ty),
            _ => None,
        }
    }

    /// The memory type, if it is a memory.
    #[must_use]
    pub fn memory(&self) -> Option<&MemoryType> {
        match self {
            Self::Memory(ty) => Some(ty),
            _ => None,
        }
    }

    /// The table type, if it is a table.
    #[must_use]
    pub fn table(&self) -> Option<&TableType> {
        match self {
            Self::Table(ty) => Some(ty),
            _ => None,
        }
    }

    /// The global type, if it is a global.
    #[must_use]
    pub fn global(&self) -> Option<&GlobalType> {
        match self {
            Self::Global(ty) => Some(ty),
            _ => None,
        }
    }

    pub(crate) fn from_wasmi(ty: &wasmi::ExternType) -> Self {
        match ty {
            wasmi::ExternType::Func(ty) => Self::Func(FuncType::from_wasmi(ty)),
            wasmi::ExternType::Memory(ty) => Self::Memory(MemoryType::from_wasmi(ty)),
            wasmi::ExternType::Table(ty) => Self::Table(TableType::from_wasmi(ty)),
            wasmi::ExternType::Global(ty) => Self::Global(GlobalType::from_wasmi(ty)),
        }
    }
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Func(ty) => write!(f, "func {ty}"),
            Self::Memory(ty) => write!(f, "{ty}"),
            Self::Table(ty) => write!(f, "{ty}"),
            Self::Global(ty) => write!(f, "{ty}"),
        }
    }
}
