//! Where a malformed JSON body "breaks", counted the way Python counts.
//!
//! The 422 answer for malformed JSON carries `loc: ["body", <position>]`,
//! and front ends written against the original FastAPI service read that
//! position as CPython's `json.loads` reports it: a 0-based index in
//! characters (not bytes) of the decoded text. serde_json stops at a
//! different place in several cases (an unterminated string, a misspelt
//! `true`, a bad escape), so this module replays the grammar of CPython's
//! C scanner (`Modules/_json.c`, 3.12 and earlier) and reports the index it
//! would raise `JSONDecodeError` at.
//!
//! Where CPython versions differ, 3.12 and earlier are followed: 3.13
//! blames the comma of a trailing comma (`{"a": 1,}`), earlier versions and
//! serde_json the closing brace after it.
//!
//! The replay only locates errors; values are always parsed by serde_json.
//! For the few texts CPython accepts and serde_json refuses (`NaN`,
//! `Infinity`, lone surrogate escapes, numbers beyond `f64`, nesting deeper
//! than [`MAX_DEPTH`]), the position serde_json reports is converted to a
//! character index instead.

/// Nesting depth at which the replay gives up, the same as serde_json's
/// recursion limit, so a deeply nested body cannot exhaust the stack.
const MAX_DEPTH: usize = 128;

/// The character index of the first syntax error in `text`, as CPython
/// would report it; `error` is serde_json's verdict on the same text.
pub(crate) fn error_position(text: &str, error: &serde_json::Error) -> usize {
    python_error_position(text).unwrap_or_else(|| serde_position(text, error))
}

/// The character index at which the first invalid UTF-8 sequence starts:
/// the number of characters decoded before it.
pub(crate) fn utf8_error_position(bytes: &[u8], error: &std::str::Utf8Error) -> usize {
    char_count(&bytes[..error.valid_up_to()])
}

/// Counts the characters of a UTF-8 prefix by its lead bytes, so a prefix
/// cut inside a character still counts that character once.
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

/// serde_json reports a 1-based line and a 1-based byte column of the byte
/// it stopped at; at the end of the input CPython reports the length.
fn serde_position(text: &str, error: &serde_json::Error) -> usize {
    if error.is_eof() {
        return text.chars().count();
    }
    let line_start: usize = text
        .split_inclusive('\n')
        .take(error.line().saturating_sub(1))
        .map(str::len)
        .sum();
    let byte = (line_start + error.column().saturating_sub(1)).min(text.len());
    char_count(&text.as_bytes()[..byte])
}

/// The index CPython raises at, or `None` when the replay finds nothing
/// wrong (or nests too deep to tell).
fn python_error_position(text: &str) -> Option<usize> {
    let chars: Vec<char> = text.chars().collect();
    let scanner = Scanner { s: &chars };
    let start = scanner.skip_ws(0);
    match scanner.value(start, 0) {
        Err(Stop::At(position)) => Some(position),
        Err(Stop::TooDeep) => None,
        Ok(end) => {
            // `json.loads` raises "Extra data" at the first non-blank
            // character after the top-level value.
            let end = scanner.skip_ws(end);
            (end != chars.len()).then_some(end)
        }
    }
}

enum Stop {
    At(usize),
    TooDeep,
}

/// `Ok` holds the index just past what was scanned.
type Scan = Result<usize, Stop>;

struct Scanner<'a> {
    s: &'a [char],
}

