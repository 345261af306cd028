//! The in-memory `Store`: the local all-in-one server and unit tests. Same rules as DynamoDB,
//! with one mutex standing in for conditional writes.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::cases::{Case, CaseFilter, CaseId, CasePage, CaseUpdate, Satisfaction, TimelineEntry};
use crate::now_epoch;

#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<HashMap<String, Item>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Item>, i64) -> T) -> T {
        let mut items = self
            .items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut items, now_epoch())
    }
}

#[async_trait]
impl EventLog for MemoryStore {
    async fn claim_event(&self, key: &str, ttl_secs: i64) -> Result<bool, StoreError> {
        Ok(self.with(|items, now| {
            let pk = event_key(key);
            if items.get(&pk).is_some_and(|i| !i.is_expired(now)) {
                return false;
            }
            items.insert(
                pk.clone(),
                Item {
                    pk,
                    expires_at: Some(now + ttl_secs),
                    ..Item::default()
                },
            );
            true
        }))
    }

    async fn release_event(&self, key: &str) -> Result<(), StoreError> {
        self.with(|items, _| items.remove(&event_key(key)));
        Ok(())
    }

    async fn confirm_event(&self, key: &str, ttl_secs: i64) -> Result<(), StoreError> {
        self.with(|items, now| {
            let pk = event_key(key);
            items.insert(
                pk.clone(),
                Item {
                    pk,
                    expires_at: Some(now + ttl_secs),
                    ..Item::default()
                },
            );
        });
        Ok(())
    }

    async fn event_until(&self, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.with(|items, now| {
            items
                .get(&event_key(key))
                .filter(|i| !i.is_expired(now))
                .and_then(|i| i.expires_at)
        }))
    }
}

#[async_trait]
impl Customers for MemoryStore {
    async fn customer(&self, identity: &str) -> Result<CustomerSlot, StoreError> {
        Ok(self.with(|items, now| {
            items
                .get(&customer_key(identity))
                .cloned()
                .map_or(CustomerSlot::Empty, |item| item.slot(now))
        }))
    }

    async fn lease_customer(
        &self,
        identity: &str,
        owner: &str,
        lease_secs: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|items, now| {
            let pk = customer_key(identity);
            let item = items.entry(pk.clone()).or_insert_with(|| Item {
                pk,
                ..Item::default()
            });
            let free = item.clone().slot(now).is_free();
            if free {
                // An update, as in DynamoDB: a returning customer stays returning.
                item.lease_owner = Some(owner.into());
                item.lease_until = Some(now + lease_secs);
            }
            free
        }))
    }

    async fn release_lease(&self, identity: &str, owner: &str) -> Result<(), StoreError> {
        self.with(|items, _| {
            if let Some(item) = items.get_mut(&customer_key(identity)) {
                if item.customer.is_none() && item.lease_owner.as_deref() == Some(owner) {
                    item.lease_owner = None;
                    item.lease_until = None;
                }
            }
        });
        Ok(())
    }

    async fn open_conversation(
        &self,
        customer: &Customer,
        owner: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|items, _| {
            let pk = customer_key(&customer.identity);
            let held = items
                .get(&pk)
                .is_some_and(|i| i.customer.is_none() && i.lease_owner.as_deref() == Some(owner));
            if !held {
                return false;
            }
            let open = |pk: String| Item {
                pk,
                customer: Some(customer.clone()),
                ..Item::default()
            };
            items.insert(pk.clone(), open(pk));
            let reverse = conversation_key(&customer.conversation_sid);
            items.insert(reverse.clone(), open(reverse));
            true
        }))
    }

    async fn end_conversation(
        &self,
        conversation_sid: &str,
    ) -> Result<Option<Customer>, StoreError> {
        Ok(self.with(|items, _| {
            let customer = items
                .remove(&conversation_key(conversation_sid))
                .and_then(|i| i.customer)?;
            let still_in_it = items
                .get_mut(&customer_key(&customer.identity))
                .filter(|i| {
                    i.customer
                        .as_ref()
                        .is_some_and(|c| c.conversation_sid == conversation_sid)
                });
            if let Some(item) = still_in_it {
                // As DynamoDB's update: the customer goes, a question asked meanwhile stays.
                item.customer = None;
                item.returning = Some(true);
                item.ended_conversation = Some(conversation_sid.to_owned());
            }
            Some(customer)
        }))
    }

    async fn set_quick_replies(
        &self,
        customer: &Customer,
        labels: &[String],
    ) -> Result<(), StoreError> {
        self.with(|items, _| {
            if let Some(stored) = items
                .get_mut(&customer_key(&customer.identity))
                .and_then(|i| i.customer.as_mut())
                .filter(|c| c.conversation_sid == customer.conversation_sid)
            {
                stored.quick_replies = labels.to_vec();
            }
        });
        Ok(())
    }

    async fn ask_rating(
        &self,
        identity: &str,
        ended_sid: &str,
        case_id: &str,
        until: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|items, _| {
            let Some(item) = items.get_mut(&customer_key(identity)) else {
                return false;
            };
            let ours = match &item.customer {
                Some(open) => open.conversation_sid == ended_sid,
                None => item.ended_conversation.as_deref() == Some(ended_sid),
            };
            if ours {
                item.rating_asked = Some(RatingAsked {
                    case_id: case_id.to_owned(),
                    until,
                });
            }
            ours
        }))
    }
}

#[async_trait]
impl Conversations for MemoryStore {
    async fn conversation(&self, conversation_sid: &str) -> Result<Option<Customer>, StoreError> {
        Ok(self.with(|items, _| {
            items
                .get(&conversation_key(conversation_sid))
                .and_then(|i| i.customer.clone())
        }))
    }

