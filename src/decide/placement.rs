//! Where the import cell goes, and the definitions that must stay because it cannot go early
//! enough.

use ruff_python_ast::Stmt;

use super::definitions::keep;
use super::reason::StayReason;
use super::writefile::WriteFiles;
use super::{Moving, Verdict};
use crate::analysis::{Analysis, StatementRef, statement};
use crate::magics::CellMagic;
use crate::position::CellIndex;
use crate::python::imports::is_import_block;
use crate::python::stdlib_exports::module_exports;

/// Cells that make the package's imports possible (installing packages, writing files,
/// changing `sys.path` or the working directory), and the notebook's leading setup cells.
pub(super) struct Setup {
    /// Where each enabling cell first enables: the cell and its first setup statement.
    enabling: Vec<StatementRef>,
    /// Where the import cell goes when nothing else constrains it: after the leading run of
    /// cells that only import or run magics.
    preferred: CellIndex,
}

impl Setup {
    pub(super) fn find(analysis: &Analysis, writes: &WriteFiles) -> Setup {
        let mut enabling = Vec::new();
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
            preferred: preferred.unwrap_or(first_code),
        }
    }

    /// Where the import cell goes: `Ok(None)` when nothing moves; `Err(cell)` when a cell
    /// that enables the module's imports comes at or after the first cell code is cut from,
    /// so the definitions in cells up to it must stay.
    pub(super) fn place(
        &self,
        analysis: &Analysis,
        moving: &Moving,
    ) -> Result<Option<CellIndex>, CellIndex> {
        let Some(first_cut) = moving.first_cut(analysis) else {
            return Ok(None);
        };
        // The original imports worked where they first ran; every setup before that point
        // (in an earlier cell, or earlier in the same cell) may be what made them work.
        let star_imports = moving
            .star
            .then_some(&analysis.names.star_imports)
            .into_iter()
            .flatten()
            .copied();
        let imports = moving
            .imports
            .iter()
            .map(|name| analysis.names.sites(name)[0].at)
            .chain(star_imports);
        let earliest = imports
            .filter_map(|import| self.enabling.iter().filter(|e| **e < import).max().copied())
            .max()
            .map_or(CellIndex(0), |enabling| {
                CellIndex(analysis.cells[enabling.code_cell].index.0 + 1)
            });
        if earliest > first_cut {
            return Err(CellIndex(earliest.0 - 1));
        }
        Ok(Some(self.preferred.min(first_cut).max(earliest)))
    }
}

/// Keeps every moving definition in a cell up to `blocking` (or needing a constant from
/// there), and whatever depends on them.
pub(super) fn keep_before(analysis: &Analysis, verdicts: &mut [Verdict], blocking: CellIndex) {
    for (i, definition) in analysis.definitions.iter().enumerate() {
        let Verdict::Move(needs) = &verdicts[i] else {
            continue;
        };
        let early_constant = needs.constants.iter().find_map(|constant| {
            let cell = analysis.names.sites(constant)[0].cell;
            (cell <= blocking).then(|| (constant.clone(), cell))
        });
        let setup = blocking.number();
        let reason = if definition.cell == blocking {
            StayReason::InSetupCell { cell: setup }
        } else if definition.cell < blocking {
            StayReason::SetupComesLater { cell: setup }
        } else if let Some((constant, cell)) = early_constant {
            StayReason::ConstantBeforeSetup {
                constant,
                constant_cell: cell.number(),
                setup,
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
    for &at in &analysis.names.star_imports {
        let cell = analysis.cells[at.code_cell].index;
        if cell < import_cell {
            continue;
        }
        let Stmt::ImportFrom(import) = statement(&analysis.cells, at) else {
            continue;
        };
        let module = import.module.as_ref().map_or("", |m| m.as_str());
        for item in &moving.items {
            if !star_may_bind(module, &item.name) {
                continue;
            }
            let reason = StayReason::StarMayRebind {
                cell: cell.number(),
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

/// Whether `from module import *` may bind `name`: for a standard-library module, whether it
/// exports the name in some Python version; for any other, any name but a private one
/// (`_name`), which a star import binds only when the module lists it in `__all__`, which
/// modules do not do.
fn star_may_bind(module: &str, name: &str) -> bool {
    match module_exports(module) {
        Some(exports) => exports.exports_in_any(name),
        None => !name.starts_with('_'),
    }
}
