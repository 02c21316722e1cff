//! `nbhoist extract`: plan the package and the rewritten notebooks as a list of file changes.
//!
//! [`run`] reads what exists (the package folder, then each notebook), and [`plan_extract`]
//! is a function of what was read: it writes nothing. [`crate::apply`] does the writing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::Ranged;
use rustc_hash::FxHashMap;

use crate::analysis::{Analysis, StatementRef, statement};
use crate::change::Change;
use crate::decide::merge::written_sites;
use crate::decide::{Decisions, Merge, Moved, StayReason, Verdict, check_package_imports};
use crate::emit::{
    INIT_BEGIN, INIT_END, INIT_MARKER, MODULE_HEADER, init_region, init_text, merge_init,
};
use crate::error::{Error, ErrorKind, PackageError};
use crate::notebook::Notebook;
use crate::ownership::{ExistingModule, Manifest};
use crate::plan::{self, ExtractOptions, NotebookPlan, SharedUse, module_name, plan_notebook};
use crate::position::CellNumber;
use crate::python::parse::parse_cell;
use crate::run_graph::{Context, Decided, ModuleTarget, decide_batch};
use crate::scan::{NotebookReport, error_report, read_notebook_to_rewrite, report};
use crate::settings::normalize;
use crate::shared::{self, SHARED_MODULE};
use crate::workspace::PackageSnapshot;

/// What the user asked for.
#[derive(Clone, Debug)]
pub(crate) struct ExtractRequest {
    /// The notebooks, sorted.
    pub(crate) notebooks: Vec<PathBuf>,
    /// Each notebook's path relative to the project's root (`None` when it is outside it):
    /// its module sits at that path in the package, whatever path was given.
    pub(crate) in_root: Vec<Option<PathBuf>>,
    /// The project's root.
    pub(crate) root: PathBuf,
    /// Whether the root's `pyproject.toml` declares a project that can install the package.
    pub(crate) installable: bool,
    /// The package's import name.
    pub(crate) package: String,
    /// Whether the package's name comes from a configuration file.
    pub(crate) package_configured: bool,
    /// The package directory.
    pub(crate) package_dir: PathBuf,
    /// Add autoreload magics to the import cell.
    pub(crate) autoreload: bool,
    /// Replace modules that already exist.
    pub(crate) force: bool,
    /// A real run's changes carry their diffs too (for `--format json`).
    pub(crate) diffs: bool,
    /// Threads to use; all cores when `None`.
    pub(crate) jobs: Option<usize>,
    /// Show a progress bar on a terminal.
    pub(crate) progress: bool,
}

/// The plan of one notebook, or why it could not be made.
#[derive(Debug)]
pub(crate) struct NotebookExtract<C> {
    /// The notebook.
    pub(crate) path: PathBuf,
    /// The module it hoists into.
    pub(crate) module_path: PathBuf,
    /// What happens to it.
    pub(crate) outcome: Result<Planned<C>, Error>,
    /// The decisions about the notebook, as `scan` reports them.
    pub(crate) report: NotebookReport,
}

/// A notebook's plan and its file changes.
#[derive(Debug)]
pub(crate) struct Planned<C> {
    /// The text and edits.
    pub(crate) plan: NotebookPlan,
    /// What moves, by cell.
    pub(crate) moved: Vec<Moved>,
    /// The notebook's change; `None` when nothing moves.
    pub(crate) notebook: Option<C>,
    /// The modules it creates or replaces: its own and its `%%writefile` modules.
    pub(crate) modules: Vec<C>,
    /// The `__init__.py` files of sub-packages its modules need (shared with other
    /// notebooks of the run).
    pub(crate) subpackages: Vec<C>,
    /// What the user should know about the notebook's module: conflicts, updates, names
    /// gone from it.
    pub(crate) notes: Vec<Note>,
    /// The moved names it imports from the package's shared module.
    pub(crate) shared: BTreeSet<String>,
}

