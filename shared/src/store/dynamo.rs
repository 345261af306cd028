//! The DynamoDB `Store`. Each method is one DynamoDB request (two for `end_conversation`), and
//! every contended write carries a condition, so concurrent Lambdas cannot both win.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put, ReturnValue,
    ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;

use super::*;
use crate::now_epoch;

pub const TTL_ATTRIBUTE: &str = "expires_at";

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

    /// Creates the table as `template.yaml` does (local runs and tests against moto).
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(error)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(error)?,
            )
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
impl Store for DynamoStore {
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
        let item = Item {
            pk: event_key(event),
            expires_at: Some(now_epoch() + ttl_secs),
            ..Item::default()
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .send()
            .await
            .map_err(|e| error(e.into_service_error()))?;
        Ok(())
    }

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
        let item = Item {
            pk: customer_key(identity),
            lease_owner: Some(owner.into()),
            lease_until: Some(now + lease_secs),
            ..Item::default()
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .condition_expression(
                "attribute_not_exists(pk) OR (attribute_not_exists(customer) AND lease_until <= :now)",
            )
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        conditional(result)
    }

    async fn release_lease(&self, identity: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(customer_key(identity))))
            .condition_expression("lease_owner = :owner AND attribute_not_exists(customer)")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        // Not holding the lease (or the conversation moved on) leaves nothing to do.
        conditional(result).map(drop)
    }

    async fn open_conversation(&self, customer: &Customer, owner: &str) -> Result<(), StoreError> {
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
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(forward).build())
            .transact_items(TransactWriteItem::builder().put(reverse).build())
            .send()
            .await
            .map_err(|e| error(e.into_service_error()))?;
        Ok(())
    }

    async fn conversation(&self, conversation_sid: &str) -> Result<Option<Customer>, StoreError> {
        Ok(self
            .get(conversation_key(conversation_sid))
            .await?
            .and_then(|item| item.customer))
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
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(customer_key(&customer.identity))))
            .condition_expression("customer.conversation_sid = :sid")
            .expression_attribute_values(":sid", s(conversation_sid))
            .send()
            .await;
        // The customer may already be in a newer conversation: then only the reverse item goes.
        conditional(result).map(|_| Some(customer))
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

    async fn next_case_number(&self) -> Result<u64, StoreError> {
        // ADD starts from 0 on a missing attribute, so offset to the first case number.
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
        let count: u64 = output
            .attributes
            .and_then(|a| a.get("counter").cloned())
            .and_then(|v| v.as_n().ok().and_then(|n| n.parse().ok()))
            .ok_or_else(|| StoreError("case counter missing from the answer".into()))?;
        Ok(FIRST_CASE_NUMBER + count - 1)
    }

    async fn case_for_source(&self, source: &str) -> Result<Option<Case>, StoreError> {
        Ok(self.get(case_key(source)).await?.and_then(|item| item.case))
    }

    async fn put_case(&self, source: &str, case: &Case) -> Result<bool, StoreError> {
        let item = Item {
            pk: case_key(source),
            case: Some(case.clone()),
            ..Item::default()
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        conditional(result)
    }
}
