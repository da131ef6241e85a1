//! One component per screen.

pub mod config_error;
pub mod home;
pub mod landing;
pub mod not_found;
pub mod view;
