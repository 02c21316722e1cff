//! Reading and deciding a batch of notebooks that run other files with `%run`.
//!
//! Every notebook of the batch is read and analysed once, and so is every file its `%run`
//! lines run (a notebook that no given path names joins the batch, as its module must exist).
//! A notebook is decided after the notebooks it runs, whose decisions say what each name it
//! gets from them stands for, and with what the notebooks that run it bind in the namespace
//! they share. A `%run` that closes a cycle binds unknown names.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustc_hash::FxHashMap;

use crate::analysis::{
    Analysis, RunEffect, RunEffects, RunLine, RunTarget, SiteKind, StatementRef, Unfollowed,
    analyse, analyse_with_runs, python_file_effect,
};
use crate::batch;
use crate::decide::{Decisions, Runners, Target, decide, notebook_effect};
use crate::error::Error;
use crate::notebook::Notebook;
use crate::ownership::ExistingModule;
use crate::position::CellNumber;
use crate::python::scope::BindingKind;
use crate::settings::normalize;

/// A notebook, its analysis and the decisions about it.
pub(crate) struct Decided {
    /// The notebook as read.
    pub(crate) notebook: Notebook,
    /// Its analysis, with what its `%run` lines bind.
    pub(crate) analysis: Analysis,
    /// Every decision about it.
    pub(crate) decisions: Decisions,
}

/// Why a notebook no given path named is in the batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RunBy {
    /// The notebook of the batch that runs it.
    pub(crate) notebook: PathBuf,
    /// The cell of its `%run` line.
    pub(crate) cell: CellNumber,
}

/// A decided batch.
pub(crate) struct Batch<T> {
    /// The notebooks given, in their order, then those they run, in the order found.
    pub(crate) paths: Vec<PathBuf>,
    /// For a notebook no given path named, the first notebook found running it.
    pub(crate) run_by: Vec<Option<RunBy>>,
    /// For each notebook, the notebooks of the batch whose hoisted code its module may
    /// import: they must be extracted for it to be.
    pub(crate) imports_from: Vec<Vec<usize>>,
    /// For each notebook, what became of it.
    pub(crate) results: Vec<Result<T, Error>>,
}

/// How to read and decide the notebooks of a batch.
pub(crate) struct Context<'a> {
    /// Threads; all cores when `None`.
    pub(crate) jobs: Option<usize>,
    /// Show a progress bar while reading.
    pub(crate) progress: bool,
    /// Reads a notebook.
    pub(crate) load: &'a (dyn Fn(&Path) -> Result<Notebook, Error> + Sync),
    /// Where a notebook's code goes.
    pub(crate) module_of: &'a (dyn Fn(&Path) -> ModuleTarget + Sync),
    /// Refuses a notebook that cannot be extracted as asked (its package name).
    pub(crate) check: &'a (dyn Fn(&Path, &Analysis) -> Result<(), Error> + Sync),
}

/// Where a notebook's code goes.
#[derive(Clone, Debug, Default)]
pub(crate) struct ModuleTarget {
    /// The module's name (`analysis`).
    pub(crate) module: String,
    /// Its dotted name in the package, when extracting.
    pub(crate) dotted: Option<String>,
    /// The module as an earlier run left it, when it exists.
    pub(crate) existing: Option<ExistingModule>,
    /// Take the notebook's version where the module's was changed by hand.
    pub(crate) force: bool,
}

/// Where a `%run` line leads.
#[derive(Clone, Debug)]
enum Leads {
    /// A notebook of the batch.
    Notebook(usize),
    /// A Python file, by its canonical path.
    Python(PathBuf),
    /// Nowhere nbhoist can follow.
    Unknown(Unfollowed),
}

/// One `%run` line of a notebook of the batch.
#[derive(Clone, Debug)]
struct Edge {
    at: StatementRef,
    cell: CellNumber,
    /// The path as the line writes it.
    file: String,
    leads: Leads,
}

type Slot<T> = Mutex<Option<T>>;

/// What the first reading of a notebook gave.
enum First<T> {
    /// It has no `%run` line: decided and finished at once.
    Finished(T),
    /// It has `%run` lines: kept until the notebooks it runs are decided.
    Held(Box<(Notebook, Analysis)>),
}

