//! Every portal form, read once: the body of each POST is parsed here
//! (urlencoded or multipart), its CSRF token checked, and the fields handed to
//! the handler as [`Submitted`].
//!
//! Checking in one middleware, before routing reaches a handler, means a new
//! form cannot forget its CSRF check: a POST without the right token is
//! refused with 403 whatever its route.

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use clearance_server::ServiceError;

use crate::layout::{self, Nav};
use crate::session::{self, Session, same_secret};
use crate::{MAX_FORM_BYTES, MAX_UPLOAD_BYTES, Portal};

/// The name of the hidden field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The session of the request, if it has a live one (set by [`guard`]).
#[derive(Clone, Debug)]
pub struct CurrentSession(pub Option<Session>);

impl CurrentSession {
    /// The live session of the request, or the redirect to the sign-in page
    /// that comes back to this path afterwards.
    pub(crate) fn required(parts: &Parts) -> Result<Session, Redirect> {
        let current = parts
            .extensions
            .get::<CurrentSession>()
            .and_then(|current| current.0.clone());
        current.ok_or_else(|| {
            let next: String =
                form_urlencoded::byte_serialize(parts.uri.path().as_bytes()).collect();
            Redirect::to(&format!("/login?next={next}"))
        })
    }
}

/// A submitted form: its text fields in order and its files.
#[derive(Clone, Debug, Default)]
pub struct Submitted {
    fields: Vec<(String, String)>,
    files: Vec<Upload>,
}

/// One uploaded file.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The form field's name.
    pub field: String,
    /// The content.
    pub bytes: Bytes,
}

/// A field that is missing or unusable, named as in the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The form field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// A page's request context, as its form handlers use it: what it answers for
/// a refusal, and the fields it requires.
pub(crate) trait FormPage {
    /// The error page for `error`.
    fn fail(&self, error: ServiceError) -> Response;

    /// The form field `name`, trimmed; the error page naming it when it is
    /// missing or blank.
    #[allow(
        clippy::result_large_err,
        reason = "the error is the page the handler answers, once per request"
    )]
    fn required(&self, form: &Submitted, name: &str) -> Result<String, Response> {
        form.required(name)
            .map(str::to_owned)
            .map_err(|error| self.fail(error.into()))
    }
}

impl From<FieldError> for ServiceError {
    fn from(error: FieldError) -> Self {
        ServiceError::Invalid {
            field: error.field,
            message: error.message,
        }
    }
}

impl Submitted {
    /// The first value of `name`, if sent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of `name`, trimmed; an error naming the field when it is
    /// missing or blank.
    pub fn required(&self, name: &str) -> Result<&str, FieldError> {
        match self.text(name).map(str::trim) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(FieldError {
                field: name.to_owned(),
                message: "is required".to_owned(),
            }),
        }
    }

    /// Every value of `name` (checkboxes), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The file sent as `name`, if a non-empty one was.
    pub fn file(&self, name: &str) -> Option<&Upload> {
        self.files
            .iter()
            .find(|upload| upload.field == name && !upload.bytes.is_empty())
    }

    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn from_urlencoded(body: &[u8]) -> Submitted {
        Submitted {
            fields: form_urlencoded::parse(body).into_owned().collect(),
            files: Vec::new(),
        }
    }

    /// Parses a `multipart/form-data` stream with `boundary`, at most `limit`
    /// bytes. The first field must be the CSRF token and pass `csrf_ok` before
    /// anything after it (the document) is read.
    pub async fn from_multipart<S, E>(
        stream: S,
        boundary: &str,
        limit: usize,
        csrf_ok: impl Fn(&str) -> bool,
    ) -> Result<Submitted, MultipartRefusal>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let constraints = multer::Constraints::new()
            .size_limit(multer::SizeLimit::new().whole_stream(limit as u64));
        let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
        let mut submitted = Submitted::default();
        while let Some(field) = multipart.next_field().await.map_err(MultipartRefusal::of)? {
            let name = field.name().unwrap_or_default().to_owned();
            let first = submitted.fields.is_empty() && submitted.files.is_empty();
            // A file part is told by its file name; the name itself is never
            // trusted (the service checks the content's type).
            match field.file_name() {
                Some(_) if first => return Err(MultipartRefusal::Csrf),
                Some(_) => {
                    let bytes = field.bytes().await.map_err(MultipartRefusal::of)?;
                    submitted.files.push(Upload { field: name, bytes });
                }
                None => {
                    let text = field.text().await.map_err(MultipartRefusal::of)?;
                    if first && (name != CSRF_FIELD || !csrf_ok(&text)) {
                        return Err(MultipartRefusal::Csrf);
                    }
                    submitted.fields.push((name, text));
                }
            }
        }
        Ok(submitted)
    }
}

