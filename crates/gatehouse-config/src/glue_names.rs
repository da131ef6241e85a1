//! Short names for the imports between the wasm and its JavaScript glue. wasm-bindgen names each
//! function the wasm imports from its glue after the Rust item and a 16-digit hash, unique across
//! crates (`__wbg_getItem_f4b0a1c2d3e45678`). Nobody reads those names, and each is on the first
//! load twice, in the wasm's import section and as a key of the glue's import object: 16 hex
//! digits gzip does not shrink, some 5 KB gzip for Gatehouse's build. The build renames them
//! `a`, `b`, … in both files and updates their Subresource Integrity hashes in `index.html`.

use crate::refusal::Refusal;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha384};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;
use wasm_encoder::{EntityType, ImportSection, RawSection};
use wasmparser::{Parser, Payload};

/// What was renamed in one build.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Renamed {
    /// Imports renamed (none when the build's names are already short).
    pub imports: usize,
    /// Bytes of the wasm and the js before and after.
    pub before: usize,
    pub after: usize,
}

/// Renames the glue's imports of every `<name>_bg.wasm` beside its `<name>.js` in `web_root`,
/// and their integrity hashes in `index.html`. Running it again changes nothing.
pub fn shorten(web_root: &Path) -> Result<Renamed, Refusal> {
    let mut renamed = Renamed::default();
    let index = web_root.join("index.html");
    let mut html =
        fs::read_to_string(&index).map_err(|e| Refusal::io("build", "read", &index, e))?;
    for entry in fs::read_dir(web_root).map_err(|e| Refusal::io("build", "list", web_root, e))? {
        let wasm_path = entry
            .map_err(|e| Refusal::io("build", "list", web_root, e))?
            .path();
        let Some(stem) = (wasm_path.file_name().and_then(|n| n.to_str()))
            .and_then(|n| n.strip_suffix("_bg.wasm"))
        else {
            continue;
        };
        let js_path = web_root.join(format!("{stem}.js"));
        if !js_path.is_file() {
            continue;
        }
        let read = |path: &Path| fs::read(path).map_err(|e| Refusal::io("build", "read", path, e));
        let (wasm, js) = (read(&wasm_path)?, read(&js_path)?);
        let js = String::from_utf8(js)
            .map_err(|e| Refusal::io("build", "read", &js_path, e.utf8_error()))?;
        let refused = |message: String| Refusal::new(wasm_path.display().to_string(), message);
        let names = short_names(&import_names(&wasm).map_err(|e| refused(e.to_string()))?);
        if names.is_empty() {
            continue;
        }
        let new_wasm = rename_imports(&wasm, &names).map_err(|e| refused(e.to_string()))?;
        let new_js = rename_keys(&js, &names).map_err(refused)?;
        for (path, old, new) in [
            (&wasm_path, wasm.as_slice(), new_wasm.as_slice()),
            (&js_path, js.as_bytes(), new_js.as_bytes()),
        ] {
            fs::write(path, new).map_err(|e| Refusal::io("build", "write", path, e))?;
            html = html.replace(&integrity(old), &integrity(new));
        }
        renamed.imports += names.len();
        renamed.before += wasm.len() + js.len();
        renamed.after += new_wasm.len() + new_js.len();
    }
    fs::write(&index, html).map_err(|e| Refusal::io("build", "write", &index, e))?;
    Ok(renamed)
}

/// The names of the wasm's imports, in order.
fn import_names(wasm: &[u8]) -> wasmparser::Result<Vec<String>> {
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
fn short_names(imports: &[String]) -> HashMap<String, String> {
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
fn rename_imports(wasm: &[u8], names: &HashMap<String, String>) -> Result<Vec<u8>, String> {
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
fn rename_keys(js: &str, names: &HashMap<String, String>) -> Result<String, String> {
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

/// The Subresource Integrity value of `data` as trunk writes it.
fn integrity(data: &[u8]) -> String {
    format!("sha384-{}", STANDARD.encode(Sha384::digest(data)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, CustomSection, ExportKind, ExportSection, Function, FunctionSection,
        Instruction, Module, TypeSection, ValType,
    };

    const LOG: &str = "__wbg_log_0123456789abcdef";
    const TABLE: &str = "__wbindgen_init_externref_table";

    /// A module importing two glue functions and one of its own, with a body calling the first,
    /// an export and a custom section.
    fn module(names: [&str; 3]) -> Vec<u8> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], []);
        types.ty().function([], []);
        module.section(&types);
        let mut imports = ImportSection::new();
        imports.import("./app_bg.js", names[0], EntityType::Function(0));
        imports.import("./app_bg.js", names[1], EntityType::Function(1));
        imports.import("./snippets/own.js", names[2], EntityType::Function(1));
        module.section(&imports);
        let mut functions = FunctionSection::new();
        functions.function(1);
        module.section(&functions);
        let mut exports = ExportSection::new();
        exports.export("__wbindgen_start", ExportKind::Func, 3);
        module.section(&exports);
        let mut code = CodeSection::new();
        let mut body = Function::new([]);
        body.instruction(&Instruction::I32Const(7));
        body.instruction(&Instruction::Call(0));
        body.instruction(&Instruction::End);
        code.function(&body);
        module.section(&code);
        module.section(&CustomSection {
            name: "producers".into(),
            data: b"kept as it is".into(),
        });
        module.finish()
    }

    fn glue(log: &str, table: &str) -> String {
        format!(
            "const import0 = {{ __proto__: null, {log}: function(a) {{ console.log(a); }}, \
             {table}: function() {{ wasm.__wbindgen_start(); }} }};"
        )
    }

    fn page(js: &[u8], wasm: &[u8]) -> String {
        format!(
            "<link href=/app-1.js integrity={} rel=modulepreload>\
             <link href=/app-1_bg.wasm integrity={} rel=preload>",
            integrity(js),
            integrity(wasm)
        )
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
    fn a_build_is_renamed_in_the_wasm_the_glue_and_the_integrity_hashes_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("glue-names-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let wasm = module([LOG, TABLE, "ownHelper"]);
        let js = glue(LOG, TABLE);
        fs::write(dir.join("app-1_bg.wasm"), &wasm).unwrap();
        fs::write(dir.join("app-1.js"), &js).unwrap();
        fs::write(dir.join("index.html"), page(js.as_bytes(), &wasm)).unwrap();

        let renamed = shorten(&dir).unwrap();

        let new_wasm = fs::read(dir.join("app-1_bg.wasm")).unwrap();
        let new_js = fs::read_to_string(dir.join("app-1.js")).unwrap();
        assert_eq!(
            new_wasm,
            module(["a", "b", "ownHelper"]),
            "only the names change"
        );
        assert_eq!(new_js, glue("a", "b"));
        assert_eq!(
            fs::read_to_string(dir.join("index.html")).unwrap(),
            page(new_js.as_bytes(), &new_wasm)
        );
        assert_eq!(renamed.imports, 2);
        assert_eq!(
            renamed.before - renamed.after,
            2 * (LOG.len() + TABLE.len() - 2)
        );

        assert_eq!(
            shorten(&dir).unwrap().imports,
            0,
            "a second run changes nothing"
        );
        assert_eq!(fs::read(dir.join("app-1_bg.wasm")).unwrap(), new_wasm);
        fs::remove_dir_all(&dir).unwrap();
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
