//! The effect interpreter against a scripted browser, natively: the refresh lock held through
//! every grant due, the callers waiting for a refresh or a token, and the API call's one retry.
//! Grants and API answers are held until the test answers them, so each test can look at the
//! world while they are in flight.

use super::*;
use crate::core::config::Resource;
use crate::core::machine::Phase;
use crate::core::refresh::GrantFailure;
use crate::core::test_support::{access_name, resource_tokens, session};
use futures_executor::{LocalPool, LocalSpawner};
use futures_util::lock::Mutex;
use futures_util::task::LocalSpawnExt;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

const T0: f64 = 1_000_000.0;

type Answer<T> = oneshot::Sender<T>;
type Granted = Answer<Result<Session, GrantError>>;
/// A grant for another API in flight: the API, the session redeemed, the claims sent.
type HeldGrant = (String, Session, Option<String>, Granted);
/// An API request in flight: its line, and where to answer (a status and a
/// `WWW-Authenticate` value).
type HeldRequest = (String, Answer<(u16, Option<String>)>);

/// A browser whose every effect is recorded and whose grants and API answers wait for the test.
struct Fake {
    spawner: LocalSpawner,
    now_ms: Cell<f64>,
    /// What the driver did, in order: `persist`, `clear session`, `navigate /x`, …
    log: RefCell<Vec<String>>,
    timer: RefCell<Option<Box<dyn FnOnce()>>>,
    /// The refresh lock, as Web Locks would hold it for this origin.
    lock: Mutex<()>,
    refused_storage: Cell<bool>,
    /// Refresh grants in flight: the refresh token redeemed, the claims sent, and where to
    /// answer.
    refreshes: RefCell<VecDeque<(String, Option<String>, Granted)>>,
    /// Grants for other APIs in flight: the API, the refresh token redeemed, the session, the
    /// claims sent.
    grants: RefCell<VecDeque<HeldGrant>>,
    /// API requests in flight: `METHOD url <token's at claim>`, and where to answer (a status
    /// and a `WWW-Authenticate` value).
    requests: RefCell<VecDeque<HeldRequest>>,
    states: RefCell<Vec<AuthState>>,
    /// What the sign-in this page came back from gave an API.
    answered_step_up: RefCell<Option<(Target, String)>>,
    /// The DPoP nonces servers gave, in order.
    nonces: RefCell<Vec<String>>,
    /// The `DPoP-Nonce` the API's next answers carry, if any.
    api_nonce: RefCell<Option<String>>,
}

impl Fake {
    fn note(&self, what: impl Into<String>) {
        self.log.borrow_mut().push(what.into());
    }

    fn logged(&self, what: &str) -> bool {
        self.log.borrow().iter().any(|line| line == what)
    }
}

impl Browser for Fake {
    fn now(&self) -> Now {
        Now {
            ms: self.now_ms.get(),
            jitter: 0.5,
        }
    }

    fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.spawner.spawn_local(task).expect("the pool runs");
    }

    fn set_timer(&self, delay_ms: f64, fire: impl FnOnce() + 'static) {
        self.note(format!("timer {delay_ms}"));
        *self.timer.borrow_mut() = Some(Box::new(fire));
    }

    fn cancel_timer(&self) {
        self.note("cancel timer");
        self.timer.borrow_mut().take();
    }

    async fn with_refresh_lock(&self, task: impl Future<Output = ()> + 'static) {
        let _held = self.lock.lock().await;
        self.note("lock");
        task.await;
        self.note("unlock");
    }

    fn persist(&self, session: &Session) -> Result<(), BrowserError> {
        if self.refused_storage.get() {
            return Err(BrowserError::StorageRefused);
        }
        self.note(format!("persist {}", access_name(&session.access_token)));
        Ok(())
    }

    fn clear_session(&self) {
        self.note("clear session");
    }

    fn clear_pending_logins(&self) {
        self.note("clear pending logins");
    }

    fn broadcast(&self, message: TabMessage, _key: HandoverKey) {
        let kind = match message {
            TabMessage::Refreshed { .. } => "refreshed",
            TabMessage::SignedOut { .. } => "signed out",
        };
        self.note(format!("broadcast {kind}"));
    }

    fn navigate(&self, to: &str, replace: bool) {
        self.note(format!("navigate {to} replace={replace}"));
    }

    fn publish(&self, state: &AuthState) {
        self.states.borrow_mut().push(state.clone());
    }

    fn session_began(&self, profile: &UserProfile) {
        self.note(format!("began {}", profile.name));
    }

    fn session_ended(&self) {
        self.note("ended");
    }

    async fn begin_sign_in(
        &self,
        return_to: String,
        _login_hint: Option<String>,
        _resource: Option<String>,
        step_up: Option<StepUp>,
        silent: bool,
    ) -> Result<(), AuthError> {
        if silent {
            self.note(format!(
                "leave for the provider silently, back to {return_to}"
            ));
            return Ok(());
        }
        match step_up {
            None => self.note(format!("leave for the provider, back to {return_to}")),
            Some(s) => self.note(format!(
                "leave for the provider for {}, back to {return_to}",
                s.describe()
            )),
        }
        Ok(())
    }

    async fn complete_sign_in(&self, params: String) -> Result<(Session, String), AuthError> {
        match params.as_str() {
            "code=good&state=s" => Ok((session("r1", "at-1", T0), "/studies".into())),
            _ => Err(AuthError::Redirect {
                error: "access_denied".into(),
                description: None,
            }),
        }
    }

    async fn refresh(
        &self,
        session: Session,
        claims: Option<String>,
    ) -> Result<Session, GrantError> {
        let (tx, rx) = oneshot::channel();
        let redeemed = session.refresh_token.unwrap_or_default();
        self.refreshes
            .borrow_mut()
            .push_back((redeemed, claims, tx));
        rx.await.expect("the test answers every refresh")
    }

    async fn redeem_for(
        &self,
        session: Session,
        resource: String,
        claims: Option<String>,
    ) -> Result<Session, GrantError> {
        let (tx, rx) = oneshot::channel();
        self.grants
            .borrow_mut()
            .push_back((resource, session, claims, tx));
        rx.await.expect("the test answers every grant")
    }

    fn take_answered_step_up(&self) -> Option<(Target, String)> {
        self.answered_step_up.borrow_mut().take()
    }

    async fn end_provider_session(&self, _session: Option<Session>) -> bool {
        self.note("leave for the provider's sign-out");
        true
    }

    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let authorization = request.headers.get("authorization").unwrap_or_default();
        let bearer = match (
            authorization.strip_prefix("Bearer "),
            authorization.strip_prefix("DPoP "),
        ) {
            (Some(token), _) => access_name(token),
            (_, Some(token)) => format!(
                "DPoP {} with {}",
                access_name(token),
                request.headers.get("dpop").unwrap_or("no proof")
            ),
            _ => "no token".into(),
        };
        let (tx, rx) = oneshot::channel();
        let line = format!("{} {} {bearer}", request.method, request.url);
        self.requests.borrow_mut().push_back((line, tx));
        match rx.await {
            Ok((status, challenge)) => {
                let mut headers = crate::exchange::Headers::default();
                if let Some(challenge) = challenge {
                    headers.set("WWW-Authenticate", challenge);
                }
                if let Some(nonce) = self.api_nonce.borrow().as_deref() {
                    headers.set("DPoP-Nonce", nonce);
                }
                Ok(HttpResponse {
                    status,
                    headers,
                    body: Vec::new(),
                    truncated: false,
                })
            }
            Err(_) => Err(HttpError::Timeout { seconds: 20 }),
        }
    }

    async fn dpop_proof(
        &self,
        key: &DpopKeyRef,
        method: &str,
        url: &str,
        access_token: &str,
    ) -> Result<String, BrowserError> {
        let nonce = self.nonces.borrow().last().cloned().unwrap_or_default();
        Ok(format!(
            "proof of {} for {method} {url} ({}) nonce {nonce}",
            key.id,
            access_name(access_token)
        ))
    }

    fn note_dpop_nonce(&self, _url: &str, nonce: &str) {
        self.nonces.borrow_mut().push(nonce.to_string());
    }
}

/// A driver over a fake browser, and the pool that runs what it spawns.
struct World {
    pool: LocalPool,
    driver: Rc<Driver<Fake>>,
}

