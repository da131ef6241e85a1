//! What an API's answer means for the call that got it (RFC 6750 §3.1): a 401 says the access
//! token was not accepted, so the request path gets a fresh one once and tries once more. Which
//! token is fresh depends on the API: the session's own (a refresh, shared by every call that got
//! a 401 meanwhile) or another API's (a new grant for that API alone). A second 401 from the
//! session's API means the session is over; another API's second 401 ends nothing but the call.
//!
//! A 401 that carries a challenge (`core::challenge`) asks for something else than a fresh
//! token: claims are redeemed for that API and the call tried once more; a stronger or more
//! recent sign-in only the person can give, so the caller learns what to offer. The same
//! challenge right after it was answered is not answered again: that is how a redirect loop
//! would start.

use super::challenge::StepUp;

/// Which access token a call carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The session's own: the API the sign-in asked scopes for.
    Session,
    /// The token for one of the other APIs (`OidcConfig::resources`), by id.
    Resource(String),
}

/// A value per call target, for the few targets a session has (its own API and the configured
/// others): a list, not a tree, which is all they need and far less code in the wasm.
#[derive(Clone, Debug)]
pub struct PerTarget<T>(Vec<(Target, T)>);

impl<T> Default for PerTarget<T> {
    fn default() -> Self {
        PerTarget(Vec::new())
    }
}

impl<T> PerTarget<T> {
    /// The value for `target`, if any.
    pub fn get(&self, target: &Target) -> Option<&T> {
        self.0.iter().find(|(t, _)| t == target).map(|(_, v)| v)
    }

    /// Whether `target` has a value.
    pub fn contains(&self, target: &Target) -> bool {
        self.get(target).is_some()
    }

    /// Sets the value for `target`, replacing any.
    pub fn insert(&mut self, target: Target, value: T) {
        self.remove(&target);
        self.0.push((target, value));
    }

    /// Removes and returns the value for `target`.
    pub fn remove(&mut self, target: &Target) -> Option<T> {
        let at = self.0.iter().position(|(t, _)| t == target)?;
        Some(self.0.swap_remove(at).1)
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// What the request path does after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Hand the response to the caller.
    Done,
    /// The session's token was refused: refresh (joining a refresh under way), then try once
    /// more; if no fresh token comes, hand this response to the caller.
    RefreshAndRetry,
    /// The resource's token was refused: drop it, get a new one for that API, try once more.
    RenewAndRetry,
    /// The session's API refused a token fresh from a refresh: the session is over. The
    /// response still goes to the caller.
    EndSession,
    /// The API asked for these claims (a JSON object): redeem the refresh token for that API
    /// with them, then try once more.
    ClaimsAndRetry(String),
    /// The API asked for what only the person can give (a stronger or more recent sign-in, or
    /// claims after the grant for them failed): the caller learns what to offer.
    SignInToStepUp(StepUp),
    /// The API asked again for what it was just given: stop, and say what it asked for.
    Repeated(StepUp),
}

/// What an attempt's answer is, as far as the decision goes.
#[derive(Clone, Copy, Debug)]
pub struct Answer<'a> {
    /// The HTTP status.
    pub status: u16,
    /// Whether the call carried a token at all (none is sent while sign-in is switched off or
    /// before anyone signed in): then a 401 is the API's answer and nothing else.
    pub carried_token: bool,
    /// What the response's `WWW-Authenticate` asks for, if anything.
    pub challenge: Option<&'a StepUp>,
}

