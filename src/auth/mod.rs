//! Identity: bearer tokens, the request's `Viewer` and `Actor`, the client address. Knows
//! nothing above it: the account behind a token is looked up by the caller's function.
pub mod client_ip;
pub mod jwt;
pub mod session;
pub mod viewer;

pub use viewer::{Actor, Member, Viewer};