/// Reads, analyses and decides `given` and every notebook they run, and turns each into a
/// result with `finish`. A notebook that neither runs nor is run by another is read, decided
/// and finished in one go, so that a large batch holds few notebooks at once; the notebooks
/// of `%run` relations are held until they are decided, the notebooks they run first.
pub(crate) fn decide_batch<T: Send>(
    given: &[PathBuf],
    context: &Context<'_>,
    finish: &(dyn Fn(&Path, &Decided) -> Result<T, Error> + Sync),
) -> Batch<T> {
    let mut paths: Vec<PathBuf> = given.to_vec();
    let mut run_by: Vec<Option<RunBy>> = vec![None; paths.len()];
    let mut index_of: FxHashMap<PathBuf, usize> = FxHashMap::default();
    for (i, path) in paths.iter().enumerate() {
        if let Ok(canonical) = path.canonicalize() {
            index_of.entry(canonical).or_insert(i);
        }
    }
    let mut results: Vec<Option<Result<T, Error>>> = Vec::new();
    let mut read: Vec<Slot<(Notebook, Analysis)>> = Vec::new();
    let first = batch::run(&paths, context.jobs, context.progress, |_, path| {
        let notebook = (context.load)(path)?;
        let analysis = analyse(&notebook);
        if !analysis.runs.is_empty() {
            return Ok(First::Held(Box::new((notebook, analysis))));
        }
        let modules = (context.module_of)(path);
        let decided = decide_one(context, path, notebook, analysis, None, &modules)?;
        finish(path, &decided).map(First::Finished)
    });
    for result in first {
        let (done, held) = match result {
            Ok(First::Finished(done)) => (Some(Ok(done)), None),
            Ok(First::Held(both)) => (None, Some(*both)),
            Err(error) => (Some(Err(error)), None),
        };
        results.push(done);
        read.push(Mutex::new(held));
    }
    // Follow the `%run` lines: the notebooks they run join the batch, and those already
    // finished on their own are read again, to be decided with what runs them.
    let held = |slot: &Slot<(Notebook, Analysis)>| slot.lock().is_ok_and(|slot| slot.is_some());
    let mut queue: Vec<usize> = (0..paths.len()).filter(|&i| held(&read[i])).collect();
    let mut to_read: Vec<usize> = Vec::new();
    loop {
        while let Some(i) = queue.pop() {
            let found = with_read(&read[i], |(notebook, analysis)| {
                followed(&paths[i], notebook, analysis)
                    .into_iter()
                    .filter(|line| line.file.ends_with(".ipynb"))
                    .filter_map(|line| Some((line.found.ok()?, line.cell)))
                    .collect::<Vec<_>>()
            });
            for ((named, canonical), cell) in found.unwrap_or_default() {
                let j = *index_of.entry(canonical).or_insert_with(|| {
                    run_by.push(Some(RunBy {
                        notebook: paths[i].clone(),
                        cell,
                    }));
                    paths.push(named);
                    results.push(None);
                    read.push(Mutex::new(None));
                    paths.len() - 1
                });
                let failed = results[j].as_ref().is_some_and(Result::is_err);
                if !held(&read[j]) && !failed && !to_read.contains(&j) {
                    to_read.push(j);
                }
            }
        }
        if to_read.is_empty() {
            break;
        }
        let round: Vec<usize> = std::mem::take(&mut to_read);
        let round_paths: Vec<PathBuf> = round.iter().map(|&j| paths[j].clone()).collect();
        let loaded = batch::run(&round_paths, context.jobs, false, |_, path| {
            let notebook = (context.load)(path)?;
            let analysis = analyse(&notebook);
            Ok((notebook, analysis))
        });
        for (j, result) in round.into_iter().zip(loaded) {
            match result {
                Ok(both) => {
                    results[j] = None;
                    read[j] = Mutex::new(Some(both));
                    queue.push(j);
                }
                Err(error) => results[j] = Some(Err(error)),
            }
        }
    }
    let member: Vec<bool> = read.iter().map(held).collect();
    let mut edges: Vec<Vec<Edge>> = (0..paths.len())
        .map(|i| {
            with_read(&read[i], |(notebook, analysis)| {
                edges_of(&paths[i], notebook, analysis, &index_of)
            })
            .unwrap_or_default()
        })
        .collect();
    break_cycles(&mut edges);
    let mut runners: Vec<Option<Runners>> = (0..paths.len())
        .map(|j| runners_of(j, &paths, &edges, &read))
        .collect();
    let levels = levels(&edges);
    // A notebook run by a notebook that another runs shares its names with that one too:
    // hand each notebook's runners down to the notebooks it runs, callers first.
    let mut by_level: Vec<usize> = (0..paths.len()).collect();
    by_level.sort_by_key(|&i| std::cmp::Reverse(levels[i]));
    for i in by_level {
        let Some(inherited) = runners[i].clone() else {
            continue;
        };
        for edge in &edges[i] {
            if let Leads::Notebook(j) = edge.leads {
                let runners = runners[j].get_or_insert_with(Runners::default);
                for (name, by) in &inherited.rebound {
                    runners
                        .rebound
                        .entry(name.clone())
                        .or_insert_with(|| by.clone());
                }
                if runners.any.is_none() {
                    runners.any.clone_from(&inherited.any);
                }
                if runners.first.is_none() {
                    runners.first.clone_from(&inherited.first);
                }
            }
        }
    }
    let modules: Vec<Option<ModuleTarget>> = (0..paths.len())
        .map(|i| member[i].then(|| (context.module_of)(&paths[i])))
        .collect();
    // Kept until the end: notebooks of a later level need the decisions of earlier ones.
    let mut decided: Vec<Option<Decided>> = (0..paths.len()).map(|_| None).collect();
    let top = levels.iter().copied().max().unwrap_or(0);
    for level in 0..=top {
        let round: Vec<usize> = (0..paths.len())
            .filter(|&i| member[i] && levels[i] == level)
            .collect();
        let round_paths: Vec<PathBuf> = round.iter().map(|&i| paths[i].clone()).collect();
        let earlier = &decided;
        let outcomes = batch::run(&round_paths, context.jobs, false, |k, path| {
            let i = round[k];
            let (notebook, analysis) = read[i]
                .lock()
                .ok()
                .and_then(|mut slot| slot.take())
                .ok_or_else(|| poisoned(path))?;
            let analysis = if edges[i].is_empty() {
                analysis
            } else {
                let effects = effects(&paths, i, &edges[i], earlier, &modules);
                analyse_with_runs(&notebook, &effects)
            };
            let module = modules[i].as_ref().ok_or_else(|| poisoned(path))?;
            let one = decide_one(
                context,
                path,
                notebook,
                analysis,
                runners[i].as_ref(),
                module,
            )?;
            let result = finish(path, &one);
            Ok((one, result))
        });
        for (i, outcome) in round.into_iter().zip(outcomes) {
            match outcome {
                Ok((one, result)) => {
                    decided[i] = Some(one);
                    results[i] = Some(result);
                }
                Err(error) => results[i] = Some(Err(error)),
            }
        }
    }
    let imports_from = edges
        .iter()
        .map(|edges| {
            let callees: BTreeSet<usize> = edges
                .iter()
                .filter_map(|edge| match edge.leads {
                    Leads::Notebook(j) => Some(j),
                    _ => None,
                })
                .collect();
            callees.into_iter().collect()
        })
        .collect();
    Batch {
        results: results
            .into_iter()
            .zip(&paths)
            .map(|(result, path)| result.unwrap_or_else(|| Err(poisoned(path))))
            .collect(),
        paths,
        run_by,
        imports_from,
    }
}