/// What to do after attempt number `attempt` (1, 2, …) of a call to `target` got `answer`.
/// `answered` is the key ([`StepUp::key`]) of the challenge this API asked for last and was
/// given (a claims grant, or a sign-in for it), if that was the step just before.
pub fn after_response(
    target: &Target,
    attempt: u8,
    answer: Answer<'_>,
    answered: Option<&str>,
) -> Next {
    if answer.status != 401 || !answer.carried_token {
        return Next::Done;
    }
    if let Some(challenge) = answer.challenge {
        return match challenge {
            _ if answered == Some(challenge.key().as_str()) => Next::Repeated(challenge.clone()),
            StepUp::Claims { claims } if attempt == 1 => Next::ClaimsAndRetry(claims.clone()),
            other => Next::SignInToStepUp(other.clone()),
        };
    }
    match (target, attempt) {
        (Target::Session, 1) => Next::RefreshAndRetry,
        (Target::Resource(_), 1) => Next::RenewAndRetry,
        (Target::Session, _) => Next::EndSession,
        (Target::Resource(_), _) => Next::Done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[rustfmt::skip]
    fn a_401_gets_one_fresh_token_and_one_more_try() {
        let api = || Target::Session;
        let alpha = || Target::Resource("alpha".into());
        let rows = [
            (api(),   1, 200, true,  Next::Done),
            (api(),   1, 403, true,  Next::Done),
            (api(),   1, 500, true,  Next::Done),
            (api(),   1, 401, true,  Next::RefreshAndRetry),
            (api(),   2, 401, true,  Next::EndSession),
            (api(),   2, 200, true,  Next::Done),
            (api(),   1, 401, false, Next::Done),
            (alpha(), 1, 401, true,  Next::RenewAndRetry),
            (alpha(), 2, 401, true,  Next::Done),
            (alpha(), 1, 404, true,  Next::Done),
            (alpha(), 1, 401, false, Next::Done),
        ];
        for (target, attempt, status, carried, next) in rows {
            let answer = Answer {
                status,
                carried_token: carried,
                challenge: None,
            };
            assert_eq!(
                after_response(&target, attempt, answer, None),
                next,
                "{target:?} attempt {attempt} {status} {carried}"
            );
        }
    }

    #[test]
    fn a_challenge_gets_its_claims_once_then_needs_the_person() {
        let c1 = StepUp::Claims {
            claims: r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#.into(),
        };
        let c2 = StepUp::Claims {
            claims: r#"{"access_token":{"acrs":{"essential":true,"value":"c2"}}}"#.into(),
        };
        let mfa = StepUp::UserAuthentication {
            acr_values: Some("urn:gatehouse:mfa".into()),
            max_age: None,
        };
        let StepUp::Claims { claims: c1_claims } = &c1 else {
            unreachable!()
        };
        let answer = |status, challenge| Answer {
            status,
            carried_token: true,
            challenge,
        };
        let api = Target::Session;
        let alpha = Target::Resource("alpha".into());
        for target in [&api, &alpha] {
            // First claims challenge: redeem the claims, try again.
            assert_eq!(
                after_response(target, 1, answer(401, Some(&c1)), None),
                Next::ClaimsAndRetry(c1_claims.clone())
            );
            // The same again right after: the loop guard.
            assert_eq!(
                after_response(target, 2, answer(401, Some(&c1)), Some(&c1.key())),
                Next::Repeated(c1.clone())
            );
            // Another one after a grant: only the person can help now.
            assert_eq!(
                after_response(target, 2, answer(401, Some(&c2)), Some(&c1.key())),
                Next::SignInToStepUp(c2.clone())
            );
            // Step-up always needs the person; asked again right after a sign-in for it, stop.
            assert_eq!(
                after_response(target, 1, answer(401, Some(&mfa)), None),
                Next::SignInToStepUp(mfa.clone())
            );
            assert_eq!(
                after_response(target, 1, answer(401, Some(&mfa)), Some(&mfa.key())),
                Next::Repeated(mfa.clone())
            );
            // A challenge on a 403, or on a call that carried no token, is the caller's.
            assert_eq!(
                after_response(target, 1, answer(403, Some(&c1)), None),
                Next::Done
            );
            let anonymous = Answer {
                carried_token: false,
                ..answer(401, Some(&c1))
            };
            assert_eq!(after_response(target, 1, anonymous, None), Next::Done);
        }
    }
}
