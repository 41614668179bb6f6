fn main() {
    leptos::mount::mount_to_body(tessera_console::App);
}
