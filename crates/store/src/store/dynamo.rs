//! The DynamoDB `Store`. Each method is one DynamoDB request (two for `end_conversation`), and
//! every contended write carries a condition, so concurrent Lambdas cannot both win.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use super::*;
use crate::cases::{
    Case, CaseFilter, CaseId, CasePage, CaseStatus, CaseUpdate, Satisfaction, TimelineEntry,
};
use crate::now_epoch;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn error(err: impl std::fmt::Display) -> StoreError {
    StoreError(err.to_string())
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: String) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), AttributeValue::S(pk))])
}

/// A conditional write: `Ok(true)` if it went through, `Ok(false)` if its condition failed
/// (a lost race is an answer, not an error).
fn conditional<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) => {
            let code = err.as_service_error().and_then(|e| e.code());
            if matches!(
                code,
                Some("ConditionalCheckFailedException" | "TransactionCanceledException")
            ) {
                Ok(false)
            } else {
                Err(error(DisplayErrorContext(err)))
            }
        }
    }
}

fn to_item(item: &Item) -> Result<HashMap<String, AttributeValue>, StoreError> {
    serde_dynamo::to_item(item).map_err(error)
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Writes `item` whole, unconditionally (records only their own request writes).
    async fn put(&self, item: &Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(item)?))
            .send()
            .await
            .map_err(|e| error(e.into_service_error()))?;
        Ok(())
    }

    async fn get(&self, pk: String) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| error(e.into_service_error()))?;
        output
            .item
            .map(|item| serde_dynamo::from_item(item).map_err(error))
            .transpose()
    }
}

#[async_trait]
impl EventLog for DynamoStore {
    async fn claim_event(&self, event: &str, ttl_secs: i64) -> Result<bool, StoreError> {
        let now = now_epoch();
        let item = Item {
            pk: event_key(event),
            expires_at: Some(now + ttl_secs),
            ..Item::default()
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        conditional(result)
    }

    async fn release_event(&self, event: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(event_key(event))))
            .send()
            .await
            .map_err(|e| error(e.into_service_error()))?;
        Ok(())
    }

    async fn confirm_event(&self, event: &str, ttl_secs: i64) -> Result<(), StoreError> {
        self.put(&Item {
            pk: event_key(event),
            expires_at: Some(now_epoch() + ttl_secs),
            ..Item::default()
        })
        .await
    }

    async fn event_until(&self, event: &str) -> Result<Option<i64>, StoreError> {
        let now = now_epoch();
        Ok(self
            .get(event_key(event))
            .await?
            .filter(|item| !item.is_expired(now))
            .and_then(|item| item.expires_at))
    }
}

#[async_trait]
impl Customers for DynamoStore {
    async fn customer(&self, identity: &str) -> Result<CustomerSlot, StoreError> {
        let now = now_epoch();
        Ok(self
            .get(customer_key(identity))
            .await?
            .map_or(CustomerSlot::Empty, |item| item.slot(now)))
    }

