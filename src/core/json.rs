//! JSON (RFC 8259): a value type, a strict parser and a writer, plus typed field access for the
//! records Gatehouse reads (session, discovery, views...).
//!
//! Hand-written instead of serde + serde_json to keep the first load small: derived visitors and
//! serde_json's `Value` cost about 26 KB of gzipped wasm here, and float parsing and formatting
//! (`str::parse::<f64>`, f64 `Display`) about 20 KB more. So numbers keep their source text: the
//! JSON viewer shows them exactly as the API sent them, big integers are never rounded, and
//! `Number::as_f64` is a small hand conversion, good for times and durations. Parsing never
//! panics and nests at most `MAX_DEPTH` levels, so hostile input cannot overflow the stack.

use std::fmt;

/// Deepest nesting of arrays and objects accepted by `parse`.
pub const MAX_DEPTH: usize = 128;

/// A JSON value. Equality compares objects member by member in order.
#[derive(Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// A JSON number, kept as its source text (validated against the RFC 8259 grammar).
#[derive(Clone, PartialEq, Eq)]
pub struct Number(String);

/// A JSON object: members in document order, keys unique (a repeated key keeps its first
/// position and takes the last value, like JavaScript's `JSON.parse`).
#[derive(Clone, Default, PartialEq)]
pub struct Map(Vec<(String, Value)>);

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_number()?.as_u64()
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.as_number()?.as_i64()
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The member `key` of an object; `None` for other values.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// Appends the JSON text: compact without `indent`, else pretty at that nesting level.
    fn write(&self, out: &mut String, indent: Option<usize>) {
        let inner = indent.map(|n| n + 1);
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&n.0),
            Value::String(s) => write_quoted(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    separator(out, i, inner);
                    item.write(out, inner);
                }
                close(out, items.is_empty(), ']', indent);
            }
            Value::Object(map) => map.write(out, indent),
        }
    }
}

fn newline(out: &mut String, indent: Option<usize>) {
    if let Some(n) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', 2 * n));
    }
}

fn separator(out: &mut String, index: usize, inner: Option<usize>) {
    if index > 0 {
        out.push(',');
    }
    newline(out, inner);
}

fn close(out: &mut String, empty: bool, bracket: char, indent: Option<usize>) {
    if !empty {
        newline(out, indent);
    }
    out.push(bracket);
}

/// Compact JSON.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out, None);
        f.write_str(&out)
    }
}

/// Debug output is the JSON text too (Rust's string Debug escaping would cost wasm size).
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// JSON with two-space indentation, one member or item per line.
pub fn to_string_pretty(value: &Value) -> String {
    let mut out = String::new();
    value.write(&mut out, Some(0));
    out
}

/// `s` as a JSON string literal: `"`, `\` and control characters escaped, the rest as it is.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_quoted(&mut out, s);
    out
}

fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "\\u00",
            _ => continue,
        };
        // Only ASCII bytes are escaped, so `start` and `i` are character boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        out.push_str(escape);
        if escape == "\\u00" {
            out.push(if b < 0x10 { '0' } else { '1' });
            out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl From<Map> for Value {
    fn from(map: Map) -> Value {
        Value::Object(map)
    }
}

/// `None` is written as `null`.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

impl Number {
    /// The number if `text` is exactly one JSON number (no `+`, no leading zeros, no spaces).
    pub fn parse(text: &str) -> Option<Number> {
        let mut parser = Parser { text, pos: 0 };
        let number = parser.number().ok()?;
        (parser.pos == text.len()).then_some(number)
    }

    /// The integer part of `x` (saturating; NaN gives 0), for values such as millisecond
    /// timestamps whose fraction means nothing. Written without float formatting.
    pub fn truncated(x: f64) -> Number {
        Number::from(x as i64)
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The value as a float, computed by hand rather than with `str::parse` (whose tables cost
    /// wasm size): exact for integers up to 2^53, otherwise within a few units in the last place;
    /// too large gives infinity, too small zero.
    pub fn as_f64(&self) -> f64 {
        let bytes = self.0.as_bytes();
        let negative = bytes.first() == Some(&b'-');
        // Up to 19 significant digits in `mantissa`; the value is mantissa × 10^exponent.
        let (mut mantissa, mut exponent, mut fraction) = (0u64, 0i64, false);
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'0'..=b'9' if mantissa < 1_000_000_000_000_000_000 => {
                    mantissa = mantissa * 10 + u64::from(b - b'0');
                    exponent -= i64::from(fraction);
                }
                b'0'..=b'9' => exponent += i64::from(!fraction),
                b'.' => fraction = true,
                b'e' | b'E' => {
                    let tail = bytes.get(i + 1..).unwrap_or_default();
                    let (sign, digits) = match tail.split_first() {
                        Some((b'-', rest)) => (-1, rest),
                        Some((b'+', rest)) => (1, rest),
                        _ => (1, tail),
                    };
                    let e = digits.iter().fold(0i64, |e, d| {
                        (e * 10 + i64::from(d.wrapping_sub(b'0'))).min(100_000)
                    });
                    exponent += sign * e;
                    break;
                }
                _ => {}
            }
        }
        let mut value = mantissa as f64;
        if mantissa != 0 {
            let mut exponent = exponent.clamp(-1000, 1000);
            // Divide in steps so tiny values do not flush to zero before the mantissa applies.
            while exponent < -300 {
                value /= 1e300;
                exponent += 300;
            }
            let scale = pow10(exponent.unsigned_abs());
            value = if exponent < 0 {
                value / scale
            } else {
                value * scale
            };
        }
        if negative {
            -value
        } else {
            value
        }
    }
}

/// 10^n by repeated squaring (exact up to 10^22).
fn pow10(mut n: u64) -> f64 {
    let (mut result, mut base) = (1.0, 10.0);
    while n > 0 {
        if n & 1 == 1 {
            result *= base;
        }
        base *= base;
        n >>= 1;
    }
    result
}

impl From<i64> for Number {
    fn from(n: i64) -> Number {
        Number(n.to_string())
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Number {
        Number(n.to_string())
    }
}

/// The source text.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Map {
    pub fn new() -> Map {
        Map(Vec::new())
    }

    /// An object of these members (a repeated key keeps the last value).
    pub fn from_pairs(pairs: Vec<(&str, Value)>) -> Map {
        let mut map = Map(Vec::with_capacity(pairs.len()));
        for (key, value) in pairs {
            map.insert(key.to_string(), value);
        }
        map
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`, in place if present (returning the old value), else at the end.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, (String, Value)> {
        self.0.iter()
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = &'a (String, Value);
    type IntoIter = std::slice::Iter<'a, (String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Map {
    fn write(&self, out: &mut String, indent: Option<usize>) {
        let inner = indent.map(|n| n + 1);
        out.push('{');
        for (i, (key, value)) in self.0.iter().enumerate() {
            separator(out, i, inner);
            write_quoted(out, key);
            out.push_str(if indent.is_some() { ": " } else { ":" });
            value.write(out, inner);
        }
        close(out, self.is_empty(), '}', indent);
    }
}

/// The object as compact JSON.
impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out, None);
        f.write_str(&out)
    }
}

/// A member of a record that is absent or of the wrong type (what `#[derive(Deserialize)]` used
/// to report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldError {
    Missing(String),
    WrongType {
        field: String,
        expected: &'static str,
    },
    Unknown(String),
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::Missing(field) => write!(f, "missing field {}", quote(field)),
            FieldError::WrongType { field, expected } => {
                write!(f, "field {} must be {expected}", quote(field))
            }
            FieldError::Unknown(field) => write!(f, "unknown field {}", quote(field)),
        }
    }
}

impl std::error::Error for FieldError {}

fn wrong_type(field: &str, expected: &'static str) -> FieldError {
    FieldError::WrongType {
        field: field.to_string(),
        expected,
    }
}

/// Typed access to record fields; an absent member and `null` both count as unset.
impl Map {
    fn present(&self, key: &str) -> Option<&Value> {
        self.get(key).filter(|v| !v.is_null())
    }

