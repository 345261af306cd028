//! State: which conversation a customer is in, in both directions, and dedupe records.
//!
//! One table, one string key `pk`, a TTL attribute `expires_at`:
//!
//! | pk | what |
//! | --- | --- |
//! | `CUSTOMER#<identity>` | the customer's open conversation (or a lease while one is being opened); after it, that they are returning and the case they were asked to rate |
//! | `CONVERSATION#<sid>` | the customer behind a conversation: one read for outbound delivery |
//! | `EVENT#<source>#<id>` | an event already handled (X event id, Twilio message SID, ...) |
//!
//! Every write two requests can race on is conditional. TTL deletion is lazy (and never happens
//! in moto), so reads treat an expired record as absent.

#[cfg(feature = "aws")]
mod dynamo;
#[cfg(any(test, feature = "aws", feature = "testing"))]
mod item;
#[cfg(any(test, feature = "testing"))]
mod memory;

#[cfg(feature = "aws")]
pub use dynamo::DynamoStore;
#[cfg(any(test, feature = "aws", feature = "testing"))]
pub(crate) use item::*;
#[cfg(any(test, feature = "testing"))]
pub use memory::MemoryStore;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::cases::{CaseId, CaseStore};
pub use crate::x::budget::DmBudget;
use flex_bridge_core::ids::ConversationSid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    X,
    Discord,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::X => "x",
            Platform::Discord => "discord",
        }
    }

    /// The Flex identity of a platform user (see [`CustomerIdentity`]).
    pub fn identity(self, user_id: &str) -> String {
        CustomerIdentity::new(self, user_id).to_string()
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Platform::X => "X",
            Platform::Discord => "Discord",
        }
    }
}

/// A customer's Flex identity, `x-<user id>` or `discord-<user id>`: no PII, no `:` or `@`
/// (Twilio's advice). The one way to write one and to read one back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerIdentity {
    pub platform: Platform,
    pub user_id: String,
}

impl CustomerIdentity {
    pub fn new(platform: Platform, user_id: impl Into<String>) -> Self {
        Self {
            platform,
            user_id: user_id.into(),
        }
    }
}

impl std::fmt::Display for CustomerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.platform.as_str(), self.user_id)
    }
}

/// A Flex identity that is not a customer's (an agent's, the bot's, a notice lane's).
#[derive(Debug, thiserror::Error)]
#[error("not a customer identity: {0:?}")]
pub struct NotACustomer(String);

impl std::str::FromStr for CustomerIdentity {
    type Err = NotACustomer;

    fn from_str(identity: &str) -> Result<Self, Self::Err> {
        let not = || NotACustomer(identity.to_owned());
        let (platform, user_id) = identity.split_once('-').ok_or_else(not)?;
        let platform = match platform {
            "x" => Platform::X,
            "discord" => Platform::Discord,
            _ => return Err(not()),
        };
        if user_id.is_empty() {
            return Err(not());
        }
        Ok(Self::new(platform, user_id))
    }
}

/// A customer in an open conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub identity: String,
    pub platform: Platform,
    /// Where replies go: the X user id, or the Discord DM channel id.
    pub address: String,
    pub conversation_sid: ConversationSid,
    #[serde(default)]
    pub handle: Option<String>,
    /// Labels of the quick replies last offered on X, so a reply of `2` can be read as label 2.
    #[serde(default)]
    pub quick_replies: Vec<String>,
}

/// The virtual agent's memory of one conversation, kept on the conversation's record so one
/// read gives the customer and the bot state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotState {
    /// Bumped by every save; a save only succeeds from the version it read.
    pub version: u32,
    /// The conversation went to a person: the bot stays silent.
    pub handed_off: bool,
    /// Unconfident answers in a row.
    pub misses: u8,
    /// The customer's questions and the bot's answers, oldest first (for the case).
    #[serde(default)]
    pub transcript: Vec<String>,
}

