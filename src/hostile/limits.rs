//! Resource limits and fuel for a guest, and the store limiter that
//! enforces them and remembers what it denied.

use core::fmt;
use wasmi::errors::{ErrorKind, InstantiationError, MemoryError, TableError};
use wasmi::{Engine, ResourceLimiter};
// wasmi does not re-export the error type of its `ResourceLimiter` trait.
use wasmi_core::LimiterError;

/// wasmi's default for the number of instances, tables and memories a store
/// may hold (`wasmi::limiter::DEFAULT_*_LIMIT`).
const WASMI_DEFAULT_COUNT: u64 = 10_000;

/// Resource limits and a fuel budget for one guest, given to
/// [`GuestBuilder::limits`](crate::GuestBuilder::limits).
///
/// Every limit is off by default; a default `Limits` allows what wasmi
/// allows. Memory limits count bytes: a guest's `memory.grow` that would
/// pass one returns -1 to the guest (or traps with
/// [`TrapCode::GrowthOperationLimited`](crate::TrapCode::GrowthOperationLimited)
/// if [`trap_on_grow_failure`](Self::trap_on_grow_failure) is set), and a
/// host [`Guest::grow`](crate::Guest::grow) past one fails with
/// [`Error::GrowDenied`](crate::Error::GrowDenied). A module whose initial
/// memories or tables already pass a limit fails to instantiate with
/// [`Error::LimitExceeded`](crate::Error::LimitExceeded).
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{Error, Limits, Module};
///
/// let module = Module::new(r#"(module (memory (export "memory") 1)
///     (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#)?;
/// let limits = Limits::new().max_memory_bytes(2 * 65_536);
/// let mut guest = module.guest().limits(limits).instantiate()?;
///
/// // The guest's memory.grow past the limit returns -1 ...
/// assert_eq!(guest.call::<i32, i32>("grow", 2)?, -1);
/// assert_eq!(guest.call::<i32, i32>("grow", 1)?, 1);
/// // ... and the host's grow says the limit denied it.
/// assert!(matches!(guest.grow(1), Err(Error::GrowDenied { .. })));
/// assert_eq!(guest.view().pages(), 2);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Limits {
    memory_bytes: Option<u64>,
    store_memory_bytes: Option<u64>,
    table_elements: Option<u64>,
    instances: Option<u64>,
    tables: Option<u64>,
    memories: Option<u64>,
    trap_on_grow_failure: bool,
    fuel: Option<u64>,
    host_call_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

impl Limits {
    /// The default of [`max_host_call_depth`](Self::max_host_call_depth):
    /// 64 nested host calls, measured to need at most a few hundred KiB of
    /// host stack in debug builds (see docs/CONTAINMENT.md), well within a
    /// spawned thread's 2 MiB.
    pub const DEFAULT_HOST_CALL_DEPTH: u32 = 64;

    /// No limits and no fuel budget: the same as `Limits::default()`.
    pub const fn new() -> Self {
        Self {
            memory_bytes: None,
            store_memory_bytes: None,
            table_elements: None,
            instances: None,
            tables: None,
            memories: None,
            trap_on_grow_failure: false,
            fuel: None,
            host_call_depth: Self::DEFAULT_HOST_CALL_DEPTH,
        }
    }

    /// The preset for guests the host did not write: every resource
    /// bounded, at sizes that fit a desktop or server host.
    ///
    /// | limit | value |
    /// | --- | --- |
    /// | bytes per memory | 256 MiB |
    /// | bytes of all memories | 512 MiB |
    /// | elements per table | 1 000 000 (8 MiB of references) |
    /// | instances, tables, memories | 16 each |
    /// | nested host calls | [`DEFAULT_HOST_CALL_DEPTH`](Self::DEFAULT_HOST_CALL_DEPTH) |
    ///
    /// A module asking for more at instantiation (65 536 initial pages, a
    /// table of 4 billion elements) fails at once with
    /// [`Error::LimitExceeded`](crate::Error::LimitExceeded) instead of
    /// zero-filling gigabytes. No fuel budget is set (it needs a metering
    /// engine): add [`fuel`](Self::fuel), or bound each call with a
    /// [`Deadline`](crate::Deadline). The whole configuration for untrusted
    /// guests is [`metered_engine`], this preset,
    /// [`GuestBuilder::instantiate_until`](crate::GuestBuilder::instantiate_until)
    /// and [`Guest::call_until`](crate::Guest::call_until) (see
    /// docs/CONTAINMENT.md). Each value can be changed after the preset:
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::{Error, Limits, Module};
    /// let module = Module::new(r#"(module (memory (export "memory") 65536))"#)?;
    /// let err = module.guest().limits(Limits::untrusted()).instantiate().unwrap_err();
    /// assert!(matches!(err, Error::LimitExceeded { .. }));
    /// let limits = Limits::untrusted().max_memory_bytes(1 << 20).fuel(1_000_000);
    /// assert_eq!(limits.memory_bytes(), Some(1 << 20));
    /// # Ok(()) }
    /// ```
    pub const fn untrusted() -> Self {
        Self::new()
            .max_memory_bytes(256 << 20)
            .max_store_memory_bytes(512 << 20)
            .max_table_elements(1_000_000)
            .max_instances(16)
            .max_tables(16)
            .max_memories(16)
    }

