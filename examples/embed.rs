//! Embedding registry-gen in another Rust tool: render the bundle for a
//! config in memory, look at it, and print the manifests as one YAML stream.
//!
//! Run with `cargo run -p registry-gen --example embed [CONFIG.yaml]`.

use registry_gen::{render, Config, Inputs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = match std::env::args().nth(1) {
        Some(path) => Config::from_yaml(&std::fs::read_to_string(path)?)?,
        None => Config::embedded_default(),
    };
    // The library reads no clock and no RNG of its own: the caller injects them.
    let mut inputs = Inputs::new(time::OffsetDateTime::now_utc());
    inputs.fill_missing(&config)?;
    let bundle = render(&config, &inputs)?;

    for (path, file) in bundle.files() {
        eprintln!("{:04o} {:>6} {path}", file.mode, file.contents.len());
    }
    for warning in bundle.warnings() {
        eprintln!("warning: {warning}");
    }
    print!("{}", bundle.manifest_stream());
    Ok(())
}