/// Decides a notebook, once its package name is checked.
fn decide_one(
    context: &Context<'_>,
    path: &Path,
    notebook: Notebook,
    analysis: Analysis,
    runners: Option<&Runners>,
    module: &ModuleTarget,
) -> Result<Decided, Error> {
    (context.check)(path, &analysis)?;
    let target = Target {
        module: &module.module,
        dotted: module.dotted.as_deref(),
        runners,
        existing: module.existing.as_ref(),
        force: module.force,
    };
    let decisions = decide(&notebook, &analysis, target);
    Ok(Decided {
        notebook,
        analysis,
        decisions,
    })
}

/// The error of a notebook whose job panicked earlier and left nothing behind.
fn poisoned(path: &Path) -> Error {
    Error::new(
        path,
        crate::error::ErrorKind::Panic("an earlier stage failed on this notebook".to_owned()),
    )
}

/// Applies `f` to a notebook held with its analysis, when it is.
fn with_read<T>(
    slot: &Slot<(Notebook, Analysis)>,
    f: impl FnOnce(&(Notebook, Analysis)) -> T,
) -> Option<T> {
    let guard = slot.lock().ok()?;
    guard.as_ref().map(f)
}

/// A `%run` line of a notebook, and the file it runs as IPython finds it: in the working
/// directory, which is the notebook's folder until a cell changes it.
struct Followed<'a> {
    at: StatementRef,
    cell: CellNumber,
    /// The path as the line writes it.
    file: &'a str,
    /// The file as the notebook names it, and its canonical path.
    found: Result<(PathBuf, PathBuf), Unfollowed>,
}

