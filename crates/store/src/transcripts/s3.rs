//! Transcripts in S3: one JSON object per case (`transcripts/CS-1042.json`) in the stack's
//! private bucket (encrypted, public access blocked, expired by a lifecycle rule).
//!
//! Written with `If-None-Match: *`, S3's conditional write: a second close of the same case,
//! however it races, finds the object there (412) and writes nothing.

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use super::{key_of, Transcript, TranscriptStore};
use crate::cases::CaseId;
use crate::store_error::StoreError;

#[derive(Clone, Debug)]
pub struct S3Transcripts {
    client: Client,
    bucket: String,
}

impl S3Transcripts {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// On the process's AWS configuration. An emulator (`AWS_ENDPOINT_URL`, moto in tests) is
    /// reached path-style: its bucket names are not DNS names.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        Self::new(Client::from_conf(config), bucket)
    }

    /// Creates the bucket, as the template does (tests against moto).
    #[cfg(feature = "testing")]
    pub async fn create_bucket(&self) -> Result<(), StoreError> {
        self.client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(drop)
            .map_err(|err| error("create bucket", &err.into_service_error()))
    }
}

fn error(what: &str, err: &impl ProvideErrorMetadata) -> StoreError {
    StoreError(format!(
        "transcripts: {what}: {}",
        err.message().or(err.code()).unwrap_or("no detail")
    ))
}

#[async_trait]
impl TranscriptStore for S3Transcripts {
    async fn put_once(&self, transcript: &Transcript) -> Result<bool, StoreError> {
        let body =
            serde_json::to_vec(transcript).map_err(|e| StoreError(format!("transcripts: {e}")))?;
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key_of(&transcript.case_id))
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(err) => {
                let err = err.into_service_error();
                match err.code() {
                    Some("PreconditionFailed") => Ok(false),
                    _ => Err(error("put", &err)),
                }
            }
        }
    }

    async fn transcript(&self, case_id: &CaseId) -> Result<Option<Transcript>, StoreError> {
        let got = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key_of(case_id))
            .send()
            .await;
        let object = match got {
            Ok(object) => object,
            Err(err) => {
                let err = err.into_service_error();
                return match err.is_no_such_key() {
                    true => Ok(None),
                    false => Err(error("get", &err)),
                };
            }
        };
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| StoreError(format!("transcripts: read: {e}")))?
            .into_bytes();
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError(format!("transcripts: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcripts::contract;

    #[tokio::test]
    async fn transcripts_are_written_once_in_s3() {
        assert!(
            std::env::var("AWS_ENDPOINT_URL").is_ok(),
            "AWS_ENDPOINT_URL is not set: run the tests with `make test` (it starts moto server)"
        );
        let sdk = crate::sdk_http::aws_config().await;
        let bucket = format!("transcripts-{}", uuid::Uuid::new_v4().simple());
        let store = S3Transcripts::from_sdk(&sdk, &bucket);
        store.create_bucket().await.expect("bucket on moto");
        contract::a_transcript_is_written_once(&store).await;
    }
}
