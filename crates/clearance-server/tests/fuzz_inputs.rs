//! No panic from any input: the document content check fuzzed with arbitrary bytes and with
//! byte mutations of accepted PDF and PNG files; it answers a media type or a typed refusal
//! naming the `document` field. `scripts/fuzz N` runs many more cases in release mode.

use clearance_server::ServiceError;
use clearance_server::service::document_media_type;
use clearance_testkit::fuzz::{config, report};
use proptest::prelude::*;

const CASES: u32 = 512;

const PDF: &[u8] = b"%PDF-1.4\n% clearance demo: business registration\n%%EOF\n";

/// A 1x1 PNG: signature, IHDR, IDAT, IEND with their CRCs.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// A valid document with bytes flipped, inserted, deleted or cut off.
fn mutated_document() -> impl Strategy<Value = Vec<u8>> {
    let base = prop_oneof![Just(PDF.to_vec()), Just(PNG.to_vec())];
    let edit = (any::<usize>(), any::<u8>(), 0..4u8);
    (base, proptest::collection::vec(edit, 1..6)).prop_map(|(mut bytes, edits)| {
        for (at, byte, kind) in edits {
            let at = at % (bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] ^= byte,
                1 => bytes.insert(at, byte),
                2 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.truncate(at),
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn fuzz_document_content(bytes in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        mutated_document(),
    ]) {
        match document_media_type(&bytes) {
            Ok(media_type) => prop_assert!(
                ["application/pdf", "image/png", "image/jpeg"].contains(&media_type)
            ),
            Err(ServiceError::Invalid { field, .. }) => prop_assert_eq!(field, "document"),
            Err(other) => prop_assert!(false, "not a typed refusal: {other:?}"),
        }
    }
}

#[test]
fn the_fuzzed_documents_start_valid() {
    assert_eq!(document_media_type(PDF).ok(), Some("application/pdf"));
    assert_eq!(document_media_type(PNG).ok(), Some("image/png"));
}

#[test]
fn fuzz_case_counts() {
    report("document_content", CASES);
}
