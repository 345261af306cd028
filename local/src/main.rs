//! `flex-bridge-local`: the whole bridge on this machine, no cloud account. Plays two scripted
//! conversations through the sandbox (an X customer and a Discord customer: the virtual agent
//! answers, they ask for a person, a case and a Flex task are opened, an agent takes over), then
//! keeps serving so you can drive it yourself with the sandbox's `/sandbox/...` routes.

use std::time::Duration;

use local::{wait_for, Backend, LocalBridge, Options};

const CUSTOMER: &str = "2900000001";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    shared::telemetry::init_text();
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let bridge = LocalBridge::start(
        Backend::Memory,
        Options {
            port,
            ..Options::default()
        },
    )
    .await?;
    println!("Flex Bridge (all functions)        {}", bridge.url);
    println!(
        "Sandbox (Twilio, Flex, X, Discord) {}\n",
        bridge.sandbox.url()
    );
    if !std::env::args().any(|a| a == "--no-demo") {
        demo(&bridge).await?;
        discord_demo(&bridge).await?;
    }
    let s = bridge.sandbox.url();
    println!("\nStill running. Try:");
    println!("  curl -s -XPOST {s}/sandbox/x/dm -H 'content-type: application/json' -d '{{\"sender_id\":\"42\",\"screen_name\":\"you\",\"text\":\"hello\"}}'");
    println!("  curl -s {s}/sandbox/conversations");
    println!("  curl -s -XPOST {s}/sandbox/conversations/<CH sid>/agent-messages -H 'content-type: application/json' -d '{{\"author\":\"sam\",\"body\":\"Hi! Options: Yes - please, No\"}}'");
    println!("  curl -s {s}/sandbox/x/dms/42");
    println!("  curl -s -XPOST {s}/sandbox/discord/command -H 'content-type: application/json' -d '{{\"user_id\":\"77\",\"username\":\"you\",\"in_guild\":true,\"name\":\"helpme\",\"options\":{{\"question\":\"hi\"}}}}'");
    println!("  curl -s {s}/sandbox/discord/dms/77");
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
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
    let who = "customer's X DMs";
    println!("customer (X @jordan_cust) » i forgot my pasword, how do i get back in?");
    sandbox
        .customer_dm(
            CUSTOMER,
            "jordan_cust",
            "i forgot my pasword, how do i get back in?",
        )
        .await;
    show(who, &x_dms(bridge, 1).await?[0]);
    println!("customer » it says my account is locked, can i talk to a human");
    sandbox
        .customer_dm(
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
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "2").await;
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
    let user = sandbox::DiscordUser {
        id: "800000000000000001".into(),
        username: "river".into(),
    };
    let who = "river's Discord DMs";
    println!("\ncustomer (Discord river) » /helpme question: the game crashes when i launch it");
    let reply = sandbox
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
    sandbox.discord_click(&user, &bot_answer.id, "agent").await;
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
