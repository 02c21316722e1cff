//! The last stage, the only one that writes: apply file changes atomically, all or nothing.
//!
//! Every file is written to a temporary file in its own folder and renamed over the old one,
//! so no file is ever half-written. Package files (modules, `__init__.py`) are written before
//! notebooks: a run stopped at any point (even by `SIGKILL`) leaves each notebook either as it
//! was or rewritten, and a rewritten notebook only ever imports modules already written; a
//! plain re-run then finishes the job. A run that fails puts every file back as it was.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::change::{Fingerprint, Write};

/// Why applying changes failed; the files are as they were before.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write the file", path.display())]
pub(crate) struct ApplyError {
    /// The file that could not be written.
    pub(crate) path: PathBuf,
    /// What the operating system said.
    pub(crate) source: std::io::Error,
}

/// A notebook that changed on disk after it was read (an editor saved it), left as it is.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: changed on disk while nbhoist worked on it (saved by an editor?); left as it is: run nbhoist again to extract it",
    .0.display()
)]
pub(crate) struct ChangedSinceRead(pub(crate) PathBuf);

/// What [`apply`] did.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// The files written, in the order they were written.
    pub(crate) written: Vec<PathBuf>,
    /// Notebooks not written because they changed on disk after they were read.
    pub(crate) skipped: Vec<ChangedSinceRead>,
}

/// The prefix and suffix of nbhoist's temporary files, so that one left by a killed run is
/// recognised and removed by the next.
const TEMPORARY_PREFIX: &str = ".nbhoist-";
const TEMPORARY_SUFFIX: &str = ".tmp";

/// Writes every change: package files first, then notebooks. A notebook whose file no longer
/// holds what was read is skipped (the rest goes on). If a write fails, every file already
/// written is put back as it was (created files and folders are removed), and the error is
/// returned.
pub(crate) fn apply(changes: &[Write]) -> Result<Applied, ApplyError> {
    let (package, notebooks): (Vec<&Write>, Vec<&Write>) =
        changes.iter().partition(|change| change.read.is_none());
    let mut journal = Journal::default();
    let mut applied = Applied::default();
    for change in package.into_iter().chain(notebooks) {
        match journal.write(change) {
            Ok(true) => applied.written.push(change.path.clone()),
            Ok(false) => applied.skipped.push(ChangedSinceRead(change.path.clone())),
            Err(source) => {
                journal.roll_back();
                return Err(ApplyError {
                    path: change.path.clone(),
                    source,
                });
            }
        }
    }
    Ok(applied)
}

/// What the writes so far changed, to undo them.
#[derive(Default)]
struct Journal {
    /// Each file written (the real file, symbolic links resolved) and what it held before.
    written: Vec<(PathBuf, Before)>,
    /// The outermost folders created.
    created_dirs: Vec<PathBuf>,
    /// Folders already cleared of stale temporary files.
    cleaned: BTreeSet<PathBuf>,
}

