//! Batch runs: find the notebooks under the given paths, and run one job per notebook in
//! parallel, in a stable order, with one notebook's failure (even a panic) never stopping the
//! others.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ignore::WalkBuilder;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::error::{Error, ErrorKind};
use crate::settings::{Globs, Walk, normalize};

/// The notebooks found under some paths, sorted, and the paths that could not be walked.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Notebook files, sorted, each file once however many ways it was given.
    pub(crate) notebooks: Vec<PathBuf>,
    /// Folders that could not be walked, and bad globs.
    pub(crate) errors: Vec<Error>,
}

/// Finds notebooks. Paths given explicitly are always taken; folders are walked like ripgrep
/// walks them: `.gitignore`, `.ignore` (unless `no_ignore`) and hidden entries are
/// respected, `.ipynb_checkpoints` is always skipped, only files matching `include` are
/// taken, and `exclude` leaves out more. `cwd` is the folder relative paths start from.
pub(crate) fn find_notebooks(walk: &Walk, cwd: &Path) -> Found {
    let mut found = Found::default();
    let include = matcher(&walk.include, "include", &mut found.errors);
    let exclude = matcher(&walk.exclude, "exclude", &mut found.errors);
    let (Some(include), Some(exclude)) = (include, exclude) else {
        return found;
    };
    for path in &walk.paths {
        // A path that is not a folder is taken as a notebook, even when it does not exist:
        // reading it then reports what is wrong, in the notebook's own report.
        if !path.is_dir() {
            found.notebooks.push(path.clone());
            continue;
        }
        let walker = WalkBuilder::new(path)
            // Respect .gitignore even outside a git repository, as a user expects.
            .require_git(false)
            .git_ignore(!walk.no_ignore)
            .git_exclude(!walk.no_ignore)
            .git_global(!walk.no_ignore)
            .ignore(!walk.no_ignore)
            .parents(!walk.no_ignore)
            .filter_entry({
                let exclude = exclude.clone();
                let cwd = cwd.to_owned();
                move |entry| {
                    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                    entry.file_name() != ".ipynb_checkpoints"
                        && !matches(&exclude, &cwd, entry.path(), is_dir)
                }
            })
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    if is_file && matches(&include, cwd, entry.path(), false) {
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
    // The same file given twice, spelled differently or through a symlink, is one notebook.
    let mut seen = HashSet::new();
    found.notebooks.retain(|path| {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| normalize(&cwd.join(path)));
        seen.insert(key)
    });
    found
}

/// A matcher for gitignore-style globs relative to their base folder; `None`, with the
/// error recorded, when a glob is not valid.
fn matcher(globs: &Globs, option: &'static str, errors: &mut Vec<Error>) -> Option<Gitignore> {
    let mut builder = GitignoreBuilder::new(&globs.base);
    let mut ok = true;
    for glob in &globs.patterns {
        if let Err(error) = builder.add_line(None, glob) {
            errors.push(Error::new(
                &globs.base,
                ErrorKind::BadGlob {
                    option,
                    glob: glob.clone(),
                    message: error.to_string(),
                },
            ));
            ok = false;
        }
    }
    let matcher = builder.build().ok()?;
    ok.then_some(matcher)
}

/// Whether `path` (relative to `cwd`), or a folder above it, matches one of the globs.
fn matches(matcher: &Gitignore, cwd: &Path, path: &Path, is_dir: bool) -> bool {
    let absolute = normalize(&cwd.join(path));
    // A path outside the globs' folder is matched by its name only.
    let relative = match absolute.strip_prefix(matcher.path()) {
        Ok(relative) => relative.to_owned(),
        Err(_) => PathBuf::from(path.file_name().unwrap_or_default()),
    };
    matcher
        .matched_path_or_any_parents(&relative, is_dir)
        .is_ignore()
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