/// Something the user should know about the package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Note {
    /// Several modules define a name, so the package does not re-export it.
    DefinedTwice {
        /// The name.
        name: String,
        /// The modules, dotted inside the package.
        modules: Vec<String>,
        /// The package folder.
        package_dir: PathBuf,
    },
    /// A name is also the name of a module of the package, so it is not re-exported.
    NamedLikeModule {
        /// The name.
        name: String,
        /// The module defining it.
        module: String,
        /// The package folder.
        package_dir: PathBuf,
    },
    /// A notebook no path named is extracted too: a notebook of the run runs it with `%run`,
    /// and may import from its module.
    RunByExtracted {
        /// The notebook.
        notebook: PathBuf,
        /// The notebook that runs it.
        by: PathBuf,
        /// The cell of the `%run` line.
        cell: CellNumber,
    },
    /// A name defined in the notebook whose copy in the module was changed by hand: nothing
    /// changes for it.
    Conflict {
        /// The notebook.
        notebook: PathBuf,
        /// The definition's cell.
        cell: CellNumber,
        /// The name.
        name: String,
        /// The module.
        module: PathBuf,
        /// From the module's version to the notebook's, as a unified diff.
        diff: String,
    },
    /// The notebook imports a name from its module, which no longer defines it.
    Missing {
        /// The notebook.
        notebook: PathBuf,
        /// The cell of the import.
        cell: CellNumber,
        /// The name.
        name: String,
        /// The module.
        module: PathBuf,
    },
    /// A name the module had, as nbhoist wrote it, takes the notebook's new version.
    Updated {
        /// The notebook.
        notebook: PathBuf,
        /// The cell of the new version.
        cell: CellNumber,
        /// The name.
        name: String,
        /// The module.
        module: PathBuf,
        /// `--force` replaced a version changed by hand; this file keeps the module as it was.
        backup: Option<PathBuf>,
    },
    /// A definition copied into several notebooks is written once, into the shared module,
    /// or is there since an earlier run: the copies import it from there.
    Shared {
        /// The name.
        name: String,
        /// The shared module.
        module: PathBuf,
        /// The notebooks whose copies it replaces, in path order: when this run writes it,
        /// the first one's text is written.
        copies: Vec<PathBuf>,
        /// An earlier run wrote it.
        earlier: bool,
    },
    /// A copy of a definition of the shared module that a person changed there: it goes to
    /// its notebook's own module.
    SharedEdited {
        /// The name.
        name: String,
        /// The shared module.
        module: PathBuf,
        /// The notebook with the copy.
        notebook: PathBuf,
    },
    /// The package is not next to every notebook, and no project file makes it installable.
    NotImportable {
        /// The package's name.
        package: String,
        /// The folder that holds the package, as reports show paths.
        parent: PathBuf,
        /// The same folder, absolute: what `sys.path` would need.
        absolute_parent: PathBuf,
        /// The project's root, where `nbhoist init` and `pip install -e` run.
        root: PathBuf,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::DefinedTwice {
                name,
                modules,
                package_dir,
            } => write!(
                f,
                "`{name}` is defined in modules {} of {}; it is not re-exported from the package",
                modules.join(" and "),
                package_dir.display()
            ),
            Note::NamedLikeModule {
                name,
                module,
                package_dir,
            } => write!(
                f,
                "`{name}` (in module {module}) has the name of a module of {}; it is not re-exported from the package",
                package_dir.display()
            ),
            Note::RunByExtracted { notebook, by, cell } => write!(
                f,
                "{} is extracted too, because {} runs it with `%run` (cell {cell}) and its hoisted code may import from it",
                notebook.display(),
                by.display(),
            ),
            Note::Conflict {
                notebook,
                cell,
                name,
                module,
                diff,
            } => {
                write!(
                    f,
                    "conflict: `{name}` in {} (cell {cell}) differs from its copy in {}, which was changed by hand; nothing changes for it until you keep one version (or run with --force to take the notebook's):",
                    notebook.display(),
                    module.display()
                )?;
                for line in diff.lines() {
                    write!(f, "\n    {line}")?;
                }
                Ok(())
            }
            Note::Missing {
                notebook,
                cell,
                name,
                module,
            } => write!(
                f,
                "{} imports `{name}` (cell {cell}) from {}, which no longer defines it; nbhoist does not write it again: restore it in the module, or stop importing it",
                notebook.display(),
                module.display()
            ),
            Note::Updated {
                notebook,
                cell,
                name,
                module,
                backup,
            } => {
                write!(
                    f,
                    "`{name}` in {} takes the new version from {} (cell {cell})",
                    module.display(),
                    notebook.display()
                )?;
                if let Some(backup) = backup {
                    write!(
                        f,
                        "; its copy was changed by hand, and the module as it was is kept in {}",
                        backup.display()
                    )?;
                }
                Ok(())
            }
            Note::Shared {
                name,
                module,
                copies,
                earlier,
            } => {
                let listed = |copies: &[PathBuf]| {
                    let shown: Vec<String> = copies
                        .iter()
                        .map(|path| path.display().to_string())
                        .collect();
                    shown.join(", ")
                };
                if *earlier {
                    write!(
                        f,
                        "`{name}` is in {} since an earlier run; the copies of {} import it from there",
                        module.display(),
                        listed(copies)
                    )
                } else {
                    write!(
                        f,
                        "`{name}` is written once, into {}, from {}; the copies of {} are folded into it and import it from there",
                        module.display(),
                        copies[0].display(),
                        listed(&copies[1..])
                    )
                }
            }
            Note::SharedEdited {
                name,
                module,
                notebook,
            } => write!(
                f,
                "`{name}` in {} was changed by hand, so it is no longer a copy of the one in {}, which goes to the notebook's own module",
                module.display(),
                notebook.display()
            ),
            Note::NotImportable {
                package,
                parent,
                absolute_parent,
                root,
            } => {
                let fix = if root == Path::new(".") {
                    "run `nbhoist init`, then `pip install -e .`".to_owned()
                } else {
                    let root = root.display();
                    format!("run `nbhoist init` in {root}, then `pip install -e {root}`")
                };
                let parent = if parent == Path::new(".") {
                    "the current folder".to_owned()
                } else {
                    parent.display().to_string()
                };
                write!(
                    f,
                    "a notebook in another folder than {parent} cannot import `{package}` from its own folder until the project is installed: {fix} in the environment of the notebooks' kernel (or add {} to `sys.path`)",
                    absolute_parent.display()
                )
            }
        }
    }
}

/// Everything `extract` would do.
#[derive(Debug)]
pub(crate) struct ExtractPlan<C> {
    /// Per notebook, in the order given.
    pub(crate) notebooks: Vec<NotebookExtract<C>>,
    /// Files to write: modules first, then `__init__.py` files, then notebooks.
    pub(crate) changes: Vec<C>,
    /// The package-level files among `changes`: `__init__.py` files and the shared module,
    /// which several notebooks may share.
    pub(crate) package_changes: Vec<PathBuf>,
    /// Things the user should know.
    pub(crate) notes: Vec<Note>,
}

impl<C> ExtractPlan<C> {
    /// True when a conflict, or a name gone from a module, is left for a person: the work
    /// is not finished.
    pub(crate) fn unresolved(&self) -> bool {
        self.notes
            .iter()
            .any(|note| matches!(note, Note::Conflict { .. } | Note::Missing { .. }))
    }

    /// True when some notebook could not be planned.
    pub(crate) fn has_errors(&self) -> bool {
        self.notebooks.iter().any(|n| n.outcome.is_err())
    }
}

/// Where one notebook's modules go.
struct Place {
    /// The folder holding its module (the package, or a sub-package).
    dir: PathBuf,
    /// That folder's dotted name (`mylib`, `mylib.notebooks.eda`).
    parent: String,
    /// The module's name in it.
    module: String,
    /// The notebook's path relative to the project's root.
    in_root: PathBuf,
}

/// Reads the package folder, then plans every notebook of the request, reading each as it
/// goes (in parallel).
pub(crate) fn run<C: Change>(request: &ExtractRequest) -> Result<ExtractPlan<C>, Error> {
    check_package_not_redirected(request)?;
    let package_dir = &request.package_dir;
    let folders = request
        .notebooks
        .iter()
        .map(|path| path.parent().unwrap_or(Path::new("")));
    let snapshot = PackageSnapshot::read(package_dir, folders)
        .map_err(|error| Error::new(package_dir, PackageError::Unreadable(error)))?;
    snapshot
        .manifest()
        .map_err(|error| Error::new(package_dir, error))?;
    Ok(plan_extract(request, &snapshot, &read_notebook_to_rewrite))
}

