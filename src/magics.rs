//! IPython cell magics: deciding, before any parsing, what a code cell's text is.
//!
//! A cell whose first non-blank line starts with `%%` is not ordinary notebook code. `%%writefile`
//! bodies are file contents, `%%time`-like bodies are Python, and every other cell magic (`%%bash`,
//! `%%html`, ...) is opaque. This module only classifies text; it never parses Python.

/// What the first line of a code cell says about the rest of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CellMagic {
    /// `%%time`, `%%capture`: the body is Python that runs at notebook level.
    Runs {
        /// The magic's name.
        name: String,
        /// The notebook variable it assigns (`%%capture out` binds `out`).
        binds: Option<String>,
    },
    /// `%%timeit`: the body is Python, but it runs in a scope of its own, so it binds no
    /// notebook names.
    Isolated {
        /// The magic's name.
        name: String,
    },
    /// `%%writefile` / `%%file`: the body is the content of a file.
    WriteFile(WriteFile),
    /// Any other cell magic: the body is not Python (`%%bash`, `%%html`, `%%R`, ...).
    Opaque {
        /// The magic's name.
        name: String,
    },
}

impl CellMagic {
    /// The magic's name without `%%` (`time`, `writefile`, `bash`, ...).
    pub fn name(&self) -> &str {
        match self {
            CellMagic::Runs { name, .. }
            | CellMagic::Isolated { name }
            | CellMagic::Opaque { name } => name,
            CellMagic::WriteFile(write) => &write.magic,
        }
    }
}

/// A `%%writefile [-a] TARGET` cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteFile {
    /// `writefile` or its alias `file`.
    pub magic: String,
    /// The target as written, quotes removed (may contain `$var` or `{expr}`).
    pub target: String,
    /// `-a` / `--append` was given.
    pub append: bool,
    /// Byte offset in the cell source where the file content starts.
    pub body_start: usize,
}

/// Classifies a code cell by its first non-blank line; `None` for ordinary code.
pub fn cell_magic(source: &str) -> Option<CellMagic> {
    let start = source.len() - source.trim_start().len();
    let rest = &source[start..];
    let magic_line = rest.strip_prefix("%%")?;
    let line_end = magic_line.find('\n').map_or(magic_line.len(), |i| i + 1);
    let line = magic_line[..line_end].trim_end();
    let (name, args) = line
        .split_once(char::is_whitespace)
        .map_or((line, ""), |(name, args)| (name, args.trim()));
    let name = name.to_owned();
    Some(match name.as_str() {
        "time" => CellMagic::Runs { name, binds: None },
        "capture" => {
            // `%%capture [--no-stdout] [--no-stderr] [--no-display] [output]`
            let binds = split_args(args)
                .into_iter()
                .find(|word| !word.starts_with('-'));
            CellMagic::Runs { name, binds }
        }
        "timeit" => CellMagic::Isolated { name },
        "writefile" | "file" => {
            let mut append = false;
            let mut target = Vec::new();
            for word in split_args(args) {
                match word.as_str() {
                    "-a" | "--append" if target.is_empty() => append = true,
                    _ => target.push(word),
                }
            }
            CellMagic::WriteFile(WriteFile {
                magic: name,
                target: target.join(" "),
                append,
                body_start: start + 2 + line_end,
            })
        }
        _ => CellMagic::Opaque { name },
    })
}

/// IPython's line magics: IPython 9's own, ipykernel's, and those of the extensions it loads
/// by default or that notebooks load (`autoreload`, `storemagic`).
const LINE_MAGICS: &[&str] = &[
    "aimport",
    "alias",
    "alias_magic",
    "autoawait",
    "autocall",
    "automagic",
    "autoreload",
    "autosave",
    "bookmark",
    "cat",
    "cd",
    "clear",
    "code_wrap",
    "colors",
    "conda",
    "config",
    "connect_info",
    "cp",
    "debug",
    "dhist",
    "dirs",
    "doctest_mode",
    "ed",
    "edit",
    "env",
    "gui",
    "hist",
    "history",
    "killbgscripts",
    "ldir",
    "less",
    "lf",
    "lk",
    "ll",
    "load",
    "load_ext",
    "loadpy",
    "logoff",
    "logon",
    "logstart",
    "logstate",
    "logstop",
    "ls",
    "lsmagic",
    "lx",
    "macro",
    "magic",
    "mamba",
    "man",
    "matplotlib",
    "micromamba",
    "mkdir",
    "more",
    "mv",
    "notebook",
    "page",
    "pastebin",
    "pdb",
    "pdef",
    "pdoc",
    "pfile",
    "pinfo",
    "pinfo2",
    "pip",
    "popd",
    "pprint",
    "precision",
    "prun",
    "psearch",
    "psource",
    "pushd",
    "pwd",
    "pycat",
    "pylab",
    "qtconsole",
    "quickref",
    "recall",
    "rehashx",
    "reload_ext",
    "rep",
    "rerun",
    "reset",
    "reset_selective",
    "rm",
    "rmdir",
    "run",
    "save",
    "sc",
    "set_env",
    "store",
    "sx",
    "system",
    "tb",
    "time",
    "timeit",
    "unalias",
    "unload_ext",
    "uv",
    "who",
    "who_ls",
    "whos",
    "xdel",
    "xmode",
];

