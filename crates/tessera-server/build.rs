//! Rebuilds the server when the console's build output changes: `rust-embed` embeds
//! `dist/` (issue 18), and a rebuilt console has new file names cargo would not notice.
fn main() {
    // Made if missing (an empty one means "no console"): a watched path that does not
    // exist would make cargo rebuild the server on every run until the console is built.
    let _ = std::fs::create_dir_all("../../dist");
    println!("cargo:rerun-if-changed=../../dist");
}
