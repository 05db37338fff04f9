//! Which uploaded documents are accepted: PDF, PNG and JPEG files, recognised
//! by their whole structure, not by a name or the first bytes alone.
//!
//! A file that only starts like a PNG (`\x89PNG…<html><script>…`) is a
//! polyglot a browser could be talked into rendering as HTML, so each type is
//! checked to its end: a PNG is walked chunk by chunk (lengths, types and
//! CRCs) from `IHDR` to a final `IEND`; a PDF needs its `%PDF-` header and an
//! `%%EOF` trailer; a JPEG its start and end markers. PDFs and JPEGs must also
//! carry no HTML or script markers anywhere. The service stores and serves the
//! bytes as they are; the API serves them with `nosniff`, `attachment` and a
//! sandboxing CSP on top of this.

use super::{MAX_DOCUMENT_BYTES, ServiceError};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Byte sequences that mark HTML or script content (compared ignoring ASCII case).
const MARKUP_MARKERS: &[&[u8]] = &[
    b"<html",
    b"<script",
    b"<!doctype",
    b"<svg",
    b"<iframe",
    b"<body",
    b"javascript:",
];

/// The media type of an accepted document, checked by its content: a PDF, PNG
/// or JPEG that is whole and carries no HTML. Refused with `Invalid` naming
/// `document` otherwise.
pub fn document_media_type(bytes: &[u8]) -> Result<&'static str, ServiceError> {
    if bytes.is_empty() {
        return Err(ServiceError::invalid("document", "is empty"));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(ServiceError::invalid(
            "document",
            format!("is larger than {MAX_DOCUMENT_BYTES} bytes"),
        ));
    }
    let (media_type, problem) = if bytes.starts_with(b"%PDF-") {
        ("application/pdf", pdf_problem(bytes))
    } else if bytes.starts_with(PNG_SIGNATURE) {
        ("image/png", png_problem(&bytes[PNG_SIGNATURE.len()..]))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        ("image/jpeg", jpeg_problem(bytes))
    } else {
        return Err(ServiceError::invalid(
            "document",
            "must be a PDF, PNG or JPEG file (checked by content)",
        ));
    };
    match problem {
        None => Ok(media_type),
        Some(problem) => Err(ServiceError::invalid(
            "document",
            format!("is not a well-formed {media_type} file: {problem}"),
        )),
    }
}

/// Why a file that starts with `%PDF-` is refused, if it is.
fn pdf_problem(bytes: &[u8]) -> Option<&'static str> {
    let end = bytes.trim_ascii_end();
    if !end.ends_with(b"%%EOF") {
        return Some("it has no %%EOF trailer");
    }
    has_markup(bytes).then_some("it contains HTML or script markup")
}

/// Why a file that starts with the JPEG start-of-image marker is refused, if it is.
fn jpeg_problem(bytes: &[u8]) -> Option<&'static str> {
    if !bytes.ends_with(&[0xFF, 0xD9]) {
        return Some("it does not end with the end-of-image marker");
    }
    has_markup(bytes).then_some("it contains HTML or script markup")
}

/// Why the chunks after a PNG signature are refused, if they are: each chunk
/// must fit, have a letters-only type and a matching CRC; the first is `IHDR`
/// and the last `IEND`, which ends the file.
fn png_problem(mut rest: &[u8]) -> Option<&'static str> {
    let mut first = true;
    loop {
        if rest.len() < 12 {
            return Some("a chunk is cut short");
        }
        let length = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let Some(chunk_end) = length
            .checked_add(12)
            .filter(|&chunk_end| chunk_end <= rest.len())
        else {
            return Some("a chunk is longer than the file");
        };
        let kind = &rest[4..8];
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Some("a chunk type is not four letters");
        }
        let data_end = 8 + length;
        let stored = u32::from_be_bytes([
            rest[data_end],
            rest[data_end + 1],
            rest[data_end + 2],
            rest[data_end + 3],
        ]);
        if crc32(&rest[4..data_end]) != stored {
            return Some("a chunk's CRC does not match");
        }
        if first && kind != b"IHDR" {
            return Some("the first chunk is not IHDR");
        }
        first = false;
        rest = &rest[chunk_end..];
        if kind == b"IEND" {
            return (!rest.is_empty()).then_some("bytes follow the IEND chunk");
        }
    }
}