/// Why a multipart form was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum MultipartRefusal {
    /// Its first field is not the right CSRF token: nothing after it was read.
    Csrf,
    /// It is larger than its limit.
    TooLarge,
    /// It is not well-formed multipart.
    Malformed(String),
}

impl MultipartRefusal {
    fn of(error: multer::Error) -> Self {
        match error {
            multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
                MultipartRefusal::TooLarge
            }
            other => MultipartRefusal::Malformed(other.to_string()),
        }
    }
}

/// Whether `path` takes a file upload: the partner's appeal, the one form that
/// sends a document.
fn takes_upload(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    matches!(
        segments.as_slice(),
        ["", "t", tenant, "account", "verification", program, "appeal"]
            if !tenant.is_empty() && !program.is_empty()
    )
}

/// The portal's middleware: finds the session, reads and CSRF-checks every
/// POST, and adds the security headers to every answer.
pub(crate) async fn guard(
    State(portal): State<Portal>,
    mut request: Request,
    next: Next,
) -> Response {
    let cookies = portal.cookies();
    let token = session::cookie(request.headers(), cookies.session_name()).map(str::to_owned);
    let current = match token {
        Some(token) => match session::find(&portal.service, &token).await {
            Ok(found) => found,
            Err(error) => {
                tracing::error!(%error, "reading a portal session failed");
                return layout::message_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &Nav::Anonymous,
                    "Try again",
                    "The portal could not read your session just now. Reload the page in a moment.",
                );
            }
        },
        None => None,
    };
    let nav = Nav::of(current.as_ref());
    let method = request.method().clone();
    if method == Method::POST {
        // A multipart body (up to 10 MiB) is read only on the upload route, for
        // a live session, and only once its first field proved the CSRF token;
        // anything else is refused before a byte of the body is read.
        if is_multipart(request.headers())
            && (current.is_none() || !takes_upload(request.uri().path()))
        {
            return with_headers(layout::message_page(
                StatusCode::FORBIDDEN,
                &nav,
                "Form refused",
                "Files can only be sent with the appeal form, signed in.",
            ));
        }
        let submitted = match read_form(&mut request, current.as_ref()).await {
            Ok(submitted) => submitted,
            Err(response) => return with_headers(*response),
        };
        let sent = submitted.text(CSRF_FIELD).unwrap_or_default();
        let valid = if request.uri().path() == "/login" {
            session::cookie(request.headers(), cookies.login_name())
                .is_some_and(|expected| !expected.is_empty() && same_secret(expected, sent))
        } else if request.uri().path().starts_with("/setup/") {
            // The set-up link's token in the path is the secret a forger lacks.
            true
        } else {
            current
                .as_ref()
                .is_some_and(|session| session.csrf_matches(sent))
        };
        if !valid {
            let text = if current.is_none() && request.uri().path() != "/login" {
                "Your session has ended. Sign in again, then repeat what you were doing."
            } else {
                "This form was not sent from this site's current page, or it has expired. Reload the page and try again."
            };
            return with_headers(layout::message_page(
                StatusCode::FORBIDDEN,
                &nav,
                "Form refused",
                text,
            ));
        }
        request.extensions_mut().insert(submitted);
    } else if method != Method::GET && method != Method::HEAD {
        return with_headers(layout::message_page(
            StatusCode::METHOD_NOT_ALLOWED,
            &nav,
            "Not allowed",
            "The portal's pages are read with GET and its forms sent with POST.",
        ));
    }
    request.extensions_mut().insert(CurrentSession(current));
    with_headers(next.run(request).await)
}

fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"))
}

fn too_large() -> Box<Response> {
    Box::new(layout::message_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        &Nav::Anonymous,
        "Too large",
        "The form is too large: documents may be at most 10 MiB.",
    ))
}