impl World {
    fn new() -> World {
        let pool = LocalPool::new();
        let fake = Fake {
            spawner: pool.spawner(),
            now_ms: Cell::new(T0),
            log: RefCell::default(),
            timer: RefCell::default(),
            lock: Mutex::new(()),
            refused_storage: Cell::new(false),
            refreshes: RefCell::default(),
            grants: RefCell::default(),
            requests: RefCell::default(),
            states: RefCell::default(),
            answered_step_up: RefCell::default(),
            nonces: RefCell::default(),
            api_nonce: RefCell::default(),
        };
        let config = OidcConfig::new("https://idp/x", "ui")
            .with_scopes(["api://api/API.call"])
            .with_resources([Resource::new("alpha", "Workspace alpha", ["api://a/x"])]);
        World {
            pool,
            driver: Driver::new(fake, config),
        }
    }

    /// Signed in with the session whose refresh token is `r1` and access token `at-1`.
    fn signed_in() -> World {
        let world = World::new();
        world.driver.dispatch(Event::Boot {
            stored: Some(session("r1", "at-1", T0)),
            callback: None,
            at_callback_path: false,
        });
        world
    }

    fn fake(&self) -> &Fake {
        self.driver.browser()
    }

    fn settle(&mut self) {
        self.pool.run_until_stalled();
    }

    fn phase(&self) -> Phase {
        self.driver.machine.borrow().state().phase()
    }

    /// Starts `GET url` (to `target`) in the background; the result lands in the cell.
    fn call(&mut self, url: &str, target: Target) -> Rc<RefCell<Option<Result<u16, ApiError>>>> {
        let result = Rc::new(RefCell::new(None));
        let (driver, out, url) = (self.driver.clone(), result.clone(), url.to_string());
        let request = HttpRequest::get_json(&url);
        self.pool
            .spawner()
            .spawn_local(async move {
                let answer = driver.call(request, target).await.map(|r| r.status);
                *out.borrow_mut() = Some(answer);
            })
            .expect("the pool runs");
        self.settle();
        result
    }

    /// The API requests in flight, as `METHOD url token`.
    fn in_flight(&self) -> Vec<String> {
        (self.fake().requests.borrow().iter())
            .map(|(line, _)| line.clone())
            .collect()
    }

    /// Answers every API request in flight with the status `status_for` gives its line.
    fn answer_requests(&mut self, status_for: impl Fn(&str) -> u16) {
        self.answer_requests_with(|line| (status_for(line), None));
    }

    /// Answers every API request in flight with the status and `WWW-Authenticate` value
    /// `answer_for` gives its line.
    fn answer_requests_with(&mut self, answer_for: impl Fn(&str) -> (u16, Option<String>)) {
        let pending: Vec<_> = self.fake().requests.borrow_mut().drain(..).collect();
        for (line, answer) in pending {
            let _ = answer.send(answer_for(&line));
        }
        self.settle();
    }

    /// The claims the next refresh grant in flight carries.
    fn refresh_claims(&self) -> Option<String> {
        let refreshes = self.fake().refreshes.borrow();
        refreshes
            .front()
            .expect("a refresh grant is in flight")
            .1
            .clone()
    }

    /// Answers the next refresh grant, checking which refresh token it redeemed.
    fn answer_refresh(&mut self, redeemed: &str, result: Result<Session, GrantError>) {
        let (token, _, answer) =
            (self.fake().refreshes.borrow_mut().pop_front()).expect("a refresh grant is in flight");
        assert_eq!(
            token, redeemed,
            "the refresh redeemed the latest refresh token"
        );
        let _ = answer.send(result);
        self.settle();
    }

    /// Answers the next grant for another API with a token carrying `access`, rotating the
    /// refresh token to `rotated`.
    fn answer_grant(&mut self, resource: &str, redeemed: &str, access: &str, rotated: &str) {
        let (id, held, _, answer) =
            (self.fake().grants.borrow_mut().pop_front()).expect("a grant is in flight");
        assert_eq!(id, resource);
        assert_eq!(held.refresh_token.as_deref(), Some(redeemed));
        let now = self.fake().now_ms.get();
        let _ = answer.send(Ok(held.with_resource_token(
            resource,
            resource_tokens(access, rotated),
            now,
        )));
        self.settle();
    }

    fn lock_is_free(&self) -> bool {
        self.fake().lock.try_lock().is_some()
    }
}

fn result(cell: &Rc<RefCell<Option<Result<u16, ApiError>>>>) -> Option<Result<u16, ApiError>> {
    cell.borrow().clone()
}

fn network_failure() -> GrantError {
    GrantError::retry(AuthError::network(
        "refreshing the session",
        "https://idp/token",
        "no answer within 20 seconds",
    ))
}