    pub fn opt_string(&self, key: &str) -> Result<Option<String>, FieldError> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong_type(key, "a string")),
        }
    }

    pub fn string(&self, key: &str) -> Result<String, FieldError> {
        self.opt_string(key)?
            .ok_or_else(|| FieldError::Missing(key.to_string()))
    }

    pub fn opt_number(&self, key: &str) -> Result<Option<f64>, FieldError> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n.as_f64())),
            Some(_) => Err(wrong_type(key, "a number")),
        }
    }

    pub fn number(&self, key: &str) -> Result<f64, FieldError> {
        self.opt_number(key)?
            .ok_or_else(|| FieldError::Missing(key.to_string()))
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, FieldError> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(key, "true or false")),
        }
    }

    /// A list of strings.
    pub fn opt_strings(&self, key: &str) -> Result<Option<Vec<String>>, FieldError> {
        let Some(value) = self.present(key) else {
            return Ok(None);
        };
        value
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .map(Some)
            .ok_or_else(|| wrong_type(key, "a list of strings"))
    }

    /// Fails on the first member whose key is not in `known`.
    pub fn deny_unknown(&self, known: &[&str]) -> Result<(), FieldError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((k, _)) => Err(FieldError::Unknown(k.clone())),
            None => Ok(()),
        }
    }
}

/// What is wrong with a JSON text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    UnexpectedEnd,
    ExpectedValue,
    ExpectedCommaOrBracket,
    ExpectedCommaOrBrace,
    ExpectedColon,
    ExpectedKey,
    BadNumber,
    BadEscape,
    LoneSurrogate,
    ControlCharacter,
    TooDeep,
    TrailingCharacters,
    NotUtf8,
}

/// Why a text is not JSON, and where (1-based line and column, in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub kind: ErrorKind,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::UnexpectedEnd => "unexpected end of text",
            ErrorKind::ExpectedValue => "expected a value",
            ErrorKind::ExpectedCommaOrBracket => "expected `,` or `]`",
            ErrorKind::ExpectedCommaOrBrace => "expected `,` or `}`",
            ErrorKind::ExpectedColon => "expected `:`",
            ErrorKind::ExpectedKey => "expected a key in double quotes",
            ErrorKind::BadNumber => "invalid number",
            ErrorKind::BadEscape => "invalid escape in string",
            ErrorKind::LoneSurrogate => "unpaired surrogate in \\u escape",
            ErrorKind::ControlCharacter => "control character in string (escape it)",
            ErrorKind::TooDeep => "nested more than 128 levels deep",
            ErrorKind::TrailingCharacters => "unexpected text after the value",
            ErrorKind::NotUtf8 => "invalid UTF-8",
        };
        write!(f, "{what} at line {} column {}", self.line, self.column)
    }
}

impl std::error::Error for JsonError {}

/// Objects up to this many members find repeated keys by scanning; larger ones by sorting.
const SMALL_OBJECT: usize = 32;

/// Gives each repeated key its last value at its first position (JavaScript's `JSON.parse`).
/// Sorting a copy of the keys (with the `sort` the app already links for roles) finds out in
/// O(n log n) that a large object has no repeats, the normal case; with repeats it is rebuilt
/// member by member.
fn merge_repeated_keys(members: &mut Vec<(String, Value)>) {
    let mut keys: Vec<String> = members.iter().map(|(k, _)| k.clone()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|pair| pair[0] == pair[1]) {
        let mut map = Map::new();
        for (key, value) in std::mem::take(members) {
            map.insert(key, value);
        }
        *members = map.0;
    }
}

/// Parses one JSON value (RFC 8259, strictly), with optional whitespace around it.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut parser = Parser { text, pos: 0 };
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos < text.len() {
        return Err(parser.error(ErrorKind::TrailingCharacters));
    }
    Ok(value)
}

/// Parses JSON from bytes that must be UTF-8 (such as a decoded JWT segment).
pub fn parse_bytes(bytes: &[u8]) -> Result<Value, JsonError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let text = std::str::from_utf8(valid).unwrap_or_default();
            Err(Parser {
                text,
                pos: text.len(),
            }
            .error(ErrorKind::NotUtf8))
        }
    }
}

