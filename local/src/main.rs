//! `flex-bridge-local`: the whole bridge on this machine, no cloud account. Runs a scripted
//! conversation (an X customer, a Flex agent) through the sandbox, then keeps serving so you can
//! drive it yourself with the sandbox's `/sandbox/...` routes.

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
    println!("Flex Bridge (all functions)  {}", bridge.url);
    println!("Sandbox (Twilio + X)         {}\n", bridge.sandbox.url());
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

async fn demo(bridge: &LocalBridge) -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = &bridge.sandbox;
    let wait = Duration::from_secs(10);
    println!("customer (X @jordan_cust) » Hi, my order A-1042 hasn't arrived");
    sandbox
        .customer_dm(
            CUSTOMER,
            "jordan_cust",
            "Hi, my order A-1042 hasn't arrived",
        )
        .await;
    let sid = wait_for(wait, || {
        sandbox.conversations().first().map(|c| c.sid.clone())
    })
    .await
    .ok_or("no conversation was opened")?;
    println!("Flex: conversation {sid} opened for x-{CUSTOMER}");

    sandbox
        .agent_joins(&sid, "sam@acme.example", "Sam Rivera")
        .await?;
    sandbox
        .agent_message(&sid, "sam@acme.example", "So sorry! Shall I send a replacement? Options: Resend - ship it today, Refund - money back")
        .await?;
    let dms = wait_for(wait, || {
        Some(sandbox.dms_to(CUSTOMER)).filter(|d| d.len() >= 2)
    })
    .await
    .ok_or("agent reply not delivered")?;
    for dm in &dms {
        println!(
            "customer's X DMs « {}",
            dm.replace('\n', "\n                  ")
        );
    }

    println!("customer » 1");
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "1").await;
    wait_for(wait, || {
        sandbox.conversation(&sid).filter(|c| c.messages.len() >= 3)
    })
    .await
    .ok_or("answer not posted")?;

    sandbox.close(&sid).await?;
    wait_for(wait, || {
        Some(sandbox.dms_to(CUSTOMER)).filter(|d| d.len() >= 3)
    })
    .await
    .ok_or("close notice not delivered")?;
    println!(
        "customer's X DMs « {}",
        sandbox.dms_to(CUSTOMER).last().cloned().unwrap_or_default()
    );

    println!("\nFlex transcript of {sid}:");
    for m in sandbox
        .conversation(&sid)
        .map(|c| c.messages)
        .unwrap_or_default()
    {
        println!("  [{}] {}: {}", m.source, m.author, m.body);
    }
    Ok(())
}

async fn discord_demo(bridge: &LocalBridge) -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = &bridge.sandbox;
    let wait = Duration::from_secs(10);
    let user = sandbox::DiscordUser {
        id: "800000000000000001".into(),
        username: "river".into(),
    };
    println!("\ncustomer (Discord river) » /helpme question: My invite link is broken");
    let reply = sandbox
        .discord_command(
            &user,
            true,
            "helpme",
            &[("question", "My invite link is broken")],
        )
        .await;
    let answer = wait_for(wait, || sandbox.discord_original(&reply.token))
        .await
        .ok_or("no ephemeral answer")?;
    println!("Discord (only river sees) « {answer}");
    let sid = wait_for(wait, || {
        sandbox
            .conversations()
            .into_iter()
            .find(|c| c.attributes.contains("discord"))
            .map(|c| c.sid)
    })
    .await
    .ok_or("no Discord conversation")?;
    sandbox
        .agent_message(
            &sid,
            "sam@acme.example",
            "Here's a fresh one: https://discord.gg/example",
        )
        .await?;
    let dms = wait_for(wait, || {
        Some(sandbox.discord_dms_to(&user.id)).filter(|m| m.len() >= 2)
    })
    .await
    .ok_or("agent reply not delivered")?;
    for dm in &dms {
        println!(
            "river's Discord DMs « {}",
            dm.content.replace('\n', "\n                      ")
        );
    }
    println!("(the agent's message carries Reply and Talk to an agent buttons)");
    sandbox.close(&sid).await?;
    Ok(())
}