fn followed<'a>(path: &Path, notebook: &Notebook, analysis: &'a Analysis) -> Vec<Followed<'a>> {
    let folder = path.parent().unwrap_or(Path::new(""));
    let first_chdir = analysis
        .cells
        .iter()
        .enumerate()
        .find_map(|(code_cell, cell)| {
            cell.chdir.map(|statement| {
                (
                    StatementRef {
                        code_cell,
                        statement,
                    },
                    cell.index.number(),
                )
            })
        });
    analysis
        .runs
        .iter()
        .map(|line| {
            let (file, found) = match &line.target {
                RunTarget::Unfollowed(why) => ("", Err(why.clone())),
                RunTarget::File(file) => (
                    file.as_str(),
                    match first_chdir.filter(|(at, _)| *at < line.at) {
                        Some((_, cell)) => Err(Unfollowed::AfterChdir(cell)),
                        None if let Some(cell) = named_before(notebook, analysis, line, file) => {
                            Err(Unfollowed::NamedBefore(cell))
                        }
                        None => {
                            let named = normalize(&folder.join(file));
                            match named.canonicalize() {
                                Ok(canonical) => Ok((named, canonical)),
                                Err(_) => Err(Unfollowed::Missing(file.clone())),
                            }
                        }
                    },
                ),
            };
            Followed {
                at: line.at,
                cell: line.cell.number(),
                file,
                found,
            }
        })
        .collect()
}

/// The first code cell before the `%run` line's that names its file (`%%writefile tools.py`,
/// `open('tools.py', 'w')`, `!cp other.ipynb helpers.ipynb`): it may write the file, so
/// what runs need not be what is on disk now.
fn named_before(
    notebook: &Notebook,
    analysis: &Analysis,
    line: &RunLine,
    file: &str,
) -> Option<CellNumber> {
    let name = Path::new(file).file_name()?.to_str()?;
    analysis
        .cells
        .iter()
        .take_while(|cell| cell.index < line.cell)
        .find(|cell| notebook.cells()[cell.index.0].source.contains(name))
        .map(|cell| cell.index.number())
}

/// Where each `%run` line of a notebook leads.
fn edges_of(
    path: &Path,
    notebook: &Notebook,
    analysis: &Analysis,
    index_of: &FxHashMap<PathBuf, usize>,
) -> Vec<Edge> {
    followed(path, notebook, analysis)
        .into_iter()
        .map(|line| {
            let leads = match line.found {
                Err(why) => Leads::Unknown(why),
                Ok((_, canonical)) if line.file.ends_with(".py") => Leads::Python(canonical),
                Ok((_, canonical)) => match index_of.get(&canonical) {
                    Some(&j) => Leads::Notebook(j),
                    None => Leads::Unknown(Unfollowed::Unreadable(line.file.to_owned())),
                },
            };
            Edge {
                at: line.at,
                cell: line.cell,
                file: line.file.to_owned(),
                leads,
            }
        })
        .collect()
}

/// Turns every `%run` line that closes a cycle of notebooks into one that binds unknown
/// names, so that the rest can be decided callees first.
fn break_cycles(edges: &mut [Vec<Edge>]) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    fn visit(node: usize, edges: &mut [Vec<Edge>], state: &mut [State]) {
        state[node] = State::Open;
        for k in 0..edges[node].len() {
            let Leads::Notebook(next) = edges[node][k].leads else {
                continue;
            };
            match state[next] {
                State::Open => {
                    let file = edges[node][k].file.clone();
                    edges[node][k].leads = Leads::Unknown(Unfollowed::Cycle(file));
                }
                State::New => visit(next, edges, state),
                State::Done => {}
            }
        }
        state[node] = State::Done;
    }
    let mut state = vec![State::New; edges.len()];
    for node in 0..edges.len() {
        if state[node] == State::New {
            visit(node, edges, &mut state);
        }
    }
}

/// Each notebook's level: 0 when it runs no notebook, else one more than the highest level
/// of the notebooks it runs. Notebooks of a level can be decided together.
fn levels(edges: &[Vec<Edge>]) -> Vec<usize> {
    fn level(node: usize, edges: &[Vec<Edge>], memo: &mut [Option<usize>]) -> usize {
        if let Some(known) = memo[node] {
            return known;
        }
        let mut own = 0;
        for edge in &edges[node] {
            if let Leads::Notebook(next) = edge.leads {
                own = own.max(level(next, edges, memo) + 1);
            }
        }
        memo[node] = Some(own);
        own
    }
    let mut memo = vec![None; edges.len()];
    (0..edges.len())
        .map(|node| level(node, edges, &mut memo))
        .collect()
}

