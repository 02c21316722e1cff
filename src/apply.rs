//! The last stage, the only one that writes: apply file changes atomically, all or nothing.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::change::Write;

/// Why applying changes failed; the files are as they were before.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write the file", path.display())]
pub(crate) struct ApplyError {
    /// The file that could not be written.
    pub(crate) path: PathBuf,
    /// What the operating system said.
    pub(crate) source: std::io::Error,
}

/// Writes every change in order, each through a temporary file in the same directory and a
/// rename, so that no file is ever half-written. If one write fails, the files already
/// written are put back as they were (created files are removed), and the error is returned.
pub(crate) fn apply(changes: &[Write]) -> Result<(), ApplyError> {
    let mut created_dirs = Vec::new();
    // What each written file held before, to put it back if a later write fails.
    let mut written: Vec<(&Path, Option<String>)> = Vec::new();
    for change in changes {
        let before = std::fs::read_to_string(&change.path).ok();
        if let Err(source) = write_atomic(&change.path, &change.after, &mut created_dirs) {
            roll_back(&written, &created_dirs);
            return Err(ApplyError {
                path: change.path.clone(),
                source,
            });
        }
        written.push((&change.path, before));
    }
    Ok(())
}

fn write_atomic(
    path: &Path,
    content: &str,
    created_dirs: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        // Remember the outermost directory created, to remove it on roll-back.
        let mut outermost = dir.clone();
        while let Some(parent) = outermost.parent() {
            if parent.as_os_str().is_empty() || parent.exists() {
                break;
            }
            outermost = parent.to_owned();
        }
        std::fs::create_dir_all(&dir)?;
        created_dirs.push(outermost);
    }
    let mut file = tempfile::NamedTempFile::new_in(&dir)?;
    file.write_all(content.as_bytes())?;
    file.as_file().sync_all()?;
    // Keep the permissions of a file that is replaced.
    if let Ok(metadata) = std::fs::metadata(path) {
        std::fs::set_permissions(file.path(), metadata.permissions())?;
    }
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

fn roll_back(written: &[(&Path, Option<String>)], created_dirs: &[PathBuf]) {
    for (path, before) in written.iter().rev() {
        // Best effort: the original error is what the user needs to see.
        let _ = match before {
            Some(before) => write_atomic(path, before, &mut Vec::new()),
            None => std::fs::remove_file(path),
        };
    }
    for dir in created_dirs.iter().rev() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: PathBuf, after: &str) -> Write {
        Write {
            path,
            action: crate::change::Action::Create,
            after: after.to_owned(),
            diff: None,
        }
    }

    #[test]
    fn writes_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("existing.txt");
        std::fs::write(&existing, "old").unwrap();
        let blocker = dir.path().join("blocker");
        std::fs::write(&blocker, "a file where a directory is needed").unwrap();
        let changes = vec![
            change(dir.path().join("pkg/new.py"), "x = 1\n"),
            change(existing.clone(), "new"),
            change(blocker.join("impossible.py"), "y = 2\n"),
        ];
        let error = apply(&changes).unwrap_err();
        assert_eq!(error.path, blocker.join("impossible.py"));
        assert_eq!(std::fs::read_to_string(&existing).unwrap(), "old");
        assert!(!dir.path().join("pkg").exists());
    }

    #[test]
    fn writes_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.py");
        apply(&[change(path.clone(), "z = 3\n")]).unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), "z = 3\n");
    }
}
