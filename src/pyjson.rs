//! Python-compatible JSON text.
//!
//! Upstream replies are `json.dumps(obj)` with default settings: `", "` and `": "` separators,
//! `ensure_ascii=True` (every non-ASCII character and DEL escaped as `\uXXXX`, lowercase hex),
//! and Python's `repr` for floats. Agents and upstream tests compare substrings of this text,
//! so we reproduce it with a `serde_json` [`Formatter`] instead of post-processing.
//!
//! One deliberate addition: the byte sequence `EOF` never appears in our JSON,
//! because the reference client splits replies on it. Inside strings an `E` followed by `OF`
//! is written as `\u0045`, which every JSON parser reads back as `E`.

use serde::Serialize;
use serde_json::ser::Formatter;
use std::io::{self, Write};

/// A `serde_json` formatter reproducing Python's `json.dumps` defaults (see module docs).
#[derive(Debug, Default, Clone, Copy)]
pub struct PyFormatter;

impl Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        write_ascii_fragment(w, fragment)
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(py_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(w, f64::from(value))
    }
}

/// Writes an unescaped string fragment with `ensure_ascii` semantics and the `EOF` guard.
fn write_ascii_fragment<W: ?Sized + Write>(w: &mut W, fragment: &str) -> io::Result<()> {
    let bytes = fragment.as_bytes();
    // Fast path: plain printable ASCII without an `EOF` run is written as is.
    if bytes.iter().all(|&b| (0x20..0x7f).contains(&b)) && !contains_eof(bytes) {
        return w.write_all(bytes);
    }
    let mut start = 0;
    for (i, ch) in fragment.char_indices() {
        let escape = match ch {
            'E' => bytes.get(i + 1..i + 3) == Some(b"OF"),
            c => !(' '..='~').contains(&c),
        };
        if !escape {
            continue;
        }
        w.write_all(&bytes[start..i])?;
        let mut units = [0u16; 2];
        for unit in ch.encode_utf16(&mut units) {
            write!(w, "\\u{:04x}", unit)?;
        }
        start = i + ch.len_utf8();
    }
    w.write_all(&bytes[start..])
}

fn contains_eof(bytes: &[u8]) -> bool {
    bytes.windows(3).any(|win| win == b"EOF")
}

/// Python's `repr(float)`: shortest round-trip digits, scientific notation when the decimal
/// exponent is below -4 or at least 16, exponent with a sign and at least two digits.
pub fn py_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    // `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
    let sci = format!("{:e}", value);
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // position of the decimal point within `digits`
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        };
        format!("{sign}{body}")
    } else {
        let mant = if digits.len() == 1 { digits.clone() } else { format!("{}.{}", &digits[..1], &digits[1..]) };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

/// Python's `repr()` of a string: single quotes unless the text has a single quote and no
/// double one; backslashes, the quote and control characters escaped.
pub fn py_repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_py_repr(&mut out, s);
    out
}

/// Appends [`py_repr`] of `s` to `out`.
pub fn push_py_repr(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    // The common case, plain text, is copied as it is.
    if !s.bytes().any(|b| b == b'\'' || b == b'\\' || b < 0x20 || b == 0x7f) {
        out.push('\'');
        out.push_str(s);
        out.push('\'');
        return;
    }
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Serialises `value` as Python `json.dumps` would.
pub fn to_py_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::with_capacity(256);
    write_py_json(&mut out, value);
    // The formatter only ever writes ASCII.
    String::from_utf8(out).expect("PyFormatter writes ASCII only")
}

/// Appends the Python-style JSON of `value` to `out`.
pub fn write_py_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let mut ser = serde_json::Serializer::with_formatter(out, PyFormatter);
    // Our own types serialise infallibly and a Vec writer cannot fail.
    value.serialize(&mut ser).expect("serialising to memory cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr_prints_them() {
        let cases = [
            (1.5, "1.5"),
            (100.0, "100.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (-2.5e-7, "-2.5e-07"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float_repr(x), want, "{x}");
        }
        assert_eq!(to_py_json(&0.5f32), "0.5", "f32 too");
    }
    use serde_json::json;

    #[test]
    fn python_spacing() {
        assert_eq!(to_py_json(&json!({"foo": "bar", "a": [1, 2]})), r#"{"foo": "bar", "a": [1, 2]}"#);
        assert_eq!(to_py_json(&json!({})), "{}");
        assert_eq!(to_py_json(&json!([])), "[]");
    }

    #[test]
    fn ensure_ascii_escapes() {
        assert_eq!(to_py_json(&json!("Ä€😀\u{7f}\n\"\\")), r#""\u00c4\u20ac\ud83d\ude00\u007f\n\"\\""#);
    }

    #[test]
    fn eof_never_appears() {
        let text = to_py_json(&json!({"EOF": "xEOFy", "k": "EOEOF"}));
        assert!(!text.contains("EOF"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, json!({"EOF": "xEOFy", "k": "EOEOF"}));
    }

    #[test]
    fn float_repr_matches_python() {
        for (v, s) in [
            (99.0, "99.0"),
            (0.1, "0.1"),
            (-1.5, "-1.5"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789.0, "123456789.0"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (0.0, "0.0"),
            (2.5e-7, "2.5e-07"),
            (1e100, "1e+100"),
        ] {
            assert_eq!(py_float_repr(v), s, "{v}");
        }
    }
}
