//! Export files: compression chosen by the file's name, the running SHA-256 the `end` line
//! carries, and `Store::export`, which streams the records into a file on a thread of its own.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{End, Progress, Record};
use crate::{Store, StoreError};

/// Why an export failed. A failed export removes its partial file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The output file could not be created or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file exists already (an export never overwrites one).
    #[error("{path} already exists; an export never overwrites a file")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Its `end` line's counts and checksum.
    pub end: End,
    /// The global revision it was read at.
    pub revision: u64,
    /// Bytes written to the file (after compression).
    pub bytes: u64,
}

/// How a file is compressed, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    Zstd,
    Gzip,
    Plain,
}

impl Compression {
    pub(crate) fn of(path: &Path) -> Compression {
        match path.extension().and_then(|extension| extension.to_str()) {
            Some("zst") => Compression::Zstd,
            Some("gz") => Compression::Gzip,
            _ => Compression::Plain,
        }
    }
}

/// A compressing writer that counts what reaches the file.
enum Sink {
    Zstd(zstd::Encoder<'static, Counting>),
    Gzip(flate2::write::GzEncoder<Counting>),
    Plain(Counting),
}

struct Counting {
    inner: BufWriter<File>,
    bytes: u64,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Sink {
    fn create(path: &Path) -> io::Result<Sink> {
        let file = File::options().write(true).create_new(true).open(path)?;
        let counting = Counting {
            inner: BufWriter::with_capacity(1 << 20, file),
            bytes: 0,
        };
        Ok(match Compression::of(path) {
            Compression::Zstd => Sink::Zstd(zstd::Encoder::new(counting, 3)?),
            // Level 1: gzip's default level would make compression the slowest part by far.
            Compression::Gzip => Sink::Gzip(flate2::write::GzEncoder::new(
                counting,
                flate2::Compression::fast(),
            )),
            Compression::Plain => Sink::Plain(counting),
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Zstd(encoder) => encoder.write_all(bytes),
            Sink::Gzip(encoder) => encoder.write_all(bytes),
            Sink::Plain(counting) => counting.write_all(bytes),
        }
    }

    /// Ends the compressed stream and makes the file durable; returns the bytes written.
    fn finish(self) -> io::Result<u64> {
        let mut counting = match self {
            Sink::Zstd(encoder) => encoder.finish()?,
            Sink::Gzip(encoder) => encoder.finish()?,
            Sink::Plain(counting) => counting,
        };
        counting.flush()?;
        let bytes = counting.bytes;
        let file = counting
            .inner
            .into_inner()
            .map_err(|error| error.into_error())?;
        file.sync_all()?;
        Ok(bytes)
    }
}

/// Opens an export for reading, decompressing by its name.
pub(crate) fn open_input(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let file = File::open(path)?;
    let reader: Box<dyn Read + Send> = match Compression::of(path) {
        Compression::Zstd => Box::new(zstd::Decoder::new(file)?),
        Compression::Gzip => Box::new(flate2::read::GzDecoder::new(BufReader::new(file))),
        Compression::Plain => Box::new(file),
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, reader)))
}

/// Lower-case hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl Store {
    /// Writes every record of the store, read at one revision, to a new file at `path`
    /// (compressed when it ends in `.zst` or `.gz`), ending with the `end` line. Writers do not
    /// wait for it. A failed export removes the partial file.
    pub async fn export(
        &self,
        path: &Path,
        progress: Progress,
    ) -> Result<ExportSummary, ExportError> {
        let io_error = |source| ExportError::Io {
            path: path.to_owned(),
            source,
        };
        let sink = match Sink::create(path) {
            Ok(sink) => sink,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                return Err(ExportError::Exists {
                    path: path.to_owned(),
                });
            }
            Err(error) => return Err(io_error(error)),
        };
        let result = self.export_into(sink, progress).await;
        if result.is_err() {
            let _ = std::fs::remove_file(path);
        }
        result.map_err(|error| match error {
            Failed::Io(source) => io_error(source),
            Failed::Store(error) => ExportError::Store(error),
        })
    }

    async fn export_into(&self, sink: Sink, progress: Progress) -> Result<ExportSummary, Failed> {
        let mut stream = self.records().await?;
        let header = stream.header().clone();
        let revision = header.revision;
        // Serializing, hashing, compressing and writing run on a thread of their own while
        // this task reads the database.
        let (lines, received) = std::sync::mpsc::sync_channel::<Vec<Record>>(4);
        let writer = tokio::task::spawn_blocking(move || write_file(sink, received, progress));
        let mut sent = lines.send(vec![Record::Header(header)]).is_ok();
        while sent && let Some(batch) = stream.next_batch().await? {
            sent = lines.send(batch).is_ok();
        }
        drop(lines);
        let (end, bytes) = writer
            .await
            .map_err(|error| Failed::Io(io::Error::other(error.to_string())))??;
        Ok(ExportSummary {
            end,
            revision,
            bytes,
        })
    }
}

enum Failed {
    Io(io::Error),
    Store(StoreError),
}

impl From<StoreError> for Failed {
    fn from(error: StoreError) -> Self {
        Failed::Store(error)
    }
}

impl From<io::Error> for Failed {
    fn from(error: io::Error) -> Self {
        Failed::Io(error)
    }
}

/// The writing thread: lines, the running hash and the counts, then the `end` line.
fn write_file(
    mut sink: Sink,
    batches: std::sync::mpsc::Receiver<Vec<Record>>,
    progress: Progress,
) -> Result<(End, u64), Failed> {
    let mut hash = Sha256::new();
    let mut buffer = Vec::with_capacity(1 << 20);
    let mut records = 0u64;
    let mut events = 0u64;
    let mut tenants = 0u64;
    let mut last_tenant = String::new();
    for batch in batches {
        buffer.clear();
        for record in &batch {
            if let Record::Event(event) = record {
                events += 1;
                if event.tenant != last_tenant {
                    tenants += 1;
                    last_tenant.clone_from(&event.tenant);
                }
            }
            record.write_line(&mut buffer);
            records += 1;
        }
        hash.update(&buffer);
        sink.write_all(&buffer)?;
        progress(events);
    }
    let end = End {
        records,
        tenants,
        events,
        sha256: hex(&hash.finalize()),
    };
    buffer.clear();
    Record::End(end.clone()).write_line(&mut buffer);
    sink.write_all(&buffer)?;
    let bytes = sink.finish()?;
    Ok((end, bytes))
}