/// A recursive-descent parser over `text`; `pos` is a byte offset that only ever stops on a
/// character boundary, and never exceeds `text.len()`.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// The text from `start` to the current position.
    fn since(&self, start: usize) -> &str {
        self.text.get(start..self.pos).unwrap_or_default()
    }

    fn error(&self, kind: ErrorKind) -> JsonError {
        let kind = if self.pos < self.text.len() || kind == ErrorKind::NotUtf8 {
            kind
        } else {
            ErrorKind::UnexpectedEnd
        };
        let before = self.text.as_bytes().get(..self.pos).unwrap_or_default();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let on_line = before.get(line_start..).unwrap_or_default();
        JsonError {
            kind,
            line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
            // Counts characters: UTF-8 continuation bytes do not start one.
            column: 1 + on_line.iter().filter(|&&b| b & 0xc0 != 0x80).count(),
        }
    }

    /// A value at nesting `depth` (the number of arrays and objects around it).
    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'[') => self.array(depth + 1),
            Some(b'{') => self.object(depth + 1),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            _ => {
                let rest = self.text.as_bytes().get(self.pos..).unwrap_or_default();
                for (word, value) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if rest.starts_with(word.as_bytes()) {
                        self.pos += word.len();
                        return Ok(value);
                    }
                }
                Err(self.error(ErrorKind::ExpectedValue))
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error(ErrorKind::TooDeep));
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.eat(b']') {
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            if self.eat(b']') {
                return Ok(Value::Array(items));
            }
            if !self.eat(b',') {
                return Err(self.error(ErrorKind::ExpectedCommaOrBracket));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error(ErrorKind::TooDeep));
        }
        self.pos += 1;
        let mut map = Map::new();
        self.skip_whitespace();
        if self.eat(b'}') {
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error(ErrorKind::ExpectedKey));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if !self.eat(b':') {
                return Err(self.error(ErrorKind::ExpectedColon));
            }
            let value = self.value(depth)?;
            // Small objects check each key as it comes; large ones all at once at the end.
            if map.len() < SMALL_OBJECT {
                map.insert(key, value);
            } else {
                map.0.push((key, value));
            }
            self.skip_whitespace();
            if self.eat(b'}') {
                if map.len() > SMALL_OBJECT {
                    merge_repeated_keys(&mut map.0);
                }
                return Ok(Value::Object(map));
            }
            if !self.eat(b',') {
                return Err(self.error(ErrorKind::ExpectedCommaOrBrace));
            }
        }
    }

    /// A string literal; `pos` is on the opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = String::new();
        let mut start = self.pos;
        loop {
            match self.peek() {
                Some(b'"') => {
                    out.push_str(self.since(start));
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.since(start));
                    self.pos += 1;
                    out.push(self.escape()?);
                    start = self.pos;
                }
                Some(0..=0x1f) => return Err(self.error(ErrorKind::ControlCharacter)),
                Some(_) => self.pos += 1,
                None => return Err(self.error(ErrorKind::UnexpectedEnd)),
            }
        }
    }

    /// The character of an escape; `pos` is just after the backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let high = self.hex4()?;
                let code = match high {
                    0xd800..=0xdbff => {
                        if !(self.eat(b'\\') && self.peek() == Some(b'u')) {
                            return Err(self.error(ErrorKind::LoneSurrogate));
                        }
                        let low = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return Err(self.error(ErrorKind::LoneSurrogate));
                        }
                        0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
                    }
                    0xdc00..=0xdfff => return Err(self.error(ErrorKind::LoneSurrogate)),
                    _ => high,
                };
                return char::from_u32(code).ok_or_else(|| self.error(ErrorKind::BadEscape));
            }
            _ => return Err(self.error(ErrorKind::BadEscape)),
        };
        self.pos += 1;
        Ok(c)
    }

    /// The four hex digits after the `u` at `pos`; leaves `pos` after them.
    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut code = 0;
        for _ in 0..4 {
            self.pos += 1;
            let digit = self.peek().and_then(|b| char::from(b).to_digit(16));
            code = code * 16 + digit.ok_or_else(|| self.error(ErrorKind::BadEscape))?;
        }
        self.pos += 1;
        Ok(code)
    }

    fn digits(&mut self) -> bool {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos > start
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<Number, JsonError> {
        let start = self.pos;
        self.eat(b'-');
        let integer_ok = match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                !matches!(self.peek(), Some(b'0'..=b'9'))
            }
            _ => self.digits(),
        };
        let fraction_ok = !self.eat(b'.') || self.digits();
        let exponent_ok = !(self.eat(b'e') || self.eat(b'E')) || {
            let _ = self.eat(b'+') || self.eat(b'-');
            self.digits()
        };
        if integer_ok && fraction_ok && exponent_ok {
            Ok(Number(self.since(start).to_string()))
        } else {
            Err(self.error(ErrorKind::BadNumber))
        }
    }
}

