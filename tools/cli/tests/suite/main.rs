//! The operator CLI's integration tests, in one binary (one link instead of one per file): each
//! command against the sandbox, moto or a stand-in, as an operator runs it.

mod cases;
mod discord_register_commands;
mod dlq;
mod doctor;
mod doctor_stack;
mod kb;
mod x;
