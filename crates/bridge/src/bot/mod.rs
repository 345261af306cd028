//! The virtual agent (`chatbot`, `POST /twilio/chatbot`): a conversation-scoped `onMessageAdded`
//! webhook on every new conversation when `ROUTING` is `bot` (or `agent`, where it only hands
//! off). It verifies the signature, dedupes by `MessageSid`, ranks the question against the
//! knowledge base compiled into it, keeps the conversation's bot state, and decides. It calls
//! no Twilio, X or Discord API: every effect goes as a job onto the conversation's FIFO lane
//! (the delivery queue), whose consumer performs it with retries and the DLQ. Twilio never
//! retries these webhooks, so the answer it gets must come fast and nothing may hang on it.

pub mod handoff;
pub mod intent;
pub mod replies;

use tracing::Instrument;

use std::sync::Arc;

use kb::Index;
use serde_json::Value;

use crate::cases::{self, CaseId, CaseKind, NewCase};
use crate::config::{PublicUrl, Secret};
use crate::flex::{is_customer_identity, verify_webhook};
use crate::idempotency::{Key, Once, Outcome};
use crate::queue::{OutboundJob, OutboundKind, Queue, Suggestion};
use crate::routing::{FlexTaskRouting, Routing};
use crate::store::{BotState, Customer, Store, StoreError};
use crate::twilio::events::Event;
use crate::web::{ApiError, WebRequest, WebResponse};

/// The route Twilio's chatbot webhook reaches (see template.yaml).
use crate::routes::CHATBOT_PATH;
/// Unconfident answers in a row after which the bot hands off.
pub const MISSES_BEFORE_HANDOFF: u8 = 2;
/// A `MessageSid` is claimed for a week at once (Twilio never retries these webhooks, so there
/// is no later try to let in; a failure lets it go).
const TURN_ONCE: Once = Once {
    claim_secs: 7 * 24 * 3600,
    keep_secs: 7 * 24 * 3600,
};
/// The transcript kept for the case: enough for context, bounded for the store.
const TRANSCRIPT_LINES: usize = 20;

pub struct Chatbot {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub auth_token: Secret,
    pub public_url: PublicUrl,
    /// `Bot` answers; `Agent` hands every new conversation off at its first message.
    pub routing: Routing,
    /// The `Author` of the bot's messages in the conversation, as agents see it.
    pub bot_name: String,
    pub index: &'static Index,
}

/// What the bot does with one customer message.
struct Turn {
    jobs: Vec<OutboundJob>,
    state: BotState,
}

impl Chatbot {
    /// `POST /twilio/chatbot`
    pub async fn handle(&self, request: &WebRequest) -> Result<WebResponse, ApiError> {
        let event = verify_webhook(request, CHATBOT_PATH, &self.auth_token, &self.public_url)?;
        let Event::MessageAdded {
            conversation_sid,
            message_sid,
            author,
            body,
            attributes,
            ..
        } = event
        else {
            return Ok(WebResponse::ignored("event not handled here"));
        };
        if !is_customer_identity(&author) {
            return Ok(WebResponse::ignored("not the customer"));
        }
        let span = tracing::info_span!("bot_turn", conversation_sid = %conversation_sid, message_sid = %message_sid);
        let seen = Key::BotTurn(&message_sid).to_string();
        let outcome = TURN_ONCE
            .run(self.store.as_ref(), &seen, || {
                self.turn(&conversation_sid, &message_sid, &body, &attributes)
            })
            .instrument(span)
            .await?;
        match outcome {
            Outcome::Done(response) => Ok(response),
            Outcome::AlreadyDone => Ok(WebResponse::ignored("duplicate")),
            Outcome::Failed(err) => Err(ApiError::unavailable(err)),
        }
    }

    async fn turn(
        &self,
        conversation_sid: &str,
        message_sid: &str,
        body: &str,
        attributes: &str,
    ) -> Result<WebResponse, TurnError> {
        let Some((customer, state)) = self.store.bot_turn(conversation_sid).await? else {
            return Ok(WebResponse::ignored("no open conversation"));
        };
        if state.handed_off {
            return Ok(WebResponse::ignored("with a person: the bot is silent"));
        }
        if marked(attributes, "public_post") {
            return Ok(WebResponse::ignored(
                "a public post: for the agent, not the bot",
            ));
        }
        let asked = marked(attributes, "agent_requested") || intent::asks_for_person(body);
        let turn = self
            .decide(&customer, state, message_sid, body, asked)
            .await?;
        // Queued before the state is saved: a failure after this point leaves the customer
        // answered, never a saved hand-off without its job. Each job's id is its FIFO
        // deduplication id, so queueing the same turn twice sends it once.
        for job in &turn.jobs {
            job.enqueue(self.queue.as_ref()).await?;
        }
        if !self
            .store
            .save_bot_state(conversation_sid, &turn.state)
            .await?
        {
            tracing::warn!("another turn of this conversation saved first");
        }
        tracing::info!(
            jobs = turn.jobs.len(),
            handed_off = turn.state.handed_off,
            misses = turn.state.misses,
            "bot turn decided"
        );
        Ok(WebResponse::ok())
    }