/// Whether `bytes` contain an HTML or script marker, ignoring ASCII case.
fn has_markup(bytes: &[u8]) -> bool {
    (0..bytes.len()).any(|at| {
        MARKUP_MARKERS.iter().any(|marker| {
            bytes
                .get(at..at + marker.len())
                .is_some_and(|window| window.eq_ignore_ascii_case(marker))
        })
    })
}

/// The CRC-32 (ISO-HDLC, as PNG uses) of `bytes`.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A whole, minimal PNG: a 1x1 image's `IHDR`, no data, and `IEND`.
    pub(crate) fn minimal_png() -> Vec<u8> {
        let mut png = PNG_SIGNATURE.to_vec();
        push_chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
        push_chunk(&mut png, b"IEND", &[]);
        png
    }

    fn push_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        png.extend_from_slice(&u32::try_from(data.len()).expect("small").to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }

    fn refused(bytes: &[u8]) -> String {
        match document_media_type(bytes) {
            Err(ServiceError::Invalid { field, message }) => {
                assert_eq!(field, "document");
                message
            }
            other => panic!("expected a refusal naming `document`, got {other:?}"),
        }
    }

    #[test]
    fn the_crc_is_png_s() {
        // The CRC of an empty IEND chunk's type, as in every PNG file.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn whole_documents_are_recognised_by_content_not_name() {
        assert_eq!(
            document_media_type(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n").ok(),
            Some("application/pdf")
        );
        assert_eq!(document_media_type(&minimal_png()).ok(), Some("image/png"));
        assert_eq!(
            document_media_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0xFF, 0xD9]).ok(),
            Some("image/jpeg")
        );
        for bad in [&b"GIF89a"[..], b"", b"MZ\x90\0", b"<html>"] {
            refused(bad);
        }
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_DOCUMENT_BYTES + 1, 0);
        assert!(document_media_type(&big).is_err());
    }

    #[test]
    fn a_png_polyglot_is_refused() {
        let message =
            refused(b"\x89PNG\r\n\x1a\n<html><script>alert(document.cookie)</script></html>");
        assert!(message.contains("image/png"), "{message}");
        // Bytes after IEND, a bad CRC, and a missing IEND are refused too.
        let mut trailing = minimal_png();
        trailing.extend_from_slice(b"<html>");
        refused(&trailing);
        let mut bad_crc = minimal_png();
        let last = bad_crc.len() - 1;
        bad_crc[last] ^= 1;
        refused(&bad_crc);
        let png = minimal_png();
        refused(&png[..png.len() - 12]);
    }

    #[test]
    fn a_pdf_needs_its_trailer_and_no_markup() {
        assert!(refused(b"%PDF-1.4 no trailer").contains("%%EOF"));
        assert!(
            refused(b"%PDF-1.4\n<HTML><body>hi</body>\n%%EOF").contains("markup"),
            "markers are found whatever their case"
        );
        assert!(refused(b"%PDF-1.4\n%%EOF<script").contains("%%EOF"));
        refused(&[0xFF, 0xD8, 0xFF, 0xE0, b'<', b's', b'v', b'g', 0xFF, 0xD9]);
        refused(&[0xFF, 0xD8, 0xFF, 0xE0]);
    }

    #[test]
    fn a_marker_in_the_last_bytes_is_found() {
        assert!(has_markup(b"xx<svg"));
        assert!(has_markup(b"<svg"));
        assert!(!has_markup(b"%PDF-1.4 %%EOF"));
    }
}