    async fn lease_customer(
        &self,
        identity: &str,
        owner: &str,
        lease_secs: i64,
    ) -> Result<bool, StoreError> {
        let now = now_epoch();
        // An update, not a put: a returning customer stays returning.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(customer_key(identity))))
            .update_expression("SET lease_owner = :owner, lease_until = :until")
            .condition_expression(
                "attribute_not_exists(customer) AND (attribute_not_exists(lease_until) OR lease_until <= :now)",
            )
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":until", n(now + lease_secs))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        conditional(result)
    }

    async fn release_lease(&self, identity: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(customer_key(identity))))
            .update_expression("REMOVE lease_owner, lease_until")
            .condition_expression("lease_owner = :owner AND attribute_not_exists(customer)")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        // Not holding the lease (or the conversation moved on) leaves nothing to do.
        conditional(result).map(drop)
    }

    async fn open_conversation(
        &self,
        customer: &Customer,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let open = |pk: String| Item {
            pk,
            customer: Some(customer.clone()),
            ..Item::default()
        };
        let forward = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&open(customer_key(&customer.identity)))?))
            .condition_expression("lease_owner = :owner AND attribute_not_exists(customer)")
            .expression_attribute_values(":owner", s(owner))
            .build()
            .map_err(error)?;
        let reverse = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&open(conversation_key(
                &customer.conversation_sid,
            )))?))
            .build()
            .map_err(error)?;
        let result = self
            .client
            .transact_write_items()
            // Idempotent for 10 minutes: the SDK's retry of a write that went through (its
            // answer lost) succeeds instead of failing the lease's condition.
            .client_request_token(owner)
            .transact_items(TransactWriteItem::builder().put(forward).build())
            .transact_items(TransactWriteItem::builder().put(reverse).build())
            .send()
            .await;
        // Cancelled: the lease's condition failed (the only condition here).
        conditional(result)
    }

    async fn end_conversation(
        &self,
        conversation_sid: &str,
    ) -> Result<Option<Customer>, StoreError> {
        let old = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(conversation_key(conversation_sid))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| error(e.into_service_error()))?
            .attributes;
        let Some(customer) = old
            .map(|item| serde_dynamo::from_item::<_, Item>(item).map_err(error))
            .transpose()?
            .and_then(|item| item.customer)
        else {
            return Ok(None);
        };
        // The record stays, marked returning, so their next conversation skips the look-up
        // in Twilio.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(customer_key(&customer.identity))))
            // RETURNING is a reserved word in DynamoDB expressions.
            .update_expression(
                "REMOVE customer SET #returning = :returning, ended_conversation = :sid",
            )
            .condition_expression("customer.conversation_sid = :sid")
            .expression_attribute_names("#returning", "returning")
            .expression_attribute_values(":sid", s(conversation_sid))
            .expression_attribute_values(":returning", AttributeValue::Bool(true))
            .send()
            .await;
        // The customer may already be in a newer conversation: then only the reverse item goes.
        conditional(result).map(|_| Some(customer))
    }

    async fn set_quick_replies(
        &self,
        customer: &Customer,
        labels: &[String],
    ) -> Result<(), StoreError> {
        let list = AttributeValue::L(labels.iter().map(|l| s(l)).collect());
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(customer_key(&customer.identity))))
            .update_expression("SET customer.quick_replies = :labels")
            .condition_expression("customer.conversation_sid = :sid")
            .expression_attribute_values(":labels", list)
            .expression_attribute_values(":sid", s(&customer.conversation_sid))
            .send()
            .await;
        // Not holding the lease (or the conversation moved on) leaves nothing to do.
        conditional(result).map(drop)
    }

    async fn ask_rating(
        &self,
        identity: &str,
        ended_sid: &str,
        case_id: &str,
        until: i64,
    ) -> Result<bool, StoreError> {
        let asked = RatingAsked {
            case_id: case_id.to_owned(),
            until,
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(customer_key(identity))))
            .update_expression("SET #asked = :asked")
            .condition_expression(
                "customer.conversation_sid = :sid OR (attribute_not_exists(customer) AND ended_conversation = :sid)",
            )
            .expression_attribute_names("#asked", "rating_asked")
            .expression_attribute_values(":sid", s(ended_sid))
            .expression_attribute_values(
                ":asked",
                serde_dynamo::to_attribute_value(asked).map_err(error)?,
            )
            .send()
            .await;
        // Refused: the customer has moved on to a newer conversation.
        conditional(result)
    }
}

#[async_trait]
impl Conversations for DynamoStore {
    async fn conversation(&self, conversation_sid: &str) -> Result<Option<Customer>, StoreError> {
        Ok(self
            .get(conversation_key(conversation_sid))
            .await?
            .and_then(|item| item.customer))
    }

    async fn bot_turn(
        &self,
        conversation_sid: &str,
    ) -> Result<Option<(Customer, BotState)>, StoreError> {
        Ok(self
            .get(conversation_key(conversation_sid))
            .await?
            .and_then(|item| Some((item.customer?, item.bot.unwrap_or_default()))))
    }