/// Refuses a package folder that is inside the notebooks' folder as written but that a
/// symbolic link (the folder itself or one above it) sends outside it: nbhoist writes only
/// where the user can see it is writing. A `--package-dir` outside, as written, is the
/// user's choice.
fn check_package_not_redirected(request: &ExtractRequest) -> Result<(), Error> {
    let (Some(dir), Some(root)) = (absolute(&request.package_dir), absolute(&request.root)) else {
        return Ok(());
    };
    let (dir, root) = (normalize(&dir), normalize(&root));
    if !dir.starts_with(&root) {
        return Ok(());
    }
    let Some(existing) = dir.ancestors().find(|ancestor| ancestor.exists()) else {
        return Ok(());
    };
    let (Ok(real_existing), Ok(real_root)) = (
        std::fs::canonicalize(existing),
        std::fs::canonicalize(&root),
    ) else {
        return Ok(());
    };
    let real = match dir.strip_prefix(existing) {
        Ok(rest) if !rest.as_os_str().is_empty() => real_existing.join(rest),
        _ => real_existing,
    };
    if real.starts_with(&real_root) {
        Ok(())
    } else {
        Err(Error::new(
            request.package_dir.clone(),
            PackageError::LinkedOutside { real, root },
        ))
    }
}

/// Plans the extraction of every notebook of the request, given the package folder as it is
/// and a way to read notebooks. A notebook that cannot be planned is reported in its
/// [`NotebookExtract`].
pub(crate) fn plan_extract<C: Change>(
    request: &ExtractRequest,
    snapshot: &PackageSnapshot,
    load: &(dyn Fn(&Path) -> Result<Notebook, Error> + Sync),
) -> ExtractPlan<C> {
    // By path, so that finding a notebook's place stays linear in the number of notebooks.
    let given: FxHashMap<&Path, usize> = request
        .notebooks
        .iter()
        .enumerate()
        .map(|(i, path)| (path.as_path(), i))
        .collect();
    let manifest = snapshot.manifest().unwrap_or_default();
    let names = module_names(request, snapshot.dir(), &manifest);
    let place_of = |path: &Path| {
        let in_root = in_root(request, &given, path)?;
        let mut place = place(request, snapshot.dir(), &in_root);
        if let Some(name) = given.get(path).and_then(|i| names.get(i)) {
            place.module.clone_from(name);
        }
        Some(place)
    };
    let module_of = |path: &Path| match place_of(path) {
        Some(place) => {
            let dotted = format!("{}.{}", place.parent, place.module);
            let file = place.dir.join(format!("{}.py", place.module));
            ModuleTarget {
                existing: existing_module(snapshot, &manifest, &file),
                module: place.module,
                dotted: Some(dotted),
                force: request.force,
            }
        }
        None => ModuleTarget::default(),
    };
    let check = |path: &Path, analysis: &Analysis| {
        if place_of(path).is_none() {
            return Err(Error::new(
                path,
                ErrorKind::OutsideRoot(request.root.clone()),
            ));
        }
        let folder = path.parent().unwrap_or(Path::new(""));
        let own =
            request.package_configured || snapshot.exists() || snapshot.own_package_in(folder);
        check_package_imports(&request.package, analysis, own)
            .map_err(|error| Error::new(path, error))
    };
    let context = Context {
        jobs: request.jobs,
        progress: request.progress,
        load,
        module_of: &module_of,
        check: &check,
    };
    let shared_file = snapshot.dir().join(format!("{SHARED_MODULE}.py"));
    // A shared module an earlier run wrote is never changed: copies of what it holds import
    // it. One a person wrote (neither the manifest nor its docstring says nbhoist wrote it) is
    // left alone entirely.
    let earlier_shared = existing_module(snapshot, &manifest, &shared_file)
        .map(|module| shared::Existing::read(&module));
    let share = earlier_shared.is_some() || !snapshot.has_any_file(&shared_file);
    let decided = decide_batch(&request.notebooks, &context, &|path, decided| {
        let place = place_of(path)
            .ok_or_else(|| Error::new(path, ErrorKind::OutsideRoot(request.root.clone())))?;
        let module_file = place.dir.join(format!("{}.py", place.module));
        // A notebook extracted before keeps its module as it is.
        let offer = (share
            && !snapshot.has_any_file(&module_file)
            && decided.decisions.own_import.is_none())
        .then(|| shared::offer(&decided.analysis, &decided.decisions));
        let (planned, report) =
            plan_one::<C>(path, &place, request, snapshot, &manifest, decided, None)?;
        Ok((planned, report, offer))
    });
    let paths = &decided.paths;
    let places: Vec<Option<Place>> = paths.iter().map(|path| place_of(path)).collect();
    let mut plan = ExtractPlan {
        notebooks: Vec::new(),
        changes: Vec::new(),
        package_changes: Vec::new(),
        notes: Vec::new(),
    };
    let mut offers: Vec<Option<shared::Offer>> = Vec::new();
    let mut outcomes: Vec<Result<(Planned<C>, NotebookReport), Error>> = decided
        .results
        .into_iter()
        .map(|result| {
            let (planned, report, offer) = match result {
                Ok(done) => done,
                Err(error) => {
                    offers.push(None);
                    return Err(error);
                }
            };
            offers.push(offer);
            Ok((planned, report))
        })
        .collect();
    // A `%%writefile` cell that writes a module of that name leaves no room for it.
    let taken = outcomes.iter().flatten().any(|(planned, _)| {
        planned
            .modules
            .iter()
            .any(|change| change.path() == shared_file)
    });
    for (i, offer) in offers.iter_mut().enumerate() {
        if taken || !shared::may_share(i, request.notebooks.len(), &decided.imports_from) {
            *offer = None;
        }
    }
    let sharing = match &earlier_shared {
        Some(existing) => {
            let (sharing, edited) = shared::find_later(&offers, existing);
            for copy in edited {
                plan.notes.push(Note::SharedEdited {
                    name: copy.name,
                    module: shared_file.clone(),
                    notebook: paths[copy.notebook].clone(),
                });
            }
            sharing
        }
        None => shared::find(&offers),
    };
    let shared_dotted = format!("{}.{SHARED_MODULE}", request.package);
    let mut shared_parts = Vec::new();
    if !sharing.is_empty() {
        let sharers: Vec<usize> = (0..paths.len())
            .filter(|&i| !sharing.names[i].is_empty())
            .collect();
        let index: FxHashMap<&Path, usize> =
            sharers.iter().map(|&i| (paths[i].as_path(), i)).collect();
        let sharer_paths: Vec<PathBuf> = sharers.iter().map(|&i| paths[i].clone()).collect();
        // Decided again, to be planned with what they share: holding every notebook of a large
        // batch until all are decided would not stream.
        let again = decide_batch(&sharer_paths, &context, &|path, decided| {
            let i = index[path];
            let place = place_of(path)
                .ok_or_else(|| Error::new(path, ErrorKind::OutsideRoot(request.root.clone())))?;
            let use_shared = SharedUse {
                module: shared_dotted.clone(),
                names: sharing.names[i].clone(),
            };
            let planned = plan_one::<C>(
                path,
                &place,
                request,
                snapshot,
                &manifest,
                decided,
                Some(use_shared),
            )?;
            let written = sharing.written_by(i);
            let parts = (!written.is_empty() && earlier_shared.is_none()).then(|| {
                let options = extract_options(request, &place);
                plan::shared_parts(
                    &decided.notebook,
                    &decided.analysis,
                    &decided.decisions,
                    &written,
                    &options,
                )
            });
            Ok((planned, parts))
        });
        // A notebook that changed since it was first read: nothing is shared, rather than
        // a shared module that lacks what some notebook imports from it.
        if again.results.iter().all(Result::is_ok) {
            for (&i, result) in sharers.iter().zip(again.results) {
                let (planned, parts) = result.expect("checked");
                outcomes[i] = Ok(planned);
                shared_parts.extend(parts.map(|parts| (i, parts)));
            }
        }
    }
    let mut planned_modules: Vec<PathBuf> = Vec::new();
    for (outcome, path) in outcomes.iter_mut().zip(paths) {
        let Ok((planned, _)) = outcome else {
            continue;
        };
        if let Some(taken) = planned
            .modules
            .iter()
            .find(|change| planned_modules.iter().any(|p| p == change.path()))
        {
            // Two notebooks whose names differ only in punctuation or case, or that write
            // the same `%%writefile` module.
            *outcome = Err(Error::new(
                path,
                ErrorKind::ModuleClash(taken.path().to_owned()),
            ));
        } else if planned.notebook.is_some() {
            planned_modules.extend(planned.modules.iter().map(|c| c.path().to_owned()));
        }
    }
    // A notebook whose module imports from the module of a notebook it runs fails with it.
    loop {
        let failed = (0..paths.len()).find_map(|i| {
            let helper = decided.imports_from[i]
                .iter()
                .find(|&&j| outcomes[j].is_err())?;
            outcomes[i].is_ok().then_some((i, *helper))
        });
        let Some((i, j)) = failed else {
            break;
        };
        outcomes[i] = Err(Error::new(
            &paths[i],
            ErrorKind::RunsFailed(paths[j].clone()),
        ));
    }

    let mut modules = Vec::new();
    let mut notebooks = Vec::new();
    let mut planned_modules: Vec<PathBuf> = Vec::new();
    let mut exports: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut new_manifest = manifest.clone();
    for (((path, place), outcome), run_by) in
        paths.iter().zip(&places).zip(outcomes).zip(decided.run_by)
    {
        let mut module_path = place
            .as_ref()
            .map(|place| place.dir.join(format!("{}.py", place.module)))
            .unwrap_or_default();
        if let Ok((planned, _)) = &outcome
            && planned.plan.module_text.is_none()
            && !planned.shared.is_empty()
        {
            // Everything it hoists is shared.
            module_path.clone_from(&shared_file);
        }
        let (outcome, report) = match outcome {
            Ok((planned, report)) => {
                plan.notes.extend(planned.notes.iter().cloned());
                (Ok(planned), report)
            }
            Err(error) => {
                let report = error_report(path, &error);
                (Err(error), report)
            }
        };
        if let Ok(Planned {
            plan: notebook_plan,
            notebook: Some(notebook_change),
            modules: module_changes,
            subpackages,
            ..
        }) = &outcome
            && let Some(place) = place
        {
            if let Some(run_by) = run_by {
                plan.notes.push(Note::RunByExtracted {
                    notebook: path.clone(),
                    by: run_by.notebook,
                    cell: run_by.cell,
                });
            }
            for change in module_changes.iter().chain(subpackages) {
                if !planned_modules.iter().any(|p| p == change.path()) {
                    planned_modules.push(change.path().to_owned());
                    modules.push(change.clone());
                }
            }
            for change in subpackages {
                if !plan.package_changes.iter().any(|p| p == change.path()) {
                    plan.package_changes.push(change.path().to_owned());
                }
            }
            notebooks.push(notebook_change.clone());
            if let Some(record) = &notebook_plan.record {
                let file = place.dir.join(format!("{}.py", place.module));
                new_manifest
                    .modules
                    .insert(module_key(snapshot.dir(), &file), record.clone());
            }
            let dotted = place
                .parent
                .strip_prefix(&request.package)
                .unwrap_or_default()
                .trim_start_matches('.');
            let key = if dotted.is_empty() {
                place.module.clone()
            } else {
                format!("{dotted}.{}", place.module)
            };
            exports.insert(key, notebook_plan.exports.clone());
            if let Some(note) = importability_note(request, snapshot.dir(), path)
                && !plan.notes.contains(&note)
            {
                plan.notes.push(note);
            }
        }
        plan.notebooks.push(NotebookExtract {
            path: path.clone(),
            module_path,
            outcome,
            report,
        });
    }
    if let Some(&(first, _)) = shared_parts.first() {
        let place = places[first]
            .as_ref()
            .expect("a sharing notebook has a place");
        let (text, record) = plan::shared_module(
            shared_parts.into_iter().map(|(_, parts)| parts).collect(),
            &extract_options(request, place),
        );
        let mut names: Vec<String> = record
            .definitions
            .keys()
            .filter(|name| !name.starts_with('_'))
            .cloned()
            .collect();
        names.sort();
        exports.insert(SHARED_MODULE.to_owned(), names);
        new_manifest
            .modules
            .insert(module_key(snapshot.dir(), &shared_file), record);
        planned_modules.push(shared_file.clone());
        plan.package_changes.push(shared_file.clone());
        modules.push(C::file(shared_file.clone(), None, text, request.diffs));
    }
    for group in &sharing.groups {
        plan.notes.push(Note::Shared {
            name: group.name.clone(),
            module: shared_file.clone(),
            copies: group.notebooks.iter().map(|&i| paths[i].clone()).collect(),
            earlier: earlier_shared.is_some(),
        });
    }
    let mut inits = Vec::new();
    let submodules = submodule_names(snapshot, &planned_modules);
    if !exports.is_empty()
        && let Some(change) = init_change::<C>(
            snapshot,
            exports,
            &submodules,
            request.diffs,
            &mut plan.notes,
        )
    {
        plan.package_changes.push(change.path().to_owned());
        inits.push(change);
    }
    let (manifest_path, manifest_text) = snapshot.manifest_file();
    if new_manifest != manifest || (manifest_text.is_none() && !new_manifest.modules.is_empty()) {
        let text = new_manifest.text();
        if manifest_text != Some(text.as_str()) {
            plan.package_changes.push(manifest_path.clone());
            inits.push(C::file(manifest_path, manifest_text, text, request.diffs));
        }
    }
    plan.changes = modules.into_iter().chain(inits).chain(notebooks).collect();
    plan
}

