//! Child processes that may not create executable memory, for the no-JIT
//! checks: tests/no_jit.rs (linmem) and bench-engines/tests/mdwe.rs (the
//! other engines).
//!
//! A check is one `#[test]` that is both halves. Run normally, it is the
//! parent: it starts the test binary again, filtered to itself, with
//! [`CHILD_ENV`] set and with Linux's memory-deny-write-execute policy
//! (`prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)`) applied between `fork` and
//! `execve`, so the whole child process, loader and test harness included,
//! runs under it. In the child, [`child_lockdown`] returns the lockdown the
//! parent asked for; the child proves the lockdown holds ([`enter`]), does its
//! work, and prints one [`REPORT`] line per result, which the parent parses.
//!
//! MDWE refuses a mapping that is writable and executable at once and any
//! change that makes a mapping executable (`mprotect` to `PROT_EXEC`). It does
//! *not* refuse a fresh read-execute mapping, nor a second, executable mapping
//! of a memfd that is also mapped writable (the "dual mapping" some JITs use):
//! the child measures both. [`Lockdown::MdweSeccomp`] closes them: on top of
//! MDWE, a seccomp filter installed in the running child (on every thread)
//! fails every `mmap`, `mprotect`, `pkey_mprotect` and `shmat` that asks for
//! execute permission with `EPERM`, so no new executable memory can appear
//! in the process at all.
#![allow(dead_code, unsafe_code)]

use std::collections::BTreeMap;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};

/// The environment variable that makes a test its own child; its value names
/// the lockdown ([`Lockdown::name`]). Extra `KEY=VALUE` pairs the parent
/// wants the child to see go in their own variables.
pub const CHILD_ENV: &str = "LINMEM_NO_EXEC_CHILD";

/// Set (to anything) to make a kernel without MDWE, or a process where the
/// seccomp filter cannot be installed, fail the check instead of skipping
/// it. `.ci/run` sets it: the CI machine's kernel supports both.
pub const REQUIRE_ENV: &str = "LINMEM_REQUIRE_MDWE";

/// The prefix of the lines a child reports its results with.
pub const REPORT: &str = "no-exec: ";

/// `SHM_EXEC`, which glibc's libc bindings do not name.
const SHM_EXEC: u32 = 0o100_000;

/// What a child runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lockdown {
    /// Nothing: the control run.
    None,
    /// `prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)`, set before `execve`.
    Mdwe,
    /// MDWE, plus a seccomp filter refusing every executable mapping.
    MdweSeccomp,
}

impl Lockdown {
    /// Every lockdown, the control run first.
    pub const ALL: [Lockdown; 3] = [Lockdown::None, Lockdown::Mdwe, Lockdown::MdweSeccomp];

    /// The value of [`CHILD_ENV`] for this lockdown.
    pub fn name(self) -> &'static str {
        match self {
            Lockdown::None => "none",
            Lockdown::Mdwe => "mdwe",
            Lockdown::MdweSeccomp => "mdwe+seccomp",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|lockdown| lockdown.name() == name)
    }

    fn has_mdwe(self) -> bool {
        self != Lockdown::None
    }
}

/// In a child, the lockdown its parent started it under; `None` in the
/// parent.
pub fn child_lockdown() -> Option<Lockdown> {
    let name = std::env::var(CHILD_ENV).ok()?;
    Some(
        Lockdown::from_name(&name).unwrap_or_else(|| panic!("{CHILD_ENV}={name:?} is no lockdown")),
    )
}

/// Whether skips must fail (see [`REQUIRE_ENV`]).
pub fn required() -> bool {
    std::env::var_os(REQUIRE_ENV).is_some()
}

/// Writes `message` to the process's stderr even when libtest captures the
/// test's output (its capture takes `print!`/`eprint!` only), so that a skip
/// is never silent.
pub fn notice(message: &str) {
    use std::io::Write;
    let _ = writeln!(io::stderr(), "{message}");
}

/// Prints `key: value` as a report line for the parent.
pub fn report(key: &str, value: impl std::fmt::Display) {
    println!("{REPORT}{key}: {value}");
}

