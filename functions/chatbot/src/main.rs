//! `POST /twilio/chatbot`: the virtual agent. Ranks the customer's question against the
//! knowledge base compiled into this binary and queues the answer or the hand-off.

use flex_bridge::bot::Chatbot;
use flex_bridge_lambda::{run_http, Aws, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    flex_bridge_lambda::telemetry::init_json();
    let aws = Aws::load().await;
    let chatbot = &Chatbot::from_env(aws.environment().await?, &aws)?;
    run_http(move |request| async move { chatbot.handle(&request).await }).await
}