/// The line magic IPython runs instead of a cell by automagic: a cell of one line whose first
/// word names a line magic (`pip install x`, `cd data`, `run(f)`) runs as that magic (`%pip
/// install x`), unless the word is a defined name or the line assigns to it. IPython applies
/// this to single-line cells only. Returns the magic's name and the rest of the line; whether
/// the word is defined is the caller's to check.
pub(crate) fn automagic(source: &str) -> Option<(&str, &str)> {
    let line = source.trim();
    if line.contains('\n') {
        return None;
    }
    let end = line
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    // `pip.main(...)` is an attribute; `run = 3` and `run, x = ...` assign.
    let assigns = rest.trim_start().starts_with(['=', ',']);
    let magic = LINE_MAGICS.binary_search(&name).is_ok();
    (magic && !rest.starts_with(['.', '*', '?', '-']) && !assigns).then(|| (name, rest.trim()))
}

/// Splits magic arguments the way IPython's `shlex`-based parsing does for the simple cases:
/// whitespace separates words, and single or double quotes group them.
pub(crate) fn split_args(args: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in args.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The text IPython actually runs for a cell, when its input transformations change it: a
/// cell whose first line is indented is dedented, and code pasted from a console loses its
/// prompts (`>>> ` / `... `, also indented as in doctests, or `In [1]: ` / `   ...: `).
/// `None` when the cell runs as written.
pub fn ipython_cleanup(source: &str) -> Option<String> {
    let body = source.trim_start_matches(['\n', '\r']);
    let first = body.lines().next()?;
    let mut text = None;
    let indent = &first[..first.len() - first.trim_start_matches([' ', '\t']).len()];
    if !indent.is_empty() && !first.trim().is_empty() {
        text = Some(
            body.split_inclusive('\n')
                .map(|line| line.strip_prefix(indent).unwrap_or(line))
                .collect::<String>(),
        );
    }
    let current = text.as_deref().unwrap_or(body);
    if let Some(stripped) = strip_doctest_prompts(current) {
        text = Some(stripped);
    } else if current.starts_with("In [")
        && current.lines().next().is_some_and(|l| l.contains("]:"))
    {
        text = Some(strip_ipython_prompts(current));
    }
    text
}

/// IPython's doctest prompt stripping: when a line outside triple-quoted strings starts with
/// `>>>` (after any indentation), `>>> ` and `... ` prompts are removed from every line outside
/// such strings, and the stripped stretches are dedented.
fn strip_doctest_prompts(text: &str) -> Option<String> {
    // Every cell comes through here and almost none has a prompt: skip the line-by-line scan.
    if !contains_chevrons(text) {
        return None;
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // Whether each line starts inside a triple-quoted string (a heuristic, as IPython's is).
    let mut in_string: Option<&str> = None;
    let mut masked = Vec::with_capacity(lines.len());
    for line in &lines {
        masked.push(in_string.is_some());
        let mut rest = *line;
        while let Some(at) = rest
            .find(r#"""""#)
            .into_iter()
            .chain(rest.find("'''"))
            .min()
        {
            let quote = &rest[at..at + 3];
            match in_string {
                None => in_string = Some(if quote == r#"""""# { r#"""""# } else { "'''" }),
                Some(open) if open == quote => in_string = None,
                Some(_) => {}
            }
            rest = &rest[at + 3..];
        }
    }
    fn prompt<'l>(line: &'l str, marker: &str) -> Option<&'l str> {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let rest = trimmed.strip_prefix(marker)?;
        Some(rest.strip_prefix([' ', '\t']).unwrap_or(rest))
    }
    let has_prompt = lines
        .iter()
        .zip(&masked)
        .any(|(line, masked)| !masked && prompt(line, ">>>").is_some());
    if !has_prompt {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut segment: Vec<String> = Vec::new();
    let mut segment_stripped = false;
    let flush = |segment: &mut Vec<String>, stripped: bool, out: &mut String| {
        if stripped {
            out.push_str(&dedent(segment));
        } else {
            segment.iter().for_each(|line| out.push_str(line));
        }
        segment.clear();
    };
    let mut previous_masked = None;
    for (line, &masked) in lines.iter().zip(&masked) {
        if previous_masked.is_some_and(|m| m != masked) {
            flush(&mut segment, segment_stripped, &mut out);
            segment_stripped = false;
        }
        previous_masked = Some(masked);
        let new = if masked {
            None
        } else {
            prompt(line, ">>>").or_else(|| prompt(line, "..."))
        };
        segment_stripped |= new.is_some();
        segment.push(new.unwrap_or(line).to_owned());
    }
    flush(&mut segment, segment_stripped, &mut out);
    Some(out)
}

/// Whether `text` contains `>>>`. `str::contains` has no fast search for a needle of one
/// repeated byte; looking for each `>` has (`>` is rare in code).
fn contains_chevrons(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find('>') {
        if rest[at..].starts_with(">>>") {
            return true;
        }
        rest = &rest[at + 1..];
    }
    false
}

/// Removes the indentation all non-blank lines share, as Python's `textwrap.dedent` does.
fn dedent(lines: &[String]) -> String {
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|line| {
            if line.trim().is_empty() {
                line.trim_start_matches([' ', '\t'])
            } else {
                &line[indent..]
            }
        })
        .collect()
}

fn strip_ipython_prompts(body: &str) -> String {
    body.split_inclusive('\n')
        .map(|line| {
            let trimmed = line.trim_start();
            let prompt_end = if trimmed.starts_with("In [") {
                trimmed.find("]: ").map(|i| i + 3)
            } else if trimmed.starts_with("...: ") {
                Some(5)
            } else {
                None
            };
            prompt_end.map_or(line, |end| &trimmed[end..])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleanup_dedents_and_strips_prompts() {
        assert_eq!(ipython_cleanup("x = 1\n  y"), None);
        assert_eq!(
            ipython_cleanup(" x = 1\n if x:\n     y()").as_deref(),
            Some("x = 1\nif x:\n    y()")
        );
        assert_eq!(
            ipython_cleanup(">>> def f():\n...     return 1\n>>>\n>>> f()\n1").as_deref(),
            Some("def f():\n    return 1\n\nf()\n1")
        );
        assert_eq!(
            ipython_cleanup(">>> import os\n\n >>> x = 1").as_deref(),
            Some("import os\n\nx = 1")
        );
        let docstring = "def f():\n    \"\"\"\n    >>> f()\n    1\n    \"\"\"\n    return 1\n";
        assert_eq!(ipython_cleanup(docstring), None);
        assert_eq!(
            ipython_cleanup("In [1]: x = 2\n   ...: y = 3").as_deref(),
            Some("x = 2\ny = 3")
        );
    }

    #[test]
    fn chevrons_are_found_anywhere() {
        assert!(contains_chevrons(">>> x") && contains_chevrons("a >> b >>>"));
        assert!(!contains_chevrons("a >> b > c") && !contains_chevrons("->>"));
    }

    #[test]
    fn line_magics_are_sorted() {
        assert!(LINE_MAGICS.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn single_line_cells_can_be_automagic() {
        assert_eq!(
            automagic("pip install diffusers torch\n"),
            Some(("pip", "install diffusers torch"))
        );
        assert_eq!(automagic("run(f)"), Some(("run", "(f)")));
        assert_eq!(automagic("cd .."), Some(("cd", "..")));
        assert_eq!(automagic("run = 3"), None);
        assert_eq!(automagic("pip.main(['install', 'x'])"), None);
        assert_eq!(automagic("pip install x\nimport x"), None);
        assert_eq!(automagic("print(1)"), None);
        assert_eq!(automagic("pwd"), Some(("pwd", "")));
        assert_eq!(automagic("time.sleep(1)"), None);
    }

    #[test]
    fn ordinary_code_has_no_magic() {
        assert_eq!(cell_magic("x = 1\n%%time\n"), None);
        assert_eq!(cell_magic("%time x = 1"), None);
        assert_eq!(cell_magic(""), None);
    }

    #[test]
    fn classifies_by_name() {
        let name = |s: &str| cell_magic(s).map(|m| m.name().to_owned());
        assert_eq!(
            cell_magic("%%time\nx = 1"),
            Some(CellMagic::Runs {
                name: "time".into(),
                binds: None
            })
        );
        assert_eq!(
            cell_magic("\n  %%capture out\nx = 1"),
            Some(CellMagic::Runs {
                name: "capture".into(),
                binds: Some("out".into())
            })
        );
        assert_eq!(
            cell_magic("%%timeit -n 3\nf()"),
            Some(CellMagic::Isolated {
                name: "timeit".into()
            })
        );
        assert_eq!(
            cell_magic("%%bash\nls"),
            Some(CellMagic::Opaque {
                name: "bash".into()
            })
        );
        assert_eq!(name("%%html"), Some("html".into()));
    }

    #[test]
    fn writefile_target_append_and_body() {
        let src = "%%writefile -a helpers.py\ndef f():\n    pass\n";
        let Some(CellMagic::WriteFile(write)) = cell_magic(src) else {
            panic!("not a writefile cell");
        };
        assert_eq!(write.target, "helpers.py");
        assert!(write.append);
        assert_eq!(&src[write.body_start..], "def f():\n    pass\n");

        let src = "%%file \"my dir/x.py\"";
        let Some(CellMagic::WriteFile(write)) = cell_magic(src) else {
            panic!("not a writefile cell");
        };
        assert_eq!(write.target, "my dir/x.py");
        assert!(!write.append);
        assert_eq!(&src[write.body_start..], "");
    }

    #[test]
    fn writefile_keeps_variable_paths_verbatim() {
        let Some(CellMagic::WriteFile(write)) = cell_magic("%%writefile $folder/train.py\n") else {
            panic!("not a writefile cell");
        };
        assert_eq!(write.target, "$folder/train.py");
    }
}
