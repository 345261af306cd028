//! `flex-bridge`, the operator CLI: one binary for the set-up chores and the knowledge base.
//! [`run`] is the whole program but printing to the terminal, so tests drive it directly.

pub mod discord;
pub mod kb;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use shared::config::Env;

#[derive(Debug, Parser)]
#[command(name = "flex-bridge", version, about = "Flex Bridge operator CLI")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The Discord app
    #[command(subcommand)]
    Discord(DiscordCommand),
    /// The virtual agent's knowledge base
    #[command(subcommand)]
    Kb(KbCommand),
}

#[derive(Debug, Subcommand)]
pub enum DiscordCommand {
    /// Make the app's global slash commands exactly /helpme, /reply, /bug and /new_feature (one
    /// bulk overwrite). Reads DISCORD_APPLICATION_ID (Developer Portal > General Information),
    /// DISCORD_BOT_TOKEN (Developer Portal > Bot) and optionally DISCORD_API_URL.
    RegisterCommands {
        /// Print the JSON that would be sent, and send nothing (needs no variables)
        #[arg(long, short = 'n')]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Rank the articles for a question and say whether the bot would answer
    Search {
        /// The question, as a customer would write it
        #[arg(required = true)]
        question: Vec<String>,
        /// How many articles to list
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// A folder of articles to index now, instead of the compiled-in base
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// For each question on standard input (one per line), print a JSON array of the top K
    /// article ids, ranked with no confidence cut-off, from a folder of articles indexed now
    Rank {
        /// The folder of articles (Markdown with front matter; synonyms.txt if present)
        #[arg(long)]
        dir: PathBuf,
        /// How many ids per question
        #[arg(long, default_value_t = 3)]
        top: usize,
    },
    /// Measure the ranking on labelled questions (`article-id<TAB>question`, `-` for none):
    /// hit@1, hit@3, MRR and the false-answer rate
    Eval {
        /// The labelled questions, e.g. knowledge-base/eval/questions.tsv
        #[arg(long)]
        questions: PathBuf,
        /// A folder of articles to index now, instead of the compiled-in base
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Also list every question the ranking got wrong
        #[arg(long, short)]
        verbose: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Discord(#[from] discord::Error),
    #[error(transparent)]
    Kb(#[from] kb::Error),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// Runs one command: reads `input` (standard input) where the command does, writes what it
/// prints to `out`.
pub async fn run(
    cli: Cli,
    env: Env,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match cli.command {
        Command::Discord(DiscordCommand::RegisterCommands { dry_run: true }) => {
            write!(out, "{}", discord::dry_run())?
        }
        Command::Discord(DiscordCommand::RegisterCommands { dry_run: false }) => {
            write!(out, "{}", discord::register(env).await?.report())?
        }
        Command::Kb(KbCommand::Search { question, top, dir }) => {
            kb::search(&question.join(" "), top, dir.as_deref(), out)?
        }
        Command::Kb(KbCommand::Rank { dir, top }) => kb::rank(&dir, top, input, out)?,
        Command::Kb(KbCommand::Eval {
            questions,
            dir,
            verbose,
        }) => kb::eval(&questions, dir.as_deref(), verbose, out)?,
    }
    Ok(())
}