/// What the store knows about a customer's conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerSlot {
    Open(Customer),
    /// Another request holds the lease and is opening the conversation right now.
    Opening {
        lease_until: i64,
    },
    /// No open conversation, but the customer had one: the bridge knows them, so a conversation
    /// left open in Twilio by a lost record is not worth a look-up. `asked_to_rate`: the case
    /// their last chat filed, while "How did we do? 1–5" stands (a bare digit then rates it).
    Returning {
        asked_to_rate: Option<String>,
    },
    /// Never seen (or their record is gone).
    Empty,
}

impl CustomerSlot {
    /// Free to open a conversation.
    pub fn is_free(&self) -> bool {
        matches!(self, Self::Returning { .. } | Self::Empty)
    }

    /// The case a returning customer's bare digit rates, while the question stands.
    pub fn asked_to_rate(&self) -> Option<CaseId> {
        match self {
            Self::Returning { asked_to_rate } => asked_to_rate.as_deref()?.parse().ok(),
            _ => None,
        }
    }
}

pub use crate::store_error::StoreError;

/// What happened already: event ids claimed, confirmed and released (the idempotency records).
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Records an event id; `false` if it was already recorded (and has not expired).
    async fn claim_event(&self, key: &str, ttl_secs: i64) -> Result<bool, StoreError>;
    /// Forgets an event id, so a retry of an event we failed to handle is handled.
    async fn release_event(&self, key: &str) -> Result<(), StoreError>;
    /// Keeps a claimed event id for `ttl_secs` from now. Queue consumers claim for about one
    /// invocation (so a retry after a killed invocation is not taken for a duplicate), then
    /// confirm for days once the work is done.
    async fn confirm_event(&self, key: &str, ttl_secs: i64) -> Result<(), StoreError>;
    /// When the record of `key` (claimed or confirmed) lapses, in epoch seconds; `None` if
    /// there is none or it has lapsed. A read only: for marks that stand for a while (a Discord
    /// user whose DMs are closed) and are checked far more often than written.
    async fn event_until(&self, key: &str) -> Result<Option<i64>, StoreError>;
}

/// Customers and the opening and ending of their conversations (customer identity → conversation).
#[async_trait]
pub trait Customers: Send + Sync {
    async fn customer(&self, identity: &str) -> Result<CustomerSlot, StoreError>;
    /// Takes the right to open a conversation for `identity`; `false` if it is open or leased.
    async fn lease_customer(
        &self,
        identity: &str,
        owner: &str,
        lease_secs: i64,
    ) -> Result<bool, StoreError>;
    async fn release_lease(&self, identity: &str, owner: &str) -> Result<(), StoreError>;
    /// Turns the lease held by `owner` into the open conversation, and records the reverse
    /// look-up. `false`: the lease was lost (expired and taken), nothing written.
    async fn open_conversation(&self, customer: &Customer, owner: &str)
        -> Result<bool, StoreError>;
    /// Ends the mapping in both directions; returns the customer if it was open. Idempotent.
    async fn end_conversation(
        &self,
        conversation_sid: &str,
    ) -> Result<Option<Customer>, StoreError>;
    /// Asks the customer whose conversation `ended_sid` ended (or is ending: its close may be
    /// recorded after this) to rate `case_id` until `until` (epoch seconds). Kept on their
    /// record, so the read every DM makes finds it; the next conversation they open drops it (a
    /// digit is then an answer to the chat). `false`, nothing asked, when the customer has
    /// moved on to another conversation since.
    async fn ask_rating(
        &self,
        identity: &str,
        ended_sid: &str,
        case_id: &str,
        until: i64,
    ) -> Result<bool, StoreError>;
    /// Remembers the quick-reply labels last offered in this conversation.
    async fn set_quick_replies(
        &self,
        customer: &Customer,
        labels: &[String],
    ) -> Result<(), StoreError>;
}