    async fn save_bot_state(
        &self,
        conversation_sid: &str,
        state: &BotState,
    ) -> Result<bool, StoreError> {
        let value = serde_dynamo::to_attribute_value(state).map_err(error)?;
        let previous = state.version.saturating_sub(1);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(conversation_key(conversation_sid))))
            .update_expression("SET bot = :state")
            .expression_attribute_values(":state", value);
        update = if previous == 0 {
            update.condition_expression("attribute_exists(customer) AND attribute_not_exists(bot)")
        } else {
            update
                .condition_expression("attribute_exists(customer) AND bot.version = :previous")
                .expression_attribute_values(":previous", n(i64::from(previous)))
        };
        conditional(update.send().await)
    }
}

#[async_trait]
impl DmBudgets for DynamoStore {
    async fn dm_budget(&self) -> Result<Option<DmBudget>, StoreError> {
        let now = now_epoch();
        Ok(self
            .get(DM_BUDGET_KEY.to_owned())
            .await?
            .filter(|item| !item.is_expired(now))
            .and_then(|item| item.dm_budget))
    }

    async fn record_dm_budget(&self, budget: &DmBudget) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(DM_BUDGET_KEY.to_owned())))
            .update_expression("SET dm_budget = :budget, expires_at = :expires")
            .condition_expression(
                "attribute_not_exists(dm_budget) OR dm_budget.observed_ms < :observed",
            )
            .expression_attribute_values(
                ":budget",
                serde_dynamo::to_attribute_value(budget).map_err(error)?,
            )
            .expression_attribute_values(":expires", n(dm_budget_expiry(budget)))
            .expression_attribute_values(":observed", n(budget.observed_ms))
            .send()
            .await;
        // A newer report is there already: it stands.
        conditional(result).map(drop)
    }
}

/// The indexes that list cases without a scan (see template.yaml): one customer's cases, and
/// cases by status; both sorted by case number, newest first.
pub const CASES_BY_REPORTER: &str = "by_reporter";
pub const CASES_BY_STATUS: &str = "by_status";

/// A listing's position: which status partition (for `by_status`), and DynamoDB's last key.
#[derive(serde::Serialize, serde::Deserialize)]
struct PageToken {
    partition: usize,
    last: HashMap<String, (String, String)>,
}

fn encode_token(partition: usize, last: &HashMap<String, AttributeValue>) -> String {
    use base64::Engine as _;
    let last = last
        .iter()
        .filter_map(|(k, v)| match v {
            AttributeValue::S(s) => Some((k.clone(), ("S".to_owned(), s.clone()))),
            AttributeValue::N(n) => Some((k.clone(), ("N".to_owned(), n.clone()))),
            _ => None,
        })
        .collect();
    let json = serde_json::to_vec(&PageToken { partition, last }).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_token(token: &str) -> Result<(usize, HashMap<String, AttributeValue>), StoreError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| StoreError("not a page token of this listing".into()))?;
    let token: PageToken = serde_json::from_slice(&bytes)
        .map_err(|_| StoreError("not a page token of this listing".into()))?;
    let last = token
        .last
        .into_iter()
        .map(|(k, (t, v))| {
            let value = if t == "N" {
                AttributeValue::N(v)
            } else {
                AttributeValue::S(v)
            };
            (k, value)
        })
        .collect();
    Ok((token.partition, last))
}

fn to_case(item: HashMap<String, AttributeValue>) -> Result<Option<Case>, StoreError> {
    Ok(serde_dynamo::from_item::<_, Item>(item)
        .map_err(error)?
        .case)
}

