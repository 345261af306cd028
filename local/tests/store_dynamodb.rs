//! The store contract against a real DynamoDB API (moto server): conditional writes, TTL
//! filtering, transactions.

use local::AwsResources;

#[tokio::test]
async fn dynamodb_store_keeps_the_store_contract() {
    let prefix = format!(
        "contract-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let aws = AwsResources::create(&prefix, 5, std::time::Duration::from_secs(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    shared::store::contract::run_all(&aws.store()).await;
}
