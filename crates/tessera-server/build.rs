//! Rebuilds the server when the console's build output changes: `rust-embed` embeds
//! `dist/` (issue 18), and a rebuilt console has new file names cargo would not notice.
fn main() {
    println!("cargo:rerun-if-changed=../../dist");
}