impl Scanner<'_> {
    fn at(&self, index: usize) -> Option<char> {
        self.s.get(index).copied()
    }

    /// JSON white space only: Python's `str.isspace` is not used here.
    fn skip_ws(&self, mut index: usize) -> usize {
        while matches!(self.at(index), Some(' ' | '\t' | '\n' | '\r')) {
            index += 1;
        }
        index
    }

    fn value(&self, index: usize, depth: usize) -> Scan {
        if depth > MAX_DEPTH {
            return Err(Stop::TooDeep);
        }
        match self.at(index) {
            Some('"') => self.string(index + 1),
            Some('{') => self.object(index + 1, depth + 1),
            Some('[') => self.array(index + 1, depth + 1),
            Some(_) => self
                .literal(index)
                .or_else(|| self.number(index))
                .ok_or(Stop::At(index)),
            None => Err(Stop::At(index)),
        }
    }

    /// `null`, `true`, `false` and the three non-finite numbers Python
    /// accepts.
    fn literal(&self, index: usize) -> Option<usize> {
        ["null", "true", "false", "NaN", "Infinity", "-Infinity"]
            .into_iter()
            .find(|word| self.starts_with(index, word))
            .map(|word| index + word.len())
    }

    fn starts_with(&self, index: usize, word: &str) -> bool {
        word.chars()
            .enumerate()
            .all(|(offset, c)| self.at(index + offset) == Some(c))
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, matched greedily;
    /// an incomplete fraction or exponent is left for the caller to trip on.
    fn number(&self, start: usize) -> Option<usize> {
        let digit = |i: usize| self.at(i).is_some_and(|c| c.is_ascii_digit());
        let mut index = start + usize::from(self.at(start) == Some('-'));
        match self.at(index) {
            Some('0') => index += 1,
            Some('1'..='9') => {
                while digit(index) {
                    index += 1;
                }
            }
            _ => return None,
        }
        if self.at(index) == Some('.') && digit(index + 1) {
            index += 1;
            while digit(index) {
                index += 1;
            }
        }
        if matches!(self.at(index), Some('e' | 'E')) {
            let mut exponent = index + 1;
            if matches!(self.at(exponent), Some('-' | '+')) {
                exponent += 1;
            }
            if digit(exponent) {
                while digit(exponent) {
                    exponent += 1;
                }
                index = exponent;
            }
        }
        Some(index)
    }

    /// Scans from just after an opening quote at `index - 1`.
    fn string(&self, index: usize) -> Scan {
        let begin = index - 1;
        let mut next = index;
        loop {
            match self.at(next) {
                None => return Err(Stop::At(begin)),
                Some('"') => return Ok(next + 1),
                Some('\\') => next = self.escape(next, begin)?,
                Some(c) if c <= '\u{1f}' => return Err(Stop::At(next)),
                Some(_) => next += 1,
            }
        }
    }

    /// Scans an escape whose backslash is at `backslash`.
    fn escape(&self, backslash: usize, begin: usize) -> Scan {
        match self.at(backslash + 1) {
            None => Err(Stop::At(begin)),
            Some('u') => self.unicode_escape(backslash + 1),
            Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => Ok(backslash + 2),
            Some(_) => Err(Stop::At(backslash)),
        }
    }

    /// `\uXXXX`, with `u` at `u`, possibly followed by the low half of a
    /// surrogate pair. CPython needs a character after the four digits
    /// (the closing quote at least) and blames the `u` otherwise.
    fn unicode_escape(&self, u: usize) -> Scan {
        let end = u + 5;
        if end >= self.s.len() {
            return Err(Stop::At(u));
        }
        let code = self.hex4(u + 1).ok_or(Stop::At(u))?;
        let pair_follows = (0xD800..=0xDBFF).contains(&code)
            && end + 6 < self.s.len()
            && self.at(end) == Some('\\')
            && self.at(end + 1) == Some('u');
        if pair_follows {
            self.hex4(end + 2).ok_or(Stop::At(end + 1))?;
            return Ok(end + 6);
        }
        Ok(end)
    }

    fn hex4(&self, index: usize) -> Option<u32> {
        (index..index + 4).try_fold(0, |code, i| {
            self.at(i)
                .and_then(|c| c.to_digit(16))
                .map(|digit| code * 16 + digit)
        })
    }

    /// Scans from just after `{`.
    fn object(&self, index: usize, depth: usize) -> Scan {
        let mut index = self.skip_ws(index);
        if self.at(index) == Some('}') {
            return Ok(index + 1);
        }
        loop {
            if self.at(index) != Some('"') {
                return Err(Stop::At(index));
            }
            index = self.skip_ws(self.string(index + 1)?);
            if self.at(index) != Some(':') {
                return Err(Stop::At(index));
            }
            index = self.skip_ws(self.value(self.skip_ws(index + 1), depth)?);
            match self.at(index) {
                Some('}') => return Ok(index + 1),
                Some(',') => index = self.skip_ws(index + 1),
                _ => return Err(Stop::At(index)),
            }
        }
    }

    /// Scans from just after `[`.
    fn array(&self, index: usize, depth: usize) -> Scan {
        let mut index = self.skip_ws(index);
        if self.at(index) == Some(']') {
            return Ok(index + 1);
        }
        loop {
            index = self.skip_ws(self.value(index, depth)?);
            match self.at(index) {
                Some(']') => return Ok(index + 1),
                Some(',') => index = self.skip_ws(index + 1),
                _ => return Err(Stop::At(index)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(text: &str) -> usize {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(error) => error_position(text, &error),
        }
    }

    /// Expected positions were produced by CPython 3.11's `json.loads`.
    #[test]
    fn positions_match_what_cpython_reports() {
        let cases: &[(&str, usize)] = &[
            ("{\"a\": }", 6),
            ("{\"a\" 1}", 5),
            ("{\"a\": 1 \"b\": 2}", 8),
            ("{\"a\": 1,}", 8),
            ("{'a': 1}", 1),
            ("{\"a\": 1} x", 9),
            ("{\"a\": \"abc", 6),
            ("{\"a\": tru}", 6),
            ("{\"a\": nul", 6),
            ("\"\\x\"", 1),
            ("\"\\uXYZW\"", 2),
            ("\"\\u12", 2),
            ("\"\\u1234", 2),
            ("\"\\ud800\\uZZZZ\"", 8),
            ("[1,]", 3),
            ("[1, 2", 5),
            ("[", 1),
            ("1.", 1),
            ("-", 0),
            (" ", 1),
            ("\t\n ", 3),
            ("{\"a\": 1e}", 7),
            ("{\"a\": -}", 6),
            ("{\"a\": 01}", 7),
            ("\"a\u{1}\"", 2),
            ("{\"é\": \"ü\" x}", 10),
            ("{\n  \"a\": 1,\n  \"b\": ?\n}", 19),
            ("{\"a\": \"x\\", 6),
            ("{\"a\": [1, {\"b\": }]}", 16),
            ("{\"a\" : 1 , }", 11),
            ("nul", 0),
            ("[tRUE]", 1),
        ];
        for &(text, expected) in cases {
            assert_eq!(position(text), expected, "{text:?}");
        }
    }

    #[test]
    fn texts_python_accepts_fall_back_to_serde_json_positions() {
        assert_eq!(position("{\"a\": NaN}"), 6);
        assert_eq!(position("[\"\\ud800\"]"), 8);
    }

    #[test]
    fn deep_nesting_is_located_without_recursing_without_bound() {
        let text = "[".repeat(5000);
        assert!(position(&text) <= 5000);
    }

    #[test]
    fn invalid_utf8_is_located_after_the_characters_before_it() {
        let bytes = "{\"é\": \""
            .bytes()
            .chain([0xff, b'"', b'}'])
            .collect::<Vec<_>>();
        let error = std::str::from_utf8(&bytes).err();
        assert_eq!(error.map(|e| utf8_error_position(&bytes, &e)), Some(7));
    }
}