/// Reads a form body within its size limit; a multipart one only as far as
/// its CSRF token when that does not match `session`'s.
async fn read_form(
    request: &mut Request,
    session: Option<&Session>,
) -> Result<Submitted, Box<Response>> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let multipart = is_multipart(request.headers());
    let urlencoded = content_type.starts_with("application/x-www-form-urlencoded");
    if !multipart && !urlencoded {
        return Err(Box::new(layout::message_page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &Nav::Anonymous,
            "Form refused",
            "The portal's forms are sent as application/x-www-form-urlencoded or multipart/form-data.",
        )));
    }
    let body = std::mem::replace(request.body_mut(), Body::empty());
    if multipart {
        let boundary = multer::parse_boundary(&content_type).map_err(|error| {
            Box::new(bad_form(&format!(
                "the multipart boundary is missing: {error}"
            )))
        })?;
        let csrf_ok = |sent: &str| session.is_some_and(|session| session.csrf_matches(sent));
        return Submitted::from_multipart(
            body.into_data_stream(),
            &boundary,
            MAX_UPLOAD_BYTES,
            csrf_ok,
        )
        .await
        .map_err(|refusal| match refusal {
            // Left to the CSRF check, which answers the refusal page.
            MultipartRefusal::Csrf => Box::new(csrf_refused()),
            MultipartRefusal::TooLarge => too_large(),
            MultipartRefusal::Malformed(why) => Box::new(bad_form(&why)),
        });
    }
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| too_large())?;
    Ok(Submitted::from_urlencoded(&bytes))
}

/// The refusal of a form whose CSRF token is missing or wrong.
fn csrf_refused() -> Response {
    layout::message_page(
        StatusCode::FORBIDDEN,
        &Nav::Anonymous,
        "Form refused",
        "This form was not sent from this site's current page, or it has expired. Reload the page and try again.",
    )
}

fn bad_form(why: &str) -> Response {
    layout::message_page(
        StatusCode::BAD_REQUEST,
        &Nav::Anonymous,
        "Form refused",
        &format!("The form could not be read: {why}."),
    )
}

/// Security headers on every portal answer: nothing loads from elsewhere,
/// no framing, no sniffing, and pages are not cached (they show live state).
fn with_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for FieldError {
    fn into_response(self) -> Response {
        bad_form(&format!("{} {}", self.field, self.message))
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;

    #[test]
    fn urlencoded_fields_keep_every_value_in_order() {
        let form = Submitted::from_urlencoded(b"csrf=t&role=a&role=b&user=+bob+");
        assert_eq!(form.text("csrf"), Some("t"));
        assert_eq!(form.all("role"), vec!["a", "b"]);
        assert_eq!(form.required("user"), Ok("bob"));
        assert_eq!(
            form.required("subject"),
            Err(FieldError {
                field: "subject".into(),
                message: "is required".into()
            })
        );
    }

    #[tokio::test]
    async fn multipart_fields_and_files_are_separated() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n\
                    --XX\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.pdf\"\r\n\
                    Content-Type: application/pdf\r\n\r\n%PDF-1.7\r\n--XX--\r\n";
        let stream = |body: &'static str| {
            futures_util::stream::once(async move { Ok::<_, Infallible>(Bytes::from(body)) })
        };
        let form = Submitted::from_multipart(stream(body), "XX", 1024, |sent| sent == "tok")
            .await
            .expect("valid multipart");
        assert_eq!(form.text("csrf"), Some("tok"));
        let file = form.file("document").expect("the file");
        assert_eq!(&file.bytes[..], b"%PDF-1.7");
        assert!(form.file("other").is_none());
        assert_eq!(
            Submitted::from_multipart(stream(body), "XX", 1024, |sent| sent == "other")
                .await
                .err(),
            Some(MultipartRefusal::Csrf)
        );
        assert_eq!(
            Submitted::from_multipart(stream(body), "XX", 64, |_| true)
                .await
                .err(),
            Some(MultipartRefusal::TooLarge)
        );
    }

    #[tokio::test]
    async fn a_file_before_the_csrf_token_is_not_read() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\r\n\
                    --XX\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n--XX--\r\n";
        let stream =
            futures_util::stream::once(async move { Ok::<_, Infallible>(Bytes::from(body)) });
        assert_eq!(
            Submitted::from_multipart(stream, "XX", 1024, |_| true)
                .await
                .err(),
            Some(MultipartRefusal::Csrf)
        );
    }

    #[test]
    fn only_the_appeal_takes_uploads() {
        assert!(takes_upload(
            "/t/contoso/account/verification/maicpp/appeal"
        ));
        for path in [
            "/login",
            "/nothing-here",
            "/t/contoso/support",
            "/t//account/verification/x/appeal",
            "/t/a/account/verification/x/appeal/more",
        ] {
            assert!(!takes_upload(path), "{path}");
        }
    }
}