/// Distinct module names for notebooks whose names give the same one (`report_2024.ipynb`
/// and `Report-2024.ipynb`), the same on every run: a notebook keeps the module the manifest
/// says it has; the others take the first free name of `name`, `name_2`, `name_3` ... in the
/// order of their paths. Only notebooks whose natural name is taken get an entry.
fn module_names(
    request: &ExtractRequest,
    package_dir: &Path,
    manifest: &Manifest,
) -> FxHashMap<usize, String> {
    let owner: FxHashMap<&str, &str> = manifest
        .modules
        .iter()
        .map(|(module, record)| (module.as_str(), record.notebook.as_str()))
        .collect();
    // Notebooks by the module their names give, in path order.
    let mut groups: BTreeMap<String, Vec<(String, usize, PathBuf)>> = BTreeMap::new();
    for (i, in_root) in request.in_root.iter().enumerate() {
        let Some(in_root) = in_root else { continue };
        let place = place(request, package_dir, in_root);
        let natural = module_key(package_dir, &place.dir.join(format!("{}.py", place.module)));
        groups
            .entry(natural)
            .or_default()
            .push((slashed(in_root), i, place.dir));
    }
    let mut names = FxHashMap::default();
    for (natural, mut members) in groups {
        members.sort();
        members.dedup_by(|a, b| a.0 == b.0);
        let stem = natural
            .trim_end_matches(".py")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let key = |dir: &Path, name: &str| module_key(package_dir, &dir.join(format!("{name}.py")));
        let candidate = |n: usize| {
            if n == 1 {
                stem.clone()
            } else {
                format!("{stem}_{n}")
            }
        };
        let mut taken: BTreeSet<String> = BTreeSet::new();
        let mut unplaced = Vec::new();
        // A notebook keeps the module it had.
        for (notebook, i, dir) in &members {
            let had = (1..=members.len() + owner.len())
                .map(candidate)
                .find(|name| owner.get(key(dir, name).as_str()) == Some(&notebook.as_str()));
            match had {
                Some(name) => {
                    taken.insert(name.clone());
                    names.insert(*i, name);
                }
                None => unplaced.push((notebook, *i, dir)),
            }
        }
        for (notebook, i, dir) in unplaced {
            let name = (1..)
                .map(candidate)
                .find(|name| {
                    !taken.contains(name)
                        && owner
                            .get(key(dir, name).as_str())
                            .is_none_or(|other| *other == notebook.as_str())
                })
                .expect("some numbered name is free");
            taken.insert(name.clone());
            names.insert(i, name);
        }
    }
    names.retain(|i, name| {
        request.in_root[*i]
            .as_ref()
            .is_some_and(|in_root| place(request, package_dir, in_root).module != *name)
    });
    names
}

