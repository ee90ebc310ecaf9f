//! Identity: bearer tokens and the request's `Viewer`.
pub mod client_ip;
pub mod jwt;
pub mod viewer;

pub use viewer::{Member, Viewer};
