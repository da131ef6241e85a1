//! Short names for the imports between the wasm and its js glue. wasm-bindgen names each
//! function the wasm imports from its glue after the Rust item and a 16-digit hash, unique across
//! crates (`__wbg_getItem_f4b0a1c2d3e45678`). Nobody reads those names, and each is on the first
//! load twice, in the wasm's import section and as a key of the glue's import object: hex digits,
//! which gzip shrinks least. They become `a`, `b`, … in both.

use std::collections::{HashMap, HashSet};
use wasm_encoder::{EntityType, ImportSection, RawSection};
use wasmparser::{Parser, Payload};

/// The names of the wasm's imports, in order.
pub fn import_names(wasm: &[u8]) -> wasmparser::Result<Vec<String>> {
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ImportSection(reader) = payload? {
            for import in reader.into_imports() {
                names.push(import?.name.to_string());
            }
        }
    }
    Ok(names)
}

/// New names for the glue's imports among `imports` (wasm-bindgen's start with `__wbg` or
/// `__wbindgen`): the shortest identifiers in order, none taken by another import.
pub fn short_names(imports: &[String]) -> HashMap<String, String> {
    let is_glue = |name: &str| name.starts_with("__wbg") || name.starts_with("__wbindgen");
    let taken: HashSet<&str> = imports
        .iter()
        .map(String::as_str)
        .filter(|n| !is_glue(n))
        .collect();
    let mut fresh = (0..)
        .map(identifier)
        .filter(|n| !taken.contains(n.as_str()));
    let mut names = HashMap::new();
    for import in imports.iter().filter(|n| is_glue(n)) {
        if !names.contains_key(import) {
            names.insert(import.clone(), fresh.next().unwrap_or_default());
        }
    }
    names
}

/// The `n`th identifier: `a` … `z`, `A` … `Z`, then `aa`, `ab`, … (letters, then digits too).
fn identifier(n: usize) -> String {
    const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const NEXT: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut name = vec![FIRST[n % FIRST.len()]];
    let mut rest = n / FIRST.len();
    while rest > 0 {
        rest -= 1;
        name.push(NEXT[rest % NEXT.len()]);
        rest /= NEXT.len();
    }
    String::from_utf8_lossy(&name).into_owned()
}

/// `wasm` with its imports renamed by `names`; every other section copied byte for byte.
pub fn rename_imports(wasm: &[u8], names: &HashMap<String, String>) -> Result<Vec<u8>, String> {
    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| e.to_string())?;
        if let Payload::ImportSection(reader) = &payload {
            let mut section = ImportSection::new();
            for import in reader.clone().into_imports() {
                let import = import.map_err(|e| e.to_string())?;
                let name = names.get(import.name).map_or(import.name, String::as_str);
                let ty = EntityType::try_from(import.ty)
                    .map_err(|e| format!("import {}: {e:?}", import.name))?;
                section.import(import.module, name, ty);
            }
            module.section(&section);
        } else if let Some((id, range)) = payload.as_section() {
            let data = wasm
                .get(range.start as usize..range.end as usize)
                .ok_or("a section ends beyond the file")?;
            module.section(&RawSection { id, data });
        }
    }
    Ok(module.finish())
}

/// `js` with each import's key renamed by `names`. Each name must be in the glue exactly once
/// (its key in the import object), as a whole word: anything else means a glue this tool does
/// not know, and the build stops rather than guess.
pub fn rename_keys(js: &str, names: &HashMap<String, String>) -> Result<String, String> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(js.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut rest = js;
    while let Some(start) = rest.find(|c: char| is_word(c)) {
        let (before, word_start) = rest.split_at(start);
        out.push_str(before);
        let end = word_start
            .find(|c: char| !is_word(c))
            .unwrap_or(word_start.len());
        let (word, after) = word_start.split_at(end);
        match names.get_key_value(word) {
            Some((old, new)) => {
                *seen.entry(old.as_str()).or_default() += 1;
                out.push_str(new);
            }
            None => out.push_str(word),
        }
        rest = after;
    }
    out.push_str(rest);
    let mut wrong: Vec<String> = (names.keys())
        .filter(|old| seen.get(old.as_str()) != Some(&1))
        .map(|old| format!("{old} ({} times)", seen.get(old.as_str()).unwrap_or(&0)))
        .collect();
    wrong.sort();
    match wrong.is_empty() {
        true => Ok(out),
        false => Err(format!(
            "the js glue should name each import once, as a key of its import object: {}",
            wrong.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "__wbg_log_0123456789abcdef";
    const TABLE: &str = "__wbindgen_init_externref_table";

    fn glue(log: &str, table: &str) -> String {
        format!("const import0 = {{ __proto__: null, {log}: function(a) {{}}, {table}: function() {{}} }};")
    }

    #[test]
    fn identifiers_are_the_shortest_first_and_never_repeat() {
        let names: Vec<String> = (0..52 + 62 * 52 + 1).map(identifier).collect();
        assert_eq!(names[..3], ["a", "b", "c"]);
        assert_eq!(names[51], "Z");
        assert_eq!(names[52], "aa");
        assert_eq!(names[53], "ba");
        assert_eq!(names[52 + 62 * 52], "aaa");
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), names.len());
        assert!(names.iter().all(|n| n.as_bytes()[0].is_ascii_alphabetic()));
    }

    #[test]
    fn only_the_glue_imports_are_renamed_and_never_to_a_name_in_use() {
        let imports = [LOG, TABLE, "a"].map(String::from);
        let names = short_names(&imports);
        assert_eq!(names.len(), 2);
        assert_eq!(names[LOG], "b");
        assert_eq!(names[TABLE], "c");
    }

    #[test]
    fn a_glue_naming_an_import_twice_or_not_at_all_stops_the_build() {
        let names = short_names(&[LOG, TABLE].map(String::from));
        let twice = format!("{} {LOG}", glue(LOG, TABLE));
        let error = rename_keys(&twice, &names).unwrap_err();
        assert!(error.ends_with(&format!("{LOG} (2 times)")), "{error}");
        let missing = glue(LOG, "other");
        let error = rename_keys(&missing, &names).unwrap_err();
        assert!(error.ends_with(&format!("{TABLE} (0 times)")), "{error}");
    }

    #[test]
    fn a_name_inside_a_longer_word_is_not_a_key() {
        let names = short_names(&[LOG].map(String::from));
        let js = format!("{LOG}: 1, x{LOG}, {LOG}_more, ${LOG}");
        assert_eq!(
            rename_keys(&js, &names).unwrap(),
            format!("a: 1, x{LOG}, {LOG}_more, ${LOG}")
        );
    }
}
