//! What an API's answer means for the call that got it (RFC 6750 §3.1): a 401 says the access
//! token was not accepted, so the request path gets a fresh one once and tries once more. Which
//! token is fresh depends on the API: the session's own (a refresh, shared by every call that got
//! a 401 meanwhile) or another API's (a new grant for that API alone). A second 401 from the
//! session's API means the session is over; another API's second 401 ends nothing but the call.

/// Which access token a call carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The session's own: the API the sign-in asked scopes for.
    Session,
    /// The token for one of the other APIs (`OidcConfig::resources`), by id.
    Resource(String),
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
}

/// What to do after attempt number `attempt` (1 or 2) of a call to `target` answered `status`.
/// `carried_token` says whether the call carried a token at all (none is sent while sign-in is
/// switched off or before anyone signed in): then a 401 is the API's answer and nothing else.
pub fn after_response(target: &Target, attempt: u8, status: u16, carried_token: bool) -> Next {
    if status != 401 || !carried_token {
        return Next::Done;
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
            assert_eq!(
                after_response(&target, attempt, status, carried),
                next,
                "{target:?} attempt {attempt} {status} {carried}"
            );
        }
    }
}
