//! Opening a customer's conversation in Twilio: the calls it costs for a first-time and a
//! returning customer, and a set-up that overruns its deadline, against the sandbox.

use std::time::Duration;

use flex_bridge::config::{PublicUrl, Secret};
use flex_bridge::conversations::{
    BridgeError, ConversationSettings, Conversations, CustomerMessage,
};
use flex_bridge::routing::Routing;
use flex_bridge::store::{CustomerSlot, Platform};
use flex_bridge::twilio::{TwilioClient, TwilioConfig};
use local::test_secrets::{TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN};
use local::{Backend, LocalBridge, Options};
use sandbox::{Fault, Service};

const WAIT: Duration = Duration::from_secs(10);
const FLOW_SID: &str = "FW0123456789abcdef0123456789abcdef";

/// The bridge's conversations on the local bridge's store and sandbox. Studio routing, so the
/// only Twilio calls are the opening's and the message's (no bot answer follows).
async fn conversations(set_up_deadline: Duration) -> (LocalBridge, Conversations) {
    let bridge = LocalBridge::start(Backend::Memory, Options::default())
        .await
        .unwrap();
    let twilio = TwilioClient::new(
        flex_bridge::http::http_client(),
        TwilioConfig::at(
            &bridge.sandbox.url(),
            TWILIO_ACCOUNT_SID,
            Secret::new(TWILIO_AUTH_TOKEN),
        ),
    );
    let conversations = Conversations {
        store: bridge.store.clone(),
        twilio,
        settings: ConversationSettings {
            public_url: PublicUrl::new(bridge.url.clone()),
            routing: Routing::Studio {
                flow_sid: FLOW_SID.into(),
            },
            close_after: "PT24H".into(),
            set_up_deadline,
        },
        media: None,
    };
    (bridge, conversations)
}

fn message(user: &str, text: &str) -> CustomerMessage {
    CustomerMessage {
        platform: Platform::X,
        user_id: user.into(),
        address: user.into(),
        handle: Some("jordan_cust".into()),
        text: text.into(),
        event_id: format!("evt-{text}"),
        agent_requested: false,
        public_post: false,
        media_sid: None,
    }
}

#[tokio::test]
async fn a_returning_customer_costs_five_calls_a_new_one_six() {
    let (bridge, conversations) = conversations(Duration::from_secs(20)).await;
    let sandbox = &bridge.sandbox;

    sandbox.reset_counts();
    let first = conversations
        .post_from_customer(&message("2900000101", "hello"), None)
        .await
        .unwrap();
    // Look-up of a conversation left open, conversation with participant, 3 webhooks, message.
    assert_eq!(sandbox.request_count(Service::Twilio), 6);
    let opened = sandbox.conversation(&first).unwrap();
    assert_eq!(opened.participants.len(), 1);
    assert_eq!(opened.participants[0].identity, "x-2900000101");
    assert_eq!(opened.webhooks.len(), 3);
    assert_eq!(opened.messages.len(), 1);

    sandbox.close(&first).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !matches!(
        bridge.store.customer("x-2900000101").await.unwrap(),
        CustomerSlot::Returning { .. }
    ) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed conversation leaves a returning customer"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    sandbox.reset_counts();
    let second = conversations
        .post_from_customer(&message("2900000101", "me again"), None)
        .await
        .unwrap();
    assert_ne!(second, first);
    // Known to the store: no look-up in Twilio.
    assert_eq!(sandbox.request_count(Service::Twilio), 5);
    assert_eq!(sandbox.conversation(&second).unwrap().state, "active");
}

#[tokio::test]
async fn a_set_up_past_its_deadline_closes_the_conversation_it_created() {
    let (bridge, conversations) = conversations(Duration::from_millis(300)).await;
    let sandbox = &bridge.sandbox;
    // The first webhook is slower than the deadline.
    sandbox.inject(
        Fault::slow(Service::Twilio, Duration::from_millis(1500)).path_prefix("/v1/Conversations/"),
    );
    let err = conversations
        .post_from_customer(&message("2900000102", "hello"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, BridgeError::Deadline), "{err}");
    let made = sandbox.conversations();
    assert_eq!(made.len(), 1);
    assert_eq!(
        made[0].state, "closed",
        "what the late request created is closed"
    );
    assert_eq!(
        bridge.store.customer("x-2900000102").await.unwrap(),
        CustomerSlot::Empty,
        "the lease is released for the retry"
    );

    // The sender's retry opens one conversation, fully set up.
    let sid = conversations
        .post_from_customer(&message("2900000102", "hello"), None)
        .await
        .unwrap();
    let open: Vec<_> = sandbox
        .conversations()
        .into_iter()
        .filter(|c| c.state != "closed")
        .collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].sid, sid);
    assert_eq!(open[0].webhooks.len(), 3);
}

