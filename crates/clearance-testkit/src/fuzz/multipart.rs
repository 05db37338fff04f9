//! Multipart upload bodies for the upload routes (the API's appeal and the portal's): a valid
//! form mutated (boundaries, part headers, names, file names), a declared boundary other than
//! the one used, a document of any size up to past the limit, or arbitrary bytes.

use proptest::prelude::*;

/// The document a valid form carries: a minimal PDF the service accepts.
const PDF: &str = "%PDF-1.4\n% clearance fuzzing\n%%EOF\n";

/// A multipart request: its `Content-Type` and how its body is made.
#[derive(Clone, Debug)]
pub enum Upload {
    /// A body given whole (small: mutated, or arbitrary bytes).
    Bytes(String, Vec<u8>),
    /// A valid form with `boundary` around a document of `size` bytes, made only when sent
    /// (up to past the body limit: too large to keep in every generated case).
    Sized {
        /// The `Content-Type` header.
        content_type: String,
        /// The boundary the body uses.
        boundary: String,
        /// The text fields before the document.
        fields: Vec<(String, String)>,
        /// The document's size in bytes, beyond its PDF header and trailer.
        size: usize,
    },
}

impl Upload {
    /// The `Content-Type` header and the body.
    pub fn into_parts(self) -> (String, Vec<u8>) {
        match self {
            Upload::Bytes(content_type, body) => (content_type, body),
            Upload::Sized {
                content_type,
                boundary,
                fields,
                size,
            } => {
                let document = format!("%PDF-1.4\n{}\n%%EOF\n", "a".repeat(size));
                (
                    content_type,
                    form(&boundary, &fields, &document).into_bytes(),
                )
            }
        }
    }
}

/// A valid form: `fields` in order, then the file `document` (a PDF named `registration.pdf`).
fn form(boundary: &str, fields: &[(String, String)], document: &str) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"registration.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n{document}\r\n--{boundary}--\r\n"
    ));
    body
}

/// Upload bodies of a form whose text `fields` come before its `document` file; sizes reach
/// just past `limit` (the route's body limit).
pub fn multipart(fields: &[(&str, &str)], limit: usize) -> impl Strategy<Value = Upload> + use<> {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    let boundary = prop_oneof![
        3 => Just("X-FUZZ-BOUNDARY".to_owned()),
        1 => "[ -~]{0,80}",
        1 => "[a-zA-Z0-9'()+_,./:=?-]{1,70}",
    ];
    let content_type = |declared: String| {
        prop_oneof![
            4 => Just(format!("multipart/form-data; boundary={declared}")),
            1 => Just(format!("multipart/form-data; boundary=\"{declared}\"")),
            1 => Just("multipart/form-data".to_owned()),
            1 => "multipart/[ -~]{0,40}",
        ]
    };
    let small = fields.clone();
    prop_oneof![
        // The form as sent, or with 1 to 8 token edits; the declared boundary may differ.
        4 => (boundary.clone(), boundary.clone()).prop_flat_map(move |(declared, used)| {
            let form = form(&used, &small, PDF);
            (
                content_type(declared),
                prop_oneof![1 => Just(form.clone()), 4 => super::mutated(&form)],
            )
                .prop_map(|(content_type, body)| Upload::Bytes(content_type, body.into_bytes()))
        }),
        1 => (boundary.clone(), proptest::collection::vec(any::<u8>(), 0..400)).prop_flat_map(
            move |(declared, bytes)| {
                content_type(declared)
                    .prop_map(move |content_type| Upload::Bytes(content_type, bytes.clone()))
            }
        ),
        1 => (boundary, proptest::sample::select(vec![0, 1, 70_000, limit + 1])).prop_map(
            move |(boundary, size)| Upload::Sized {
                content_type: format!("multipart/form-data; boundary={boundary}"),
                boundary,
                fields: fields.clone(),
                size,
            }
        ),
    ]
}
