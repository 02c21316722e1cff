//! The cell parser, the analysis and the decisions on arbitrary Python-ish text: no panic.
//! Time linear in the input is checked by libFuzzer's `-timeout` over inputs up to
//! `-max_len` (scripts/fuzz sets both).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        nbhoist::fuzzing::decide_cell(text);
    }
});