/// Twilio closed the conversation (its timer, or an agent) and the close webhook never reached
/// the bridge: the store still has it open. The next message opens a new conversation instead
/// of failing on the closed one forever.
#[tokio::test]
async fn a_conversation_closed_without_its_webhook_is_replaced_by_the_next_message() {
    let (bridge, conversations) = conversations(Duration::from_secs(20)).await;
    let sandbox = &bridge.sandbox;
    let first = conversations
        .post_from_customer(&message("2900000103", "hello"), None)
        .await
        .unwrap();
    // Closed through the REST API without X-Twilio-Webhook-Enabled: no webhook fires.
    conversations
        .twilio
        .set_state(&first, "closed")
        .await
        .unwrap();
    assert!(matches!(
        bridge.store.customer("x-2900000103").await.unwrap(),
        CustomerSlot::Open(_)
    ));

    let second = conversations
        .post_from_customer(&message("2900000103", "still there?"), None)
        .await
        .unwrap();
    assert_ne!(second, first);
    let opened = sandbox.conversation(&second).unwrap();
    assert_eq!(opened.state, "active");
    assert_eq!(opened.messages.len(), 1);
    assert_eq!(opened.messages[0].body, "still there?");
    match bridge.store.customer("x-2900000103").await.unwrap() {
        CustomerSlot::Open(customer) => assert_eq!(customer.conversation_sid, second),
        other => panic!("{other:?}"),
    }
}

/// Loses the answer of the first `TransactWriteItems` (DynamoDB applied it; the client sees a
/// 500 and retries), as a timeout after the commit would.
#[derive(Debug, Clone, Default)]
struct LoseFirstTransactAnswer(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl aws_smithy_runtime_api::client::interceptors::Intercept for LoseFirstTransactAnswer {
    fn name(&self) -> &'static str {
        "LoseFirstTransactAnswer"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        use aws_smithy_runtime_api::client::orchestrator::Metadata;
        let transact = cfg
            .load::<Metadata>()
            .is_some_and(|m| m.name() == "TransactWriteItems");
        if transact && !self.0.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let response = context.response_mut();
            *response.status_mut() = 500.try_into()?;
            *response.body_mut() = aws_smithy_types::body::SdkBody::from(
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"answer lost"}"#,
            );
        }
        Ok(())
    }
}

/// The write that opens the conversation went through but its answer was lost: the retry must
/// not be taken for a lost lease (which closed the conversation just opened, and the next
/// message opened a second one).
#[tokio::test]
async fn an_open_whose_answer_was_lost_keeps_its_conversation() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the tests with `make test` (it starts moto server)"
    );
    let (bridge, mut conversations) = conversations(Duration::from_secs(20)).await;
    let sdk = flex_bridge::sdk_http::aws_config().await;
    let table = format!(
        "lost-answer-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    flex_bridge::store::DynamoStore::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table)
        .await
        .unwrap();
    let lose = LoseFirstTransactAnswer::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .interceptor(lose.clone())
        .build();
    let store: std::sync::Arc<dyn flex_bridge::store::Store> = std::sync::Arc::new(
        flex_bridge::store::DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), table),
    );
    conversations.store = store.clone();

    let sid = conversations
        .post_from_customer(&message("2900000104", "hello"), None)
        .await
        .unwrap();
    assert!(
        lose.0.load(std::sync::atomic::Ordering::SeqCst),
        "the answer was lost"
    );
    let made = bridge.sandbox.conversations();
    assert_eq!(made.len(), 1, "one conversation: {made:#?}");
    assert_eq!(made[0].sid, sid);
    assert_eq!(made[0].state, "active");
    assert_eq!(made[0].messages.len(), 1);
    match store.customer("x-2900000104").await.unwrap() {
        CustomerSlot::Open(customer) => assert_eq!(customer.conversation_sid, sid),
        other => panic!("{other:?}"),
    }
}
