//! The behaviour every [`CaseStore`] must have.

use super::*;

fn new(kind: CaseKind, reporter: &str) -> NewCase {
    NewCase {
        kind,
        title: "Crash".into(),
        details: "It crashed".into(),
        steps: None,
        reporter: reporter.into(),
        conversation: None,
    }
}

pub async fn run_all(store: &dyn CaseStore) {
    cases_are_numbered_and_filed_once(store).await;
    transitions_follow_the_lifecycle(store).await;
    listings_are_newest_first_and_paginated(store).await;
    satisfaction_counts_once(store).await;
}

async fn cases_are_numbered_and_filed_once(store: &dyn CaseStore) {
    let first = file(store, "discord#1", new(CaseKind::Bug, "discord-1"))
        .await
        .unwrap();
    assert_eq!(first.id, format!("CS-{FIRST_CASE_NUMBER}"));
    assert_eq!(first.timeline.len(), 1);
    assert_eq!(
        file(store, "discord#1", new(CaseKind::Bug, "discord-1"))
            .await
            .unwrap(),
        first,
        "a retry finds its case"
    );
    let second = file(store, "discord#2", new(CaseKind::Feature, "discord-1"))
        .await
        .unwrap();
    assert_eq!(second.number(), FIRST_CASE_NUMBER + 1);
    assert_eq!(store.case(&second.id).await.unwrap(), Some(second));
    assert_eq!(store.case(&CaseId::new(9)).await.unwrap(), None);
}

async fn transitions_follow_the_lifecycle(store: &dyn CaseStore) {
    let mut support = new(CaseKind::Support, "x-7");
    support.conversation = Some("CH7".into());
    let case = file(store, "handoff#CH7", support).await.unwrap();
    assert_eq!(case.conversations, ["CH7"]);
    assert!(matches!(
        reopen(store, &case.id, "operator", "why").await,
        Err(CaseError::Transition { .. })
    ));
    let started = start(store, &case.id, "Sam").await.unwrap();
    assert_eq!(started.status, CaseStatus::InProgress);
    assert!(
        start(store, &case.id, "Ana").await.is_err(),
        "already in progress"
    );
    let resolved = resolve(store, &case.id, BRIDGE, "chat closed")
        .await
        .unwrap();
    assert_eq!(resolved.status, CaseStatus::Resolved);
    assert!(resolve(store, &case.id, "operator", "again").await.is_err());
    let reopened = reopen(store, &case.id, "operator", "not fixed")
        .await
        .unwrap();
    assert_eq!(reopened.status, CaseStatus::Reopened);
    let events: Vec<&str> = reopened.timeline.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "Support request opened",
            "Sam joined the chat",
            "resolved: chat closed",
            "reopened: not fixed"
        ]
    );
    assert!(matches!(
        resolve(store, &CaseId::new(404), "operator", "x").await,
        Err(CaseError::NotFound(_))
    ));
}

async fn listings_are_newest_first_and_paginated(store: &dyn CaseStore) {
    for n in 0..5 {
        file(
            store,
            &format!("list#{n}"),
            new(CaseKind::Bug, "discord-list"),
        )
        .await
        .unwrap();
    }
    let filter = CaseFilter {
        reporter: Some("discord-list".into()),
        ..CaseFilter::default()
    };
    let first = store.list_cases(&filter, None, 3).await.unwrap();
    assert_eq!(first.cases.len(), 3);
    assert!(
        first
            .cases
            .windows(2)
            .all(|w| w[0].number() > w[1].number()),
        "newest first"
    );
    let rest = store
        .list_cases(&filter, first.next.as_deref(), 3)
        .await
        .unwrap();
    assert_eq!(rest.cases.len(), 2);
    assert_eq!(rest.next, None);
    let bugs = CaseFilter {
        status: Some(CaseStatus::Open),
        kind: Some(CaseKind::Bug),
        ..CaseFilter::default()
    };
    let mut all = Vec::new();
    let mut page = None;
    loop {
        let listed = store.list_cases(&bugs, page.as_deref(), 2).await.unwrap();
        all.extend(listed.cases);
        match listed.next {
            Some(next) => page = Some(next),
            None => break,
        }
    }
    assert!(all
        .iter()
        .all(|c| c.kind == CaseKind::Bug && c.status == CaseStatus::Open));
    assert!(all.len() >= 6, "{}", all.len());
    let reopened = CaseFilter {
        status: Some(CaseStatus::Reopened),
        ..CaseFilter::default()
    };
    let listed = store.list_cases(&reopened, None, 10).await.unwrap();
    assert_eq!(listed.cases.len(), 1);
    assert_eq!(listed.cases[0].kind, CaseKind::Support);
    let everything = store
        .list_cases(&CaseFilter::default(), None, 100)
        .await
        .unwrap();
    assert!(everything.cases.len() >= 8);
}

async fn satisfaction_counts_once(store: &dyn CaseStore) {
    let case = file(store, "csat#1", new(CaseKind::Support, "x-9"))
        .await
        .unwrap();
    assert!(rate(store, &case.id, 4, "x-9").await.unwrap());
    assert!(!rate(store, &case.id, 1, "x-9").await.unwrap());
    let stored = store.case(&case.id).await.unwrap().unwrap();
    assert_eq!(stored.satisfaction.map(|s| s.score), Some(4));
    assert_eq!(stored.timeline.last().unwrap().event, "satisfaction 4/5");
}