#[test]
fn two_calls_refused_at_once_share_one_refresh_and_both_retry_with_the_new_token() {
    let mut world = World::signed_in();
    let studies = world.call("/studies", Target::Session);
    let library = world.call("/library", Target::Session);
    assert_eq!(
        world.in_flight(),
        ["GET /studies at-1", "GET /library at-1"]
    );
    world.answer_requests(|_| 401);
    assert_eq!(
        world.fake().refreshes.borrow().len(),
        1,
        "one refresh for both"
    );
    assert!(!world.lock_is_free(), "the refresh holds the lock");
    assert_eq!(result(&studies), None, "both wait for it");

    world.answer_refresh("r1", Ok(session("r2", "at-2", T0)));
    assert!(world.lock_is_free(), "nothing else due: the lock goes");
    assert_eq!(
        world.in_flight(),
        ["GET /studies at-2", "GET /library at-2"]
    );
    world.answer_requests(|_| 200);
    assert_eq!(result(&studies), Some(Ok(200)));
    assert_eq!(result(&library), Some(Ok(200)));
    assert!(world.fake().logged("persist at-2"));
    assert!(world.fake().logged("broadcast refreshed"));
}

#[test]
fn a_second_refusal_after_a_refresh_ends_the_session() {
    let mut world = World::signed_in();
    let call = world.call("/studies", Target::Session);
    world.answer_requests(|_| 401);
    world.answer_refresh("r1", Ok(session("r2", "at-2", T0)));
    world.answer_requests(|_| 401);
    assert_eq!(result(&call), Some(Err(ApiError::SessionEnded)));
    assert_eq!(world.phase(), Phase::Error);
    assert!(world.fake().logged("clear session"));
    assert!(world.fake().logged("ended"), "the app's hook heard it");
}

#[test]
fn a_refresh_that_fails_on_the_network_hands_back_the_first_answer() {
    let mut world = World::signed_in();
    let call = world.call("/studies", Target::Session);
    world.answer_requests(|_| 401);
    world.answer_refresh("r1", Err(network_failure()));
    assert_eq!(
        result(&call),
        Some(Ok(401)),
        "no second try without a fresh token"
    );
    assert!(world.in_flight().is_empty());
    assert_eq!(
        world.phase(),
        Phase::SignedIn,
        "the session stays; the refresh backs off"
    );
    assert!(world.fake().logged("timer 2000"));
}

#[test]
fn other_answers_are_handed_back_as_they_are() {
    let mut world = World::signed_in();
    for status in [200, 403, 404, 500] {
        let call = world.call("/studies", Target::Session);
        world.answer_requests(|_| status);
        assert_eq!(result(&call), Some(Ok(status)));
    }
    assert!(world.fake().refreshes.borrow().is_empty());
}

#[test]
fn another_apis_token_is_redeemed_once_then_reused_and_a_refusal_renews_it_alone() {
    let mut world = World::signed_in();
    let first = world.call("/ws", Target::Resource("alpha".into()));
    assert!(world.in_flight().is_empty(), "no token yet: a grant first");
    world.answer_grant("alpha", "r1", "alpha-1", "r2");
    assert_eq!(world.in_flight(), ["GET /ws alpha-1"]);
    world.answer_requests(|_| 200);
    assert_eq!(result(&first), Some(Ok(200)));

    let second = world.call("/ws", Target::Resource("alpha".into()));
    assert_eq!(world.in_flight(), ["GET /ws alpha-1"], "the token is kept");
    world.answer_requests(|_| 401);
    world.answer_grant("alpha", "r2", "alpha-2", "r3");
    assert_eq!(world.in_flight(), ["GET /ws alpha-2"]);
    world.answer_requests(|_| 401);
    assert_eq!(
        result(&second),
        Some(Ok(401)),
        "its second refusal is its answer"
    );
    assert_eq!(world.phase(), Phase::SignedIn, "and ends nothing");
    assert!(
        world.fake().refreshes.borrow().is_empty(),
        "the session's token untouched"
    );
    assert_eq!(
        (world.driver.credential(&Target::Session)).map(|c| access_name(&c.token)),
        Some("at-1".into())
    );
}

