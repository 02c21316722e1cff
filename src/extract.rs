//! `nbhoist extract`: plan the package and the rewritten notebooks as a list of file changes.
//!
//! Reads files but writes none; [`crate::apply`] does the writing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ruff_python_ast::Stmt;

use crate::analysis::analyse;
use crate::apply::{Action, FileChange};
use crate::batch;
use crate::diff::{file_diff, notebook_diff};
use crate::emit::{INIT_MARKER, init_text};
use crate::error::{Error, ErrorKind};
use crate::plan::{ExtractOptions, NotebookPlan, check_package_name, module_name, plan_notebook};
use crate::python::parse::parse_cell;
use crate::scan::{NotebookReport, VerdictName, error_report, read_notebook, report};

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct ExtractRequest {
    /// The notebooks, sorted.
    pub notebooks: Vec<PathBuf>,
    /// The folder the package's layout is relative to: each notebook's module sits at the
    /// notebook's path relative to it.
    pub root: PathBuf,
    /// The package's import name.
    pub package: String,
    /// The package directory; by default `NAME/` in `root`.
    pub package_dir: Option<PathBuf>,
    /// Add autoreload magics to the import cell.
    pub autoreload: bool,
    /// Replace modules that already exist.
    pub force: bool,
    /// Render every change as a unified diff.
    pub diffs: bool,
    /// Nothing will be written: rewritten notebooks are not kept, only their diffs.
    pub dry_run: bool,
    /// Threads to use; all cores when `None`.
    pub jobs: Option<usize>,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

impl ExtractRequest {
    fn package_dir(&self) -> PathBuf {
        self.package_dir
            .clone()
            .unwrap_or_else(|| self.root.join(&self.package))
    }
}

/// The plan of one notebook, or why it could not be made.
#[derive(Debug)]
pub struct NotebookExtract {
    /// The notebook.
    pub path: PathBuf,
    /// The module it hoists into.
    pub module_path: PathBuf,
    /// What happens to it.
    pub outcome: Result<Planned, Error>,
    /// The notebook's analysis as `scan` reports it, with the verdicts extract applies.
    pub report: NotebookReport,
}

/// A notebook's plan and, when something moves, the rewritten notebook.
#[derive(Debug)]
pub struct Planned {
    /// The decisions.
    pub plan: NotebookPlan,
    /// The notebook's change; `None` when nothing moves.
    pub notebook: Option<FileChange>,
    /// The modules it creates or replaces: its own and its `%%writefile` modules.
    pub modules: Vec<FileChange>,
    /// The `__init__.py` files of sub-packages its modules need (shared with other
    /// notebooks of the run).
    pub subpackages: Vec<FileChange>,
}

/// Everything `extract` would do.
#[derive(Debug, Default)]
pub struct ExtractPlan {
    /// Per notebook, in the order given.
    pub notebooks: Vec<NotebookExtract>,
    /// Files to write: modules first, then `__init__.py` files, then notebooks.
    pub changes: Vec<FileChange>,
    /// The package-level files among `changes`: `__init__.py` files, which several notebooks
    /// may share.
    pub package_changes: Vec<PathBuf>,
    /// Things the user should know (names not re-exported, how to import the package, ...).
    pub notes: Vec<String>,
}

impl ExtractPlan {
    /// True when some notebook could not be planned.
    pub fn has_errors(&self) -> bool {
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
}

/// Plans the extraction of every notebook of the request. Fails only when the request itself
/// is wrong; a notebook that cannot be planned is reported in its [`NotebookExtract`].
pub fn plan_extract(request: &ExtractRequest) -> Result<ExtractPlan, Error> {
    if let Some(dir) = &request.package_dir
        && dir.file_name().and_then(|n| n.to_str()) != Some(request.package.as_str())
    {
        let message = format!(
            "the package directory must be named `{}` so that `import {}` finds it",
            request.package, request.package
        );
        return Err(Error::new(dir, ErrorKind::Package(message)));
    }
    let package_dir = request.package_dir();
    let places: Vec<Place> = request
        .notebooks
        .iter()
        .map(|path| place(request, &package_dir, path))
        .collect();
    let outcomes = batch::run(
        &request.notebooks,
        request.jobs,
        request.progress,
        |i, path| plan_one(path, &places[i], request),
    );

    let mut plan = ExtractPlan::default();
    let mut modules = Vec::new();
    let mut notebooks = Vec::new();
    let mut planned_modules: Vec<PathBuf> = Vec::new();
    let mut exports: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ((path, place), outcome) in request.notebooks.iter().zip(&places).zip(outcomes) {
        let module_path = place.dir.join(format!("{}.py", place.module));
        let mut outcome = outcome.map_err(|error| (error_report(path, &error), error));
        if let Ok((planned, _)) = &outcome
            && let Some(taken) = planned
                .modules
                .iter()
                .find(|change| planned_modules.contains(&change.path))
        {
            // Two notebooks whose names differ only in punctuation or case, or that write
            // the same `%%writefile` module.
            let error = Error::new(
                path,
                ErrorKind::Package(format!(
                    "another notebook of this run also writes {}; rename one of them",
                    taken.path.display()
                )),
            );
            outcome = Err((error_report(path, &error), error));
        }
        let (outcome, report) = match outcome {
            Ok((planned, report)) => (Ok(planned), report),
            Err((report, error)) => (Err(error), report),
        };
        if let Ok(Planned {
            plan: notebook_plan,
            notebook: Some(notebook_change),
            modules: module_changes,
            subpackages,
        }) = &outcome
        {
            for change in module_changes.iter().chain(subpackages) {
                if !planned_modules.contains(&change.path) {
                    planned_modules.push(change.path.clone());
                    modules.push(change.clone());
                }
            }
            for change in subpackages {
                if !plan.package_changes.contains(&change.path) {
                    plan.package_changes.push(change.path.clone());
                }
            }
            notebooks.push(notebook_change.clone());
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
            if let Some(note) = importability_note(request, path)
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
    let mut inits = Vec::new();
    let submodules = submodule_names(&package_dir, &planned_modules);
    if !exports.is_empty()
        && let Some(change) = init_change(
            &package_dir,
            exports,
            &submodules,
            request.diffs,
            &mut plan.notes,
        )
    {
        plan.package_changes.push(change.path.clone());
        inits.push(change);
    }
    plan.changes = modules.into_iter().chain(inits).chain(notebooks).collect();
    Ok(plan)
}

/// The folder and module of a notebook: its path relative to the root, each folder name
/// made a valid module name the way file names are.
fn place(request: &ExtractRequest, package_dir: &Path, notebook: &Path) -> Place {
    let folder = absolute(notebook.parent().unwrap_or(Path::new("")));
    let root = absolute(&request.root);
    let relative = match (folder, root) {
        (Some(folder), Some(root)) => folder
            .strip_prefix(&root)
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        _ => PathBuf::new(),
    };
    let mut dir = package_dir.to_owned();
    let mut parent = request.package.clone();
    for component in relative.components() {
        let name = module_name(&component.as_os_str().to_string_lossy());
        dir.push(&name);
        parent = format!("{parent}.{name}");
    }
    let stem = notebook
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("notebook");
    Place {
        dir,
        parent,
        module: module_name(stem),
    }
}

fn plan_one(
    path: &Path,
    place: &Place,
    request: &ExtractRequest,
) -> Result<(Planned, NotebookReport), Error> {
    let notebook = read_notebook(path)?;
    let analysis = analyse(&notebook);
    let package_exists = request.package_dir().is_dir();
    check_package_name(&request.package, &analysis, package_exists)
        .map_err(|message| Error::new(path, ErrorKind::Package(message)))?;
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let options = ExtractOptions {
        package: request.package.clone(),
        parent: place.parent.clone(),
        autoreload: request.autoreload,
    };
    let plan = plan_notebook(&notebook, &analysis, &file_name, &place.module, &options);
    let mut notebook_report = report(path, &analysis, &plan.writefiles);
    // Placing the import cell can keep more definitions than scan says.
    for reported in &mut notebook_report.definitions {
        if reported.verdict == VerdictName::Move
            && let Some(kept) = plan
                .kept
                .iter()
                .find(|k| k.name == reported.name && k.cell == reported.cell)
        {
            reported.verdict = VerdictName::Stay;
            reported.reason = Some(kept.reason.to_string());
            reported.needs.clear();
        }
    }
    if plan.is_empty() {
        let planned = Planned {
            plan,
            notebook: None,
            modules: Vec::new(),
            subpackages: Vec::new(),
        };
        return Ok((planned, notebook_report));
    }
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    if let Some(text) = &plan.module_text {
        files.push((place.dir.join(format!("{}.py", place.module)), text.clone()));
    }
    for written in &plan.written {
        files.push((place.dir.join(&written.path), written.content.clone()));
    }
    let package_dir = request.package_dir();
    let mut modules = Vec::new();
    let mut subpackages = Vec::new();
    for (file, text) in files {
        let before = std::fs::read_to_string(&file).ok();
        if before.is_some() && !request.force {
            return Err(Error::new(path, ErrorKind::ModuleExists(file)));
        }
        ensure_subpackages(&package_dir, &file, request.diffs, &mut subpackages);
        modules.push(change(file, before.as_deref(), text, request.diffs));
    }
    let display = path.display().to_string();
    let notebook_change = FileChange {
        path: path.to_owned(),
        action: Action::Modify,
        after: (!request.dry_run).then(|| notebook.render(&plan.edits)),
        diff: request
            .diffs
            .then(|| notebook_diff(&display, &notebook, &plan.edits)),
    };
    let planned = Planned {
        plan,
        notebook: Some(notebook_change),
        modules,
        subpackages,
    };
    Ok((planned, notebook_report))
}

fn change(path: PathBuf, before: Option<&str>, after: String, diffs: bool) -> FileChange {
    FileChange {
        diff: diffs.then(|| file_diff(&path.display().to_string(), before, &after)),
        action: if before.is_some() {
            Action::Modify
        } else {
            Action::Create
        },
        path,
        after: Some(after),
    }
}

/// The content of the `__init__.py` of a sub-package nbhoist creates.
const SUBPACKAGE_DOCSTRING: &str = "\"\"\"Hoisted code, written by nbhoist.\"\"\"";

/// Adds an `__init__.py` to every folder between the package and `file` that has none.
fn ensure_subpackages(package_dir: &Path, file: &Path, diffs: bool, changes: &mut Vec<FileChange>) {
    let mut dir = file.parent();
    while let Some(sub) = dir.filter(|d| d.starts_with(package_dir) && *d != package_dir) {
        let init = sub.join("__init__.py");
        if !init.exists() && !changes.iter().any(|c| c.path == init) {
            changes.push(change(
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
fn init_change(
    package_dir: &Path,
    mut exports: BTreeMap<String, Vec<String>>,
    submodules: &BTreeSet<String>,
    diffs: bool,
    notes: &mut Vec<String>,
) -> Option<FileChange> {
    let path = package_dir.join("__init__.py");
    let before = std::fs::read_to_string(&path).ok();
    if let Some(existing) = &before {
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
            notes.push(format!(
                "`{name}` is defined in modules {} of {}; it is not re-exported from the package",
                modules.join(" and "),
                package_dir.display()
            ));
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
            notes.push(format!(
                "`{name}` (in module {module}) has the name of a module of {}; it is not re-exported from the package",
                package_dir.display()
            ));
        }
        names.retain(|name| !submodules.contains(name));
    }
    let after = init_text(&exports);
    (before.as_deref() != Some(after.as_str()))
        .then(|| change(path, before.as_deref(), after, diffs))
}

/// The names of the package's direct submodules and sub-packages: those planned, and those
/// already in its folder.
fn submodule_names(package_dir: &Path, planned: &[PathBuf]) -> BTreeSet<String> {
    let existing = std::fs::read_dir(package_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path());
    planned
        .iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(package_dir).ok()?;
            relative.components().next().map(|c| package_dir.join(c))
        })
        .chain(existing)
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?;
            let name = name.strip_suffix(".py").unwrap_or(name);
            (name != "__init__" && !name.starts_with('.')).then(|| name.to_owned())
        })
        .collect()
}

/// `module → names` of the `from .module import a, b` lines of an `__init__.py` nbhoist wrote.
fn existing_exports(text: &str) -> BTreeMap<String, Vec<String>> {
    let parsed = parse_cell(text);
    let mut exports = BTreeMap::new();
    for stmt in &parsed.syntax().body {
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

/// When a notebook's module is not importable from the notebook's folder, how to make it so.
fn importability_note(request: &ExtractRequest, notebook: &Path) -> Option<String> {
    let package_dir = request.package_dir();
    let notebook_dir = notebook.parent().unwrap_or(Path::new(""));
    let parent = package_dir.parent().unwrap_or(Path::new(""));
    if absolute(parent) == absolute(notebook_dir) {
        return None;
    }
    Some(format!(
        "{} is not next to every notebook, so a notebook cannot import `{}` on its own: install the project that contains it (for example `pip install -e .`), or add {} to `sys.path`",
        package_dir.display(),
        request.package,
        std::path::absolute(parent)
            .unwrap_or_else(|_| parent.to_owned())
            .display()
    ))
}

fn absolute(path: &Path) -> Option<PathBuf> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    std::path::absolute(path).ok()
}
