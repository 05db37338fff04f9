//! The load itself: N keep-alive HTTP/1.1 connections, each sending its
//! endpoint's requests one after the other for the warm-up and the measured
//! time, recording the latency of every measured answer in a histogram and
//! counting every failed or wrong answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::cases::Case;

/// Highest latency the histogram holds: 60 s, in nanoseconds.
const MAX_LATENCY_NANOS: u64 = 60_000_000_000;

/// How long and how wide to load.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    /// Concurrent connections.
    pub connections: usize,
    /// Requests sent but not recorded first.
    pub warm_up: Duration,
    /// Time whose answers are recorded.
    pub measured: Duration,
}

/// What an answer must be to count as a success.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Status 200.
    Ok,
    /// Status 200 and a body holding these bytes (the expected decision).
    Holding(&'static [u8]),
}

/// One request, ready to send many times.
#[derive(Clone, Debug)]
struct Prepared {
    request: Request<Full<Bytes>>,
    expect: Expect,
}

/// An endpoint's server and requests; each connection cycles through the
/// requests, starting at its own offset.
#[derive(Clone, Debug)]
pub struct Endpoint {
    addr: SocketAddr,
    requests: Arc<[Prepared]>,
}

impl Endpoint {
    /// `GET path` of the server at `addr`, any 200 answer a success (a health
    /// endpoint: the ceiling of a server on this machine).
    pub fn get(addr: SocketAddr, path: &str) -> Endpoint {
        let request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(HOST, "localhost")
            .body(Full::new(Bytes::new()))
            .expect("a GET request of a path is valid");
        Endpoint {
            addr,
            requests: Arc::from(vec![Prepared {
                request,
                expect: Expect::Ok,
            }]),
        }
    }

    /// clearance's `POST /v1/check` over the cases, each answer checked for
    /// the case's `allowed`.
    pub fn check(addr: SocketAddr, token: &str, cases: &[Case]) -> Endpoint {
        let requests: Vec<Prepared> = cases
            .iter()
            .map(|case| Prepared {
                request: check_request_to("localhost", token, case.body.clone()),
                expect: Expect::Holding(if case.allowed {
                    b"\"allowed\":true"
                } else {
                    b"\"allowed\":false"
                }),
            })
            .collect();
        Endpoint {
            addr,
            requests: Arc::from(requests),
        }
    }

    /// Cerbos' `POST /api/check/resources` with `bodies` (one per case, in
    /// the cases' order), each answer checked for the case's effect.
    pub fn cerbos_check(addr: SocketAddr, cases: &[Case], bodies: &[Bytes]) -> Endpoint {
        let requests: Vec<Prepared> = cases
            .iter()
            .zip(bodies)
            .map(|(case, body)| Prepared {
                request: Request::builder()
                    .method(Method::POST)
                    .uri(CERBOS_CHECK_PATH)
                    .header(HOST, "localhost")
                    .header(CONTENT_TYPE, "application/json")
                    .body(Full::new(body.clone()))
                    .expect("the Cerbos request's parts are valid"),
                expect: Expect::Holding(if case.allowed {
                    b"\"EFFECT_ALLOW\""
                } else {
                    b"\"EFFECT_DENY\""
                }),
            })
            .collect();
        Endpoint {
            addr,
            requests: Arc::from(requests),
        }
    }
}

/// Cerbos' check endpoint.
pub const CERBOS_CHECK_PATH: &str = "/api/check/resources";

/// A `POST` of a JSON `body` to `path` (no authorization), as the Cerbos
/// cases are first asked.
pub fn post_json(addr: SocketAddr, path: &str, body: Bytes) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(HOST, addr.to_string())
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(body))
        .expect("a JSON POST's parts are valid")
}

/// A `POST /v1/check` request with `body`.
pub fn check_request(addr: SocketAddr, token: &str, body: Bytes) -> Request<Full<Bytes>> {
    check_request_to(&addr.to_string(), token, body)
}

fn check_request_to(host: &str, token: &str, body: Bytes) -> Request<Full<Bytes>> {
    let mut authorization =
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap_or(HeaderValue::from_static(""));
    authorization.set_sensitive(true);
    Request::builder()
        .method(Method::POST)
        .uri("/v1/check")
        .header(HOST, host)
        .header(AUTHORIZATION, authorization)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(body))
        .expect("the check request's parts are valid")
}

/// An answer's status and body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status code.
    pub status: u16,
    /// The whole body.
    pub body: Bytes,
}