/// What the notebooks that run notebook `j` bind, after running it, in the namespace they
/// share with it; `None` when no notebook of the batch runs it.
fn runners_of(
    j: usize,
    paths: &[PathBuf],
    edges: &[Vec<Edge>],
    read: &[Slot<(Notebook, Analysis)>],
) -> Option<Runners> {
    let mut runners: Option<Runners> = None;
    for (i, caller_edges) in edges.iter().enumerate() {
        let Some(first) = caller_edges
            .iter()
            .find(|edge| matches!(edge.leads, Leads::Notebook(k) if k == j))
        else {
            continue;
        };
        let runners = runners.get_or_insert_with(Runners::default);
        let caller = paths[i].display().to_string();
        runners.first.get_or_insert((caller.clone(), first.cell));
        let run_lines: Vec<StatementRef> = caller_edges.iter().map(|edge| edge.at).collect();
        // Running it again, or another file nbhoist cannot follow, may bind anything; a
        // Python file run later binds its names.
        for later in caller_edges.iter().filter(|edge| edge.at > first.at) {
            let bound = match &later.leads {
                Leads::Python(file) => match std::fs::read_to_string(file)
                    .map(|source| python_file_effect(&source, &later.file))
                {
                    Ok(RunEffect::Binds(bindings)) => Some(bindings),
                    _ => None,
                },
                _ => None,
            };
            match bound {
                Some(bindings) => {
                    for (name, _) in bindings {
                        runners
                            .rebound
                            .entry(name)
                            .or_insert_with(|| (caller.clone(), later.cell));
                    }
                }
                None => {
                    runners.any.get_or_insert((caller.clone(), later.cell));
                }
            }
        }
        with_read(&read[i], |(_, analysis)| {
            with_read(&read[j], |(_, callee)| {
                let names = &analysis.names;
                let after = |at: &StatementRef| *at > first.at;
                if let Some(at) = names
                    .dynamic_bindings
                    .iter()
                    .chain(&names.star_imports)
                    .find(|at| after(at) && !run_lines.contains(at))
                {
                    let cell = analysis.cells[at.code_cell].index.number();
                    runners.any.get_or_insert((caller.clone(), cell));
                }
                for name in names.names() {
                    for site in names.sites(name) {
                        // A function that declares `global` binds the name when it is called,
                        // which may be after the `%run` wherever it is defined.
                        let global = site.kind == SiteKind::Other(BindingKind::Global);
                        if !(after(&site.at) || global) || run_lines.contains(&site.at) {
                            continue;
                        }
                        // The same import again binds the same object.
                        let same_import = matches!(&site.kind, SiteKind::Import(key)
                            if callee.names.sites(name).iter().all(|other| other.kind == SiteKind::Import(key.clone())));
                        if !same_import {
                            runners
                                .rebound
                                .entry(name.to_owned())
                                .or_insert_with(|| (caller.clone(), site.cell.number()));
                        }
                    }
                }
            })
        });
    }
    runners
}

/// What each `%run` line of notebook `i` binds, from the decisions about the notebooks it
/// runs and the Python files it runs.
fn effects(
    paths: &[PathBuf],
    i: usize,
    edges: &[Edge],
    done: &[Option<Decided>],
    modules: &[Option<ModuleTarget>],
) -> RunEffects {
    let folder = |path: &Path| {
        let folder = path.parent().unwrap_or(Path::new(""));
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        folder.canonicalize().ok()
    };
    edges
        .iter()
        .map(|edge| {
            let effect = match &edge.leads {
                Leads::Unknown(why) => RunEffect::Unknown(why.clone()),
                Leads::Python(canonical) => match std::fs::read_to_string(canonical) {
                    Ok(source) => python_file_effect(&source, &edge.file),
                    Err(_) => RunEffect::Unknown(Unfollowed::Unreadable(edge.file.clone())),
                },
                Leads::Notebook(j) => match (&done[*j], &modules[*j]) {
                    (Some(decided), Some(target)) => notebook_effect(
                        &decided.notebook,
                        &decided.analysis,
                        &decided.decisions,
                        &edge.file,
                        target.dotted.as_deref().unwrap_or(&target.module),
                        folder(&paths[i]) != folder(&paths[*j]),
                    ),
                    _ => RunEffect::Unknown(Unfollowed::Unreadable(edge.file.clone())),
                },
            };
            (edge.at, effect)
        })
        .collect()
}
