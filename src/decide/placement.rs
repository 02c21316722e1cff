//! Where the import cell goes, and the definitions that must stay because it cannot go early
//! enough.

use ruff_python_ast::Stmt;

use super::definitions::keep;
use super::execution::Execution;
use super::reason::StayReason;
use super::writefile::WriteFiles;
use super::{Moving, Verdict};
use crate::analysis::{Analysis, Bound, StarBinding, StatementRef};
use crate::emit::PYTHON_MINOR;
use crate::magics::CellMagic;
use crate::position::CellIndex;
use crate::python::imports::{Reach, for_each_import, is_import_block};
use ruff_python_stdlib::sys::is_known_standard_library;

/// Cells that make the package's imports possible (installing packages, writing files,
/// changing `sys.path`), cells that change the working directory, cells that read IPython's
/// numbered history, and the notebook's leading setup cells.
pub(super) struct Setup {
    /// Where each enabling cell first enables: the cell and its first setup statement.
    enabling: Vec<StatementRef>,
    /// The first statement that changes the working directory: the package, found next to
    /// the notebook through `''` on `sys.path`, must be imported before it.
    chdir: Option<StatementRef>,
    /// The last cell that reads IPython's numbered history (`Out[3]`, `_i3`): inserting or
    /// removing a cell before it would renumber what it reads.
    history: Option<CellIndex>,
    /// Where the import cell goes when nothing else constrains it: after the leading run of
    /// cells that only import or run magics.
    preferred: CellIndex,
}

/// Why the import cell cannot go where it must, and what has to stay for it.
#[derive(Clone, Debug)]
pub(super) enum Blocked {
    /// Setup in this cell must run before the package's imports, which the first cut code
    /// comes before: what is cut up to it stays.
    Setup(CellIndex),
    /// This cell reads IPython's numbered history: what is cut up to it stays.
    History(CellIndex),
    /// The import cell must come before the working directory changes in cell `chdir`, and
    /// after cell `history` reads numbered history: everything stays.
    HistoryAfterChdir {
        /// The cell reading numbered history.
        history: CellIndex,
        /// The cell changing the working directory.
        chdir: CellIndex,
    },
    /// The module needs an import that only works after the working directory changes in
    /// this cell, when the package no longer can be found: what needs it stays.
    Chdir {
        /// The name the import binds (or `*`).
        import: String,
        /// The cell that changes the working directory.
        cell: CellIndex,
    },
}

impl Setup {
    /// The last cell before `position` that sets up what the package's imports need.
    pub(super) fn last_enabling_before(
        &self,
        analysis: &Analysis,
        position: CellIndex,
    ) -> Option<CellIndex> {
        self.enabling
            .iter()
            .map(|at| analysis.cells[at.code_cell].index)
            .filter(|cell| *cell < position)
            .max()
    }

    /// Keeps a last version that would be imported where it stands after the working
    /// directory changes: the import cell may import nothing, and then that import is the
    /// first to look for the package. Returns whether it kept any.
    pub(super) fn keep_in_place_after_chdir(
        &self,
        analysis: &Analysis,
        verdicts: &mut [Verdict],
        moving: &Moving,
    ) -> bool {
        let Some(chdir) = self.chdir else {
            return false;
        };
        let reason = StayReason::InPlaceAfterChdir {
            cell: analysis.cells[chdir.code_cell].index.number(),
        };
        let mut kept = false;
        for (at, _) in moving.in_place.iter().filter(|(at, _)| *at > chdir) {
            if let Some(i) = analysis.definitions.iter().position(|d| d.at == *at) {
                keep(analysis, verdicts, i, reason.clone());
                kept = true;
            }
        }
        kept
    }

    pub(super) fn find(analysis: &Analysis, writes: &WriteFiles, execution: &Execution) -> Setup {
        let mut enabling = Vec::new();
        let mut chdir = None;
        let mut history = None;
        for (code_cell, cell) in analysis.cells.iter().enumerate() {
            // A `%%writefile` cell that moves no longer writes anything: its module is in the
            // package.
            let writes_file =
                matches!(cell.magic, Some(CellMagic::WriteFile(_))) && !writes.moves(cell.index);
            let statement = if writes_file { Some(0) } else { cell.setup };
            if let Some(statement) = statement {
                enabling.push(StatementRef {
                    code_cell,
                    statement,
                });
            }
            if chdir.is_none()
                && let Some(statement) = cell.chdir
            {
                chdir = Some(StatementRef {
                    code_cell,
                    statement,
                });
            }
        }
        for (at, run) in execution.runs() {
            if run.reads_history {
                history = Some(analysis.cells[at.code_cell].index);
            }
        }
        let mut preferred = None;
        for cell in &analysis.cells {
            let is_setup = cell.magic.is_none()
                && !cell.has_syntax_error
                && cell.notebook_statements().iter().all(|stmt| {
                    matches!(
                        stmt,
                        Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::IpyEscapeCommand(_)
                    ) || is_import_block(stmt)
                });
            if !is_setup {
                break;
            }
            preferred = Some(CellIndex(cell.index.0 + 1));
        }
        let first_code = analysis.cells.first().map_or(CellIndex(0), |c| c.index);
        Setup {
            enabling,
            chdir,
            history,
            preferred: preferred.unwrap_or(first_code),
        }
    }

