//! The one error every storage port returns: the store could not be reached or answered
//! something unexpected. A lost race is not an error (ports answer `false` or `None`).

#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

/// A webhook whose store call failed answers 503: the sender retries.
impl From<StoreError> for flex_bridge_core::ApiError {
    fn from(err: StoreError) -> Self {
        Self::unavailable(err)
    }
}
