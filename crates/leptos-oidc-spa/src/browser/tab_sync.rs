//! Cross-tab plumbing: the Web Lock that serialises refreshes across this origin's tabs and the
//! BroadcastChannel that carries `core::tab_sync::TabMessage`s, sealed in `Envelope`s. Both
//! degrade gracefully: without Web Locks the task runs unlocked; without BroadcastChannel (or
//! WebCrypto) nothing is sent.

use super::seal;
use crate::core::error::BrowserError;
use crate::core::session::{HandoverKey, Session};
use crate::core::tab_sync::{fingerprint, Envelope, TabMessage};
use js_sys::{Function, Promise, Reflect};
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// Runs `task` while holding the origin-wide refresh lock `name` (`navigator.locks`), so two
/// tabs never redeem the same refresh token at once. Without Web Locks, or when the lock request
/// throws or is rejected before the task ran, the task runs unlocked: a refresh never hangs on
/// the lock.
pub async fn with_refresh_lock<F, Fut>(name: &str, task: F)
where
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let task = Rc::new(Cell::new(Some(task)));
    let locks = web_sys::window()
        .map(|w| w.navigator())
        .and_then(|n| Reflect::get(&n, &"locks".into()).ok())
        .filter(|l| !l.is_undefined() && !l.is_null());
    let request = locks
        .as_ref()
        .and_then(|l| Reflect::get(l, &"request".into()).ok())
        .and_then(|r| r.dyn_into::<Function>().ok());
    if let (Some(locks), Some(request)) = (locks, request) {
        let held = task.clone();
        let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
            future_to_promise(async move {
                if let Some(task) = held.take() {
                    task().await;
                }
                Ok(JsValue::UNDEFINED)
            })
        });
        match request.call2(&locks, &name.into(), &callback) {
            Ok(promise) => {
                if let Ok(promise) = promise.dyn_into::<Promise>() {
                    let _ = JsFuture::from(promise).await;
                }
            }
            Err(_) => web_sys::console::warn_1(
                &"sign-in: the Web Locks request failed; refreshing without the lock".into(),
            ),
        }
    }
    if let Some(task) = task.take() {
        task().await;
    }
}

/// The channel `name` between this origin's tabs, if the browser has BroadcastChannel.
pub fn channel(name: &str) -> Option<web_sys::BroadcastChannel> {
    web_sys::BroadcastChannel::new(name).ok()
}

/// Seals `message` with the session's hand-over `key` and sends it to this origin's other tabs.
pub async fn post(
    channel: &web_sys::BroadcastChannel,
    message: &TabMessage,
    key: &HandoverKey,
) -> Result<(), BrowserError> {
    let key = key.bytes().ok_or(BrowserError::WebCrypto(
        "seal without the session's hand-over key",
    ))?;
    let (iv, sealed) = seal::seal(&key, message.previous(), &message.to_json()).await?;
    let envelope = Envelope::new(message, &iv, &sealed);
    channel
        .post_message(&JsValue::from_str(&envelope.to_json()))
        .map_err(|_| BrowserError::WebCrypto("post the sealed hand-over"))
}

/// Opens a message from the channel for the tab holding `mine`: `None` unless it is an
/// envelope addressed to that session and sealed with its key.
pub async fn open(text: &str, mine: &Session) -> Option<TabMessage> {
    let previous = fingerprint(mine);
    let (iv, sealed) = Envelope::open_for(text, &previous)?;
    let key = mine.handover_key.bytes()?;
    let plain = seal::open(&key, &previous, &iv, &sealed).await.ok()?;
    TabMessage::parse(&plain).filter(|message| message.previous() == previous)
}

/// A listener on the channel; [`Listener::stop`] removes it and closes the channel.
pub struct Listener {
    channel: web_sys::BroadcastChannel,
    _handler: Closure<dyn Fn(web_sys::MessageEvent)>,
}

impl Listener {
    /// Stops listening and closes the channel.
    pub fn stop(self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

/// Calls `on_message` with the text of every message from other tabs, until the returned
/// listener is stopped.
pub fn listen(
    channel: &web_sys::BroadcastChannel,
    on_message: impl Fn(String) + 'static,
) -> Listener {
    let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        if let Some(text) = e.data().as_string() {
            on_message(text);
        }
    });
    channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    Listener {
        channel: channel.clone(),
        _handler: handler,
    }
}
