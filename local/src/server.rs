//! The HTTP API: the same routes `template.yaml` gives API Gateway, each calling the handler its
//! Lambda function calls.

use std::future::Future;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use flex_bridge::routes;
use flex_bridge::web::{respond, ApiError, WebRequest, WebResponse, MAX_BODY_BYTES};

use flex_bridge::app::Handlers;

pub fn router(handlers: Arc<Handlers>) -> Router {
    Router::new()
        .route(
            routes::TWITTER_WEBHOOK_PATH,
            get(twitter_crc).post(twitter_inbound),
        )
        .route(routes::FLEX_OUTBOUND_PATH, post(flex_outbound))
        .route(routes::CHANNEL_UPDATED_PATH, post(channel_updated))
        .route(routes::CHATBOT_PATH, post(chatbot))
        .route(
            routes::DISCORD_INTERACTIONS_PATH,
            post(discord_interactions),
        )
        .with_state(handlers)
}

/// Serves the API routes and `extra` (the web console) on `listener`.
pub async fn serve(listener: tokio::net::TcpListener, handlers: Arc<Handlers>, extra: Router) {
    if let Err(err) = axum::serve(listener, router(handlers).merge(extra)).await {
        tracing::error!(error = %err, "local API stopped");
    }
}

async fn web_request(request: Request) -> Result<WebRequest, ApiError> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::TooLarge)?;
    Ok(WebRequest {
        method: parts.method.to_string(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    })
}

fn to_response(response: WebResponse) -> Response {
    let mut builder = Response::builder()
        .status(response.status.as_u16())
        .header("content-type", response.content_type);
    if let Some(seconds) = response.retry_after {
        builder = builder.header("retry-after", seconds);
    }
    builder
        .body(Body::from(response.body))
        .unwrap_or_else(|_| axum::http::StatusCode::BAD_GATEWAY.into_response())
}

/// Reads the body (refusing oversized ones), runs the handler, and shapes its answer.
async fn call<F, Fut>(request: Request, handler: F) -> Response
where
    F: FnOnce(WebRequest) -> Fut,
    Fut: Future<Output = Result<WebResponse, ApiError>>,
{
    let result = match web_request(request).await {
        Ok(request) => handler(request).await,
        Err(err) => Err(err),
    };
    to_response(respond(result))
}

/// A platform this deployment does not serve: no key verifies its requests.
const NOT_CONFIGURED: ApiError = ApiError::Unauthorized;

fn x(handlers: &Handlers) -> Result<&flex_bridge::app::XHandlers, ApiError> {
    handlers.x.as_ref().ok_or(NOT_CONFIGURED)
}

async fn twitter_crc(State(f): State<Arc<Handlers>>, request: Request) -> Response {
    call(request, |r| async move {
        flex_bridge::x::webhook::crc(&x(&f)?.crc, &r)
    })
    .await
}

async fn twitter_inbound(State(f): State<Arc<Handlers>>, request: Request) -> Response {
    call(request, |r| async move { x(&f)?.inbound.handle(&r).await }).await
}

async fn flex_outbound(State(f): State<Arc<Handlers>>, request: Request) -> Response {
    call(request, |r| async move { f.flex.outbound(&r).await }).await
}

async fn channel_updated(State(f): State<Arc<Handlers>>, request: Request) -> Response {
    call(request, |r| async move { f.flex.state_updated(&r).await }).await
}

async fn chatbot(State(f): State<Arc<Handlers>>, request: Request) -> Response {
    call(request, |r| async move { f.chatbot.handle(&r).await }).await
}

async fn discord_interactions(State(f): State<Arc<Handlers>>, request: Request) -> Response {
    call(request, |r| async move {
        let discord = f.discord.as_ref().ok_or(NOT_CONFIGURED)?;
        discord.interactions.handle(&r).await
    })
    .await
}