    /// The largest size in bytes that any one linear memory may reach.
    pub const fn max_memory_bytes(mut self, bytes: u64) -> Self {
        self.memory_bytes = Some(bytes);
        self
    }

    /// The largest number of bytes that all the linear memories of the
    /// guest's store may hold together.
    pub const fn max_store_memory_bytes(mut self, bytes: u64) -> Self {
        self.store_memory_bytes = Some(bytes);
        self
    }

    /// The largest number of elements that any one table may reach.
    pub const fn max_table_elements(mut self, elements: u64) -> Self {
        self.table_elements = Some(elements);
        self
    }

    /// The largest number of instances the guest's store may hold
    /// (wasmi's default: 10 000).
    pub const fn max_instances(mut self, instances: u64) -> Self {
        self.instances = Some(instances);
        self
    }

    /// The largest number of tables the guest's store may hold (wasmi's
    /// default: 10 000).
    pub const fn max_tables(mut self, tables: u64) -> Self {
        self.tables = Some(tables);
        self
    }

    /// The largest number of linear memories the guest's store may hold
    /// (wasmi's default: 10 000).
    pub const fn max_memories(mut self, memories: u64) -> Self {
        self.memories = Some(memories);
        self
    }

    /// Whether a guest's `memory.grow` or `table.grow` that a limit denies
    /// (or that the host cannot allocate) traps with
    /// [`TrapCode::GrowthOperationLimited`](crate::TrapCode::GrowthOperationLimited)
    /// instead of returning -1. Off by default, as the WebAssembly
    /// specification wants. A grow past the memory's own declared maximum
    /// still returns -1.
    pub const fn trap_on_grow_failure(mut self, trap: bool) -> Self {
        self.trap_on_grow_failure = trap;
        self
    }

    /// The guest's initial fuel budget. Needs an engine that meters fuel,
    /// such as [`metered_engine`]; see [`Guest::fuel`](crate::Guest::fuel).
    ///
    /// Without a budget, a guest on a metering engine starts with
    /// `u64::MAX` fuel (in practice unlimited, while still allowing
    /// [deadlines](crate::Deadline)).
    pub const fn fuel(mut self, fuel: u64) -> Self {
        self.fuel = Some(fuel);
        self
    }

    /// The most host functions of one guest that may run nested (a host
    /// function calling the guest, whose code calls a host function, ...):
    /// a host call past it fails with
    /// [`Error::ReentryLimit`](crate::Error::ReentryLimit) before it runs.
    /// Default [`DEFAULT_HOST_CALL_DEPTH`](Self::DEFAULT_HOST_CALL_DEPTH).
    /// Each level keeps one wasmi execution on the host stack: raise it only
    /// with a host stack measured to hold that many.
    pub const fn max_host_call_depth(mut self, depth: u32) -> Self {
        self.host_call_depth = depth;
        self
    }

    /// The host call nesting limit.
    #[must_use]
    pub const fn host_call_depth(&self) -> u32 {
        self.host_call_depth
    }

    /// The per-memory size limit in bytes, if any.
    #[must_use]
    pub const fn memory_bytes(&self) -> Option<u64> {
        self.memory_bytes
    }

    /// The per-store memory limit in bytes, if any.
    #[must_use]
    pub const fn store_memory_bytes(&self) -> Option<u64> {
        self.store_memory_bytes
    }

    /// The per-table element limit, if any.
    #[must_use]
    pub const fn table_elements(&self) -> Option<u64> {
        self.table_elements
    }

    /// The instance count limit, if any.
    #[must_use]
    pub const fn instances(&self) -> Option<u64> {
        self.instances
    }

