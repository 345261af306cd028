//! The sandbox's integration tests, in one binary (one link instead of one per file): each
//! emulated API against its spec, through real HTTP.

mod common;
mod discord;
mod flex;
mod media;
mod twilio;
mod x;