#[test]
fn one_lock_serves_every_grant_due_the_sessions_own_first_each_with_the_latest_token() {
    let mut world = World::signed_in();
    // The session's refresh is under way when a call needs alpha's token.
    world
        .driver
        .dispatch(Event::RefreshRequested { waiter: false });
    world.settle();
    let call = world.call("/ws", Target::Resource("alpha".into()));
    assert!(
        world.fake().grants.borrow().is_empty(),
        "alpha waits its turn"
    );
    world.answer_refresh("r1", Ok(session("r2", "at-2", T0)));
    assert!(!world.lock_is_free(), "still held for alpha");
    world.answer_grant("alpha", "r2", "alpha-1", "r3");
    assert!(world.lock_is_free());
    let locks = world
        .fake()
        .log
        .borrow()
        .iter()
        .filter(|l| *l == "lock")
        .count();
    assert_eq!(locks, 1, "one lock for both grants");
    world.answer_requests(|_| 200);
    assert_eq!(result(&call), Some(Ok(200)));
    let session = world.driver.session().expect("signed in");
    assert_eq!(session.refresh_token.as_deref(), Some("r3"));
}

#[test]
fn callers_waiting_for_a_refresh_hear_no_when_the_person_signs_out_meanwhile() {
    let mut world = World::signed_in();
    let call = world.call("/studies", Target::Session);
    world.answer_requests(|_| 401);
    world.driver.dispatch(Event::SignOutRequested);
    world.settle();
    assert_eq!(result(&call), Some(Ok(401)), "released with no fresh token");
    world.answer_refresh("r1", Ok(session("r2", "at-2", T0)));
    assert_eq!(world.driver.session(), None, "the late refresh is dropped");
    assert!(world.fake().logged("broadcast signed out"));
    assert!(world.fake().logged("leave for the provider's sign-out"));
}

#[test]
fn a_call_without_a_session_is_refused_before_anything_is_sent() {
    let mut world = World::new();
    world.driver.dispatch(Event::Boot {
        stored: None,
        callback: None,
        at_callback_path: false,
    });
    let call = world.call("/studies", Target::Session);
    assert_eq!(result(&call), Some(Err(ApiError::NotSignedIn)));
    let unknown = world.call("/x", Target::Resource("beta".into()));
    assert_eq!(
        result(&unknown),
        Some(Err(ApiError::UnknownApi("beta".into())))
    );
    assert!(world.in_flight().is_empty());
}

#[test]
fn the_refresh_timer_starts_a_refresh_under_the_lock() {
    let mut world = World::signed_in();
    assert!(
        world.fake().logged("timer 3510000"),
        "90 s before the hour is out"
    );
    let fire = world.fake().timer.borrow_mut().take().expect("armed");
    fire();
    world.settle();
    world.answer_refresh("r1", Ok(session("r2", "at-2", T0)));
    assert_eq!(
        (world.driver.credential(&Target::Session)).map(|c| access_name(&c.token)),
        Some("at-2".into())
    );
}

#[test]
fn sessions_that_begin_and_end_reach_the_apps_hooks_and_a_failed_callback_leaves_its_page() {
    let mut world = World::new();
    world.driver.dispatch(Event::Boot {
        stored: None,
        callback: Some("code=good&state=s".into()),
        at_callback_path: true,
    });
    world.settle();
    assert!(world.fake().logged("began Rita Reader"));
    assert!(world.fake().logged("navigate /studies replace=true"));
    world.driver.dispatch(Event::SignOutRequested);
    assert!(world.fake().logged("ended"));

    let mut failed = World::new();
    failed.driver.dispatch(Event::Boot {
        stored: None,
        callback: Some("error=access_denied&state=s".into()),
        at_callback_path: true,
    });
    failed.settle();
    assert_eq!(failed.phase(), Phase::Error);
    assert!(failed.fake().logged("navigate / replace=true"));
    assert!(!failed.fake().logged("began Rita Reader"));
}

#[test]
fn a_browser_that_refuses_storage_says_so() {
    let mut world = World::new();
    world.fake().refused_storage.set(true);
    world.driver.dispatch(Event::Boot {
        stored: None,
        callback: Some("code=good&state=s".into()),
        at_callback_path: true,
    });
    world.settle();
    let states = world.fake().states.borrow();
    assert_eq!(
        states.last().and_then(AuthState::error),
        Some(&AuthError::Browser(BrowserError::StorageRefused))
    );
}