    /// The table count limit, if any.
    #[must_use]
    pub const fn tables(&self) -> Option<u64> {
        self.tables
    }

    /// The memory count limit, if any.
    #[must_use]
    pub const fn memories(&self) -> Option<u64> {
        self.memories
    }

    /// Whether denied grows trap instead of returning -1.
    #[must_use]
    pub const fn traps_on_grow_failure(&self) -> bool {
        self.trap_on_grow_failure
    }

    /// The initial fuel budget, if any.
    #[must_use]
    pub const fn fuel_budget(&self) -> Option<u64> {
        self.fuel
    }
}

/// A wasmi [`Engine`] that meters fuel (`Config::consume_fuel(true)`), for
/// [`Module::with_engine`](crate::Module::with_engine). Fuel, fuel budgets
/// and [deadlines](crate::Deadline) need one; metering costs some speed on
/// every call, so engines from [`Module::new`](crate::Module::new) do not
/// meter.
///
/// Like [`Module::new`](crate::Module::new)'s engine it uses
/// [`contained_config`](crate::contained_config): every function is
/// translated when the [`Module`](crate::Module) is created, where a panic
/// of wasmi's translator can be caught, so no translation is charged to a
/// call's fuel.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{Limits, Module, TrapCode};
///
/// let engine = linmem::metered_engine();
/// let module = Module::with_engine(&engine, r#"(module (memory (export "memory") 1)
///     (func (export "spin") (loop br 0)))"#)?;
/// let mut guest = module.guest().limits(Limits::new().fuel(10_000)).instantiate()?;
/// let err = guest.call::<(), ()>("spin", ()).unwrap_err();
/// assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel));
/// assert!(guest.fuel()? < 10); // less than the loop body costs
/// # Ok(()) }
/// ```
#[must_use]
pub fn metered_engine() -> Engine {
    // Eager compilation (wasmi 2.0 translates while it validates, so an
    // invalid module can trip a debug assertion of its translator, e.g.
    // fixtures/nasty/op_after_end.wasm): linmem compiles inside
    // `catch_unwind`, where such a panic becomes an error.
    let mut config = crate::hostile::compile::contained_config();
    config.consume_fuel(true);
    Engine::new(&config)
}

/// Which limit of [`Limits`] denied a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_memory_bytes`]: bytes per memory.
    MemoryBytes,
    /// [`Limits::max_store_memory_bytes`]: bytes of all memories together.
    StoreMemoryBytes,
    /// [`Limits::max_table_elements`]: elements per table.
    TableElements,
    /// [`Limits::max_instances`].
    Instances,
    /// [`Limits::max_tables`].
    Tables,
    /// [`Limits::max_memories`].
    Memories,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MemoryBytes => "per-memory size limit (bytes)",
            Self::StoreMemoryBytes => "per-store memory limit (bytes)",
            Self::TableElements => "per-table size limit (elements)",
            Self::Instances => "instance count limit",
            Self::Tables => "table count limit",
            Self::Memories => "memory count limit",
        })
    }
}

/// A request that a limit of [`Limits`] denied: which limit, what was asked
/// and what the limit allows, in the limit's unit (bytes, elements, count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Denial {
    /// The limit that denied the request.
    pub limit: Limit,
    /// The size or count that was asked for.
    pub requested: u64,
    /// The most the limit allows.
    pub allowed: u64,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} denied a request for {}",
            self.limit, self.allowed, self.requested
        )
    }
}

/// `usize` to `u64`, lossless on every target wasmi supports.
fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `u64` to `usize`, saturating (a limit above the address space is no limit).
fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The [`ResourceLimiter`] installed in every guest's store: enforces
/// [`Limits`] and remembers its denials, which wasmi does not report.
#[derive(Debug, Clone)]
pub(crate) struct StoreLimiter {
    limits: Limits,
    /// Bytes granted to all memories of the store so far.
    store_memory: u64,
    /// Bytes granted by the last allowed memory request, taken back if the
    /// growth then fails.
    pending: u64,
    /// How many requests were denied so far.
    denials: u64,
    last_denial: Option<Denial>,
}