/// Open conversations by SID (conversation → customer), with the bot's state.
#[async_trait]
pub trait Conversations: Send + Sync {
    /// The customer behind a conversation, while it is open.
    async fn conversation(&self, conversation_sid: &str) -> Result<Option<Customer>, StoreError>;
    /// The customer and the bot state of an open conversation, in one read.
    async fn bot_turn(
        &self,
        conversation_sid: &str,
    ) -> Result<Option<(Customer, BotState)>, StoreError>;
    /// Saves `state` if the stored state is still at `state.version - 1` and the conversation
    /// is open; `false` if another turn saved first or the conversation ended.
    async fn save_bot_state(
        &self,
        conversation_sid: &str,
        state: &BotState,
    ) -> Result<bool, StoreError>;
}

/// The brand's X DM budget as X last reported it.
#[async_trait]
pub trait DmBudgets: Send + Sync {
    /// The brand's X DM budget as X last reported it, shared by every Lambda.
    async fn dm_budget(&self) -> Result<Option<DmBudget>, StoreError>;
    /// Keeps `budget` unless a newer report (by `observed_ms`) is stored already: Lambdas
    /// sending at once each report what X told them, and the latest report wins.
    async fn record_dm_budget(&self, budget: &DmBudget) -> Result<(), StoreError>;
}

/// The whole store: every port above and [`CaseStore`]. Each piece of code asks for the narrowest
/// port it uses (`Once` takes an [`EventLog`]); a handler holds the whole.
pub trait Store: EventLog + Customers + Conversations + DmBudgets + CaseStore {}

impl<T: EventLog + Customers + Conversations + DmBudgets + CaseStore> Store for T {}

/// The behaviour every `Store` must have: run against memory in unit tests and against
/// DynamoDB (moto server) in `local/tests/suite/store_dynamodb.rs`.
#[doc(hidden)]
#[cfg(any(test, feature = "testing"))]
pub mod contract {
    use super::*;
    use crate::now_epoch;

    pub fn customer(identity: &str, sid: &str) -> Customer {
        Customer {
            identity: identity.into(),
            platform: Platform::X,
            address: "2900000001".into(),
            conversation_sid: sid.into(),
            handle: Some("@jordan".into()),
            quick_replies: vec![],
        }
    }

    const RETURNING: CustomerSlot = CustomerSlot::Returning {
        asked_to_rate: None,
    };

    pub async fn run_all(store: &dyn Store) {
        events_are_claimed_once(store).await;
        standing_events_are_read_until_they_lapse(store).await;
        leases_exclude_each_other_and_open(store).await;
        ending_is_idempotent_and_frees_the_customer(store).await;
        quick_replies_are_remembered(store).await;
        the_newest_dm_budget_report_is_kept(store).await;
        bot_state_saves_only_from_the_version_read(store).await;
        rating_questions_stand_until_they_lapse_or_a_chat_opens(store).await;
        crate::cases::contract::run_all(store).await;
    }

    async fn bot_state_saves_only_from_the_version_read(store: &dyn Store) {
        assert_eq!(store.bot_turn("CH5").await.unwrap(), None);
        assert!(store.lease_customer("x-5", "a", 30).await.unwrap());
        let c = customer("x-5", "CH5");
        assert!(store.open_conversation(&c, "a").await.unwrap());
        let (found, state) = store.bot_turn("CH5").await.unwrap().unwrap();
        assert_eq!((found, state.clone()), (c.clone(), BotState::default()));
        let next = BotState {
            version: 1,
            misses: 1,
            transcript: vec!["Customer: hi".into()],
            ..state
        };
        assert!(store.save_bot_state("CH5", &next).await.unwrap());
        assert!(
            !store.save_bot_state("CH5", &next).await.unwrap(),
            "a second save from version 0 loses"
        );
        let handed_off = BotState {
            version: 2,
            handed_off: true,
            ..next.clone()
        };
        assert!(store.save_bot_state("CH5", &handed_off).await.unwrap());
        assert_eq!(store.bot_turn("CH5").await.unwrap().unwrap().1, handed_off);
        assert_eq!(store.conversation("CH5").await.unwrap(), Some(c));
        store.end_conversation("CH5").await.unwrap();
        let late = BotState {
            version: 3,
            ..handed_off
        };
        assert!(!store.save_bot_state("CH5", &late).await.unwrap(), "ended");
        assert_eq!(store.bot_turn("CH5").await.unwrap(), None);
    }

