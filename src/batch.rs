//! Batch runs: find the notebooks under the given paths, and run one job per notebook in
//! parallel, in a stable order, with one notebook's failure (even a panic) never stopping the
//! others.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::error::{Error, ErrorKind};

/// The notebooks found under some paths, sorted, and the paths that could not be walked.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Notebook files, sorted and without duplicates.
    pub(crate) notebooks: Vec<PathBuf>,
    /// Folders that could not be walked, and bad `--exclude` patterns.
    pub(crate) errors: Vec<Error>,
}

/// Finds notebooks. Paths given explicitly are always taken; folders are walked like ripgrep
/// walks them: `.gitignore`, `.ignore` and hidden entries are respected, `.ipynb_checkpoints`
/// is always skipped, only `*.ipynb` files are taken, and `exclude` globs leave out more.
pub(crate) fn find_notebooks(paths: &[PathBuf], exclude: &[String]) -> Found {
    let mut found = Found::default();
    for path in paths {
        // A path that is not a folder is taken as a notebook, even when it does not exist:
        // reading it then reports what is wrong, in the notebook's own report.
        if !path.is_dir() {
            found.notebooks.push(path.clone());
            continue;
        }
        let mut overrides = OverrideBuilder::new(path);
        let mut patterns_ok = true;
        for glob in exclude
            .iter()
            .map(String::as_str)
            .chain([".ipynb_checkpoints"])
        {
            if let Err(error) = overrides.add(&format!("!{glob}")) {
                found.errors.push(Error::new(
                    path,
                    ErrorKind::BadExclude {
                        glob: glob.to_owned(),
                        message: error.to_string(),
                    },
                ));
                patterns_ok = false;
            }
        }
        let Ok(overrides) = overrides.build() else {
            continue;
        };
        if !patterns_ok {
            continue;
        }
        let walker = WalkBuilder::new(path)
            .overrides(overrides)
            // Respect .gitignore even outside a git repository, as a user expects.
            .require_git(false)
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    let is_notebook = entry.path().extension().is_some_and(|e| e == "ipynb");
                    if is_file && is_notebook {
                        found.notebooks.push(entry.into_path());
                    }
                }
                Err(error) => {
                    found
                        .errors
                        .push(Error::new(path, ErrorKind::Walk(error.to_string())));
                }
            }
        }
    }
    found.notebooks.sort();
    found.notebooks.dedup();
    found
}

/// The deepest folder that contains every path (for a single file, its folder), relative to
/// the working directory when it is inside it, so that reports show short paths.
pub(crate) fn common_root(paths: &[PathBuf]) -> PathBuf {
    let root = absolute_common_root(paths);
    match std::env::current_dir() {
        Ok(cwd) => match root.strip_prefix(&cwd) {
            Ok(relative) => relative.to_path_buf(),
            Err(_) => root,
        },
        Err(_) => root,
    }
}

fn absolute_common_root(paths: &[PathBuf]) -> PathBuf {
    let folders: Vec<PathBuf> = paths
        .iter()
        .map(|path| {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            if path.is_dir() {
                path
            } else {
                path.parent().map(Path::to_path_buf).unwrap_or_default()
            }
        })
        .collect();
    let Some(first) = folders.first() else {
        return PathBuf::from(".");
    };
    let mut root: Vec<_> = first.components().collect();
    for folder in &folders[1..] {
        let shared = root
            .iter()
            .zip(folder.components())
            .take_while(|(a, b)| **a == *b)
            .count();
        root.truncate(shared);
    }
    root.iter().collect()
}

/// Runs `job` on every notebook (with its index in `notebooks`), on `jobs` threads (all cores
/// when `None`), and returns the results in the order of `notebooks`. A panic in one job
/// becomes that notebook's error.
/// A progress bar is drawn on stderr when `progress` is set, stderr is a terminal, and the
/// run takes more than a moment.
pub(crate) fn run<T: Send>(
    notebooks: &[PathBuf],
    jobs: Option<usize>,
    progress: bool,
    job: impl Fn(usize, &Path) -> Result<T, Error> + Sync,
) -> Vec<Result<T, Error>> {
    let bar = Progress::new(notebooks.len(), progress);
    let work = || {
        notebooks
            .par_iter()
            .enumerate()
            .map(|(index, path)| {
                let result =
                    catch_unwind(AssertUnwindSafe(|| job(index, path))).unwrap_or_else(|panic| {
                        Err(Error::new(path, ErrorKind::Panic(panic_message(&panic))))
                    });
                bar.tick();
                result
            })
            .collect()
    };
    let results = match jobs.map(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build()) {
        Some(Ok(pool)) => pool.install(work),
        _ => work(),
    };
    bar.finish();
    results
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// A progress bar that appears only once a run has taken more than a moment.
struct Progress {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    shown: AtomicBool,
}

impl Progress {
    const DELAY: Duration = Duration::from_millis(300);

    fn new(total: usize, wanted: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} notebooks {elapsed}")
        {
            bar.set_style(style);
        }
        Progress {
            bar,
            start: Instant::now(),
            enabled: wanted && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            shown: AtomicBool::new(false),
        }
    }

    fn tick(&self) {
        self.bar.inc(1);
        if self.enabled
            && self.start.elapsed() > Self::DELAY
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_root_of_files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a/b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::write(a.join("x.ipynb"), "{}").unwrap();
        std::fs::create_dir_all(dir.path().join("a/c")).unwrap();
        assert_eq!(absolute_common_root(&[a.join("x.ipynb")]), a);
        assert_eq!(
            absolute_common_root(&[a.join("x.ipynb"), dir.path().join("a/c")]),
            dir.path().join("a")
        );
    }

    #[test]
    fn panics_become_errors_and_order_is_kept() {
        let paths: Vec<PathBuf> = (0..20)
            .map(|i| PathBuf::from(format!("{i}.ipynb")))
            .collect();
        let results = run(&paths, Some(4), false, |_, path| {
            if path == Path::new("7.ipynb") {
                panic!("boom");
            }
            Ok(path.to_path_buf())
        });
        for (i, result) in results.iter().enumerate() {
            match result {
                Ok(path) => assert_eq!(path, &paths[i]),
                Err(error) => {
                    assert_eq!(i, 7);
                    assert!(error.to_string().contains("boom"), "{error}");
                }
            }
        }
    }
}