/// A notebook's path relative to the project's root: as the request says for a notebook it
/// names, and from the file system for one a notebook of the run runs with `%run`.
fn in_root(
    request: &ExtractRequest,
    given: &FxHashMap<&Path, usize>,
    path: &Path,
) -> Option<PathBuf> {
    if let Some(&i) = given.get(path) {
        return request.in_root[i].clone();
    }
    let real = path.canonicalize().ok()?;
    let root = request.root.canonicalize().ok()?;
    real.strip_prefix(root).ok().map(Path::to_path_buf)
}

/// The folder and module of a notebook, from its path relative to the root: each folder
/// name made a valid module name the way file names are.
fn place(request: &ExtractRequest, package_dir: &Path, in_root: &Path) -> Place {
    let relative = in_root.parent().unwrap_or(Path::new(""));
    let mut dir = package_dir.to_owned();
    let mut parent = request.package.clone();
    for component in relative.components() {
        let name = module_name(&component.as_os_str().to_string_lossy());
        dir.push(&name);
        parent = format!("{parent}.{name}");
    }
    let stem = in_root
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("notebook");
    Place {
        dir,
        parent,
        module: module_name(stem),
        in_root: in_root.to_owned(),
    }
}

fn plan_one<C: Change>(
    path: &Path,
    place: &Place,
    request: &ExtractRequest,
    snapshot: &PackageSnapshot,
    manifest: &Manifest,
    decided: &Decided,
    shared: Option<SharedUse>,
) -> Result<(Planned<C>, NotebookReport), Error> {
    let Decided {
        notebook,
        analysis,
        decisions,
    } = decided;
    let notebook_report = report(path, analysis, decisions);
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let module_file = place.dir.join(format!("{}.py", place.module));
    let existing = existing_module(snapshot, manifest, &module_file);
    let shared_names = shared
        .as_ref()
        .map(|shared| shared.names.clone())
        .unwrap_or_default();
    let options = ExtractOptions {
        shared,
        ..extract_options(request, place)
    };
    let plan = plan_notebook(
        notebook,
        analysis,
        decisions,
        &file_name,
        &place.module,
        existing.as_ref(),
        &options,
    );
    let moved = decisions.moving.items.clone();
    let mut notes = module_notes(path, &module_file, notebook, analysis, decisions);
    if decisions.is_empty() {
        let planned = Planned {
            plan,
            moved,
            notebook: None,
            modules: Vec::new(),
            subpackages: Vec::new(),
            notes,
            shared: BTreeSet::new(),
        };
        return Ok((planned, notebook_report));
    }
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut modules = Vec::new();
    if let Some(text) = &plan.module_text {
        if snapshot.has_file(&module_file) && existing.is_none() {
            return Err(Error::new(path, ErrorKind::ModuleExists(module_file)));
        }
        let forced = decisions
            .moving
            .items
            .iter()
            .any(|item| decisions.merges.get(&item.name) == Some(&Merge::Forced));
        if forced && let Some(before) = snapshot.text(&module_file) {
            let backup = backup_path(snapshot, &module_file);
            for note in &mut notes {
                if let Note::Updated {
                    backup: none, name, ..
                } = note
                    && decisions.merges.get(name.as_str()) == Some(&Merge::Forced)
                {
                    *none = Some(backup.clone());
                }
            }
            modules.push(C::file(backup, None, before.to_owned(), request.diffs));
        }
        files.push((module_file, text.clone()));
    }
    for (written, content) in &plan.written {
        let file = place.dir.join(written);
        // A module that already holds exactly this text is the one a stopped run wrote:
        // re-running finishes that run.
        if snapshot.has_file(&file) && snapshot.text(&file) != Some(content.as_str()) {
            return Err(Error::new(path, ErrorKind::ModuleExists(file)));
        }
        files.push((file, content.clone()));
    }
    let mut subpackages = Vec::new();
    for (file, text) in files {
        let before = snapshot.text(&file);
        if before == Some(text.as_str()) {
            continue;
        }
        ensure_subpackages(snapshot, &file, request.diffs, &mut subpackages);
        modules.push(C::file(file, before, text, request.diffs));
    }
    let notebook_change = C::notebook(path.to_owned(), notebook, &plan.edits, request.diffs);
    let planned = Planned {
        plan,
        moved,
        notebook: Some(notebook_change),
        modules,
        subpackages,
        notes,
        shared: shared_names,
    };
    Ok((planned, notebook_report))
}

