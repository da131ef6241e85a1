//! The wasm and its js glue prepared for serving: the imports between them renamed short
//! (`glue_names`), the glue minified (`js_minify`), and the two files' Subresource Integrity
//! hashes in `index.html` updated to match, so the browser still checks what it loads.

use crate::refusal::Refusal;
use crate::{glue_names, js_minify};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha384};
use std::fs;
use std::path::Path;

/// What was done to one build.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Imports renamed (none when the build was prepared already).
    pub imports: usize,
    /// Bytes of the wasm and the js before and after.
    pub before: usize,
    pub after: usize,
}

/// Prepares every `<name>_bg.wasm` beside its `<name>.js` in `web_root`. A build prepared
/// already (its imports short) is left as it is.
pub fn prepare(web_root: &Path) -> Result<Summary, Refusal> {
    let mut summary = Summary::default();
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
        let refused =
            |path: &Path, message: String| Refusal::new(path.display().to_string(), message);
        let imports =
            glue_names::import_names(&wasm).map_err(|e| refused(&wasm_path, e.to_string()))?;
        let names = glue_names::short_names(&imports);
        if names.is_empty() {
            continue;
        }
        let new_wasm =
            glue_names::rename_imports(&wasm, &names).map_err(|e| refused(&wasm_path, e))?;
        let new_js = glue_names::rename_keys(&js, &names)
            .and_then(|js| js_minify::minify(&js))
            .map_err(|e| refused(&js_path, e))?;
        for (path, old, new) in [
            (&wasm_path, wasm.as_slice(), new_wasm.as_slice()),
            (&js_path, js.as_bytes(), new_js.as_bytes()),
        ] {
            fs::write(path, new).map_err(|e| Refusal::io("build", "write", path, e))?;
            html = html.replace(&integrity(old), &integrity(new));
        }
        summary.imports += names.len();
        summary.before += wasm.len() + js.len();
        summary.after += new_wasm.len() + new_js.len();
    }
    fs::write(&index, html).map_err(|e| Refusal::io("build", "write", &index, e))?;
    Ok(summary)
}

/// The Subresource Integrity value of `data` as trunk writes it.
fn integrity(data: &[u8]) -> String {
    format!("sha384-{}", STANDARD.encode(Sha384::digest(data)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, CustomSection, EntityType, ExportKind, ExportSection, Function,
        FunctionSection, ImportSection, Instruction, Module, TypeSection, ValType,
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

    /// A glue in wasm-bindgen's shape: an import object, an export, whitespace to lose.
    fn glue() -> String {
        format!(
            "let wasm;\n\nfunction getImports() {{\n    const import0 = {{\n        __proto__: null,\n        \
             {LOG}: function(arg0) {{\n            console.log(arg0);\n        }},\n        \
             {TABLE}: function() {{\n            wasm.__wbindgen_start();\n        }},\n    }};\n    \
             return {{ __proto__: null, \"./app_bg.js\": import0 }};\n}}\n\n\
             export function initSync(module) {{\n    wasm = new WebAssembly.Instance(module, getImports()).exports;\n    \
             return wasm;\n}}\n\nexport {{ initSync as default }};\n"
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
    fn a_build_gets_short_names_a_minified_glue_and_matching_integrity_hashes() {
        let dir = std::env::temp_dir().join(format!("glue-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (wasm, js) = (module([LOG, TABLE, "ownHelper"]), glue());
        fs::write(dir.join("app-1_bg.wasm"), &wasm).unwrap();
        fs::write(dir.join("app-1.js"), &js).unwrap();
        fs::write(dir.join("index.html"), page(js.as_bytes(), &wasm)).unwrap();

        let summary = prepare(&dir).unwrap();

        let new_wasm = fs::read(dir.join("app-1_bg.wasm")).unwrap();
        let new_js = fs::read_to_string(dir.join("app-1.js")).unwrap();
        assert_eq!(
            new_wasm,
            module(["a", "b", "ownHelper"]),
            "only the names change"
        );
        for kept in [
            "a:",
            "b:",
            "\"./app_bg.js\"",
            "initSync",
            "default",
            "console.log",
        ] {
            assert!(new_js.contains(kept), "{kept} kept: {new_js}");
        }
        assert!(!new_js.contains(LOG) && !new_js.contains('\n'), "{new_js}");
        assert_eq!(
            fs::read_to_string(dir.join("index.html")).unwrap(),
            page(new_js.as_bytes(), &new_wasm)
        );
        assert_eq!(summary.imports, 2);
        assert!(summary.after < summary.before, "{summary:?}");

        assert_eq!(
            prepare(&dir).unwrap().imports,
            0,
            "a second run changes nothing"
        );
        assert_eq!(fs::read_to_string(dir.join("app-1.js")).unwrap(), new_js);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_glue_the_minifier_cannot_parse_stops_the_build_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("glue-broken-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let wasm = module([LOG, TABLE, "ownHelper"]);
        let js = format!("{} export const = ;", glue());
        fs::write(dir.join("app-1_bg.wasm"), &wasm).unwrap();
        fs::write(dir.join("app-1.js"), &js).unwrap();
        fs::write(dir.join("index.html"), page(js.as_bytes(), &wasm)).unwrap();
        let refusal = prepare(&dir).unwrap_err();
        assert!(refusal.subject.ends_with("app-1.js"), "{refusal}");
        assert!(
            refusal.message.starts_with("not a JavaScript module"),
            "{refusal}"
        );
        assert_eq!(
            fs::read(dir.join("app-1_bg.wasm")).unwrap(),
            wasm,
            "nothing written"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