#[async_trait]
impl CaseStore for DynamoStore {
    async fn next_case_count(&self) -> Result<u64, StoreError> {
        // ADD starts from 0 on a missing attribute: the first count is 1.
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(CASE_COUNTER_KEY.to_owned())))
            .update_expression("ADD #counter :one")
            .expression_attribute_names("#counter", "counter")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| error(e.into_service_error()))?;
        output
            .attributes
            .and_then(|a| a.get("counter").cloned())
            .and_then(|v| v.as_n().ok().and_then(|n| n.parse().ok()))
            .ok_or_else(|| StoreError("case counter missing from the answer".into()))
    }

    async fn case_for_source(&self, source: &str) -> Result<Option<Case>, StoreError> {
        let Some(id) = self
            .get(case_source_key(source))
            .await?
            .and_then(|item| item.case_id)
        else {
            return Ok(None);
        };
        self.case(&id).await
    }

    async fn insert_case(&self, source: &str, case: &Case) -> Result<bool, StoreError> {
        let marker = Item {
            pk: case_source_key(source),
            case_id: Some(case.id.clone()),
            ..Item::default()
        };
        let put = |item: &Item| -> Result<Put, StoreError> {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(item)?))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(error)
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put(&marker)?).build())
            .transact_items(
                TransactWriteItem::builder()
                    .put(put(&Item::for_case(case))?)
                    .build(),
            )
            .send()
            .await;
        conditional(result)
    }

    async fn case(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
        Ok(self.get(case_key(id)).await?.and_then(|item| item.case))
    }

    async fn update_case(
        &self,
        id: &CaseId,
        update: &CaseUpdate,
    ) -> Result<Option<Case>, StoreError> {
        let entry = serde_dynamo::to_attribute_value(&update.entry).map_err(error)?;
        let mut set = vec![
            "#c.updated_at = :at",
            "#c.timeline = list_append(#c.timeline, :entry)",
        ];
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(case_key(id))))
            .expression_attribute_names("#c", "case")
            .expression_attribute_values(":at", n(update.entry.at))
            .expression_attribute_values(":entry", AttributeValue::L(vec![entry]))
            .return_values(ReturnValue::AllNew);
        if let Some(to) = update.to {
            set.push("#c.#status = :to");
            set.push("case_status = :to");
            request = request.expression_attribute_values(":to", s(to.as_str()));
        }
        if let Some(conversation) = &update.conversation {
            set.push("#c.conversations = list_append(#c.conversations, :conversation)");
            request = request.expression_attribute_values(
                ":conversation",
                AttributeValue::L(vec![s(conversation)]),
            );
        }
        let mut condition = "attribute_exists(pk)".to_owned();
        if !update.from.is_empty() {
            let names: Vec<String> = (0..update.from.len())
                .map(|i| format!(":from{i}"))
                .collect();
            condition.push_str(&format!(" AND #c.#status IN ({})", names.join(", ")));
            for (name, status) in names.iter().zip(&update.from) {
                request = request.expression_attribute_values(name, s(status.as_str()));
            }
        }
        if update.to.is_some() || !update.from.is_empty() {
            request = request.expression_attribute_names("#status", "status");
        }
        let result = request
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression(condition)
            .send()
            .await;
        match result {
            Ok(output) => output
                .attributes
                .map(to_case)
                .transpose()
                .map(Option::flatten),
            Err(err) => conditional::<(), _, _>(Err(err)).map(|_| None),
        }
    }

    async fn set_satisfaction(
        &self,
        id: &CaseId,
        satisfaction: Satisfaction,
        entry: &TimelineEntry,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(case_key(id))))
            .update_expression(
                "SET #c.satisfaction = :satisfaction, #c.timeline = list_append(#c.timeline, :entry)",
            )
            // A case written without a score holds `satisfaction: NULL`.
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(#c.satisfaction) OR attribute_type(#c.satisfaction, :null))",
            )
            .expression_attribute_names("#c", "case")
            .expression_attribute_values(":null", s("NULL"))
            .expression_attribute_values(
                ":satisfaction",
                serde_dynamo::to_attribute_value(satisfaction).map_err(error)?,
            )
            .expression_attribute_values(
                ":entry",
                AttributeValue::L(vec![serde_dynamo::to_attribute_value(entry).map_err(error)?]),
            )
            .send()
            .await;
        conditional(result)
    }

    async fn list_cases(
        &self,
        filter: &CaseFilter,
        page: Option<&str>,
        limit: usize,
    ) -> Result<CasePage, StoreError> {
        // One customer's cases come from `by_reporter`; otherwise `by_status`, one status
        // partition after the other. Other conditions are filters on the query.
        let partitions: Vec<(&str, &str, String)> = match &filter.reporter {
            Some(reporter) => vec![(CASES_BY_REPORTER, "case_reporter", reporter.clone())],
            None => CaseStatus::ALL
                .into_iter()
                .filter(|s| filter.status.is_none_or(|f| f == *s))
                .map(|s| (CASES_BY_STATUS, "case_status", s.as_str().to_owned()))
                .collect(),
        };
        let (mut partition, mut start) = match page {
            Some(token) => {
                let (p, last) = decode_token(token)?;
                (p, (!last.is_empty()).then_some(last))
            }
            None => (0, None),
        };
        let mut cases = Vec::new();
        while partition < partitions.len() && cases.len() < limit {
            let (index, attribute, value) = &partitions[partition];
            let mut filters = Vec::new();
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(*index)
                .key_condition_expression("#key = :key")
                .expression_attribute_names("#key", *attribute)
                .expression_attribute_values(":key", s(value))
                .scan_index_forward(false)
                .limit((limit - cases.len()) as i32)
                .set_exclusive_start_key(start.take());
            if filter.reporter.is_some() {
                if let Some(status) = filter.status {
                    filters.push("case_status = :status");
                    query = query.expression_attribute_values(":status", s(status.as_str()));
                }
            }
            if let Some(kind) = filter.kind {
                filters.push("case_kind = :kind");
                query = query.expression_attribute_values(":kind", s(kind.as_str()));
            }
            if !filters.is_empty() {
                query = query.filter_expression(filters.join(" AND "));
            }
            let output = query
                .send()
                .await
                .map_err(|e| error(DisplayErrorContext(e)))?;
            for item in output.items.unwrap_or_default() {
                cases.extend(to_case(item)?);
            }
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => partition += 1,
            }
        }
        let next = match start {
            Some(last) => Some(encode_token(partition, &last)),
            None if partition < partitions.len() => {
                // The page filled exactly at a partition's end: go on with the next one.
                Some(encode_token(partition, &HashMap::new()))
            }
            None => None,
        };
        Ok(CasePage { cases, next })
    }
}

