//! Transcripts in memory, for `make run` and the tests.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Transcript, TranscriptStore};
use crate::cases::CaseId;
use crate::store_error::StoreError;

#[derive(Default)]
pub struct MemoryTranscripts {
    kept: Mutex<HashMap<CaseId, Transcript>>,
}

#[async_trait]
impl TranscriptStore for MemoryTranscripts {
    async fn put_once(&self, transcript: &Transcript) -> Result<bool, StoreError> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.contains_key(&transcript.case_id) {
            return Ok(false);
        }
        kept.insert(transcript.case_id.clone(), transcript.clone());
        Ok(true)
    }

    async fn transcript(&self, case_id: &CaseId) -> Result<Option<Transcript>, StoreError> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        Ok(kept.get(case_id).cloned())
    }
}