    /// Where the import cell goes (`Ok(None)` when nothing moves): after every setup that
    /// the module's imports may need, after the last read of numbered history, before the
    /// first cell code is cut from and before the working directory changes.
    pub(super) fn place(
        &self,
        analysis: &Analysis,
        moving: &Moving,
    ) -> Result<Option<CellIndex>, Blocked> {
        let Some(first_cut) = moving.first_cut(analysis) else {
            return Ok(None);
        };
        let cell_of = |at: StatementRef| analysis.cells[at.code_cell].index;
        if let Some(history) = self.history
            && first_cut <= history
        {
            return Err(Blocked::History(history));
        }
        // The original imports worked where they first ran; every setup before that point
        // (in an earlier cell, or earlier in the same cell) may be what made them work.
        let imports = Self::needed_imports(analysis, moving);
        if let Some(chdir) = self.chdir
            && let Some((import, _)) = imports
                .iter()
                .find(|(name, at)| *at > chdir && !self.found_anywhere(analysis, name))
        {
            return Err(Blocked::Chdir {
                import: import.clone(),
                cell: cell_of(chdir),
            });
        }
        let earliest = self.earliest(analysis, &imports);
        if earliest > first_cut {
            return Err(Blocked::Setup(CellIndex(earliest.0 - 1)));
        }
        let latest = self
            .chdir
            .map_or(first_cut, |chdir| first_cut.min(cell_of(chdir)));
        if earliest > latest {
            // The setup and the change of directory are in the same cell.
            let import = imports
                .first()
                .map(|(name, _)| name.clone())
                .unwrap_or_default();
            return Err(Blocked::Chdir {
                import,
                cell: latest,
            });
        }
        let after_history = self.history.map_or(CellIndex(0), |h| CellIndex(h.0 + 1));
        if let Some(history) = self.history
            && after_history > latest
        {
            // Before the change of directory, yet after the history read: nowhere.
            return Err(Blocked::HistoryAfterChdir {
                history,
                chdir: latest,
            });
        }
        Ok(Some(
            self.preferred.min(latest).max(earliest).max(after_history),
        ))
    }
}

impl Setup {
    /// The first cell where the module's imports all work: after the last setup that runs
    /// before any of them in the notebook.
    fn earliest(&self, analysis: &Analysis, imports: &[(String, StatementRef)]) -> CellIndex {
        imports
            .iter()
            .filter_map(|(_, import)| self.enabling.iter().filter(|e| *e < import).max())
            .max()
            .map_or(CellIndex(0), |enabling| {
                CellIndex(analysis.cells[enabling.code_cell].index.0 + 1)
            })
    }

    /// The imports the moving code needs, each with where the notebook first makes it.
    fn needed_imports(analysis: &Analysis, moving: &Moving) -> Vec<(String, StatementRef)> {
        let star_imports = moving.star.values().map(|at| ("*".to_owned(), *at));
        moving
            .imports
            .iter()
            .map(|name| (name.clone(), analysis.names.sites(name)[0].at))
            .chain(star_imports)
            .collect()
    }

    /// The setup cell after `cell` that the moving code's imports need, if any: a module
    /// imported at `cell` would run them before it.
    pub(super) fn needed_after(
        &self,
        analysis: &Analysis,
        moving: &Moving,
        cell: CellIndex,
    ) -> Option<CellIndex> {
        let earliest = self.earliest(analysis, &Self::needed_imports(analysis, moving));
        (earliest > cell).then(|| CellIndex(earliest.0 - 1))
    }

    /// Whether the module an import after the working directory changes comes from is found
    /// wherever the notebook runs: a standard-library module, or one imported before the
    /// change (a package's submodules are found through the package).
    fn found_anywhere(&self, analysis: &Analysis, name: &str) -> bool {
        let Some(origin) = analysis.names.origin(name) else {
            return false;
        };
        let top = origin.split('.').next().unwrap_or_default();
        if is_known_standard_library(PYTHON_MINOR, top) {
            return true;
        }
        let Some(chdir) = self.chdir else {
            return true;
        };
        analysis.cells.iter().enumerate().any(|(code_cell, cell)| {
            let mut before = false;
            for (statement, stmt) in cell.notebook_statements().iter().enumerate() {
                let at = StatementRef {
                    code_cell,
                    statement,
                };
                if at >= chdir {
                    break;
                }
                for_each_import(std::slice::from_ref(stmt), Reach::Blocks, &mut |import| {
                    before |= import
                        .modules()
                        .iter()
                        .any(|module| module.split('.').next() == Some(top));
                });
            }
            before
        })
    }
}