/// Entra's claims challenge for the authentication context `context`.
fn claims_challenge(context: &str) -> String {
    use base64::Engine as _;
    let claims =
        format!(r#"{{"access_token":{{"acrs":{{"essential":true,"value":"{context}"}}}}}}"#);
    format!(
        r#"Bearer realm="", error="insufficient_claims", claims="{}""#,
        base64::engine::general_purpose::STANDARD.encode(claims)
    )
}

fn interaction_required() -> GrantError {
    GrantError {
        failure: GrantFailure::ConsentRequired,
        error: AuthError::SessionEnded {
            detail: "interaction_required: AADSTS50076: multi-factor authentication".into(),
        },
    }
}

#[test]
fn a_claims_challenge_is_redeemed_for_its_claims_and_the_call_tried_once_more() {
    let mut world = World::signed_in();
    let call = world.call("/secure", Target::Session);
    world.answer_requests_with(|_| (401, Some(claims_challenge("c1"))));
    assert_eq!(
        world.refresh_claims().as_deref(),
        Some(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#),
        "the refresh grant carries the API's claims"
    );
    world.answer_refresh("r1", Ok(session("r2", "at-2", T0)));
    assert_eq!(world.in_flight(), ["GET /secure at-2"]);
    world.answer_requests(|_| 200);
    assert_eq!(result(&call), Some(Ok(200)));
    assert_eq!(world.phase(), Phase::SignedIn);
    // Later the same challenge (a new condition) is answered again: the guard had cleared.
    let again = world.call("/secure", Target::Session);
    world.answer_requests_with(|_| (401, Some(claims_challenge("c1"))));
    assert!(world.refresh_claims().is_some());
    world.answer_refresh("r2", Ok(session("r3", "at-3", T0)));
    world.answer_requests(|_| 200);
    assert_eq!(result(&again), Some(Ok(200)));
}

#[test]
fn the_same_challenge_right_after_it_was_answered_stops_the_call() {
    let mut world = World::signed_in();
    let call = world.call("/secure", Target::Session);
    world.answer_requests_with(|_| (401, Some(claims_challenge("c1"))));
    world.answer_refresh("r1", Ok(session("r2", "at-2", T0)));
    world.answer_requests_with(|_| (401, Some(claims_challenge("c1"))));
    assert_eq!(
        result(&call),
        Some(Err(ApiError::ChallengeRepeated {
            name: "The API".into(),
            asked: "authentication context c1".into(),
        }))
    );
    assert!(world.fake().refreshes.borrow().is_empty(), "no third grant");
    assert_eq!(world.phase(), Phase::SignedIn, "the session stays");
}

#[test]
fn claims_the_provider_wants_the_person_for_are_offered_as_a_sign_in() {
    let mut world = World::signed_in();
    let call = world.call("/secure", Target::Session);
    world.answer_requests_with(|_| (401, Some(claims_challenge("c2"))));
    world.answer_refresh("r1", Err(interaction_required()));
    let Some(Err(ApiError::StepUpRequired { asked, request, .. })) = result(&call) else {
        panic!("expected a step-up, got {:?}", result(&call));
    };
    assert_eq!(asked, "authentication context c2");
    assert_eq!(world.phase(), Phase::SignedIn, "the session stays");
    assert!(world
        .fake()
        .log
        .borrow()
        .iter()
        .all(|l| !l.starts_with("leave")));
    // The person agrees: a sign-in for the claims, back to the route.
    let auth_event = Event::StepUpRequested {
        resource: request.resource.clone(),
        step_up: request.step_up.clone(),
        return_to: "/views/secure".into(),
    };
    world.driver.dispatch(auth_event);
    world.settle();
    assert!(world
        .fake()
        .logged("leave for the provider for authentication context c2, back to /views/secure"));
}

#[test]
fn a_step_up_is_offered_at_once_and_not_again_right_after_the_sign_in_for_it() {
    let mfa = r#"Bearer error="insufficient_user_authentication", acr_values="urn:gatehouse:mfa""#;
    let mut world = World::signed_in();
    let call = world.call("/secure", Target::Session);
    world.answer_requests_with(|_| (401, Some(mfa.to_string())));
    assert!(world.fake().refreshes.borrow().is_empty(), "no grant helps");
    let Some(Err(ApiError::StepUpRequired { request, .. })) = result(&call) else {
        panic!("expected a step-up, got {:?}", result(&call));
    };
    // Back from the sign-in for it, the API asks the same: stop.
    *world.fake().answered_step_up.borrow_mut() = Some((Target::Session, request.step_up.key()));
    world.driver.recall_answered_step_up();
    let call = world.call("/secure", Target::Session);
    world.answer_requests_with(|_| (401, Some(mfa.to_string())));
    assert!(matches!(
        result(&call),
        Some(Err(ApiError::ChallengeRepeated { .. }))
    ));
}

#[test]
fn a_claims_challenge_during_a_plain_refresh_waits_for_its_own_grant() {
    let mut world = World::signed_in();
    let plain = world.call("/studies", Target::Session);
    world.answer_requests(|_| 401);
    assert_eq!(world.refresh_claims(), None);
    let secure = world.call("/secure", Target::Session);
    world.answer_requests_with(|_| (401, Some(claims_challenge("c1"))));
    // One grant at a time: the claims go with the next one, redeeming the rotated token.
    world.answer_refresh("r1", Ok(session("r2", "at-2", T0)));
    assert!(
        world.in_flight().is_empty(),
        "both wait for the claims grant"
    );
    assert!(world.refresh_claims().is_some());
    world.answer_refresh("r2", Ok(session("r3", "at-3", T0)));
    assert_eq!(world.in_flight(), ["GET /studies at-3", "GET /secure at-3"]);
    world.answer_requests(|_| 200);
    assert_eq!(result(&plain), Some(Ok(200)));
    assert_eq!(result(&secure), Some(Ok(200)));
}

#[test]
fn another_apis_claims_challenge_gets_a_new_token_for_that_api_with_the_claims() {
    let mut world = World::signed_in();
    let call = world.call("/ws", Target::Resource("alpha".into()));
    world.answer_grant("alpha", "r1", "alpha-1", "r2");
    world.answer_requests_with(|_| (401, Some(claims_challenge("c1"))));
    {
        let grants = world.fake().grants.borrow();
        let (id, _, claims, _) = grants.front().expect("a grant for alpha");
        assert_eq!(id, "alpha");
        assert!(claims.as_deref().is_some_and(|c| c.contains("c1")));
    }
    world.answer_grant("alpha", "r2", "alpha-2", "r3");
    assert_eq!(world.in_flight(), ["GET /ws alpha-2"]);
    world.answer_requests(|_| 200);
    assert_eq!(result(&call), Some(Ok(200)));
}

#[test]
fn a_dpop_session_calls_with_a_proof_and_meets_the_apis_nonce_demand_once() {
    use crate::core::dpop::{DpopKeyRef, PublicJwk};
    let mut world = World::new();
    let key = DpopKeyRef {
        id: "k1".into(),
        public: PublicJwk::p256("x", "y"),
    };
    let mut bound = session("r1", "at-1", T0).with_dpop_key(Some(key));
    bound.dpop_bound = true;
    world.driver.dispatch(Event::Boot {
        stored: Some(bound),
        callback: None,
        at_callback_path: false,
    });
    let call = world.call("https://api/studies", Target::Session);
    assert_eq!(
        world.in_flight(),
        ["GET https://api/studies DPoP at-1 with proof of k1 for GET https://api/studies (at-1) nonce "]
    );
    // The API wants a nonce: the call goes again at once with it, no refresh.
    *world.fake().api_nonce.borrow_mut() = Some("n1".into());
    let demand = r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#;
    world.answer_requests_with(|_| (401, Some(demand.into())));
    assert_eq!(
        world.in_flight(),
        ["GET https://api/studies DPoP at-1 with proof of k1 for GET https://api/studies (at-1) nonce n1"]
    );
    assert!(world.fake().refreshes.borrow().is_empty());
    // A second demand in a row is a refusal like any 401: the usual refresh and retry.
    world.answer_requests_with(|_| (401, Some(demand.into())));
    assert_eq!(world.fake().refreshes.borrow().len(), 1);
    assert_eq!(result(&call), None, "still waiting for the refresh");

    // A session whose provider bound the refresh token alone calls with Bearer.
    let mut world = World::new();
    let key = DpopKeyRef {
        id: "k2".into(),
        public: PublicJwk::p256("x", "y"),
    };
    world.driver.dispatch(Event::Boot {
        stored: Some(session("r1", "at-1", T0).with_dpop_key(Some(key))),
        callback: None,
        at_callback_path: false,
    });
    let _call = world.call("https://api/studies", Target::Session);
    assert_eq!(world.in_flight(), ["GET https://api/studies at-1"]);
}
