//! The terminal: whether to colour what nbhoist prints, and the colours it uses.
//!
//! Pure: the caller reads the environment and the terminal state and passes them in.

use std::ffi::OsStr;

/// Whether to colour the output, as asked with `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always colour, even into a pipe or with `NO_COLOR` set.
    Always,
    /// Never colour.
    Never,
}

/// Whether to colour output, given the user's choice, whether the output is a terminal, and
/// whether `NO_COLOR` asks for no colour (see [`no_color_requested`]).
///
/// `NO_COLOR` only changes [`ColorChoice::Auto`]: an explicit `--color always` overrides it,
/// as <https://no-color.org> asks of command-line flags.
pub fn use_color(choice: ColorChoice, is_terminal: bool, no_color_set: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && !no_color_set,
    }
}

/// Whether the value of the `NO_COLOR` environment variable asks for no colour: it does when
/// the variable is set to anything but the empty string (<https://no-color.org>).
///
/// Takes the value rather than reading the environment so that it stays pure; call it with
/// `std::env::var_os("NO_COLOR").as_deref()`.
pub fn no_color_requested(value: Option<&OsStr>) -> bool {
    value.is_some_and(|value| !value.is_empty())
}

/// The colours nbhoist uses: git's defaults for `diff --color`, and two for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paint {
    /// `--- a` and `+++ b` (bold).
    FileHeader,
    /// `@@ -1,3 +1,4 @@` (cyan).
    HunkHeader,
    /// A line starting with `-` (red).
    Removed,
    /// A line starting with `+`, or what moves (green).
    Added,
    /// What stays (yellow).
    Stays,
    /// Secondary text, such as hints (dim).
    Dim,
}

impl Paint {
    /// The ANSI escape sequence that starts this colour.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Paint::FileHeader => "\x1b[1m",
            Paint::HunkHeader => "\x1b[36m",
            Paint::Removed => "\x1b[31m",
            Paint::Added => "\x1b[32m",
            Paint::Stays => "\x1b[33m",
            Paint::Dim => "\x1b[2m",
        }
    }

    /// `text` in this colour when `enabled`, as it is otherwise.
    pub fn paint(self, text: &str, enabled: bool) -> String {
        if enabled && !text.is_empty() {
            format!("{}{text}{RESET}", self.code())
        } else {
            text.to_owned()
        }
    }
}

/// Ends any colour.
pub(crate) const RESET: &str = "\x1b[0m";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_choice() {
        use ColorChoice::{Always, Auto, Never};
        // (choice, terminal, NO_COLOR) → colour
        let table = [
            (Auto, true, false, true),
            (Auto, true, true, false),
            (Auto, false, false, false),
            (Auto, false, true, false),
            (Always, false, true, true),
            (Always, true, false, true),
            (Never, true, false, false),
            (Never, false, false, false),
        ];
        for (choice, terminal, no_color, expected) in table {
            assert_eq!(
                use_color(choice, terminal, no_color),
                expected,
                "{choice:?} {terminal} {no_color}"
            );
        }
        assert_eq!(ColorChoice::default(), Auto);
    }

    #[test]
    fn no_color_must_be_set_and_not_empty() {
        assert!(!no_color_requested(None));
        assert!(!no_color_requested(Some(OsStr::new(""))));
        assert!(no_color_requested(Some(OsStr::new("1"))));
        assert!(no_color_requested(Some(OsStr::new("0"))));
    }
}