impl Journal {
    /// Writes one change; `Ok(false)` when the file no longer holds what was read.
    fn write(&mut self, change: &Write) -> std::io::Result<bool> {
        // A notebook that is a symbolic link is written through: the file it points to
        // changes, the link stays. A link in the package is replaced, so that nothing is
        // written outside the package folder.
        let path = match std::fs::symlink_metadata(&change.path) {
            Ok(metadata) if metadata.file_type().is_symlink() && change.read.is_some() => {
                std::fs::canonicalize(&change.path)?
            }
            _ => change.path.clone(),
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        self.create_dir(&dir)?;
        if self.cleaned.insert(dir.clone()) {
            remove_stale_temporaries(&dir);
        }
        let mut file = temporary_file(&dir)?;
        fault::point()?;
        write_content(file.as_file_mut(), change.after.as_bytes())?;
        file.as_file().sync_all()?;
        let exists = match std::fs::symlink_metadata(&path) {
            Ok(_) => true,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
            Err(error) => return Err(error),
        };
        // Compared with what was read just before replacing it, so that a notebook saved
        // meanwhile is not overwritten.
        if let Some(read) = change.read {
            let now = match exists {
                true => Some(Fingerprint::of_file(&path)?),
                false => None,
            };
            if now != Some(read) {
                return Ok(false);
            }
        }
        let before = match exists {
            true => Before::keep(&path, &dir)?,
            false => Before::Absent,
        };
        if let Ok(metadata) = std::fs::metadata(&path) {
            // Keep the permissions of a file that is replaced.
            std::fs::set_permissions(file.path(), metadata.permissions())?;
        }
        fault::point()?;
        file.persist(&path).map_err(|error| error.error)?;
        self.written.push((path, before));
        Ok(true)
    }

    /// Creates `dir` and its missing parents, remembering the outermost one created.
    fn create_dir(&mut self, dir: &Path) -> std::io::Result<()> {
        if dir.exists() {
            return Ok(());
        }
        let mut outermost = dir.to_owned();
        while let Some(parent) = outermost.parent() {
            if parent.as_os_str().is_empty() || parent.exists() {
                break;
            }
            outermost = parent.to_owned();
        }
        fault::point()?;
        std::fs::create_dir_all(dir)?;
        self.created_dirs.push(outermost);
        Ok(())
    }

    /// Puts back every file written, newest first, then removes the folders created.
    fn roll_back(self) {
        let _unfaulted = fault::suspend();
        for (path, before) in self.written.into_iter().rev() {
            // Best effort: the original error is what the user needs to see.
            let _ = match before {
                Before::Linked(backup) => backup.persist(&path).map_err(|error| error.error),
                Before::Bytes(bytes) => restore(&path, &bytes),
                Before::Absent => std::fs::remove_file(&path),
            };
        }
        for dir in self.created_dirs.iter().rev() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// What a file held before it was replaced, to put it back.
enum Before {
    /// It did not exist.
    Absent,
    /// The old file itself, kept under a temporary name by a hard link: no copy of a
    /// notebook of a gigabyte in memory. Removed when dropped, once the run succeeded.
    Linked(tempfile::TempPath),
    /// Its bytes, where the file system has no hard links.
    Bytes(Vec<u8>),
}

impl Before {
    /// Keeps what the file at `path` (in `dir`) holds.
    fn keep(path: &Path, dir: &Path) -> std::io::Result<Before> {
        let linked = tempfile::Builder::new()
            .prefix(TEMPORARY_PREFIX)
            .suffix(TEMPORARY_SUFFIX)
            .make_in(dir, |backup| std::fs::hard_link(path, backup));
        match linked {
            Ok(backup) => Ok(Before::Linked(backup.into_temp_path())),
            Err(_) => std::fs::read(path).map(Before::Bytes),
        }
    }
}

/// Writes `bytes` back to `path` through a temporary file and a rename, keeping the mode of
/// the file it replaces.
fn restore(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = temporary_file(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    if let Ok(metadata) = std::fs::metadata(path) {
        std::fs::set_permissions(file.path(), metadata.permissions())?;
    }
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// Writes the content in two halves, with a fault point between them, so that tests can fail
/// a write part-way.
fn write_content(file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    let (first, second) = bytes.split_at(bytes.len() / 2);
    file.write_all(first)?;
    fault::point()?;
    file.write_all(second)
}

/// Removes the temporary files (and backups) a killed run left next to the notebooks and in
/// the package folder, even where this run writes nothing. Call it holding the lock.
pub(crate) fn remove_stale_temporaries_of(notebooks: &[PathBuf], package_dir: &Path) {
    let mut folders = BTreeSet::new();
    for notebook in notebooks {
        // A symlinked notebook is written, and backed up, next to the file it points to.
        for path in [Some(notebook.clone()), std::fs::canonicalize(notebook).ok()]
            .into_iter()
            .flatten()
        {
            if let Some(folder) = path.parent() {
                folders.insert(folder.to_owned());
            }
        }
    }
    let mut package = vec![package_dir.to_owned()];
    while let Some(folder) = package.pop() {
        if let Ok(entries) = std::fs::read_dir(&folder) {
            package.extend(
                entries
                    .flatten()
                    .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|entry| entry.path()),
            );
        }
        folders.insert(folder);
    }
    for folder in folders {
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &folder
        };
        remove_stale_temporaries(folder);
    }
}

/// Removes the temporary files a killed run left in `dir`. Best effort: a leftover is only
/// clutter, never a file the user wrote.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMPORARY_PREFIX) && name.ends_with(TEMPORARY_SUFFIX) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A new temporary file in `dir`, named so that a later run recognises it.
fn temporary_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMPORARY_PREFIX).suffix(TEMPORARY_SUFFIX);
    // A new file gets the mode `open` gives (0666 less the umask, 0644 usually), not
    // tempfile's private 0600; a replaced file keeps its own mode.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    builder.tempfile_in(dir)
}

/// Why the package folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    /// Another run holds the lock and the caller would not wait.
    #[error(
        "{}: another nbhoist run is writing this package; try again when it has finished (or leave out --no-wait to wait for it)",
        .0.display()
    )]
    Busy(PathBuf),
    /// The folder could not be opened or locked.
    #[error("{}: cannot lock the folder: {source}", folder.display())]
    Io {
        /// The folder.
        folder: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// An advisory lock on the folder that holds the package, held until dropped, so that two
/// runs writing the same package (an editor's hook and a pre-commit hook) take turns.
#[derive(Debug)]
pub(crate) struct PackageLock {
    /// `None` where folders cannot be locked (Windows, file systems without locks).
    _folder: Option<File>,
}

/// Locks the folder that holds the package folder `package_dir` (the nearest one that
/// exists). When another run holds it, `wait` says whether to wait for it (saying so on
/// stderr) or to fail.
pub(crate) fn lock_package(package_dir: &Path, wait: bool) -> Result<PackageLock, LockError> {
    // Only Unix opens a folder as a file, to lock it.
    if cfg!(not(unix)) {
        return Ok(PackageLock { _folder: None });
    }
    let absolute = std::path::absolute(package_dir).unwrap_or_else(|_| package_dir.to_owned());
    let folder = absolute
        .ancestors()
        .skip(1)
        .find(|dir| dir.is_dir())
        .unwrap_or(Path::new("."))
        .to_owned();
    let file = File::open(&folder).map_err(|error| LockError::Io {
        folder: folder.clone(),
        source: error,
    })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) if wait => {
            eprintln!(
                "nbhoist: waiting for another nbhoist run to finish writing {}",
                package_dir.display()
            );
            file.lock().map_err(|error| LockError::Io {
                folder: folder.clone(),
                source: error,
            })?;
        }
        Err(std::fs::TryLockError::WouldBlock) => return Err(LockError::Busy(folder)),
        // A file system without locks (some network ones): runs are not serialised there.
        Err(std::fs::TryLockError::Error(source))
            if source.kind() == std::io::ErrorKind::Unsupported =>
        {
            return Ok(PackageLock { _folder: None });
        }
        Err(std::fs::TryLockError::Error(source)) => {
            return Err(LockError::Io { folder, source });
        }
    }
    Ok(PackageLock {
        _folder: Some(file),
    })
}