impl StoreLimiter {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            store_memory: 0,
            pending: 0,
            denials: 0,
            last_denial: None,
        }
    }

    /// Enforces `limits` from now on; what was granted so far still counts.
    pub(crate) fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// A host grow's error, as [`Error::GrowDenied`](crate::Error::GrowDenied)
    /// if a limit denied it after `denials` were counted.
    pub(crate) fn grow_error(&self, denials: u64, error: crate::Error) -> crate::Error {
        match (self.denied_since(denials), error) {
            (
                Some(denial),
                crate::Error::Grow {
                    current,
                    additional,
                    ..
                }
                | crate::Error::GrowPastMaximum {
                    current,
                    additional,
                    ..
                },
            ) => crate::Error::GrowDenied {
                current,
                additional,
                denial,
            },
            (_, error) => error,
        }
    }

    /// The number of denials so far, to tell later whether an operation
    /// was denied.
    pub(crate) fn denials(&self) -> u64 {
        self.denials
    }

    /// The last denial, if any happened after `denials` were counted.
    pub(crate) fn denied_since(&self, denials: u64) -> Option<Denial> {
        if self.denials > denials {
            self.last_denial
        } else {
            None
        }
    }

    /// The most recent denial, if any.
    pub(crate) fn last_denial(&self) -> Option<Denial> {
        self.last_denial
    }

    /// The limits enforced.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Records a denial and answers wasmi: `Ok(false)` (grow returns -1) or
    /// a trap if the host asked for one.
    fn deny(&mut self, limit: Limit, requested: u64, allowed: u64) -> Result<bool, LimiterError> {
        self.denials = self.denials.wrapping_add(1);
        self.last_denial = Some(Denial {
            limit,
            requested,
            allowed,
        });
        if self.limits.trap_on_grow_failure {
            Err(LimiterError::ResourceLimiterDeniedAllocation)
        } else {
            Ok(false)
        }
    }

    /// The linmem error for a failed instantiation that a limit caused, or
    /// `source` back if no limit was involved.
    pub(crate) fn instantiation_error(
        &self,
        denials: u64,
        source: wasmi::Error,
    ) -> Result<crate::Error, wasmi::Error> {
        let denied = || match self.denied_since(denials) {
            Some(denial) => Ok((denial.limit, Some(denial.requested), denial.allowed)),
            None => Err(()),
        };
        let kind = match source.kind() {
            // A host memory or table refused at creation.
            ErrorKind::Memory(MemoryError::ResourceLimiterDeniedAllocation)
            | ErrorKind::Table(TableError::ResourceLimiterDeniedAllocation) => {
                let Ok((limit, requested, allowed)) = denied() else {
                    return Err(source);
                };
                return Ok(crate::Error::LimitExceeded {
                    limit,
                    requested,
                    allowed,
                    source,
                });
            }
            ErrorKind::Instantiation(kind) => kind,
            _ => return Err(source),
        };
        let (limit, requested, allowed) = match kind {
            InstantiationError::FailedToInstantiateMemory(
                MemoryError::ResourceLimiterDeniedAllocation,
            )
            | InstantiationError::FailedToInstantiateTable(
                TableError::ResourceLimiterDeniedAllocation,
            ) => match denied() {
                Ok(denied) => denied,
                Err(()) => return Err(source),
            },
            InstantiationError::TooManyInstances => (Limit::Instances, None, self.instances()),
            InstantiationError::TooManyTables => (Limit::Tables, None, self.tables()),
            InstantiationError::TooManyMemories => (Limit::Memories, None, self.memories()),
            _ => return Err(source),
        };
        Ok(crate::Error::LimitExceeded {
            limit,
            requested,
            allowed,
            source,
        })
    }

    fn instances(&self) -> u64 {
        self.limits.instances.unwrap_or(WASMI_DEFAULT_COUNT)
    }

    fn tables(&self) -> u64 {
        self.limits.tables.unwrap_or(WASMI_DEFAULT_COUNT)
    }

    fn memories(&self) -> u64 {
        self.limits.memories.unwrap_or(WASMI_DEFAULT_COUNT)
    }
}

