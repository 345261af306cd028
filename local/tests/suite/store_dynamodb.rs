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
    flex_bridge::store::contract::run_all(&aws.store()).await;
}

async fn fresh(name: &str) -> flex_bridge::store::DynamoStore {
    let prefix = format!("{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    AwsResources::create(&prefix, 5, std::time::Duration::from_secs(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .store()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_concurrent_updates_of_one_case_lose_none() {
    use flex_bridge::cases::{self, CaseKind, NewCase};
    let store = std::sync::Arc::new(fresh("case-race").await);
    let new = NewCase {
        kind: CaseKind::Bug,
        title: "Crash".into(),
        details: "It crashed".into(),
        steps: None,
        reporter: "discord-1".into(),
        conversation: None,
    };
    let case = cases::file(store.as_ref(), "race#1", new).await.unwrap();
    let updates = (0..50).map(|i| {
        let (store, id) = (store.clone(), case.id.clone());
        tokio::spawn(async move {
            match i {
                // One status change among the notes: it happens once, from open.
                0 => cases::start(store.as_ref(), &id, "Sam").await.map(drop),
                _ => cases::note(store.as_ref(), &id, "operator", &format!("note {i}"))
                    .await
                    .map(drop),
            }
        })
    });
    for update in updates.collect::<Vec<_>>() {
        update.await.unwrap().unwrap();
    }
    let stored = flex_bridge::cases::CaseStore::case(store.as_ref(), &case.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.timeline.len(), 51, "opened + 50 updates");
    for i in 1..50 {
        let note = format!("note {i}");
        assert!(
            stored.timeline.iter().any(|e| e.event == note),
            "{note} lost"
        );
    }
    assert_eq!(stored.status, flex_bridge::cases::CaseStatus::InProgress);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn twenty_concurrent_filings_get_twenty_distinct_ids() {
    use flex_bridge::cases::{self, CaseKind, NewCase};
    let store = std::sync::Arc::new(fresh("case-ids").await);
    let filings = (0..20).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let new = NewCase {
                kind: CaseKind::Feature,
                title: format!("Idea {i}"),
                details: "Please".into(),
                steps: None,
                reporter: format!("discord-{i}"),
                conversation: None,
            };
            cases::file(store.as_ref(), &format!("discord#{i}"), new)
                .await
                .unwrap()
                .id
        })
    });
    let mut ids = Vec::new();
    for filing in filings.collect::<Vec<_>>() {
        ids.push(filing.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "{ids:?}");
}