/// Points where tests make a write fail: the k-th point reached fails, for every k in turn.
/// Outside tests, a point does nothing.
mod fault {
    #[cfg(test)]
    use std::cell::Cell;

    #[cfg(test)]
    thread_local! {
        /// How many points may still pass before one fails; `None`: never fail.
        static REMAINING: Cell<Option<usize>> = const { Cell::new(None) };
    }

    /// The test-only variable that makes every point say so on stderr and pause (in
    /// milliseconds), so that the kill test can stop a run between writes, or during one.
    #[cfg(test)]
    pub(super) const PAUSE_VARIABLE: &str = "NBHOIST_TEST_PAUSE_MS";

    /// Fails when a test asked this point to fail.
    #[cfg(test)]
    pub(super) fn point() -> std::io::Result<()> {
        static PAUSE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
        let pause = PAUSE.get_or_init(|| std::env::var(PAUSE_VARIABLE).ok()?.parse().ok());
        if let Some(pause) = *pause {
            eprintln!("nbhoist-test: write point");
            std::thread::sleep(std::time::Duration::from_millis(pause));
        }
        match REMAINING.get() {
            Some(0) => Err(std::io::Error::other("injected fault")),
            Some(n) => {
                REMAINING.set(Some(n - 1));
                Ok(())
            }
            None => Ok(()),
        }
    }

    #[cfg(not(test))]
    #[inline(always)]
    pub(super) fn point() -> std::io::Result<()> {
        Ok(())
    }

    /// Makes the point after `passing` more points fail, on this thread.
    #[cfg(test)]
    pub(super) fn fail_after(passing: Option<usize>) {
        REMAINING.set(passing);
    }

    /// Stops failing points until the guard is dropped: a roll-back is not faulted.
    pub(super) fn suspend() -> Suspended {
        #[cfg(test)]
        return Suspended(REMAINING.replace(None));
        #[cfg(not(test))]
        Suspended
    }

    /// Points fail again, as before [`suspend`], when this is dropped.
    #[cfg(test)]
    pub(super) struct Suspended(Option<usize>);

    /// Nothing to restore outside tests.
    #[cfg(not(test))]
    pub(super) struct Suspended;

    #[cfg(test)]
    impl Drop for Suspended {
        fn drop(&mut self) {
            REMAINING.set(self.0);
        }
    }
}

// The tests use Unix file modes, links and signals.
#[cfg(all(test, unix))]
mod tests;