impl ResourceLimiter for StoreLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        let desired = to_u64(desired);
        if let Some(allowed) = self.limits.memory_bytes
            && desired > allowed
        {
            return self.deny(Limit::MemoryBytes, desired, allowed);
        }
        let growth = desired.saturating_sub(to_u64(current));
        let total = self.store_memory.saturating_add(growth);
        if let Some(allowed) = self.limits.store_memory_bytes
            && total > allowed
        {
            return self.deny(Limit::StoreMemoryBytes, total, allowed);
        }
        self.store_memory = total;
        self.pending = growth;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: &MemoryError) -> Result<(), LimiterError> {
        // The growth was allowed but did not happen: give its bytes back.
        self.store_memory = self.store_memory.saturating_sub(self.pending);
        self.pending = 0;
        let out_of_fuel = matches!(error, MemoryError::OutOfFuel { .. });
        if self.limits.trap_on_grow_failure && !out_of_fuel {
            return Err(LimiterError::ResourceLimiterDeniedAllocation);
        }
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        let desired = to_u64(desired);
        if let Some(allowed) = self.limits.table_elements
            && desired > allowed
        {
            return self.deny(Limit::TableElements, desired, allowed);
        }
        Ok(true)
    }

    fn table_grow_failed(&mut self, error: &TableError) -> Result<(), LimiterError> {
        let out_of_fuel = matches!(error, TableError::OutOfFuel { .. });
        if self.limits.trap_on_grow_failure && !out_of_fuel {
            return Err(LimiterError::ResourceLimiterDeniedAllocation);
        }
        Ok(())
    }

    fn instances(&self) -> usize {
        to_usize(self.instances())
    }

    fn tables(&self) -> usize {
        to_usize(self.tables())
    }

    fn memories(&self) -> usize {
        to_usize(self.memories())
    }
}

impl<T> crate::Guest<T> {
    /// The fuel the guest has left.
    ///
    /// Fuel needs an engine that meters it ([`metered_engine`]); the budget
    /// is set with [`Limits::fuel`] (default `u64::MAX`) and changed with
    /// [`set_fuel`](Self::set_fuel) and [`add_fuel`](Self::add_fuel). A call
    /// that runs out fails with [`Error::Trap`](crate::Error::Trap) and
    /// [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel); the guest stays
    /// usable, with its memory as the guest left it, and can be called again
    /// once topped up.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::{Limits, Module, TrapCode};
    ///
    /// let module = Module::with_engine(&linmem::metered_engine(), r#"(module
    ///     (memory (export "memory") 1)
    ///     (func (export "count") (param i32) (result i32)
    ///         (loop (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
    ///               (br_if 0 (local.get 0)))
    ///         (i32.const 7)))"#)?;
    /// let mut guest = module.guest().limits(Limits::new().fuel(100)).instantiate()?;
    /// let err = guest.call::<i32, i32>("count", 1_000).unwrap_err();
    /// assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel));
    /// guest.add_fuel(1_000_000)?;
    /// assert_eq!(guest.call::<i32, i32>("count", 1_000)?, 7);
    /// assert!(guest.fuel()? < 1_000_000);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::FuelDisabled`](crate::Error::FuelDisabled) if the guest's
    /// engine does not meter fuel.
    pub fn fuel(&self) -> crate::Result<u64> {
        let fuel = self
            .as_wasmi_store()
            .get_fuel()
            .map_err(|_| crate::Error::FuelDisabled)?;
        // Fuel a deadline call kept back, should one have been interrupted.
        Ok(fuel.saturating_add(self.as_wasmi_store().data().fuel_reserve))
    }

    /// Sets the fuel the guest has left.
    ///
    /// # Errors
    ///
    /// [`Error::FuelDisabled`](crate::Error::FuelDisabled) if the guest's
    /// engine does not meter fuel.
    pub fn set_fuel(&mut self, fuel: u64) -> crate::Result<()> {
        self.as_wasmi_store_mut()
            .set_fuel(fuel)
            .map_err(|_| crate::Error::FuelDisabled)?;
        self.as_wasmi_store_mut().data_mut().fuel_reserve = 0;
        Ok(())
    }

    /// Adds `fuel` to what the guest has left (saturating at `u64::MAX`) and
    /// returns the new amount.
    ///
    /// # Errors
    ///
    /// [`Error::FuelDisabled`](crate::Error::FuelDisabled) if the guest's
    /// engine does not meter fuel.
    pub fn add_fuel(&mut self, fuel: u64) -> crate::Result<u64> {
        let total = self.fuel()?.saturating_add(fuel);
        self.set_fuel(total)?;
        Ok(total)
    }

    /// The limits the guest runs under.
    pub fn limits(&self) -> &Limits {
        self.as_wasmi_store().data().limiter.limits()
    }

    /// The last request a limit denied, by the guest (`memory.grow`,
    /// `table.grow`) or by the host; `None` if none was ever denied.
    ///
    /// A guest's denied `memory.grow` only returns -1 to the guest: this is
    /// how the host learns why.
    #[must_use]
    pub fn last_denial(&self) -> Option<Denial> {
        self.as_wasmi_store().data().limiter.last_denial()
    }
}