/// One keep-alive HTTP/1.1 connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Connects (with TCP_NODELAY, as a browser or proxy would).
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true).context("setting TCP_NODELAY")?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("the HTTP/1.1 handshake")?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes the connection.
            let _ = connection.await;
        });
        Ok(Connection { sender })
    }

    /// Sends one request and reads the whole answer.
    pub async fn send(&mut self, request: &Request<Full<Bytes>>) -> anyhow::Result<Answer> {
        self.sender
            .ready()
            .await
            .context("the connection is usable")?;
        let response = self
            .sender
            .send_request(request.clone())
            .await
            .context("sending the request")?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .context("reading the answer")?
            .to_bytes();
        Ok(Answer { status, body })
    }
}

/// What the connections of one endpoint recorded.
#[derive(Debug)]
pub struct Tally {
    /// Latency of every successful measured answer, in nanoseconds.
    pub latency: Histogram<u64>,
    /// Measured requests that failed, answered another status or a wrong decision.
    pub errors: u64,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            latency: Histogram::new_with_bounds(1, MAX_LATENCY_NANOS, 3)
                .expect("the histogram's bounds are valid"),
            errors: 0,
        }
    }

    fn add(&mut self, other: &Tally) {
        self.latency
            .add(&other.latency)
            .expect("histograms of the same bounds add");
        self.errors += other.errors;
    }
}

/// Loads `endpoint` with the plan's connections for its warm-up and measured time.
pub async fn run(plan: &LoadPlan, endpoint: &Endpoint) -> Tally {
    let started = Instant::now();
    let measure_from = started + plan.warm_up;
    let until = measure_from + plan.measured;
    let tasks: Vec<_> = (0..plan.connections)
        .map(|index| {
            let endpoint = endpoint.clone();
            tokio::spawn(async move { connection(endpoint, index, measure_from, until).await })
        })
        .collect();
    let mut total = Tally::new();
    for task in tasks {
        match task.await {
            Ok(tally) => total.add(&tally),
            Err(_) => total.errors += 1,
        }
    }
    total
}

/// One connection's loop; a broken connection is counted and reopened.
async fn connection(
    endpoint: Endpoint,
    offset: usize,
    measure_from: Instant,
    until: Instant,
) -> Tally {
    let mut tally = Tally::new();
    let requests = &endpoint.requests;
    let mut next = offset % requests.len();
    let mut open: Option<Connection> = None;
    while Instant::now() < until {
        let connection = match open.as_mut() {
            Some(connection) => connection,
            None => match Connection::open(endpoint.addr).await {
                Ok(connection) => open.insert(connection),
                Err(_) => {
                    // The server is gone; do not spin on a refused port.
                    tally.errors += 1;
                    break;
                }
            },
        };
        let prepared = &requests[next];
        next = (next + 1) % requests.len();
        let sent = Instant::now();
        let result = connection.send(&prepared.request).await;
        let measured = sent >= measure_from;
        match result {
            Ok(answer) if succeeded(&answer, prepared.expect) => {
                if measured {
                    let nanos = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    tally.latency.saturating_record(nanos.max(1));
                }
            }
            Ok(_) => {
                if measured {
                    tally.errors += 1;
                }
            }
            Err(_) => {
                if measured {
                    tally.errors += 1;
                }
                open = None;
            }
        }
    }
    tally
}

fn succeeded(answer: &Answer, expect: Expect) -> bool {
    answer.status == 200
        && match expect {
            Expect::Ok => true,
            Expect::Holding(needle) => holds(&answer.body, needle),
        }
}

/// Whether `body` holds `needle`. A substring test, not a parse, to keep the
/// client's share of the CPU small; both servers write compact JSON.
fn holds(body: &[u8], needle: &[u8]) -> bool {
    body.windows(needle.len()).any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_matched_on_their_field() {
        let allowed = br#"{"action":"a","allowed":true,"unmet":[]}"#;
        assert!(holds(allowed, b"\"allowed\":true"));
        assert!(!holds(allowed, b"\"allowed\":false"));
        assert!(!holds(
            br#"{"error":{"code":"not_found"}}"#,
            b"\"allowed\":false"
        ));
        let cerbos = br#"{"results":[{"actions":{"x.y":"EFFECT_DENY"}}]}"#;
        assert!(holds(cerbos, b"\"EFFECT_DENY\""));
        assert!(!holds(cerbos, b"\"EFFECT_ALLOW\""));
    }
}
