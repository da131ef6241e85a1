//! Precompressed copies of the build's text assets, made once at build time at the maximum
//! levels (gzip 9, brotli 11 with the largest window) and served by nginx's `gzip_static` and
//! `brotli_static` instead of compressing on every request at a faster, weaker level.

use crate::refusal::Refusal;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Extensions of the files worth compressing (text, and WebAssembly).
const COMPRESSIBLE: [&str; 10] = [
    "html",
    "js",
    "mjs",
    "css",
    "wasm",
    "svg",
    "json",
    "webmanifest",
    "txt",
    "xml",
];

/// Below this, the headers cost more than compression saves.
const MIN_SIZE: u64 = 256;

/// What was compressed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// Writes `<file>.gz` and `<file>.br` beside every compressible file under `root` (dot folders
/// and `config.json`, which the container writes at start-up elsewhere, left out). A copy that
/// would not be smaller is not written.
pub fn precompress(root: &Path) -> Result<Summary, Refusal> {
    let mut summary = Summary::default();
    for path in files(root)? {
        let compressible = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSIBLE.contains(&e));
        if !compressible || path.file_name().is_some_and(|n| n == "config.json") {
            continue;
        }
        let data = fs::read(&path).map_err(|e| Refusal::io("build", "read", &path, e))?;
        if (data.len() as u64) < MIN_SIZE {
            continue;
        }
        let gzip = gzip(&data).map_err(|e| Refusal::io("build", "compress", &path, e))?;
        let brotli = brotli(&data).map_err(|e| Refusal::io("build", "compress", &path, e))?;
        summary.files += 1;
        summary.raw += data.len() as u64;
        for (suffix, packed) in [("gz", gzip), ("br", brotli)] {
            let size = packed.len().min(data.len()) as u64;
            if suffix == "gz" {
                summary.gzip += size;
            } else {
                summary.brotli += size;
            }
            let mut target = path.clone().into_os_string();
            target.push(format!(".{suffix}"));
            let target = PathBuf::from(target);
            if packed.len() < data.len() {
                fs::write(&target, packed)
                    .map_err(|e| Refusal::io("build", "write", &target, e))?;
            }
        }
    }
    Ok(summary)
}

/// Every file under `root`, outside dot folders (trunk's `.stage`), in a stable order.
fn files(root: &Path) -> Result<Vec<PathBuf>, Refusal> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries =
            fs::read_dir(&folder).map_err(|e| Refusal::io("build", "read", &folder, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Refusal::io("build", "read", &folder, e))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| Refusal::io("build", "read", &path, e))?;
            if kind.is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
                folders.push(path);
            } else if kind.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data)?;
    encoder.finish()
}

fn brotli(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 24,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &data[..], &mut out, &params)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn copies_decompress_to_the_original_and_small_or_runtime_files_are_left_alone() {
        let dir =
            std::env::temp_dir().join(format!("gatehouse-precompress-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join(".stage")).unwrap();
        let text = "fn main() { println!(\"gatehouse\"); }\n".repeat(200);
        fs::write(dir.join("app-1a2b.js"), &text).unwrap();
        fs::write(dir.join("tiny.css"), "a{}").unwrap();
        fs::write(dir.join("config.json"), "{}".repeat(500)).unwrap();
        fs::write(dir.join("photo.png"), text.as_bytes()).unwrap();
        fs::write(dir.join(".stage/app.js"), &text).unwrap();

        let summary = precompress(&dir).unwrap();
        assert_eq!(summary.files, 1);
        assert!(
            summary.brotli < summary.gzip && summary.gzip < summary.raw,
            "{summary:?}"
        );

        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(fs::File::open(dir.join("app-1a2b.js.gz")).unwrap())
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, text);
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(
            &mut fs::File::open(dir.join("app-1a2b.js.br")).unwrap(),
            &mut unbrotli,
        )
        .unwrap();
        assert_eq!(unbrotli, text.as_bytes());
        for left in [
            "tiny.css.gz",
            "config.json.br",
            "photo.png.gz",
            ".stage/app.js.br",
        ] {
            assert!(!dir.join(left).exists(), "{left}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
