//! The last stage, the only one that writes: apply file changes atomically, all or nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

/// One file a plan creates or changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// Where it is.
    pub path: PathBuf,
    /// Its content now; `None` when it does not exist yet.
    pub before: Option<String>,
    /// Its content after the change.
    pub after: String,
}

/// Why applying changes failed; the files are as they were before.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write the file: {source}", path.display())]
pub struct ApplyError {
    /// The file that could not be written.
    pub path: PathBuf,
    /// What the operating system said.
    pub source: std::io::Error,
}

/// Writes every change in order, each through a temporary file in the same directory and a
/// rename, so that no file is ever half-written. If one write fails, the files already
/// written are put back as they were (created files are removed), and the error is returned.
pub fn apply(changes: &[FileChange]) -> Result<(), ApplyError> {
    let mut created_dirs = Vec::new();
    for (done, change) in changes.iter().enumerate() {
        if let Err(source) = write_atomic(&change.path, &change.after, &mut created_dirs) {
            roll_back(&changes[..done], &created_dirs);
            return Err(ApplyError {
                path: change.path.clone(),
                source,
            });
        }
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

fn roll_back(written: &[FileChange], created_dirs: &[PathBuf]) {
    for change in written.iter().rev() {
        // Best effort: the original error is what the user needs to see.
        let _ = match &change.before {
            Some(before) => write_atomic(&change.path, before, &mut Vec::new()),
            None => std::fs::remove_file(&change.path),
        };
    }
    for dir in created_dirs.iter().rev() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("existing.txt");
        std::fs::write(&existing, "old").unwrap();
        let blocker = dir.path().join("blocker");
        std::fs::write(&blocker, "a file where a directory is needed").unwrap();
        let changes = vec![
            FileChange {
                path: dir.path().join("pkg/new.py"),
                before: None,
                after: "x = 1\n".into(),
            },
            FileChange {
                path: existing.clone(),
                before: Some("old".into()),
                after: "new".into(),
            },
            FileChange {
                path: blocker.join("impossible.py"),
                before: None,
                after: "y = 2\n".into(),
            },
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
        apply(&[FileChange {
            path: path.clone(),
            before: None,
            after: "z = 3\n".into(),
        }])
        .unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), "z = 3\n");
    }
}
