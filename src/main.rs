//! Entry point: installs the panic hook and starts the app.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    gatehouse::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("Gatehouse runs in the browser: build it with `trunk build` or run `scripts/dev`.");
}