    async fn bot_turn(
        &self,
        conversation_sid: &str,
    ) -> Result<Option<(Customer, BotState)>, StoreError> {
        Ok(self.with(|items, _| {
            let item = items.get(&conversation_key(conversation_sid))?;
            Some((item.customer.clone()?, item.bot.clone().unwrap_or_default()))
        }))
    }

    async fn save_bot_state(
        &self,
        conversation_sid: &str,
        state: &BotState,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|items, _| {
            let Some(item) = items
                .get_mut(&conversation_key(conversation_sid))
                .filter(|i| i.customer.is_some())
            else {
                return false;
            };
            let stored = item.bot.as_ref().map_or(0, |b| b.version);
            if stored + 1 != state.version {
                return false;
            }
            item.bot = Some(state.clone());
            true
        }))
    }
}

#[async_trait]
impl DmBudgets for MemoryStore {
    async fn dm_budget(&self) -> Result<Option<DmBudget>, StoreError> {
        Ok(self.with(|items, now| {
            items
                .get(DM_BUDGET_KEY)
                .filter(|i| !i.is_expired(now))
                .and_then(|i| i.dm_budget.clone())
        }))
    }

    async fn record_dm_budget(&self, budget: &DmBudget) -> Result<(), StoreError> {
        self.with(|items, _| {
            let item = items
                .entry(DM_BUDGET_KEY.to_owned())
                .or_insert_with(|| Item {
                    pk: DM_BUDGET_KEY.to_owned(),
                    ..Item::default()
                });
            if item
                .dm_budget
                .as_ref()
                .is_none_or(|stored| stored.observed_ms < budget.observed_ms)
            {
                item.dm_budget = Some(budget.clone());
                item.expires_at = Some(dm_budget_expiry(budget));
            }
        });
        Ok(())
    }
}

#[async_trait]
impl CaseStore for MemoryStore {
    async fn next_case_count(&self) -> Result<u64, StoreError> {
        Ok(self.with(|items, _| {
            let counter = items
                .entry(CASE_COUNTER_KEY.to_owned())
                .or_insert_with(|| Item {
                    pk: CASE_COUNTER_KEY.to_owned(),
                    ..Item::default()
                });
            let next = counter.counter.unwrap_or(0) + 1;
            counter.counter = Some(next);
            next
        }))
    }

    async fn case_for_source(&self, source: &str) -> Result<Option<Case>, StoreError> {
        Ok(self.with(|items, _| {
            let id = items.get(&case_source_key(source))?.case_id.clone()?;
            items.get(&case_key(&id))?.case.clone()
        }))
    }

    async fn insert_case(&self, source: &str, case: &Case) -> Result<bool, StoreError> {
        Ok(self.with(|items, _| {
            let marker = case_source_key(source);
            if items.contains_key(&marker) || items.contains_key(&case_key(&case.id)) {
                return false;
            }
            items.insert(
                marker.clone(),
                Item {
                    pk: marker,
                    case_id: Some(case.id.clone()),
                    ..Item::default()
                },
            );
            let item = Item::for_case(case);
            items.insert(item.pk.clone(), item);
            true
        }))
    }

    async fn case(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
        Ok(self.with(|items, _| items.get(&case_key(id)).and_then(|i| i.case.clone())))
    }

    async fn update_case(
        &self,
        id: &CaseId,
        update: &CaseUpdate,
    ) -> Result<Option<Case>, StoreError> {
        Ok(self.with(|items, _| {
            let case = items.get(&case_key(id))?.case.clone()?;
            if !update.from.is_empty() && !update.from.contains(&case.status) {
                return None;
            }
            let mut case = case;
            if let Some(to) = update.to {
                case.status = to;
            }
            case.updated_at = update.entry.at;
            case.timeline.push(update.entry.clone());
            case.conversations.extend(update.conversation.clone());
            let item = Item::for_case(&case);
            items.insert(item.pk.clone(), item);
            Some(case)
        }))
    }

    async fn set_satisfaction(
        &self,
        id: &CaseId,
        satisfaction: Satisfaction,
        entry: &TimelineEntry,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|items, _| {
            let Some(mut case) = items.get(&case_key(id)).and_then(|i| i.case.clone()) else {
                return false;
            };
            if case.satisfaction.is_some() {
                return false;
            }
            case.satisfaction = Some(satisfaction);
            case.timeline.push(entry.clone());
            let item = Item::for_case(&case);
            items.insert(item.pk.clone(), item);
            true
        }))
    }

    /// The page token is the number of the last case listed.
    async fn list_cases(
        &self,
        filter: &CaseFilter,
        page: Option<&str>,
        limit: usize,
    ) -> Result<CasePage, StoreError> {
        let below: u64 = page.and_then(|p| p.parse().ok()).unwrap_or(u64::MAX);
        let mut cases: Vec<Case> = self.with(|items, _| {
            items
                .values()
                .filter_map(|i| i.case.clone())
                .filter(|c| c.number() < below && filter.matches(c))
                .collect()
        });
        cases.sort_by_key(|c| std::cmp::Reverse(c.number()));
        let more = cases.len() > limit;
        cases.truncate(limit);
        let next = more
            .then(|| cases.last().map(|c| c.number().to_string()))
            .flatten();
        Ok(CasePage { cases, next })
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn memory_store_keeps_the_store_contract() {
        super::super::contract::run_all(&super::MemoryStore::new()).await;
    }
}