/// What planning needs to know of the request and of where a notebook's modules go.
fn extract_options(request: &ExtractRequest, place: &Place) -> ExtractOptions {
    ExtractOptions {
        package: request.package.clone(),
        parent: place.parent.clone(),
        autoreload: request.autoreload,
        notebook_key: slashed(&place.in_root),
        shared: None,
    }
}

/// The notes about a notebook's module that an earlier run wrote: each conflict with a
/// short diff, each update, and each name the notebook imports that the module lost, for
/// functions, classes and constants alike, in notebook order.
fn module_notes(
    path: &Path,
    module: &Path,
    notebook: &Notebook,
    analysis: &Analysis,
    decisions: &Decisions,
) -> Vec<Note> {
    let mut notes: Vec<(StatementRef, Note)> = Vec::new();
    let conflict = |at: StatementRef, name: &str, theirs: &str| {
        let cell = analysis.cells[at.code_cell].index.number();
        let text =
            &analysis.cells[at.code_cell].text(notebook)[statement(&analysis.cells, at).range()];
        let (theirs, text) = (format!("{theirs}\n"), format!("{text}\n"));
        let diff = similar::TextDiff::from_lines(&theirs, &text)
            .unified_diff()
            .context_radius(2)
            .header(
                &module.display().to_string(),
                &format!("{} (cell {cell})", path.display()),
            )
            .to_string();
        Note::Conflict {
            notebook: path.to_owned(),
            cell,
            name: name.to_owned(),
            module: module.to_owned(),
            diff,
        }
    };
    let mut constants: BTreeSet<&str> = BTreeSet::new();
    for (definition, verdict) in analysis.definitions.iter().zip(&decisions.verdicts) {
        let Verdict::Stay(reason) = verdict else {
            continue;
        };
        match reason {
            StayReason::Conflict { theirs, .. } => {
                notes.push((
                    definition.at,
                    conflict(definition.at, &definition.name, theirs),
                ));
            }
            // A constant in conflict keeps what needs it.
            StayReason::DependsOn { name, because } => {
                if let StayReason::Conflict { theirs, .. } = because.as_ref()
                    && constants.insert(name)
                    && let Some(site) = analysis.names.sites(name).last()
                {
                    notes.push((site.at, conflict(site.at, name, theirs)));
                }
            }
            _ => {}
        }
    }
    let sites = written_sites(analysis, &decisions.moving);
    for (name, merge) in &decisions.merges {
        if let (Merge::Update | Merge::Forced, Some(&at)) = (merge, sites.get(name.as_str())) {
            let note = Note::Updated {
                notebook: path.to_owned(),
                cell: analysis.cells[at.code_cell].index.number(),
                name: name.clone(),
                module: module.to_owned(),
                backup: None,
            };
            notes.push((at, note));
        }
    }
    notes.sort_by_key(|(at, _)| *at);
    let mut notes: Vec<Note> = notes.into_iter().map(|(_, note)| note).collect();
    for missing in &decisions.missing {
        notes.push(Note::Missing {
            notebook: path.to_owned(),
            cell: missing.cell,
            name: missing.name.clone(),
            module: module.to_owned(),
        });
    }
    notes
}

/// The module at `file` as an earlier run left it: `None` when there is none, when nbhoist
/// did not write it (the manifest does not list it and it lacks nbhoist's docstring), or when
/// it does not parse.
fn existing_module(
    snapshot: &PackageSnapshot,
    manifest: &Manifest,
    file: &Path,
) -> Option<ExistingModule> {
    let text = snapshot.text(file)?;
    let record = manifest.modules.get(&module_key(snapshot.dir(), file));
    if record.is_none() && !text.starts_with(MODULE_HEADER) {
        return None;
    }
    ExistingModule::read(text, record)
}

