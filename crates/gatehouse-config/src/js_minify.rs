//! The js glue minified: parsed as an ES module, its dead code dropped, its local names shortened
//! and its whitespace removed by oxc. trunk's own minifier cannot parse wasm-bindgen's glue and
//! ships it as written.

use oxc_allocator::Allocator;
use oxc_codegen::{Codegen, CodegenOptions};
use oxc_minifier::{Minifier, MinifierOptions};
use oxc_parser::Parser;
use oxc_span::SourceType;

/// `module`, an ES module, minified; or why it cannot be parsed.
pub fn minify(module: &str) -> Result<String, String> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, module, SourceType::mjs()).parse();
    if let Some(error) = parsed.diagnostics.first() {
        return Err(format!("not a JavaScript module: {error}"));
    }
    let mut program = parsed.program;
    let minified = Minifier::new(MinifierOptions::default()).minify(&allocator, &mut program);
    let code = Codegen::new()
        .with_options(CodegenOptions::minify())
        .with_scoping(minified.scoping)
        .build(&program)
        .code;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_keeps_its_exports_and_property_names_and_loses_the_rest() {
        let module = "const unused = 1;\n\
                      function helper(longArgumentName) {\n    return longArgumentName + 1;\n}\n\
                      const imports = { __proto__: null, a: function(value) { return helper(value); } };\n\
                      export function initSync(module) { return imports.a(module); }\n\
                      export { initSync as default };\n";
        let minified = minify(module).unwrap();
        assert!(minified.len() < module.len() * 2 / 3, "{minified}");
        for kept in ["export", "initSync", "default", "__proto__", "a:"] {
            assert!(minified.contains(kept), "{kept} kept: {minified}");
        }
        for gone in ["unused", "longArgumentName", "\n    "] {
            assert!(!minified.contains(gone), "{gone} gone: {minified}");
        }
    }

    #[test]
    fn text_that_is_not_a_module_is_refused_with_the_parser_s_reason() {
        let error = minify("export const = ;").unwrap_err();
        assert!(error.starts_with("not a JavaScript module: "), "{error}");
    }
}
