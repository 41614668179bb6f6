//! Reusable pieces of the console, one per file.
pub mod confirm_dialog;
pub mod leave_guard;
pub mod regenerate_dialog;
pub mod relative_time;
pub mod scope_picker;
pub mod shell;
pub mod show_once;
pub mod spinner;
pub mod switch;
pub mod token_table;
pub mod usage_chart;
pub mod user_menu;

pub use confirm_dialog::ConfirmDialog;
pub use regenerate_dialog::{Regenerate, Regeneration};
pub use relative_time::RelativeTime;
pub use scope_picker::ScopePicker;
pub use shell::{Crumb, Shell};
pub use show_once::{Secret, ShowOnce};
pub use spinner::Spinner;
pub use switch::Switch;
pub use token_table::{TableSkeleton, TokenTable};
pub use user_menu::UserMenu;
