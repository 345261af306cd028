//! The Flex Interactions API and TaskRouter emulation, driven over HTTP as the bridge drives it,
//! and the agent's side of a task (accept, reply, complete).

use crate::common::{send, Receiver, Twilio};
use sandbox::{Fault, Sandbox, SandboxError, Service};
use serde_json::{json, Value};

const WORKSPACE: &str = "WS0123456789abcdef0123456789abcdef";
const WORKFLOW: &str = "WW0123456789abcdef0123456789abcdef";
const FLEX_OUTBOUND: &str = "/twilio/flex-outbound";
const CHANNEL_UPDATED: &str = "/twilio/channel-updated";

/// A conversation with the customer and the bridge's two webhooks.
async fn conversation(twilio: &Twilio, receiver: &Receiver) -> String {
    let (status, conversation) = twilio
        .form("/v1/Conversations", &[("FriendlyName", "X @jordan_cust")])
        .await;
    assert_eq!(status, 201, "{conversation}");
    let sid = conversation["sid"].as_str().unwrap().to_owned();
    let base = format!("/v1/Conversations/{sid}");
    let (status, _) = twilio
        .form(
            &format!("{base}/Participants"),
            &[("Identity", "x-2900000001")],
        )
        .await;
    assert_eq!(status, 201);
    for (path, filters) in [
        (FLEX_OUTBOUND, &["onMessageAdded", "onParticipantAdded"][..]),
        (CHANNEL_UPDATED, &["onConversationStateUpdated"][..]),
    ] {
        let url = format!("{}{path}", receiver.url);
        let mut form = vec![("Target", "webhook"), ("Configuration.Url", url.as_str())];
        form.extend(filters.iter().map(|f| ("Configuration.Filters", *f)));
        let (status, body) = twilio.form(&format!("{base}/Webhooks"), &form).await;
        assert_eq!(status, 201, "{body}");
    }
    sid
}

fn channel(conversation_sid: &str) -> String {
    json!({
        "type": "chat",
        "initiated_by": "customer",
        "properties": {"media_channel_sid": conversation_sid},
    })
    .to_string()
}

fn routing(conversation_sid: &str, case_id: &str) -> String {
    json!({"properties": {
        "workspace_sid": WORKSPACE,
        "workflow_sid": WORKFLOW,
        "task_channel_unique_name": "chat",
        "attributes": {
            "from": "jordan_cust",
            "customerName": "Jordan",
            "customerAddress": "x-2900000001",
            "channelType": "custom",
            "customChannelType": "x",
            "conversationSid": conversation_sid,
            "caseId": case_id,
        },
    }})
    .to_string()
}

/// The bridge's handoff: `POST /v1/Interactions`.
async fn interaction(twilio: &Twilio, conversation_sid: &str, case_id: &str) -> (u16, Value) {
    let channel = channel(conversation_sid);
    let routing = routing(conversation_sid, case_id);
    twilio
        .form(
            "/v1/Interactions",
            &[("Channel", &channel), ("Routing", &routing)],
        )
        .await
}

async fn list_tasks(twilio: &Twilio, query: &[(&str, &str)]) -> (u16, Value) {
    let path = format!("/v1/Workspaces/{WORKSPACE}/Tasks");
    send(twilio.get(&path).query(query)).await
}

fn assert_twilio_error(status: u16, body: &Value, want_status: u16, want_code: u64) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"].as_u64(), Some(want_code), "{body}");
    assert_eq!(body["status"].as_u64(), Some(u64::from(want_status)));
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(body["more_info"].as_str().is_some());
}

fn is_sid(value: &Value, prefix: &str) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == 34 && s.starts_with(prefix))
}

async fn setup() -> (Receiver, Sandbox, Twilio) {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);
    (receiver, sandbox, twilio)
}