/// The table as `template.yaml` declares it, for local runs and tests against moto: with
/// `testing` (this module is already behind `aws`).
#[cfg(any(test, feature = "testing"))]
mod table {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
    };
    use aws_sdk_dynamodb::Client;

    use super::*;

    const TTL_ATTRIBUTE: &str = "expires_at";

    impl DynamoStore {
        /// Creates the table as `template.yaml` does (local runs and tests against moto).
        pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
            let attribute = |name: &str, kind: ScalarAttributeType| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(kind)
                    .build()
                    .map_err(error)
            };
            let key_part = |name: &str, kind: KeyType| {
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
                    .map_err(error)
            };
            let index = |name: &str, hash: &str| -> Result<GlobalSecondaryIndex, StoreError> {
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .key_schema(key_part(hash, KeyType::Hash)?)
                    .key_schema(key_part("case_number", KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(error)
            };
            client
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(attribute("pk", ScalarAttributeType::S)?)
                .attribute_definitions(attribute("case_reporter", ScalarAttributeType::S)?)
                .attribute_definitions(attribute("case_status", ScalarAttributeType::S)?)
                .attribute_definitions(attribute("case_number", ScalarAttributeType::N)?)
                .key_schema(key_part("pk", KeyType::Hash)?)
                .global_secondary_indexes(index(CASES_BY_REPORTER, "case_reporter")?)
                .global_secondary_indexes(index(CASES_BY_STATUS, "case_status")?)
                .send()
                .await
                .map_err(|e| error(e.into_service_error()))?;
            client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .enabled(true)
                        .attribute_name(TTL_ATTRIBUTE)
                        .build()
                        .map_err(error)?,
                )
                .send()
                .await
                .map_err(|e| error(e.into_service_error()))?;
            Ok(())
        }
    }
}
