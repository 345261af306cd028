//! `POST /twilio/chatbot`: the virtual agent. Ranks the customer's question against the
//! knowledge base compiled into this binary and queues the answer or the hand-off.

use shared::bot::Chatbot;
use shared::lambda::{environment, run_http, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let chatbot = &Chatbot::from_env(environment().await?).await?;
    run_http(move |request| async move { chatbot.handle(&request).await }).await
}