    /// A customer whose conversation `sid` has ended (as closing a chat leaves them).
    pub async fn ended_chat(store: &dyn Store, identity: &str, sid: &str) {
        let owner = uuid::Uuid::new_v4().to_string();
        assert!(store.lease_customer(identity, &owner, 30).await.unwrap());
        assert!(store
            .open_conversation(&customer(identity, sid), &owner)
            .await
            .unwrap());
        store.end_conversation(sid).await.unwrap();
    }

    /// A customer whose chat just ended and who was asked to rate `case_id` until `until`.
    pub async fn asked_to_rate(store: &dyn Store, identity: &str, case_id: &str, until: i64) {
        let sid = format!("CH{}", uuid::Uuid::new_v4().simple());
        ended_chat(store, identity, &sid).await;
        assert!(store
            .ask_rating(identity, &sid, case_id, until)
            .await
            .unwrap());
    }

    async fn rating_questions_stand_until_they_lapse_or_a_chat_opens(store: &dyn Store) {
        let asked = |case: &str| CustomerSlot::Returning {
            asked_to_rate: Some(case.into()),
        };
        let in_an_hour = now_epoch() + 3600;
        // Asked after the chat ended: the customer's read finds it.
        ended_chat(store, "x-11", "CH11").await;
        assert!(store
            .ask_rating("x-11", "CH11", "CS-1", in_an_hour)
            .await
            .unwrap());
        assert_eq!(store.customer("x-11").await.unwrap(), asked("CS-1"));
        // A lease that is let go keeps it; the next conversation drops it.
        assert!(store.lease_customer("x-11", "b", 30).await.unwrap());
        store.release_lease("x-11", "b").await.unwrap();
        assert_eq!(store.customer("x-11").await.unwrap(), asked("CS-1"));
        ended_chat(store, "x-11", "CH12").await;
        assert_eq!(store.customer("x-11").await.unwrap(), RETURNING);
        // Asked before the close is recorded (delivery can run first): kept through it.
        assert!(store.lease_customer("x-11", "c", 30).await.unwrap());
        assert!(store
            .open_conversation(&customer("x-11", "CH13"), "c")
            .await
            .unwrap());
        assert!(store
            .ask_rating("x-11", "CH13", "CS-2", in_an_hour)
            .await
            .unwrap());
        store.end_conversation("CH13").await.unwrap();
        assert_eq!(store.customer("x-11").await.unwrap(), asked("CS-2"));
        // A late survey of an older conversation is not asked: while a newer one is open, nor
        // after it ended (it would replace that one's question).
        assert!(store.lease_customer("x-11", "d", 30).await.unwrap());
        assert!(store
            .open_conversation(&customer("x-11", "CH14"), "d")
            .await
            .unwrap());
        assert!(!store
            .ask_rating("x-11", "CH13", "CS-2", in_an_hour)
            .await
            .unwrap());
        store.end_conversation("CH14").await.unwrap();
        assert!(store
            .ask_rating("x-11", "CH14", "CS-3", in_an_hour)
            .await
            .unwrap());
        assert!(!store
            .ask_rating("x-11", "CH13", "CS-2", in_an_hour)
            .await
            .unwrap());
        assert_eq!(store.customer("x-11").await.unwrap(), asked("CS-3"));
        // Nor for a customer the bridge does not know; and a question lapses.
        assert!(!store
            .ask_rating("x-12", "CH15", "CS-4", in_an_hour)
            .await
            .unwrap());
        ended_chat(store, "x-12", "CH16").await;
        assert!(store
            .ask_rating("x-12", "CH16", "CS-4", now_epoch() - 1)
            .await
            .unwrap());
        assert_eq!(store.customer("x-12").await.unwrap(), RETURNING);
    }