#[tokio::test]
async fn an_interaction_creates_a_task_with_the_attributes() {
    let (receiver, sandbox, twilio) = setup().await;
    let sid = conversation(&twilio, &receiver).await;

    let (status, body) = interaction(&twilio, &sid, "CS-1042").await;
    // 200, as the Flex spec and docs say (not 201).
    assert_eq!(status, 200, "{body}");
    assert!(is_sid(&body["sid"], "KD"));
    assert_eq!(body["channel"]["type"], "chat");
    assert!(is_sid(&body["channel"]["sid"], "UO"));
    assert_eq!(body["routing"]["reservation"], Value::Null);
    let task = &body["routing"]["properties"];
    assert!(is_sid(&task["sid"], "WT"));
    assert_eq!(task["assignment_status"], "pending");
    assert_eq!(task["workspace_sid"], WORKSPACE);
    assert_eq!(task["workflow_sid"], WORKFLOW);
    assert_eq!(task["task_channel_unique_name"], "chat");
    assert!(task["date_created"].is_u64());
    let attributes: Value = serde_json::from_str(task["attributes"].as_str().unwrap()).unwrap();
    assert_eq!(attributes["caseId"], "CS-1042");
    assert_eq!(attributes["flexInteractionSid"], body["sid"]);
    assert_eq!(body["interaction_context_sid"], Value::Null);
    assert_eq!(body["webhook_ttid"], Value::Null);
    let url = format!(
        "{}/v1/Interactions/{}",
        sandbox.url(),
        body["sid"].as_str().unwrap()
    );
    assert_eq!(body["url"], url.as_str());
    assert_eq!(body["links"]["channels"], format!("{url}/Channels"));

    let tasks = sandbox.tasks();
    assert_eq!(tasks.len(), 1);
    let view = &tasks[0];
    assert_eq!(view.sid, task["sid"].as_str().unwrap());
    assert_eq!(view.assignment_status, "pending");
    assert_eq!(view.conversation_sid, sid);
    assert_eq!(view.conversation_state.as_deref(), Some("active"));
    assert_eq!(view.task_channel_unique_name, "chat");
    assert_eq!(view.workspace_sid, WORKSPACE);
    assert!(view.agent.is_none());
    for (key, value) in [
        ("from", "jordan_cust"),
        ("customerName", "Jordan"),
        ("customerAddress", "x-2900000001"),
        ("channelType", "custom"),
        ("customChannelType", "x"),
        ("conversationSid", sid.as_str()),
        ("caseId", "CS-1042"),
        ("initiatedBy", "customer"),
        ("direction", "inbound"),
    ] {
        assert_eq!(view.attributes[key], value, "{key}");
    }
    assert_eq!(sandbox.tasks_for(&sid).len(), 1);
    assert!(
        receiver.requests().is_empty(),
        "creating a task fires no conversation webhook"
    );

    // Fetched back: the interaction, and the task with its attributes.
    let (status, fetched) = send(twilio.get(&format!(
        "/v1/Interactions/{}",
        body["sid"].as_str().unwrap()
    )))
    .await;
    assert_eq!((status, &fetched["sid"]), (200, &body["sid"]));
    let path = format!("/v1/Workspaces/{WORKSPACE}/Tasks/{}", view.sid);
    let (status, fetched) = send(twilio.get(&path)).await;
    assert_eq!(status, 200, "{fetched}");
    assert_eq!(fetched["sid"], view.sid.as_str());
    assert_eq!(fetched["assignment_status"], "pending");
    let attributes: Value = serde_json::from_str(fetched["attributes"].as_str().unwrap()).unwrap();
    assert_eq!(attributes["conversationSid"], sid.as_str());
    assert_eq!(fetched["url"], format!("{}{path}", sandbox.url()));

    // The optional fields are echoed.
    let (status, body) = twilio
        .form(
            "/v1/Interactions",
            &[
                ("Channel", &channel(&sid)),
                ("Routing", &routing(&sid, "CS-1043")),
                (
                    "InteractionContextSid",
                    "HQ0123456789abcdef0123456789abcdef",
                ),
                (
                    "WebhookTtid",
                    "flex_interactionwebhook_00000000000000000000000000",
                ),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["interaction_context_sid"],
        "HQ0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        body["webhook_ttid"],
        "flex_interactionwebhook_00000000000000000000000000"
    );
    assert_eq!(sandbox.tasks().len(), 2, "each interaction is a new task");
}

#[tokio::test]
async fn interactions_refuse_what_flex_refuses() {
    let (receiver, sandbox, twilio) = setup().await;
    let sid = conversation(&twilio, &receiver).await;
    let good_channel = channel(&sid);
    let good_routing = routing(&sid, "CS-1");
    // `Routing` with `properties` changed: `key` set to `value`, or removed if `value` is null.
    let routing_with = |key: &str, value: Value| {
        let mut properties = json!({
            "workspace_sid": WORKSPACE,
            "workflow_sid": WORKFLOW,
            "task_channel_unique_name": "chat",
        });
        match value {
            Value::Null => properties.as_object_mut().unwrap().remove(key),
            value => properties
                .as_object_mut()
                .unwrap()
                .insert(key.into(), value),
        };
        json!({ "properties": properties }).to_string()
    };
    let refused = |form: Vec<(&'static str, String)>, mentioned: &'static str| {
        let twilio = &twilio;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, body) = twilio.form("/v1/Interactions", &form).await;
            assert_twilio_error(status, &body, 400, 20001);
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(mentioned), "{form:?}: {message}");
        }
    };
    let with_channel =
        |channel: String| vec![("Channel", channel), ("Routing", good_routing.clone())];
    let with_routing =
        |routing: String| vec![("Channel", good_channel.clone()), ("Routing", routing)];

    let mut unknown_field = with_routing(good_routing.clone());
    unknown_field.push(("Colour", "red".into()));
    refused(unknown_field, "Colour").await;
    let mut bad_context = with_routing(good_routing.clone());
    bad_context.push(("InteractionContextSid", "interaction_context_sid".into()));
    refused(bad_context, "InteractionContextSid").await;
    refused(vec![("Routing", good_routing.clone())], "Channel").await;
    refused(vec![("Channel", good_channel.clone())], "Routing").await;

    refused(with_channel("{type: chat".into()), "Channel").await;
    refused(with_channel("[]".into()), "Channel").await;
    let no_properties = json!({"type": "chat", "initiated_by": "customer"});
    refused(with_channel(no_properties.to_string()), "properties").await;
    let bad_type = json!({"type": "x-dm", "initiated_by": "customer",
        "properties": {"media_channel_sid": sid}});
    refused(with_channel(bad_type.to_string()), "type").await;
    refused(with_channel(channel("CH123")), "media_channel_sid").await;
    let unknown = channel("CH00000000000000000000000000000000");
    refused(with_channel(unknown), "media_channel_sid").await;

    refused(with_routing("\"chat\"".into()), "Routing").await;
    refused(with_routing("{}".into()), "properties").await;
    let bad_workspace = routing_with("workspace_sid", json!("WS123"));
    refused(with_routing(bad_workspace), "workspace_sid").await;
    let swapped = routing_with("workflow_sid", json!(WORKSPACE));
    refused(with_routing(swapped), "workflow_sid").await;
    let no_workflow = routing_with("workflow_sid", Value::Null);
    refused(with_routing(no_workflow), "workflow_sid").await;
    let no_task_channel = routing_with("task_channel_unique_name", Value::Null);
    refused(with_routing(no_task_channel), "task_channel_unique_name").await;
    let unknown_task_channel = routing_with("task_channel_unique_name", json!("x-dm"));
    refused(with_routing(unknown_task_channel), "x-dm").await;
    let string_attributes = routing_with("attributes", json!("{\"a\":1}"));
    refused(with_routing(string_attributes), "attributes").await;

    // JSON is not what Twilio takes; GET is not a method this path takes.
    let json_body = json!({"Channel": good_channel, "Routing": good_routing});
    let (status, body) = send(twilio.post("/v1/Interactions").json(&json_body)).await;
    assert_twilio_error(status, &body, 400, 20001);
    let (status, body) = send(twilio.get("/v1/Interactions")).await;
    assert_twilio_error(status, &body, 405, 20004);

    // Bad auth.
    let http = flex_bridge::http::http_client();
    let form = [
        ("Channel", good_channel.as_str()),
        ("Routing", good_routing.as_str()),
    ];
    let url = format!("{}/v1/Interactions", sandbox.url());
    let (status, body) = send(http.post(&url).form(&form)).await;
    assert_twilio_error(status, &body, 401, 20003);
    let wrong = http
        .post(&url)
        .basic_auth(&sandbox.config().twilio_account_sid, Some("wrong"))
        .form(&form);
    assert_eq!(send(wrong).await.0, 401);

    // A closed conversation cannot be routed.
    sandbox.close(&sid).await.unwrap();
    let (status, body) = interaction(&twilio, &sid, "CS-1").await;
    assert_twilio_error(status, &body, 409, 50377);
    assert!(sandbox.tasks().is_empty());
}