/// In the parent: whether this kernel has MDWE. When it does not, says so on
/// stderr (the check is skipped, and nothing was proven) and returns `false`,
/// or fails when [`REQUIRE_ENV`] is set.
pub fn mdwe_available(check: &str) -> bool {
    // SAFETY: PR_GET_MDWE reads a flag of this process; no pointer involved.
    let flags = unsafe { libc::prctl(libc::PR_GET_MDWE, 0, 0, 0, 0) };
    if flags >= 0 {
        return true;
    }
    let err = io::Error::last_os_error();
    let message = format!(
        "SKIPPED {check}: this kernel ({}) has no PR_SET_MDWE (prctl(PR_GET_MDWE) failed: {err}; \
         Linux 6.3 or later is needed), so nothing about executable memory was proven",
        kernel_release()
    );
    assert!(!required(), "{message}, and {REQUIRE_ENV} is set");
    notice(&message);
    false
}

/// The running kernel's release, for messages.
pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| release.trim().to_owned())
        .unwrap_or_else(|err| format!("release unknown: {err}"))
}

/// What a child did.
#[derive(Debug)]
pub struct ChildRun {
    pub lockdown: Lockdown,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// The child's report lines, by key.
    pub reports: BTreeMap<String, String>,
}

impl ChildRun {
    /// The value the child reported for `key`, or a failure that shows the
    /// child's whole output.
    pub fn report(&self, key: &str) -> &str {
        self.reports.get(key).map_or_else(
            || {
                panic!(
                    "the {} child reported no {key:?}\n{self}",
                    self.lockdown.name()
                )
            },
            String::as_str,
        )
    }

    /// Fails, with the child's output, unless it exited with status 0.
    pub fn assert_success(&self) {
        assert!(
            self.status.success(),
            "the {} child failed: {}\n{self}",
            self.lockdown.name(),
            self.status
        );
    }

    /// One line saying how the child ended: `exit status 0`, `signal 11
    /// (SIGSEGV)`, ...
    pub fn ending(&self) -> String {
        use std::os::unix::process::ExitStatusExt;
        match (self.status.code(), self.status.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => format!("{}", self.status),
        }
    }
}

impl std::fmt::Display for ChildRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "--- child stdout:\n{}", self.stdout)?;
        write!(f, "--- child stderr:\n{}", self.stderr)
    }
}

/// Starts this test binary again, running only `test` (its full path in
/// the test binary), under `lockdown`, with `env` set too, and waits for it.
///
/// # Panics
///
/// If the child cannot be started (MDWE refused in `pre_exec` included).
pub fn run_child(test: &str, lockdown: Lockdown, env: &[(&str, &str)]) -> ChildRun {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, lockdown.name())
        .envs(env.iter().copied());
    if lockdown.has_mdwe() {
        // SAFETY: the closure runs between fork and execve; it makes one
        // system call (async-signal-safe) and touches no shared state.
        unsafe {
            command.pre_exec(|| {
                let flags = libc::c_ulong::from(libc::PR_MDWE_REFUSE_EXEC_GAIN);
                if libc::prctl(libc::PR_SET_MDWE, flags, 0, 0, 0) == 0 {
                    Ok(())
                } else {
                    Err(io::Error::last_os_error())
                }
            });
        }
    }
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("starting the {} child: {err}", lockdown.name()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let reports = stdout
        .lines()
        // With one test thread, libtest prints `test <name> ... ` on the
        // line the first report then continues.
        .filter_map(|line| line.split_once(REPORT)?.1.split_once(": "))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    ChildRun {
        lockdown,
        status: output.status,
        stdout,
        stderr,
        reports,
    }
}

/// What one attempt to get executable memory gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    Allowed,
    /// Refused with this errno.
    Refused(i32),
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Probe::Allowed => f.write_str("allowed"),
            Probe::Refused(libc::EACCES) => f.write_str("refused (EACCES)"),
            Probe::Refused(libc::EPERM) => f.write_str("refused (EPERM)"),
            Probe::Refused(errno) => write!(f, "refused (errno {errno})"),
        }
    }
}

/// The probes, by the key they are reported under.
pub const PROBES: [&str; 4] = [
    "mmap RWX",
    "mprotect RW to RX",
    "mmap RX",
    "memfd mapped RW and RX",
];