    async fn events_are_claimed_once(store: &dyn Store) {
        assert!(store.claim_event("x#1", 60).await.unwrap());
        assert!(!store.claim_event("x#1", 60).await.unwrap());
        store.release_event("x#1").await.unwrap();
        assert!(store.claim_event("x#1", 60).await.unwrap());
        // An expired record no longer blocks (TTL deletion may lag, or never run in moto).
        assert!(store.claim_event("x#2", -1).await.unwrap());
        assert!(store.claim_event("x#2", 60).await.unwrap());
        // A short claim that lapses lets a retry in; a confirmed one keeps it out.
        assert!(store.claim_event("x#3", -1).await.unwrap());
        store.confirm_event("x#3", 60).await.unwrap();
        assert!(!store.claim_event("x#3", 60).await.unwrap());
    }

    async fn standing_events_are_read_until_they_lapse(store: &dyn Store) {
        assert_eq!(store.event_until("mark#1").await.unwrap(), None);
        let before = now_epoch();
        assert!(store.claim_event("mark#1", 3600).await.unwrap());
        let until = store
            .event_until("mark#1")
            .await
            .unwrap()
            .expect("standing");
        assert!(
            (before + 3600..=now_epoch() + 3600).contains(&until),
            "{until}"
        );
        // Reading does not claim: the record is still the first claim's.
        assert!(!store.claim_event("mark#1", 60).await.unwrap());
        assert_eq!(store.event_until("mark#1").await.unwrap(), Some(until));
        store.release_event("mark#1").await.unwrap();
        assert_eq!(store.event_until("mark#1").await.unwrap(), None);
        // A lapsed record reads as none (TTL deletion may lag, or never run in moto).
        assert!(store.claim_event("mark#2", -1).await.unwrap());
        assert_eq!(store.event_until("mark#2").await.unwrap(), None);
        store.confirm_event("mark#2", 60).await.unwrap();
        assert!(store.event_until("mark#2").await.unwrap().is_some());
    }

    async fn the_newest_dm_budget_report_is_kept(store: &dyn Store) {
        use crate::x::budget::Window;
        assert_eq!(store.dm_budget().await.unwrap(), None);
        let report = |remaining, observed_ms| DmBudget {
            short: Some(Window {
                limit: 200,
                remaining,
                reset: now_epoch() + 600,
            }),
            observed_ms,
            ..DmBudget::default()
        };
        store.record_dm_budget(&report(150, 2_000)).await.unwrap();
        assert_eq!(store.dm_budget().await.unwrap(), Some(report(150, 2_000)));
        // A slower Lambda's older report does not undo the newer one.
        store.record_dm_budget(&report(151, 1_000)).await.unwrap();
        assert_eq!(store.dm_budget().await.unwrap(), Some(report(150, 2_000)));
        let refused = report(149, 3_000).refused(now_epoch() + 30, 3_000);
        store.record_dm_budget(&refused).await.unwrap();
        assert_eq!(store.dm_budget().await.unwrap(), Some(refused));
    }