/// A module's key in the manifest: its path inside the package folder, with `/`.
fn module_key(package_dir: &Path, file: &Path) -> String {
    slashed(file.strip_prefix(package_dir).unwrap_or(file))
}

/// A relative path with `/` between its parts, on every platform.
fn slashed(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// A file next to `module` that does not exist yet, for its text before `--force`:
/// `analysis.py.bak`, else `analysis.py.1.bak`, and so on.
fn backup_path(snapshot: &PackageSnapshot, module: &Path) -> PathBuf {
    let name = module
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    (0..)
        .map(|n| match n {
            0 => module.with_file_name(format!("{name}.bak")),
            n => module.with_file_name(format!("{name}.{n}.bak")),
        })
        .find(|path| !snapshot.has_any_file(path))
        .expect("some numbered backup name is free")
}

/// The content of the `__init__.py` of a sub-package nbhoist creates.
const SUBPACKAGE_DOCSTRING: &str = "\"\"\"Hoisted code, written by nbhoist.\"\"\"";

/// Adds an `__init__.py` to every folder between the package and `file` that has none.
fn ensure_subpackages<C: Change>(
    snapshot: &PackageSnapshot,
    file: &Path,
    diffs: bool,
    changes: &mut Vec<C>,
) {
    let package_dir = snapshot.dir();
    let mut dir = file.parent();
    while let Some(sub) = dir.filter(|d| d.starts_with(package_dir) && *d != package_dir) {
        let init = sub.join("__init__.py");
        if !snapshot.has_file(&init) && !changes.iter().any(|c| c.path() == init) {
            changes.push(C::file(
                init,
                None,
                format!("{SUBPACKAGE_DOCSTRING}\n"),
                diffs,
            ));
        }
        dir = sub.parent();
    }
}

/// The package's `__init__.py`: created when missing; updated only when nbhoist wrote it.
fn init_change<C: Change>(
    snapshot: &PackageSnapshot,
    mut exports: BTreeMap<String, Vec<String>>,
    submodules: &BTreeSet<String>,
    diffs: bool,
    notes: &mut Vec<Note>,
) -> Option<C> {
    let package_dir = snapshot.dir();
    let path = package_dir.join("__init__.py");
    if snapshot.has_file(&path) {
        let existing = snapshot.text(&path)?;
        if !existing.starts_with(INIT_MARKER) {
            return None;
        }
        for (module, names) in existing_exports(existing) {
            exports.entry(module).or_insert(names);
        }
    }
    // A name two modules export would make `from package import name` ambiguous.
    let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (module, names) in &exports {
        for name in names {
            owners.entry(name.clone()).or_default().push(module.clone());
        }
    }
    for (name, modules) in &owners {
        if modules.len() > 1 {
            notes.push(Note::DefinedTwice {
                name: name.clone(),
                modules: modules.clone(),
                package_dir: package_dir.to_owned(),
            });
            for module in modules {
                if let Some(names) = exports.get_mut(module) {
                    names.retain(|n| n != name);
                }
            }
        }
    }
    // `from package import helpers` must keep finding the submodule `helpers`.
    for (module, names) in exports.iter_mut() {
        for name in names.iter().filter(|name| submodules.contains(*name)) {
            notes.push(Note::NamedLikeModule {
                name: name.clone(),
                module: module.clone(),
                package_dir: package_dir.to_owned(),
            });
        }
        names.retain(|name| !submodules.contains(name));
    }
    let before = snapshot.text(&path);
    let after = match before {
        Some(existing) => merge_init(existing, &init_region(&exports), || {
            kept_from_old_init(existing)
        }),
        None => init_text(&exports),
    };
    (before != Some(after.as_str())).then(|| C::file(path, before, after, diffs))
}

/// The names of the package's direct submodules and sub-packages: those planned, and those
/// already in its folder.
fn submodule_names(snapshot: &PackageSnapshot, planned: &[PathBuf]) -> BTreeSet<String> {
    let package_dir = snapshot.dir();
    let planned = planned.iter().filter_map(|path| {
        let relative = path.strip_prefix(package_dir).ok()?;
        relative
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
    });
    planned
        .chain(snapshot.entries().map(str::to_owned))
        .filter_map(|name| {
            let name = name.strip_suffix(".py").unwrap_or(&name);
            (name != "__init__" && !name.starts_with('.')).then(|| name.to_owned())
        })
        .collect()
}

/// `module → names` of the `from .module import a, b` lines of an `__init__.py` nbhoist
/// wrote: under `if TYPE_CHECKING:` in nbhoist's part, or at the top level in a file from
/// before re-exports were lazy. The user's lines are not nbhoist's exports.
fn existing_exports(text: &str) -> BTreeMap<String, Vec<String>> {
    let text = match (text.find(INIT_BEGIN), text.find(INIT_END)) {
        (Some(begin), Some(end)) if begin < end => &text[begin..end],
        _ => text,
    };
    let parsed = parse_cell(text);
    let mut exports = BTreeMap::new();
    let nested = parsed.syntax().body.iter().flat_map(|stmt| match stmt {
        Stmt::If(block) => block.body.iter().collect(),
        stmt => vec![stmt],
    });
    for stmt in nested {
        if let Stmt::ImportFrom(import) = stmt
            && import.level == 1
            && let Some(module) = &import.module
        {
            exports.insert(
                module.to_string(),
                import
                    .names
                    .iter()
                    .map(|alias| alias.name.to_string())
                    .collect(),
            );
        }
    }
    exports
}

/// The statements of an `__init__.py` nbhoist wrote before its part had markers that are
/// not nbhoist's: everything but the docstring, relative `from` imports and `__all__`.
fn kept_from_old_init(text: &str) -> String {
    let parsed = parse_cell(text);
    let mut kept = String::new();
    for stmt in &parsed.syntax().body {
        let generated = match stmt {
            Stmt::ImportFrom(import) => import.level > 0,
            Stmt::Assign(assign) => assign
                .targets
                .iter()
                .any(|target| matches!(target, Expr::Name(name) if name.id.as_str() == "__all__")),
            Stmt::Expr(expr) => expr.value.is_string_literal_expr(),
            _ => false,
        };
        if !generated {
            kept.push_str(&text[stmt.range()]);
            kept.push('\n');
        }
    }
    kept
}

/// When a notebook's module is not importable from the notebook's folder, how to make it so.
/// A project file that declares a `[project]` is taken to install the package: a note on
/// every run would only be noise once it is installed.
fn importability_note(
    request: &ExtractRequest,
    package_dir: &Path,
    notebook: &Path,
) -> Option<Note> {
    let notebook_dir = notebook.parent().unwrap_or(Path::new(""));
    let parent = package_dir.parent().unwrap_or(Path::new(""));
    let absolute_parent = absolute(parent)?;
    if request.installable || Some(&absolute_parent) == absolute(notebook_dir).as_ref() {
        return None;
    }
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    Some(Note::NotImportable {
        package: request.package.clone(),
        parent: parent.to_owned(),
        absolute_parent,
        root: request.root.clone(),
    })
}

fn absolute(path: &Path) -> Option<PathBuf> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    std::path::absolute(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Action, Preview, Write};

    fn notebook(cells: &[&str]) -> Notebook {
        crate::notebook::code_notebook(cells)
    }

    fn request(notebooks: &[&str]) -> ExtractRequest {
        ExtractRequest {
            notebooks: notebooks.iter().map(PathBuf::from).collect(),
            in_root: notebooks
                .iter()
                .map(|path| {
                    Path::new(path)
                        .strip_prefix("repo")
                        .ok()
                        .map(Path::to_owned)
                })
                .collect(),
            root: PathBuf::from("repo"),
            installable: false,
            package: "pkg".to_owned(),
            package_configured: false,
            package_dir: PathBuf::from("repo/pkg"),
            autoreload: false,
            force: false,
            diffs: false,
            jobs: Some(1),
            progress: false,
        }
    }

    /// Plans over in-memory notebooks: `repo/a.ipynb` and `repo/sub/b.ipynb`.
    fn plan_in_memory<C: Change>(
        request: &ExtractRequest,
        snapshot: &PackageSnapshot,
    ) -> ExtractPlan<C> {
        let load = |path: &Path| -> Result<Notebook, Error> {
            Ok(match path.to_str() {
                Some("repo/a.ipynb") => notebook(&["import os", "def sep():\n    return os.sep"]),
                Some("repo/sub/b.ipynb") => notebook(&["def one():\n    return 1"]),
                _ => return Err(Error::new(path, ErrorKind::Walk("no such notebook".into()))),
            })
        };
        plan_extract(request, snapshot, &load)
    }

    fn paths(plan: &ExtractPlan<Preview>) -> Vec<(String, Action)> {
        plan.changes
            .iter()
            .map(|change| (change.path.display().to_string(), change.action))
            .collect()
    }

    #[test]
    fn planning_reads_nothing_but_its_inputs() {
        let request = request(&["repo/a.ipynb", "repo/sub/b.ipynb"]);
        let plan = plan_in_memory(&request, &PackageSnapshot::empty(Path::new("repo/pkg")));
        assert!(!plan.has_errors());
        assert_eq!(
            paths(&plan),
            [
                ("repo/pkg/a.py".to_owned(), Action::Create),
                ("repo/pkg/sub/b.py".to_owned(), Action::Create),
                ("repo/pkg/sub/__init__.py".to_owned(), Action::Create),
                ("repo/pkg/__init__.py".to_owned(), Action::Create),
                ("repo/pkg/.nbhoist.json".to_owned(), Action::Create),
                ("repo/a.ipynb".to_owned(), Action::Modify),
                ("repo/sub/b.ipynb".to_owned(), Action::Modify),
            ]
        );
    }

    #[test]
    fn an_existing_module_is_an_error_and_an_existing_init_is_merged() {
        let request = request(&["repo/a.ipynb"]);
        let snapshot = PackageSnapshot::empty(Path::new("repo/pkg")).with_file("a.py", "x = 1\n");
        let plan: ExtractPlan<Preview> = plan_in_memory(&request, &snapshot);
        let error = plan.notebooks[0].outcome.as_ref().unwrap_err();
        assert!(matches!(&error.kind, ErrorKind::ModuleExists(path) if path.ends_with("a.py")));

        let init: Preview = planned_init(&format!("{INIT_MARKER}\n\nfrom .old import thing\n"));
        assert_eq!(init.action, Action::Modify);
        assert!(
            init.diff.contains("+    from .a import sep"),
            "{}",
            init.diff
        );
        assert!(
            init.diff.contains("+    from .old import thing"),
            "{}",
            init.diff
        );
    }

    /// The `__init__.py` change of planning `repo/a.ipynb` into a package whose
    /// `__init__.py` holds `init`.
    fn planned_init<C: Change>(init: &str) -> C {
        let request = request(&["repo/a.ipynb"]);
        let snapshot = PackageSnapshot::empty(Path::new("repo/pkg")).with_file("__init__.py", init);
        let plan: ExtractPlan<C> = plan_in_memory(&request, &snapshot);
        plan.changes
            .into_iter()
            .find(|change| change.path().ends_with("__init__.py"))
            .unwrap()
    }

    #[test]
    fn lines_added_to_the_init_survive_and_are_not_exports() {
        let region = init_region(&BTreeMap::from([("old".to_owned(), vec!["x".to_owned()])]));
        // The user's `sep` comes from another module than the notebook's `sep`.
        let init: Write = planned_init(&format!(
            "{INIT_MARKER}\nfrom .mine import sep  # keep me\n\n{region}\n\nEXTRA = 1\n"
        ));
        let expected = format!(
            "{INIT_MARKER}\nfrom .mine import sep  # keep me\n\n{}\n\nEXTRA = 1\n",
            init_region(&BTreeMap::from([
                ("a".to_owned(), vec!["sep".to_owned()]),
                ("old".to_owned(), vec!["x".to_owned()]),
            ]))
        );
        assert_eq!(*init.after, expected);
    }

    #[test]
    fn an_init_written_by_someone_else_is_left_alone() {
        let request = request(&["repo/a.ipynb"]);
        let snapshot =
            PackageSnapshot::empty(Path::new("repo/pkg")).with_file("__init__.py", "# mine\n");
        let plan: ExtractPlan<Preview> = plan_in_memory(&request, &snapshot);
        assert!(
            !plan
                .changes
                .iter()
                .any(|change| change.path.ends_with("__init__.py"))
        );
    }
}