/// Keeps what the import cell's placement cannot allow to move, and whatever depends on it.
pub(super) fn keep_blocked(analysis: &Analysis, verdicts: &mut [Verdict], blocked: &Blocked) {
    match blocked {
        Blocked::Setup(cell) => keep_before(analysis, verdicts, *cell, false),
        Blocked::History(cell) => keep_before(analysis, verdicts, *cell, true),
        Blocked::HistoryAfterChdir { history, chdir } => {
            let reason = StayReason::HistoryAfterChdir {
                history: history.number(),
                chdir: chdir.number(),
            };
            for i in 0..analysis.definitions.len() {
                if verdicts[i].is_move() {
                    keep(analysis, verdicts, i, reason.clone());
                }
            }
        }
        Blocked::Chdir { import, cell } => {
            let reason = StayReason::ImportAfterChdir {
                name: import.clone(),
                cell: cell.number(),
            };
            for i in 0..analysis.definitions.len() {
                let needs_it = match &verdicts[i] {
                    Verdict::Move(needs) if import == "*" => !needs.star.is_empty(),
                    Verdict::Move(needs) => needs.imports.contains(import),
                    Verdict::Stay(_) => false,
                };
                if needs_it {
                    keep(analysis, verdicts, i, reason.clone());
                }
            }
        }
    }
}

/// Keeps every moving definition in a cell up to `blocking` (or needing a constant from
/// there), and whatever depends on them. `history`: `blocking` reads numbered history, else
/// it sets up what imports need.
fn keep_before(analysis: &Analysis, verdicts: &mut [Verdict], blocking: CellIndex, history: bool) {
    for (i, definition) in analysis.definitions.iter().enumerate() {
        let Verdict::Move(needs) = &verdicts[i] else {
            continue;
        };
        let early_constant = needs.constants.iter().find_map(|constant| {
            let cell = analysis.names.sites(constant)[0].cell;
            (cell <= blocking).then(|| (constant.clone(), cell))
        });
        let cell = blocking.number();
        let reason = if history && (definition.cell <= blocking || early_constant.is_some()) {
            StayReason::BeforeHistory { cell }
        } else if definition.cell == blocking {
            StayReason::InSetupCell { cell }
        } else if definition.cell < blocking {
            StayReason::SetupComesLater { cell }
        } else if let Some((constant, constant_cell)) = early_constant {
            StayReason::ConstantBeforeSetup {
                constant,
                constant_cell: constant_cell.number(),
                setup: cell,
            }
        } else {
            continue;
        };
        keep(analysis, verdicts, i, reason);
    }
}

/// A star import at or after the import cell may bind a moved name again: before the name's
/// own cell, the notebook would then see the star import's instead of its own; after it, code
/// in the package would keep seeing its own where the notebook's saw the star import's. The
/// definitions behind such names stay. Returns whether any did.
pub(super) fn keep_star_rebound(
    analysis: &Analysis,
    verdicts: &mut [Verdict],
    moving: &Moving,
    import_cell: CellIndex,
) -> bool {
    let mut kept = false;
    let names = &analysis.names;
    let rebinders = names
        .star_imports
        .iter()
        .map(|at| (*at, true))
        .chain(names.dynamic_bindings.iter().map(|at| (*at, false)));
    for (at, star) in rebinders {
        let cell = analysis.cells[at.code_cell].index;
        if cell < import_cell {
            continue;
        }
        for item in &moving.items {
            // A private name is bound by a star import only when listed in `__all__`, which
            // modules do not do.
            let may_bind = match names.star_binding(&analysis.cells, at, &item.name) {
                _ if !star => true,
                StarBinding::Stdlib(bound) => bound != Bound::No,
                StarBinding::Unknown => !item.name.starts_with('_'),
            };
            if !may_bind {
                continue;
            }
            let unknown_run = names.unknown_runs.iter().find(|(run, _)| *run == at);
            let reason = if star {
                StayReason::StarMayRebind {
                    cell: cell.number(),
                }
            } else if let Some((_, why)) = unknown_run {
                StayReason::RunMayRebind {
                    cell: cell.number(),
                    why: why.clone(),
                }
            } else {
                StayReason::DynamicMayRebind {
                    cell: cell.number(),
                }
            };
            for (i, definition) in analysis.definitions.iter().enumerate() {
                let affected = match &verdicts[i] {
                    Verdict::Move(needs) => {
                        definition.name == item.name || needs.constants.contains(&item.name)
                    }
                    Verdict::Stay(_) => false,
                };
                if affected {
                    keep(analysis, verdicts, i, reason.clone());
                    kept = true;
                }
            }
        }
    }
    kept
}