    async fn leases_exclude_each_other_and_open(store: &dyn Store) {
        assert_eq!(store.customer("x-1").await.unwrap(), CustomerSlot::Empty);
        assert!(store.lease_customer("x-1", "a", 30).await.unwrap());
        assert!(!store.lease_customer("x-1", "b", 30).await.unwrap());
        assert!(matches!(
            store.customer("x-1").await.unwrap(),
            CustomerSlot::Opening { .. }
        ));
        // Only the holder can open.
        assert!(!store
            .open_conversation(&customer("x-1", "CH1"), "b")
            .await
            .unwrap());
        assert!(store
            .open_conversation(&customer("x-1", "CH1"), "a")
            .await
            .unwrap());
        assert_eq!(
            store.customer("x-1").await.unwrap(),
            CustomerSlot::Open(customer("x-1", "CH1"))
        );
        assert_eq!(
            store.conversation("CH1").await.unwrap(),
            Some(customer("x-1", "CH1"))
        );
        assert!(!store.lease_customer("x-1", "c", 30).await.unwrap());
        // An expired lease can be taken over; a released one too.
        assert!(store.lease_customer("x-2", "a", -1).await.unwrap());
        assert!(store.lease_customer("x-2", "b", 30).await.unwrap());
        store.release_lease("x-2", "a").await.unwrap();
        assert!(!store.lease_customer("x-2", "c", 30).await.unwrap());
        store.release_lease("x-2", "b").await.unwrap();
        assert_eq!(store.customer("x-2").await.unwrap(), CustomerSlot::Empty);
    }

    async fn ending_is_idempotent_and_frees_the_customer(store: &dyn Store) {
        assert!(store.lease_customer("x-3", "a", 30).await.unwrap());
        assert!(store
            .open_conversation(&customer("x-3", "CH3"), "a")
            .await
            .unwrap());
        assert_eq!(
            store.end_conversation("CH3").await.unwrap(),
            Some(customer("x-3", "CH3"))
        );
        assert_eq!(store.end_conversation("CH3").await.unwrap(), None);
        // The customer is remembered as returning, through a lease that is released or lost.
        assert_eq!(store.customer("x-3").await.unwrap(), RETURNING);
        assert_eq!(store.conversation("CH3").await.unwrap(), None);
        assert!(store.lease_customer("x-3", "b", 30).await.unwrap());
        assert!(!store.lease_customer("x-3", "c", 30).await.unwrap());
        store.release_lease("x-3", "b").await.unwrap();
        assert_eq!(store.customer("x-3").await.unwrap(), RETURNING);
        assert!(store.lease_customer("x-3", "d", -1).await.unwrap());
        assert!(store.lease_customer("x-3", "e", 30).await.unwrap());
        assert!(!store
            .open_conversation(&customer("x-3", "CH5"), "d")
            .await
            .unwrap());
        assert!(store
            .open_conversation(&customer("x-3", "CH6"), "e")
            .await
            .unwrap());
        assert_eq!(
            store.customer("x-3").await.unwrap(),
            CustomerSlot::Open(customer("x-3", "CH6"))
        );
        assert_eq!(store.conversation("CH5").await.unwrap(), None);
    }

    async fn quick_replies_are_remembered(store: &dyn Store) {
        assert!(store.lease_customer("x-4", "a", 30).await.unwrap());
        let c = customer("x-4", "CH4");
        assert!(store.open_conversation(&c, "a").await.unwrap());
        let labels = vec!["Track".to_string(), "Refund".to_string()];
        store.set_quick_replies(&c, &labels).await.unwrap();
        match store.customer("x-4").await.unwrap() {
            CustomerSlot::Open(found) => assert_eq!(found.quick_replies, labels),
            other => panic!("{other:?}"),
        }
        // A stale conversation (ended since) does not resurrect the customer.
        store.end_conversation("CH4").await.unwrap();
        store.set_quick_replies(&c, &labels).await.unwrap();
        assert_eq!(store.customer("x-4").await.unwrap(), RETURNING);
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    #[test]
    fn identities_read_back_what_they_write() {
        for (platform, id) in [
            (Platform::X, "2900000001"),
            (Platform::Discord, "800000000000000002"),
        ] {
            let identity = CustomerIdentity::new(platform, id);
            assert_eq!(
                identity.to_string().parse::<CustomerIdentity>().unwrap(),
                identity
            );
            assert_eq!(platform.identity(id), identity.to_string());
        }
        assert_eq!(Platform::X.identity("1"), "x-1");
        for not in ["", "x-", "x", "sam@acme.example", "slack-1", "Flex Bridge"] {
            assert!(not.parse::<CustomerIdentity>().is_err(), "{not}");
        }
    }
}
