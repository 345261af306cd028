//! `flex-bridge-local`: the whole bridge on this machine, no cloud account. Serves every
//! function's handler, the sandbox playing Twilio, Flex, X and Discord, and the web console at
//! `http://127.0.0.1:3000/` (`PORT` overrides), where you are the customers and the agent.
//!
//! With `--demo` (`make demo`) it first plays two scripted conversations through the console (an
//! X customer and a Discord customer: the virtual agent answers, they ask for a person, a case
//! and a Flex task are opened, an agent takes over) and prints their transcript.
//!
//! With a `.env` in the repository root (real Twilio, X and Discord credentials and a tunnel's
//! URL as `PUBLIC_BASE_URL`; `.env.example` lists them), it serves the handlers built from it on
//! `127.0.0.1:PORT` instead, calling the real services, and prints the URLs to paste
//! ([`local::real`]). `FLEX_BRIDGE_SANDBOX=1` keeps the sandbox anyway.
//!
//! Logs go to a file, named at start (`FLEX_BRIDGE_LOG` overrides; `RUST_LOG` picks the level),
//! so the terminal stays readable.

use std::time::Duration;

use local::real::{self, Mode, RealBridge, RealConfig};
use local::{wait_for, Backend, LocalBridge, Options};

const CUSTOMER: &str = "2900000001";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo_mode = std::env::args().any(|a| a == "--demo");
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    // One file per port, so two runs side by side keep their own.
    let log_path = std::env::var_os("FLEX_BRIDGE_LOG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("flex-bridge-local-{port}.log")));
    let sandbox_var = std::env::var(real::SANDBOX_VAR).ok();
    let candidates = real::env_file_candidates();
    if let Mode::Real(env_file) = real::mode(sandbox_var.as_deref(), demo_mode, &candidates) {
        return run_real(&env_file, port, &log_path).await;
    }
    log_to(&log_path)?;
    let bridge = match LocalBridge::start(
        Backend::Memory,
        Options {
            port,
            ..Options::default()
        },
    )
    .await
    {
        Ok(bridge) => bridge,
        Err(err) => port_taken(port, &err),
    };
    if demo_mode {
        demo(&bridge).await?;
        discord_demo(&bridge).await?;
        println!();
    }
    println!("Flex Bridge console: {}/", bridge.url);
    println!(
        "  Be a customer on the left (X DMs or Discord /helpme), ask a question, then ask for \"an agent\"; answer as the agent on the right."
    );
    println!(
        "  API routes on the same address; sandbox (Twilio, Flex, X, Discord) at {}",
        bridge.sandbox.url()
    );
    println!("  Logs: {}   Ctrl-C to stop.", log_path.display());
    println!("  Real accounts instead: copy .env.example to .env and fill it (docs/deploy-and-configuration.md: Real accounts from your machine).");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Real accounts: the handlers built from `env_file`, the real services, no sandbox.
async fn run_real(
    env_file: &std::path::Path,
    port: u16,
    log_path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let config = real::read_dotenv(env_file).and_then(|vars| {
        RealConfig::from_map(vars).map_err(|err| format!("{}: {err}", env_file.display()))
    });
    let config = match config {
        Ok(config) => config,
        Err(problem) => {
            eprintln!("cannot start with real accounts: {problem}");
            eprintln!(
                "(.env.example says where each value is; FLEX_BRIDGE_SANDBOX=1 make run for the sandbox)"
            );
            std::process::exit(1);
        }
    };
    log_to(log_path)?;
    let bridge = match RealBridge::start(&config, port).await {
        Ok(bridge) => bridge,
        Err(err) => port_taken(port, &err),
    };
    print!("{}", config.banner(&bridge.url, env_file, log_path));
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Sends the logs to `path` (truncated), not the terminal.
fn log_to(path: &std::path::Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    Ok(())
}

/// Waits for the customer's X DMs to reach `count` and prints the new ones.
async fn x_dms(bridge: &LocalBridge, count: usize) -> Result<Vec<String>, String> {
    let dms = wait_for(WAIT, || {
        Some(bridge.sandbox.dms_to(CUSTOMER)).filter(|d| d.len() >= count)
    })
    .await
    .ok_or_else(|| {
        format!(
            "expected {count} X DMs, got {:?}",
            bridge.sandbox.dms_to(CUSTOMER)
        )
    })?;
    Ok(dms)
}

fn show(prefix: &str, text: &str) {
    let pad = " ".repeat(prefix.chars().count() + 3);
    println!("{prefix} « {}", text.replace('\n', &format!("\n{pad}")));
}

const WAIT: Duration = Duration::from_secs(10);

/// An X customer: the bot answers, then they ask for a person; a case and a Flex task are
/// opened, the agent accepts, answers with quick replies, and ends the chat.
async fn demo(bridge: &LocalBridge) -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = &bridge.sandbox;
    let console = &bridge.console;
    let who = "customer's X DMs";
    println!("customer (X @jordan_cust) » i forgot my pasword, how do i get back in?");
    console
        .x_dm(
            CUSTOMER,
            "jordan_cust",
            "i forgot my pasword, how do i get back in?",
        )
        .await;
    show(who, &x_dms(bridge, 1).await?[0]);
    println!("customer » it says my account is locked, can i talk to a human");
    console
        .x_dm(
            CUSTOMER,
            "jordan_cust",
            "it says my account is locked, can i talk to a human",
        )
        .await;
    show(who, &x_dms(bridge, 2).await?[1]);
    let task = wait_for(WAIT, || sandbox.tasks().into_iter().next())
        .await
        .ok_or("no Flex task was created")?;
    println!(
        "Flex: task {} in the queue (customer {}, case {}, conversation {})",
        task.sid, task.attributes["customerName"], task.attributes["caseId"], task.conversation_sid
    );
    sandbox
        .accept_task(&task.sid, "sam@acme.example", "Sam Rivera")
        .await?;
    sandbox
        .task_reply(&task.sid, "Hi, I'm Sam. I've unlocked it. Shall I also send a reset link? Options: Yes - by email, No - I'm in")
        .await?;
    for dm in &x_dms(bridge, 4).await?[2..] {
        show(who, dm);
    }
    println!("customer » 2");
    console.x_dm(CUSTOMER, "jordan_cust", "2").await;
    wait_for(WAIT, || {
        sandbox
            .conversation(&task.conversation_sid)
            .filter(|c| c.messages.iter().any(|m| m.body == "No"))
    })
    .await
    .ok_or("the answer did not reach Flex")?;
    sandbox.complete_task(&task.sid).await?;
    show(who, &x_dms(bridge, 5).await?[4]);

    println!("\nFlex transcript of {}:", task.conversation_sid);
    for m in sandbox
        .conversation(&task.conversation_sid)
        .map(|c| c.messages)
        .unwrap_or_default()
    {
        println!("  {}: {}", m.author, m.body.replace('\n', " / "));
    }
    Ok(())
}

/// A Discord customer: `/helpme`, the bot's answer with buttons, Talk to an agent, the agent.
async fn discord_demo(bridge: &LocalBridge) -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = &bridge.sandbox;
    let console = &bridge.console;
    let user = sandbox::DiscordUser {
        id: "800000000000000001".into(),
        username: "river".into(),
    };
    let who = "river's Discord DMs";
    println!("\ncustomer (Discord river) » /helpme question: the game crashes when i launch it");
    let reply = console
        .discord_command(
            &user,
            true,
            "helpme",
            &[("question", "the game crashes when i launch it")],
        )
        .await;
    let answer = wait_for(WAIT, || sandbox.discord_original(&reply.token))
        .await
        .ok_or("no ephemeral answer")?;
    println!("Discord (only river sees) « {answer}");
    let bot_answer = wait_for(WAIT, || {
        sandbox
            .discord_dms_to(&user.id)
            .into_iter()
            .find(|m| m.embeds.as_array().is_some_and(|e| !e.is_empty()))
    })
    .await
    .ok_or("no bot answer")?;
    let embed = &bot_answer.embeds[0];
    println!(
        "{who} « [embed] {}",
        embed["title"].as_str().unwrap_or_default()
    );
    for field in embed["fields"].as_array().into_iter().flatten() {
        println!(
            "{}   • {}",
            " ".repeat(who.len()),
            field["name"].as_str().unwrap_or_default()
        );
    }
    println!(
        "{}   [That helped] [Talk to an agent] [Reply]",
        " ".repeat(who.len())
    );
    println!("river clicks » Talk to an agent");
    console.discord_click(&user, &bot_answer.id, "agent").await;
    let task = wait_for(WAIT, || {
        sandbox
            .tasks()
            .into_iter()
            .find(|t| t.attributes["customChannelType"] == "discord")
    })
    .await
    .ok_or("no Flex task for river")?;
    println!(
        "Flex: task {} (case {})",
        task.sid, task.attributes["caseId"]
    );
    sandbox
        .accept_task(&task.sid, "ana@acme.example", "Ana Lopez")
        .await?;
    sandbox
        .task_reply(&task.sid, "Hi river, which graphics card do you have?")
        .await?;
    let dms = wait_for(WAIT, || {
        Some(sandbox.discord_dms_to(&user.id))
            .filter(|m| m.iter().any(|d| d.content.starts_with("Hi river")))
    })
    .await
    .ok_or("agent reply not delivered")?;
    for dm in dms.iter().filter(|d| !d.content.is_empty()) {
        show(who, &dm.content);
    }
    sandbox.complete_task(&task.sid).await?;
    Ok(())
}

/// Says the bridge could not listen on `port` and what to try, and exits.
fn port_taken(port: u16, err: &dyn std::fmt::Display) -> ! {
    eprintln!("could not start on 127.0.0.1:{port}: {err}");
    eprintln!(
        "(another program on that port? try PORT={} make run)",
        port + 1
    );
    std::process::exit(1);
}