    async fn decide(
        &self,
        customer: &Customer,
        state: BotState,
        message_sid: &str,
        body: &str,
        asked: bool,
    ) -> Result<Turn, TurnError> {
        let mut state = BotState {
            version: state.version + 1,
            ..state
        };
        remember(&mut state, format!("Customer: {body}"));
        let flex = match &self.routing {
            Routing::Agent(flex) => return Ok(self.hand_off(customer, state, flex, None)),
            Routing::Bot(flex) => flex,
            Routing::Studio { .. } => {
                // A conversation from before a switch to Studio: its flow routes it.
                return Ok(Turn {
                    jobs: Vec::new(),
                    state,
                });
            }
        };
        if asked {
            let case_id = self.open_case(customer, &state).await?;
            return Ok(self.hand_off(customer, state, flex, Some(case_id)));
        }
        let ranking = self.index.rank(body, kb::MAX_SUGGESTIONS);
        let suggestions: Vec<Suggestion> = ranking
            .suggestions()
            .iter()
            .map(|hit| Suggestion {
                title: hit.article.title.to_string(),
                url: hit.article.url.as_deref().map(str::to_owned),
                snippet: hit.article.snippet.to_string(),
            })
            .collect();
        tracing::info!(
            confidence = ranking.confidence,
            suggested = suggestions.len(),
            "ranked"
        );
        if suggestions.is_empty() {
            state.misses += 1;
            if state.misses >= MISSES_BEFORE_HANDOFF {
                let case_id = self.open_case(customer, &state).await?;
                return Ok(self.hand_off(customer, state, flex, Some(case_id)));
            }
        } else {
            state.misses = 0;
        }
        let text = replies::answer_text(&suggestions);
        remember(&mut state, format!("{}: {text}", self.bot_name));
        let jobs = vec![
            self.job(
                customer,
                format!("bot-{message_sid}"),
                OutboundKind::BotAnswer { suggestions },
            ),
            self.transcript(customer, format!("bot-record-{message_sid}"), text),
        ];
        Ok(Turn { jobs, state })
    }

    /// A support case for the hand-off: the first question as its title, the bot transcript
    /// as its details. Filed once per conversation, however often the turn runs.
    async fn open_case(&self, customer: &Customer, state: &BotState) -> Result<CaseId, StoreError> {
        let first_question = state
            .transcript
            .iter()
            .find_map(|line| line.strip_prefix("Customer: "))
            .unwrap_or("Support request");
        let case = cases::file(
            self.store.as_ref(),
            &Key::HandoffCase(&customer.conversation_sid).to_string(),
            NewCase {
                kind: CaseKind::Support,
                title: first_question.chars().take(100).collect(),
                details: state.transcript.join("\n"),
                steps: None,
                reporter: customer.identity.clone(),
                conversation: Some(customer.conversation_sid.to_string()),
            },
        )
        .await?;
        tracing::info!(case_id = %case.id, "support case opened for the hand-off");
        Ok(case.id)
    }

    fn hand_off(
        &self,
        customer: &Customer,
        mut state: BotState,
        flex: &FlexTaskRouting,
        case_id: Option<CaseId>,
    ) -> Turn {
        state.handed_off = true;
        let sid = &customer.conversation_sid;
        let mut jobs = Vec::new();
        if let Some(case_id) = &case_id {
            let text = replies::handoff_text(case_id);
            remember(&mut state, format!("{}: {text}", self.bot_name));
            jobs.push(self.job(
                customer,
                format!("handoff-notice-{sid}"),
                OutboundKind::Notice { text: text.clone() },
            ));
            jobs.push(self.transcript(customer, format!("handoff-record-{sid}"), text));
        }
        jobs.push(self.job(
            customer,
            format!("handoff-{sid}"),
            OutboundKind::Handoff {
                routing: flex.clone(),
                case_id,
            },
        ));
        Turn { jobs, state }
    }

    fn job(&self, customer: &Customer, id: String, kind: OutboundKind) -> OutboundJob {
        OutboundJob {
            id,
            customer: customer.clone(),
            kind,
        }
    }

    fn transcript(&self, customer: &Customer, id: String, body: String) -> OutboundJob {
        self.job(
            customer,
            id,
            OutboundKind::Transcript {
                author: self.bot_name.clone(),
                body,
            },
        )
    }
}

fn remember(state: &mut BotState, line: String) {
    state.transcript.push(line);
    let excess = state.transcript.len().saturating_sub(TRANSCRIPT_LINES);
    state.transcript.drain(..excess);
}

/// Whether the bridge marked the message it posted (`agent_requested`: the Discord Talk to an
/// agent button; `public_post`: a public mention on X).
fn marked(attributes: &str, mark: &str) -> bool {
    serde_json::from_str::<Value>(attributes)
        .ok()
        .and_then(|a| a.get(mark).and_then(Value::as_bool))
        .unwrap_or(false)
}

#[derive(Debug, thiserror::Error)]
enum TurnError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
}
