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

use crate::cases::{Case, answer_matches};

/// Highest latency the histogram holds: 60 s, in nanoseconds.
const MAX_LATENCY_NANOS: u64 = 60_000_000_000;

/// How long and how wide to load.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    /// The server.
    pub addr: SocketAddr,
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
    /// Status 200 and a check answer with this `allowed`.
    Decision(bool),
}

/// One request, ready to send many times.
#[derive(Clone, Debug)]
struct Prepared {
    request: Request<Full<Bytes>>,
    expect: Expect,
}

/// An endpoint's requests; each connection cycles through them, starting at its own offset.
#[derive(Clone, Debug)]
pub struct Endpoint {
    requests: Arc<[Prepared]>,
}

impl Endpoint {
    /// `GET /healthz`.
    pub fn healthz() -> Endpoint {
        let request = Request::builder()
            .method(Method::GET)
            .uri("/healthz")
            .header(HOST, "localhost")
            .body(Full::new(Bytes::new()))
            .expect("a static request is valid");
        Endpoint {
            requests: Arc::from(vec![Prepared {
                request,
                expect: Expect::Ok,
            }]),
        }
    }

    /// `POST /v1/check` over the cases.
    pub fn check(token: &str, cases: &[Case]) -> Endpoint {
        let requests: Vec<Prepared> = cases
            .iter()
            .map(|case| Prepared {
                request: check_request_to("localhost", token, case.body.clone()),
                expect: Expect::Decision(case.allowed),
            })
            .collect();
        Endpoint {
            requests: Arc::from(requests),
        }
    }
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
            let addr = plan.addr;
            tokio::spawn(
                async move { connection(addr, endpoint, index, measure_from, until).await },
            )
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
    addr: SocketAddr,
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
            None => match Connection::open(addr).await {
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
            Expect::Decision(allowed) => answer_matches(&answer.body, allowed),
        }
}