#[tokio::test]
async fn taskrouter_finds_a_task_by_its_conversation() {
    let (receiver, sandbox, twilio) = setup().await;
    let first = conversation(&twilio, &receiver).await;
    let second = conversation(&twilio, &receiver).await;
    let (_, a) = interaction(&twilio, &first, "CS-1").await;
    let (_, b) = interaction(&twilio, &second, "CS-2").await;
    let task_a = a["routing"]["properties"]["sid"].as_str().unwrap();
    let task_b = b["routing"]["properties"]["sid"].as_str().unwrap();

    let sids = |page: &Value| -> Vec<String> {
        page["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["sid"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_conversation = format!("conversationSid == \"{first}\"");
    let (status, page) = list_tasks(&twilio, &[("EvaluateTaskAttributes", &by_conversation)]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(sids(&page), [task_a]);
    let found = &page["tasks"][0];
    assert_eq!(found["assignment_status"], "pending");
    assert_eq!(
        found["attributes"],
        Value::Null,
        "lists show no attributes (spec note)"
    );
    assert_eq!(found["workspace_sid"], WORKSPACE);
    assert_eq!(found["task_channel_unique_name"], "chat");
    assert_eq!(page["meta"]["key"], "tasks");
    assert_eq!(page["meta"]["page"], 0);
    assert!(
        page["meta"]["url"]
            .as_str()
            .unwrap()
            .contains("EvaluateTaskAttributes="),
        "{page}"
    );

    let quoted = format!("conversationSid == '{second}' AND caseId == \"CS-2\"");
    let (_, page) = list_tasks(&twilio, &[("EvaluateTaskAttributes", &quoted)]).await;
    assert_eq!(sids(&page), [task_b]);
    let (_, page) = list_tasks(&twilio, &[("EvaluateTaskAttributes", "caseId == \"CS-3\"")]).await;
    assert_eq!(page["tasks"], json!([]));
    let (_, page) = list_tasks(
        &twilio,
        &[
            ("EvaluateTaskAttributes", &by_conversation),
            ("AssignmentStatus", "pending,reserved,assigned,wrapping"),
        ],
    )
    .await;
    assert_eq!(sids(&page), [task_a]);
    let (_, page) = list_tasks(&twilio, &[("AssignmentStatus", "completed")]).await;
    assert_eq!(page["tasks"], json!([]));
    let (_, page) = list_tasks(
        &twilio,
        &[
            ("AssignmentStatus", "pending"),
            ("AssignmentStatus", "assigned"),
        ],
    )
    .await;
    assert_eq!(sids(&page), [task_a, task_b]);
    let (_, page) = list_tasks(
        &twilio,
        &[("Ordering", "DateCreated:desc"), ("PageSize", "1")],
    )
    .await;
    assert_eq!(page["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(page["meta"]["page_size"], 1);
    assert!(page["meta"]["next_page_url"].is_string());
    let (_, page) = list_tasks(
        &twilio,
        &[("WorkflowSid", WORKFLOW), ("TaskQueueName", "Everyone")],
    )
    .await;
    assert_eq!(page["tasks"].as_array().unwrap().len(), 2);

    // Another workspace has none of them; a malformed one is not a resource.
    let other = "/v1/Workspaces/WSffffffffffffffffffffffffffffffff/Tasks";
    let (status, page) = send(twilio.get(other)).await;
    assert_eq!((status, &page["tasks"]), (200, &json!([])));
    let (status, body) = send(twilio.get("/v1/Workspaces/WS1/Tasks")).await;
    assert_twilio_error(status, &body, 404, 20404);

    // What the sandbox cannot judge is refused, Twilio-shaped.
    for query in [
        [("EvaluateTaskAttributes", "skills HAS \"english\"")],
        [("EvaluateTaskAttributes", "conversationSid ==")],
        [("AssignmentStatus", "open")],
        [("Colour", "red")],
        [("PageSize", "1001")],
        [("Ordering", "Age:asc")],
    ] {
        let (status, body) = list_tasks(&twilio, &query).await;
        assert_twilio_error(status, &body, 400, 20001);
    }
    assert_eq!(sandbox.tasks().len(), 2);
}

#[tokio::test]
async fn accepting_replying_and_completing_a_task_fire_the_webhooks() {
    let (receiver, sandbox, twilio) = setup().await;
    let sid = conversation(&twilio, &receiver).await;
    let (_, created) = interaction(&twilio, &sid, "CS-7").await;
    let task_sid = created["routing"]["properties"]["sid"].as_str().unwrap();

    let accepted = sandbox
        .accept_task(task_sid, "sam_rivera", "Sam Rivera")
        .await
        .unwrap();
    assert_eq!(accepted.assignment_status, "assigned");
    let agent = accepted.agent.unwrap();
    assert_eq!(
        (agent.identity.as_str(), agent.friendly_name.as_str()),
        ("sam_rivera", "Sam Rivera")
    );
    let view = sandbox.conversation(&sid).unwrap();
    assert!(view.participants.iter().any(|p| p.identity == "sam_rivera"));
    let joined = receiver.requests().pop().unwrap();
    assert_eq!(joined.uri, FLEX_OUTBOUND);
    assert_signed(&sandbox, &receiver, &joined);
    assert_eq!(
        joined.param("EventType").as_deref(),
        Some("onParticipantAdded")
    );
    assert_eq!(joined.param("Identity").as_deref(), Some("sam_rivera"));
    let (_, page) = list_tasks(&twilio, &[("AssignmentStatus", "assigned")]).await;
    assert_eq!(page["tasks"][0]["sid"], task_sid);
    assert!(matches!(
        sandbox.accept_task(task_sid, "alex", "Alex").await,
        Err(SandboxError::TaskStatus { .. })
    ));

    let message_sid = sandbox.task_reply(task_sid, "Hi, Sam here").await.unwrap();
    let added = receiver.requests().pop().unwrap();
    assert_signed(&sandbox, &receiver, &added);
    assert_eq!(added.param("EventType").as_deref(), Some("onMessageAdded"));
    assert_eq!(added.param("Source").as_deref(), Some("SDK"));
    assert_eq!(added.param("Author").as_deref(), Some("sam_rivera"));
    assert_eq!(added.param("MessageSid"), Some(message_sid));

    let completed = sandbox.complete_task(task_sid).await.unwrap();
    assert_eq!(completed.assignment_status, "completed");
    assert_eq!(completed.conversation_state.as_deref(), Some("closed"));
    let closed = receiver.requests().pop().unwrap();
    assert_eq!(closed.uri, CHANNEL_UPDATED);
    assert_signed(&sandbox, &receiver, &closed);
    assert_eq!(
        closed.param("EventType").as_deref(),
        Some("onConversationStateUpdated")
    );
    assert_eq!(closed.param("StateTo").as_deref(), Some("closed"));
    assert_eq!(sandbox.conversation(&sid).unwrap().state, "closed");

    assert!(matches!(
        sandbox.complete_task(task_sid).await,
        Err(SandboxError::TaskStatus { .. })
    ));
    assert!(matches!(
        sandbox.task_reply(task_sid, "late").await,
        Err(SandboxError::TaskStatus { .. })
    ));
    let missing = "WT00000000000000000000000000000000";
    assert!(matches!(
        sandbox.accept_task(missing, "a", "A").await,
        Err(SandboxError::TaskNotFound(_))
    ));
}

#[tokio::test]
async fn a_refused_join_leaves_the_task_pending() {
    let (receiver, sandbox, twilio) = setup().await;
    let sid = conversation(&twilio, &receiver).await;
    let (_, created) = interaction(&twilio, &sid, "CS-8").await;
    let task_sid = created["routing"]["properties"]["sid"].as_str().unwrap();
    // The customer's identity is taken, so this agent cannot join.
    let refused = sandbox
        .accept_task(task_sid, "x-2900000001", "Impostor")
        .await;
    assert!(
        matches!(refused, Err(SandboxError::ParticipantExists { .. })),
        "{refused:?}"
    );
    let task = sandbox.task(task_sid).unwrap();
    assert_eq!(
        (task.assignment_status.as_str(), task.agent.is_none()),
        ("pending", true)
    );
    assert!(matches!(
        sandbox.task_reply(task_sid, "hi").await,
        Err(SandboxError::TaskStatus { .. })
    ));
}

#[tokio::test]
async fn control_routes_drive_a_task() {
    let (receiver, sandbox, twilio) = setup().await;
    let sid = conversation(&twilio, &receiver).await;
    interaction(&twilio, &sid, "CS-9").await;
    let http = flex_bridge::http::http_client();
    let base = format!("{}/sandbox/tasks", sandbox.url());

    let (status, tasks) = send(http.get(&base)).await;
    assert_eq!(status, 200);
    let task = &tasks[0];
    assert_eq!(task["assignment_status"], "pending");
    assert_eq!(
        task["attributes"]["caseId"], "CS-9",
        "attributes parsed: {task}"
    );
    assert_eq!(task["conversation_sid"], sid.as_str());
    assert_eq!(task["agent"], Value::Null);
    assert!(task["date_created"].as_str().unwrap().ends_with('Z'));
    let task_url = format!("{base}/{}", task["sid"].as_str().unwrap());

    let (status, body) = send(
        http.post(format!("{task_url}/reply"))
            .json(&json!({"body": "too early"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, accepted) = send(
        http.post(format!("{task_url}/accept"))
            .json(&json!({"agent": "Sam Rivera"})),
    )
    .await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["assignment_status"], "assigned");
    assert_eq!(
        accepted["agent"],
        json!({"identity": "sam_rivera", "friendly_name": "Sam Rivera"})
    );
    let (status, _) = send(
        http.post(format!("{task_url}/accept"))
            .json(&json!({"agent": "Alex", "identity": "alex@acme.com"})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, body) = send(
        http.post(format!("{task_url}/reply"))
            .json(&json!({"body": "Hello!"})),
    )
    .await;
    assert_eq!(status, 201);
    assert!(body["sid"].as_str().unwrap().starts_with("IM"));
    let (status, completed) = send(http.post(format!("{task_url}/complete"))).await;
    assert_eq!(status, 200);
    assert_eq!(completed["assignment_status"], "completed");
    assert_eq!(completed["conversation_state"], "closed");
    let (status, fetched) = send(http.get(&task_url)).await;
    assert_eq!((status, &fetched), (200, &completed));

    let events: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r.param("EventType").unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "onParticipantAdded",
            "onMessageAdded",
            "onConversationStateUpdated"
        ]
    );
    let (status, _) = send(http.get(format!("{base}/WT00000000000000000000000000000000"))).await;
    assert_eq!(status, 404);
    let (status, _) = send(
        http.post(format!("{base}/WT00000000000000000000000000000000/accept"))
            .json(&json!({"agent": "A"})),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn faults_can_target_interactions_and_strike_after_processing() {
    let (receiver, sandbox, twilio) = setup().await;
    let sid = conversation(&twilio, &receiver).await;
    sandbox.reset_counts();

    // A 500 aimed at the Interactions API leaves Conversations alone.
    sandbox.inject(Fault::new(Service::Twilio, 500).path_prefix("/v1/Interactions"));
    let (status, _) = send(twilio.get(&format!("/v1/Conversations/{sid}"))).await;
    assert_eq!(status, 200);
    let (status, body) = interaction(&twilio, &sid, "CS-1").await;
    assert_twilio_error(status, &body, 500, 20500);
    assert!(sandbox.tasks().is_empty(), "a plain fault applies nothing");
    let (status, _) = interaction(&twilio, &sid, "CS-1").await;
    assert_eq!(status, 200);
    assert_eq!(sandbox.tasks().len(), 1);

    // 500 after processing: the task exists though the answer was an error, and TaskRouter
    // finds it, so a careful client need not create a second one.
    let second = conversation(&twilio, &receiver).await;
    sandbox.inject(
        Fault::new(Service::Twilio, 500)
            .path_prefix("/v1/Interactions")
            .after_processing(),
    );
    let (status, body) = interaction(&twilio, &second, "CS-2").await;
    assert_twilio_error(status, &body, 500, 20500);
    assert_eq!(sandbox.tasks_for(&second).len(), 1);
    let query = format!("conversationSid == \"{second}\"");
    let (status, page) = list_tasks(&twilio, &[("EvaluateTaskAttributes", &query)]).await;
    assert_eq!(status, 200);
    assert_eq!(
        page["tasks"][0]["sid"],
        sandbox.tasks_for(&second)[0].sid.as_str()
    );

    // The same over the control route; a refused request keeps its own answer.
    let http = flex_bridge::http::http_client();
    let fault = json!({
        "service": "twilio",
        "status": 503,
        "path_prefix": "/v1/Interactions",
        "after_processing": true,
    });
    let (status, _) = send(
        http.post(format!("{}/sandbox/faults", sandbox.url()))
            .json(&fault),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = twilio.form("/v1/Interactions", &[("Channel", "{}")]).await;
    assert_twilio_error(status, &body, 400, 20001);
    let bad = json!({"service": "twilio", "status": 500, "path_prefix": "v1"});
    let (status, _) = send(
        http.post(format!("{}/sandbox/faults", sandbox.url()))
            .json(&bad),
    )
    .await;
    assert_eq!(status, 400);

    // TaskRouter calls are Twilio calls too: counted and faultable.
    sandbox.inject_fault(Service::Twilio, 429, 1, 2);
    let (status, body) = list_tasks(&twilio, &[]).await;
    assert_twilio_error(status, &body, 429, 20429);
    // 1 fetch, 3 interactions, 4 to set up the second conversation, 2 lists, the refused one.
    assert_eq!(sandbox.request_count(Service::Twilio), 11);
    assert_eq!(sandbox.tasks().len(), 2);
}

fn assert_signed(sandbox: &Sandbox, receiver: &Receiver, request: &crate::common::Captured) {
    let url = format!("{}{}", receiver.url, request.uri);
    assert!(
        flex_bridge::twilio::signature::verify(
            &sandbox.config().twilio_auth_token,
            &url,
            &request.body,
            request.header("x-twilio-signature"),
        ),
        "bad signature on {url}"
    );
}