/// What each probe must give under `lockdown`. MDWE refuses with EACCES;
/// the seccomp filter runs first, with EPERM.
pub fn expected_probe(lockdown: Lockdown, probe: &str) -> Probe {
    match (lockdown, probe) {
        (Lockdown::None, _) => Probe::Allowed,
        (Lockdown::Mdwe, "mmap RWX" | "mprotect RW to RX") => Probe::Refused(libc::EACCES),
        (Lockdown::Mdwe, _) => Probe::Allowed,
        (Lockdown::MdweSeccomp, _) => Probe::Refused(libc::EPERM),
    }
}

const PAGE: usize = 4096;

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Maps one anonymous page with `prot`; unmaps it again when that worked.
fn probe_mmap(prot: libc::c_int) -> Probe {
    // SAFETY: a fresh private anonymous mapping; nothing reads or runs it.
    unsafe {
        let page = libc::mmap(
            std::ptr::null_mut(),
            PAGE,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if page == libc::MAP_FAILED {
            return Probe::Refused(errno());
        }
        libc::munmap(page, PAGE);
    }
    Probe::Allowed
}

/// What a JIT does: map read-write, then make it executable.
fn probe_mprotect() -> Probe {
    // SAFETY: as in `probe_mmap`; the page is never run.
    unsafe {
        let page = libc::mmap(
            std::ptr::null_mut(),
            PAGE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(
            page,
            libc::MAP_FAILED,
            "a read-write page: {}",
            io::Error::last_os_error()
        );
        let result = if libc::mprotect(page, PAGE, libc::PROT_READ | libc::PROT_EXEC) == 0 {
            Probe::Allowed
        } else {
            Probe::Refused(errno())
        };
        libc::munmap(page, PAGE);
        result
    }
}

/// The dual mapping: one memfd page mapped writable at one address, and
/// read-execute at another.
fn probe_memfd() -> Probe {
    // SAFETY: the file descriptor and both mappings are this function's own
    // and released before it returns; nothing is run.
    unsafe {
        let fd = libc::memfd_create(c"linmem-no-exec-probe".as_ptr(), libc::MFD_CLOEXEC);
        assert!(fd >= 0, "memfd_create: {}", io::Error::last_os_error());
        assert_eq!(
            libc::ftruncate(fd, 4096),
            0,
            "ftruncate: {}",
            io::Error::last_os_error()
        );
        let map = |prot| libc::mmap(std::ptr::null_mut(), PAGE, prot, libc::MAP_SHARED, fd, 0);
        let writable = map(libc::PROT_READ | libc::PROT_WRITE);
        assert_ne!(
            writable,
            libc::MAP_FAILED,
            "memfd RW: {}",
            io::Error::last_os_error()
        );
        let executable = map(libc::PROT_READ | libc::PROT_EXEC);
        let result = if executable == libc::MAP_FAILED {
            Probe::Refused(errno())
        } else {
            libc::munmap(executable, PAGE);
            Probe::Allowed
        };
        libc::munmap(writable, PAGE);
        libc::close(fd);
        result
    }
}

/// Runs every probe.
pub fn probes() -> [(&'static str, Probe); 4] {
    [
        (
            PROBES[0],
            probe_mmap(libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC),
        ),
        (PROBES[1], probe_mprotect()),
        (PROBES[2], probe_mmap(libc::PROT_READ | libc::PROT_EXEC)),
        (PROBES[3], probe_memfd()),
    ]
}

/// In the child, before any work: checks that MDWE is on when it should be,
/// installs the seccomp filter when asked, runs the probes, reports each
/// (`mdwe`, `seccomp`, one line per probe) and, under a lockdown, asserts
/// they are as [`expected_probe`] says. Returns `false` when the seccomp filter could not
/// be installed here (reported as `seccomp: unavailable ...`): the child
/// then stops, and the parent skips that lockdown visibly or fails.
#[must_use]
pub fn enter(lockdown: Lockdown) -> bool {
    // SAFETY: as in `mdwe_available`.
    let flags = unsafe { libc::prctl(libc::PR_GET_MDWE, 0, 0, 0, 0) };
    report("mdwe", format!("PR_GET_MDWE = {flags}"));
    if lockdown.has_mdwe() {
        let wanted = libc::c_int::try_from(libc::PR_MDWE_REFUSE_EXEC_GAIN).unwrap();
        assert_eq!(
            flags & wanted,
            wanted,
            "MDWE must be inherited across execve"
        );
    }
    if lockdown == Lockdown::MdweSeccomp {
        if let Err(err) = install_seccomp() {
            report("seccomp", format!("unavailable ({err})"));
            return false;
        }
        report("seccomp", "installed on every thread");
    }
    for (name, probe) in probes() {
        report(name, probe);
        // The control run's probes are the parent's to judge: the
        // environment may refuse executable memory already.
        if lockdown.has_mdwe() {
            assert_eq!(
                probe,
                expected_probe(lockdown, name),
                "{name} under {lockdown:?}"
            );
        }
    }
    true
}

/// The filter's architecture check: the `AUDIT_ARCH_*` value of the target.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

/// Installs, on every thread of this process, a seccomp filter that fails
/// with `EPERM` every `mmap`, `mprotect` and `pkey_mprotect` whose protection
/// includes `PROT_EXEC` and every `shmat` with `SHM_EXEC`; a system call of
/// another ABI (x86's 32-bit or x32 entry points) kills the process.
#[cfg(all(
    any(target_arch = "x86_64", target_arch = "aarch64"),
    target_endian = "little"
))]
pub fn install_seccomp() -> io::Result<()> {
    use libc::{
        BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W,
        SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, sock_filter,
    };
    fn stmt(code: u32, k: u32) -> sock_filter {
        jump(code, k, 0, 0)
    }
    fn jump(code: u32, k: u32, jt: u8, jf: u8) -> sock_filter {
        let code = u16::try_from(code).unwrap();
        sock_filter { code, jt, jf, k }
    }
    let nr = |sys: libc::c_long| u32::try_from(sys).unwrap();
    // struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8 i (the low
    // half first on a little-endian machine).
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    const ARG2_LOW: u32 = 32;
    let deny = SECCOMP_RET_ERRNO | u32::try_from(libc::EPERM).unwrap();
    let prot_exec = u32::try_from(libc::PROT_EXEC).unwrap();
    // Jump offsets count the instructions skipped after the jump.
    let mut filter = [
        /* 0 */ stmt(BPF_LD | BPF_W | BPF_ABS, ARCH),
        /* 1 */ jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH, 1, 0),
        /* 2 */ stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        /* 3 */ stmt(BPF_LD | BPF_W | BPF_ABS, NR),
        /* 4 */ jump(BPF_JMP | BPF_JGE | BPF_K, 0x4000_0000, 0, 1), // x32
        /* 5 */ stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        /* 6 */ jump(BPF_JMP | BPF_JEQ | BPF_K, nr(libc::SYS_mmap), 4, 0),
        /* 7 */ jump(BPF_JMP | BPF_JEQ | BPF_K, nr(libc::SYS_mprotect), 3, 0),
        /* 8 */ jump(BPF_JMP | BPF_JEQ | BPF_K, nr(libc::SYS_pkey_mprotect), 2, 0),
        /* 9 */ jump(BPF_JMP | BPF_JEQ | BPF_K, nr(libc::SYS_shmat), 3, 0),
        /* 10 */ stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        // mmap, mprotect, pkey_mprotect: the protection is argument 2.
        /* 11 */
        stmt(BPF_LD | BPF_W | BPF_ABS, ARG2_LOW),
        /* 12 */ jump(BPF_JMP | BPF_JSET | BPF_K, prot_exec, 3, 2),
        // shmat: the flags are argument 2.
        /* 13 */
        stmt(BPF_LD | BPF_W | BPF_ABS, ARG2_LOW),
        /* 14 */ jump(BPF_JMP | BPF_JSET | BPF_K, SHM_EXEC, 1, 0),
        /* 15 */ stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* 16 */ stmt(BPF_RET | BPF_K, deny),
    ];
    let program = libc::sock_fprog {
        len: u16::try_from(filter.len()).unwrap(),
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: `program` points at `filter`, alive for both calls; the kernel
    // copies the filter.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = libc::SECCOMP_FILTER_FLAG_TSYNC;
        let mode = libc::c_ulong::from(libc::SECCOMP_SET_MODE_FILTER);
        let program: *const libc::sock_fprog = &program;
        if libc::syscall(libc::SYS_seccomp, mode, flags, program) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Other targets: no filter (the child reports it unavailable).
#[cfg(not(all(
    any(target_arch = "x86_64", target_arch = "aarch64"),
    target_endian = "little"
)))]
pub fn install_seccomp() -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "the seccomp filter is written for x86_64 and aarch64 only",
    ))
}