/// Our value for a `serde_json::json!` literal, so tests can keep writing JSON that way.
#[cfg(test)]
pub fn from_serde(value: &serde_json::Value) -> Value {
    parse(&value.to_string()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Valid documents, after nst/JSONTestSuite's `y_` cases.
    const VALID: &[&str] = &[
        "[[]   ]",
        "[\"\"]",
        "[]",
        "[\"a\"]\n",
        "[false]",
        "[null, 1, \"1\", {}]",
        "[null]",
        "[1\n]",
        " [1]",
        "[1,null,null,null,2]",
        "[2] ",
        "[123e65]",
        "[0e+1]",
        "[0e1]",
        "[ 4]",
        "[-0]",
        "[-123]",
        "[-1]",
        "[1E22]",
        "[1E-2]",
        "[1E+2]",
        "[123.456e78]",
        "[1e-2]",
        "[123]",
        "[123.456789]",
        "123",
        "[1.5e+9999]",
        "[-1e-9999]",
        "[100000000000000000000]",
        "{\"asd\":\"sdf\", \"dfg\":\"fgh\"}",
        "{\"a\":\"b\",\"a\":\"c\"}",
        "{}",
        "{\"\":0}",
        "{\"foo\\u0000bar\": 42}",
        "{ \"min\": -1.0e+28, \"max\": 1.0e+28 }",
        "{\"x\":[{\"id\": \"xxx\"}], \"id\": \"xxx\"}",
        "{\"a\":[]}",
        "{\"title\":\"\\u041f\\u043e\\u043b\\u0442\\u043e\\u0440\\u0430\" }",
        "{\n\"a\": \"b\"\n}",
        "[\"\\u0060\\u012a\\u12AB\"]",
        "[\"\\uD801\\udc37\"]",
        "[\"\\ud83d\\ude39\\ud83d\\udc8d\"]",
        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
        "[\"\\\\u0000\"]",
        "[\"a/*b*/c/*d//e\"]",
        "[\"\\uDBFF\\uDFFF\"]",
        "[\"new\\u00A0line\"]",
        "[\"π\"]",
        "\" \"",
        "[\"\\uFFFF\"]",
        "[\"⍂㈴⍂\"]",
        "[\"\\uFEFF\"]",
        "[\"€𝄞\"]",
        "[\"a\u{7f}a\"]",
        "[\"\u{2028}\"]",
        "\"asd\"",
        "false",
        "null",
        "true",
        " [] ",
        "-0.1",
        "\t\r\n{}\t\r\n",
    ];

    /// Invalid documents, after nst/JSONTestSuite's `n_` cases (and lone surrogates, which the
    /// suite leaves to the implementation).
    const INVALID: &[&str] = &[
        "[1 true]",
        "[\"\": 1]",
        "[\"\"],",
        "[,1]",
        "[1,,2]",
        "[\"x\",,]",
        "[\"x\"]]",
        "[\"\",]",
        "[\"x\"",
        "[x",
        "[3[4]]",
        "[1:2]",
        "[,]",
        "[-]",
        "[   , \"\"]",
        "[\"a\",\n4\n,1,",
        "[1,]",
        "[*]",
        "[{}",
        "[fals]",
        "[nul]",
        "[tru]",
        "123\u{0}",
        "[++1234]",
        "[+1]",
        "[+Inf]",
        "[-01]",
        "[-1.0.]",
        "[-2.]",
        "[-NaN]",
        "[.-1]",
        "[.2e-3]",
        "[0.1.2]",
        "[0.3e+]",
        "[0.3e]",
        "[0.e1]",
        "[0E+]",
        "[0e]",
        "[1.0e-]",
        "[1 000.0]",
        "[1eE2]",
        "[2.e+3]",
        "[9.e+]",
        "[Inf]",
        "[NaN]",
        "[１]",
        "[1+2]",
        "[0x1]",
        "[Infinity]",
        "[0e+-1]",
        "[012]",
        "[.123]",
        "[1.2a-3]",
        "[- 1]",
        "01",
        "1.",
        ".5",
        "-",
        "{1:1}",
        "{\"x\", null}",
        "{\"x\"::\"b\"}",
        "{\"a\":\"a\" 123}",
        "{key: 'value'}",
        "{\"a\" b}",
        "{:\"b\"}",
        "{\"a\":",
        "{\"a\"",
        "{'a':0}",
        "{\"a\":\"b\"}/**/",
        "{\"a\":\"b\"}//",
        "{\"a\":\"b\"}#",
        "{\"id\":0,}",
        "{\"a\":\"b\",,\"c\":\"d\"}",
        "{null:null,null:null}",
        "{\"a\":/*comment*/\"b\"}",
        "{\"a\":\"a",
        "{[: \"x\"}",
        "{\"a\":true} \"x\"",
        "[\"\\uD800\\\"]",
        "[\"\\uD800\\u\"]",
        "[\"\\uD800\\u1\"]",
        "[\"\\uD800\\u1x\"]",
        "[é]",
        "[\"\\a\"]",
        "[\"\\uqqqq\"]",
        "[\"\\𝄞\"]",
        "\"\\u00A\"",
        "[\"\\u\"]",
        "[\"\\\"]",
        "[\"new\nline\"]",
        "[\"\t\"]",
        "[\"\u{0}\"]",
        "\"abc",
        "['single quote']",
        "abc",
        "[\"\\x00\"]",
        "\"\\UA66D\"",
        "[\"\\uDADA\"]",
        "[\"\\uDFAA\"]",
        "[\"\\uD800\\uD800\"]",
        "[",
        "{",
        "]",
        "}",
        "",
        " ",
        "<.>",
        "[<null>]",
        "[1]x",
        "[True]",
        "1]",
        "{\"x\": true,",
        "[][]",
        "{}}",
        "\u{feff}{}",
        "[\u{2060}]",
        "2@",
        "[1,",
    ];

    #[test]
    fn accepts_the_valid_cases() {
        for text in VALID {
            assert!(parse(text).is_ok(), "{text:?}: {:?}", parse(text));
        }
    }

    #[test]
    fn rejects_the_invalid_cases() {
        for text in INVALID {
            assert!(parse(text).is_err(), "{text:?} parsed as {:?}", parse(text));
        }
        assert!(parse_bytes(b"[\"a\xe5\"]").is_err());
        assert!(
            parse_bytes(b"[\"\xed\xa0\x80\"]").is_err(),
            "CESU surrogate"
        );
        assert_eq!(parse_bytes("[\"é\"]".as_bytes()), parse("[\"é\"]"));
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = parse("{\n  \"a\": 1\n  \"b\": 2\n}").unwrap_err();
        assert_eq!(err.kind, ErrorKind::ExpectedCommaOrBrace);
        assert_eq!(err.to_string(), "expected `,` or `}` at line 3 column 3");
        assert_eq!(
            parse("[1,").unwrap_err().to_string(),
            "unexpected end of text at line 1 column 4"
        );
        assert_eq!(
            parse("[\"é\", x]").unwrap_err().to_string(),
            "expected a value at line 1 column 7"
        );
        assert_eq!(parse("[01]").unwrap_err().kind, ErrorKind::BadNumber);
        assert_eq!(
            parse("[1] 2").unwrap_err().kind,
            ErrorKind::TrailingCharacters
        );
        assert_eq!(
            parse("\"\\ud800x\"").unwrap_err().kind,
            ErrorKind::LoneSurrogate
        );
        assert_eq!(
            parse("\"a\u{1}\"").unwrap_err().kind,
            ErrorKind::ControlCharacter
        );
        assert_eq!(
            parse_bytes(b"\n [\xff]").unwrap_err().to_string(),
            "invalid UTF-8 at line 2 column 3"
        );
    }

    #[test]
    fn decodes_escapes_and_surrogate_pairs() {
        let value = parse(r#"["\ud83d\ude39", "\u00e9\n\"\\\/", "\uD801\uDC37", "π"]"#).unwrap();
        let strings: Vec<&str> = value
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(strings, ["😹", "é\n\"\\/", "𐐷", "π"]);
    }

    #[test]
    fn nesting_is_limited_to_128_levels() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(parse(&nested(129)).unwrap_err().kind, ErrorKind::TooDeep);
        assert_eq!(
            parse(&"[".repeat(100_000)).unwrap_err().kind,
            ErrorKind::TooDeep
        );
        assert_eq!(
            parse(&"{\"a\":".repeat(100_000)).unwrap_err().kind,
            ErrorKind::TooDeep
        );
        let objects = format!("{}1{}", "{\"a\":".repeat(128), "}".repeat(128));
        assert!(parse(&objects).is_ok());
    }

    #[test]
    fn a_repeated_key_keeps_its_place_and_the_last_value() {
        let value = parse(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        let map = value.as_object().unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(value.get("a").and_then(Value::as_u64), Some(3));
        assert_eq!(value.to_string(), r#"{"a":3,"b":2}"#);
        // Large objects check for repeats at the end: same rule, same result.
        let members: Vec<String> = (0..200)
            .map(|i| format!("\"k{}\":{i}", (i * 7) % 90))
            .collect();
        let text = format!("{{{}}}", members.join(","));
        let mut expected = Map::new();
        for i in 0..200 {
            expected.insert(format!("k{}", (i * 7) % 90), Number::from(i as u64).into());
        }
        assert_eq!(parse(&text).unwrap(), Value::Object(expected));
        let many: Vec<String> = (0..50_000).map(|i| format!("\"k{i}\":{i}")).collect();
        let large = parse(&format!("{{{}}}", many.join(","))).unwrap();
        assert_eq!(large.as_object().map(Map::len), Some(50_000));
    }

    #[test]
    fn numbers_keep_their_text_and_convert_by_hand() {
        let n = |text: &str| Number::parse(text).unwrap();
        assert!(n("-0").as_f64() == 0.0 && n("-0").as_f64().is_sign_negative());
        assert_eq!(n("-0").as_i64(), Some(0));
        assert_eq!(n("1e400").as_f64(), f64::INFINITY);
        assert_eq!(n("-1e400").as_f64(), f64::NEG_INFINITY);
        assert_eq!(n("1e-400").as_f64(), 0.0);
        assert_eq!(n("0e99999999999999999999").as_f64(), 0.0);
        assert_eq!(n("1700000000").as_f64(), 1_700_000_000.0);
        assert_eq!(n("9007199254740993").as_u64(), Some(9_007_199_254_740_993));
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551616").as_u64(), None);
        assert_eq!(n("-5").as_u64(), None);
        assert_eq!(n("-5").as_i64(), Some(-5));
        assert_eq!(n("5.0").as_u64(), None);
        for text in [
            "0.1",
            "3599.5",
            "1.5e9",
            "-2.5E-3",
            "123456789012345678901234567890",
            "1e22",
            "1e23",
            "4.9e-324",
            "2.2250738585072014e-308",
            "1.7e308",
            "0.000001",
            "12345.678901234567890123",
        ] {
            let expected: f64 = text.parse().unwrap();
            let got = n(text).as_f64();
            assert!(
                (got - expected).abs() <= expected.abs() * 1e-14,
                "{text}: {got} vs {expected}"
            );
        }
        for bad in [
            "01", "1.", ".5", "+1", " 1", "1 ", "", "-", "1e", "0x10", "NaN",
        ] {
            assert_eq!(Number::parse(bad), None, "{bad}");
        }
        let big = "[12345678901234567890123456789, 1.50, 1E+2]";
        assert_eq!(
            parse(big).unwrap().to_string(),
            "[12345678901234567890123456789,1.50,1E+2]"
        );
        assert_eq!(
            Number::truncated(1_700_000_000_123.9).to_string(),
            "1700000000123"
        );
        assert_eq!(Number::truncated(f64::NAN).to_string(), "0");
    }

    #[test]
    fn writes_compact_pretty_and_quoted() {
        let value = parse(r#"{"a": [1, {"b": null}], "c": {}, "d": [], "e": "x"}"#).unwrap();
        assert_eq!(
            value.to_string(),
            r#"{"a":[1,{"b":null}],"c":{},"d":[],"e":"x"}"#
        );
        assert_eq!(
            to_string_pretty(&value),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": {},\n  \"d\": [],\n  \"e\": \"x\"\n}"
        );
        assert_eq!(
            quote("a\"b\\c\n\t\r\u{8}\u{c}\u{1}\u{1f}é"),
            r#""a\"b\\c\n\t\r\b\f\u0001\u001fé""#
        );
        assert_eq!(quote(""), "\"\"");
        assert_eq!(format!("{value:?}"), value.to_string());
    }

    #[test]
    fn round_trips_through_text() {
        for text in VALID {
            let value = parse(text).unwrap();
            assert_eq!(parse(&value.to_string()).unwrap(), value, "{text}");
            assert_eq!(parse(&to_string_pretty(&value)).unwrap(), value, "{text}");
        }
        let all_bytes: String = (0u8..128).map(char::from).collect();
        let quoted = quote(&all_bytes);
        assert_eq!(parse(&quoted).unwrap().as_str(), Some(all_bytes.as_str()));
    }

    /// Same structure, strings and (approximately) numbers as serde_json's reading.
    fn same(ours: &Value, theirs: &serde_json::Value) -> bool {
        use serde_json::Value as S;
        match (ours, theirs) {
            (Value::Null, S::Null) => true,
            (Value::Bool(a), S::Bool(b)) => a == b,
            (Value::Number(a), S::Number(b)) => {
                let (a, b) = (a.as_f64(), b.as_f64().unwrap());
                a == b || (a - b).abs() <= b.abs() * 1e-14
            }
            (Value::String(a), S::String(b)) => a == b,
            (Value::Array(a), S::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
            }
            (Value::Object(a), S::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
            }
            _ => false,
        }
    }

    #[test]
    fn agrees_with_serde_json() {
        let documents = [
            r#"{"keys":[{"kty":"RSA","kid":"a","use":"sig","n":"na","e":"AQAB"}],"x":null}"#,
            r#"{"a":1,"a":{"b":[true,false,null]},"c":"\u00e9\ud83d\ude00\n"}"#,
            r#"[0, -0, 1.5, -2.25e3, 1e-7, 12345678901234567, 3.141592653589793, 1E+2]"#,
            r#"{"sub":"s","exp":1700000600,"iat":1700000000.5,"roles":["Study.Read"],"name":"Ré"}"#,
            r#"[[[[[[[[[["deep"]]]]]]]]]]"#,
            r#"{"": "", " ": [{}], "\"": "\\", "/": "\/"}"#,
            "  {\"ws\" :\t[ 1 ,2\r\n] }  ",
        ];
        for text in documents {
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            let ours = parse(text).unwrap();
            assert!(same(&ours, &theirs), "{text}");
        }
        for text in INVALID {
            if serde_json::from_str::<serde_json::Value>(text).is_ok() {
                // serde_json accepts what RFC 8259 leaves open: lone surrogates only.
                assert!(text.contains("\\uD"), "{text}");
            }
        }
        let sorted = serde_json::json!({"a": [1, {"b": null, "c": "x\ty"}], "d": {}, "e": []});
        assert_eq!(
            to_string_pretty(&from_serde(&sorted)),
            serde_json::to_string_pretty(&sorted).unwrap()
        );
    }

    #[test]
    fn records_report_missing_wrong_and_unknown_fields() {
        let value = parse(r#"{"s":"x","n":5,"b":true,"l":["a"],"z":null,"bad":[1]}"#).unwrap();
        let map = value.as_object().unwrap();
        assert_eq!(map.string("s"), Ok("x".into()));
        assert_eq!(map.opt_string("z"), Ok(None));
        assert_eq!(map.number("n"), Ok(5.0));
        assert_eq!(map.opt_bool("b"), Ok(Some(true)));
        assert_eq!(map.opt_strings("l"), Ok(Some(vec!["a".into()])));
        assert_eq!(
            map.string("missing").unwrap_err().to_string(),
            "missing field \"missing\""
        );
        assert_eq!(
            map.opt_strings("bad").unwrap_err().to_string(),
            "field \"bad\" must be a list of strings"
        );
        assert_eq!(
            map.deny_unknown(&["s", "n", "b", "l", "z"])
                .unwrap_err()
                .to_string(),
            "unknown field \"bad\""
        );
    }
}
