//! Downloading dataset files into the cache: HTTP GET with `ureq`, streamed to a temporary file
//! in the destination directory, verified against a pinned SHA-256 of the uncompressed content,
//! then atomically renamed into place. A failed or mismatching download leaves nothing behind.
//!
//! Also: where the cache is (`$ANE_TRAINER_CACHE`, else `$XDG_CACHE_HOME/ane-trainer`, else
//! `~/.cache/ane-trainer`) and SHA-256 helpers.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::error::{DataError, Result};
use super::idx::{gunzip_if_compressed, MAX_IDX_BYTES};

/// How downloads behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadOptions {
    /// Longest wait to establish a connection.
    pub connect_timeout: Duration,
    /// Longest wait for any single read (headers or body) before giving up on a stalled server.
    pub stall_timeout: Duration,
    /// Print progress (bytes received) to stderr for downloads that take a while.
    pub progress: bool,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            connect_timeout: Duration::from_secs(30),
            stall_timeout: Duration::from_secs(60),
            progress: true,
        }
    }
}

/// Lowercase hex of a SHA-256 digest of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The cache directory from the process environment; see [`cache_dir_from`].
pub fn default_cache_dir() -> Result<PathBuf> {
    cache_dir_from(|key| std::env::var_os(key))
}

/// The cache directory given an environment lookup: `$ANE_TRAINER_CACHE` if set, else
/// `$XDG_CACHE_HOME/ane-trainer` if that is an absolute path (as the XDG spec requires), else
/// `$HOME/.cache/ane-trainer`. Empty variables count as unset.
pub fn cache_dir_from(env: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf> {
    let get = |key: &str| env(key).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = get("ANE_TRAINER_CACHE") {
        return Ok(dir);
    }
    if let Some(xdg) = get("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join("ane-trainer"));
    }
    get("HOME")
        .map(|home| home.join(".cache").join("ane-trainer"))
        .ok_or(DataError::NoCacheDir)
}

/// A temporary file that is deleted when dropped unless it has been renamed into place.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn new(dest: &Path) -> Self {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The pid keeps two processes filling the same cache from clobbering each other's
        // partial file; the final rename is atomic either way.
        let path = dest.with_file_name(format!(".{name}.part-{}", std::process::id()));
        TempFile { path, armed: true }
    }

    fn persist(mut self, dest: &Path) -> Result<()> {
        std::fs::rename(&self.path, dest).map_err(|e| DataError::io(dest, e))?;
        self.armed = false;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Prints "received N of M bytes" to stderr every few seconds once a download has run a while.
struct Progress<'a> {
    url: &'a str,
    enabled: bool,
    started: Instant,
    last_report: Instant,
    reported: bool,
}

impl<'a> Progress<'a> {
    const INTERVAL: Duration = Duration::from_secs(2);

    fn new(url: &'a str, enabled: bool) -> Self {
        let now = Instant::now();
        Progress {
            url,
            enabled,
            started: now,
            last_report: now,
            reported: false,
        }
    }

    fn update(&mut self, received: u64, total: Option<u64>) {
        if !self.enabled || self.last_report.elapsed() < Self::INTERVAL {
            return;
        }
        self.last_report = Instant::now();
        self.reported = true;
        match total {
            Some(total) => eprintln!("  {}: {received} of {total} bytes", self.url),
            None => eprintln!("  {}: {received} bytes", self.url),
        }
    }

    fn finish(&self, received: u64) {
        if self.reported {
            eprintln!(
                "  {}: {received} bytes in {:.1} s",
                self.url,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

fn http_error(url: &str, err: ureq::Error) -> DataError {
    let reason = match err {
        ureq::Error::StatusCode(code) => format!("server answered HTTP status {code}"),
        ureq::Error::Timeout(what) => format!("timed out ({what})"),
        other => other.to_string(),
    };
    DataError::Http {
        url: url.to_string(),
        reason,
    }
}

/// Downloads `url` to `dest` (creating its directory), accepting it only if the SHA-256 of its
/// uncompressed content (gunzipped when it is gzip) equals `expected_sha256`. The body streams
/// to a temporary file beside `dest`, renamed into place only after verification; on any error
/// the temporary file is removed and `dest` is untouched.
pub fn download_verified(
    url: &str,
    dest: &Path,
    expected_sha256: &str,
    options: &DownloadOptions,
) -> Result<()> {
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    }
    let temp = TempFile::new(dest);
    let received = fetch_to_file(url, &temp.path, options)?;

    let bytes =
        ane_mil::file::read_bounded(&temp.path, MAX_IDX_BYTES, "a downloaded dataset file")?;
    let content = gunzip_if_compressed(&bytes, url)?;
    let actual = sha256_hex(&content);
    if actual != expected_sha256 {
        return Err(DataError::ChecksumMismatch {
            file: format!("{url} ({received} bytes received)"),
            expected: expected_sha256.to_string(),
            actual,
        });
    }
    temp.persist(dest)
}

/// HTTPS settings: rustls on Linux and elsewhere, the system's TLS on macOS (see Cargo.toml).
fn tls_config() -> ureq::tls::TlsConfig {
    let provider = if cfg!(target_os = "macos") {
        ureq::tls::TlsProvider::NativeTls
    } else {
        ureq::tls::TlsProvider::Rustls
    };
    ureq::tls::TlsConfig::builder().provider(provider).build()
}

/// Streams the body of `url` into a new file at `path`; returns the number of bytes written.
fn fetch_to_file(url: &str, path: &Path, options: &DownloadOptions) -> Result<u64> {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(options.connect_timeout))
        .timeout_per_read(Some(options.stall_timeout))
        .tls_config(tls_config())
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let response = agent.get(url).call().map_err(|e| http_error(url, e))?;
    let total = response.body().content_length();
    let mut reader = response.into_body().into_reader();
    let mut file = File::create(path).map_err(|e| DataError::io(path, e))?;

    let mut progress = Progress::new(url, options.progress);
    let mut buffer = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(DataError::Http {
                    url: url.to_string(),
                    reason: format!("connection failed after {received} bytes: {e}"),
                })
            }
        };
        file.write_all(&buffer[..n])
            .map_err(|e| DataError::io(path, e))?;
        received += n as u64;
        // A dataset file is far smaller; a server sending more must not fill the disk.
        if received > MAX_IDX_BYTES {
            return Err(DataError::Http {
                url: url.to_string(),
                reason: format!(
                    "the body exceeds {MAX_IDX_BYTES} bytes, the limit for a dataset file"
                ),
            });
        }
        progress.update(received, total);
    }
    // ureq already fails a body shorter than its Content-Length; this guards the contract.
    if let Some(total) = total.filter(|&t| t != received) {
        return Err(DataError::Http {
            url: url.to_string(),
            reason: format!("body ended after {received} of {total} bytes"),
        });
    }
    file.sync_all().map_err(|e| DataError::io(path, e))?;
    progress.finish(received);
    Ok(received)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_server::{Reply, TestServer};

    fn quiet() -> DownloadOptions {
        DownloadOptions {
            connect_timeout: Duration::from_secs(5),
            stall_timeout: Duration::from_secs(5),
            progress: false,
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn cache_dir_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            cache_dir_from(env(&[
                ("ANE_TRAINER_CACHE", "/c"),
                ("XDG_CACHE_HOME", "/x"),
                ("HOME", "/h"),
            ]))
            .unwrap(),
            PathBuf::from("/c")
        );
        assert_eq!(
            cache_dir_from(env(&[("ANE_TRAINER_CACHE", ""), ("XDG_CACHE_HOME", "/x")])).unwrap(),
            PathBuf::from("/x/ane-trainer")
        );
        assert_eq!(
            cache_dir_from(env(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/h/.cache/ane-trainer")
        );
        assert!(matches!(
            cache_dir_from(env(&[])),
            Err(DataError::NoCacheDir)
        ));
    }

    #[test]
    fn downloads_verifies_and_renames_gzip_and_plain() {
        let content = b"\0\0\x08\x01\0\0\0\x03abc".to_vec();
        let server = TestServer::start(vec![
            ("/f.gz", Reply::Ok(gzip(&content))),
            ("/plain", Reply::Ok(content.clone())),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let want = sha256_hex(&content);
        for name in ["f.gz", "plain"] {
            let dest = dir.path().join("sub").join(name);
            download_verified(&server.url(name), &dest, &want, &quiet()).unwrap();
            let stored = std::fs::read(&dest).unwrap();
            assert_eq!(
                gunzip_if_compressed(&stored, "x").unwrap().as_ref(),
                &content[..]
            );
        }
        assert_eq!(server.requests(), 2);
        let mut names = leftovers(&dir.path().join("sub"));
        names.sort();
        assert_eq!(names, vec!["f.gz", "plain"]);
    }

    #[test]
    fn checksum_mismatch_reports_both_hashes_and_leaves_nothing() {
        let server = TestServer::start(vec![("/f.gz", Reply::Ok(gzip(b"not the data")))]);
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f.gz");
        let expected = sha256_hex(b"the data");
        let err = download_verified(&server.url("f.gz"), &dest, &expected, &quiet()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{msg}");
        assert!(msg.contains(&expected), "{msg}");
        assert!(msg.contains(&sha256_hex(b"not the data")), "{msg}");
        assert!(
            leftovers(dir.path()).is_empty(),
            "{:?}",
            leftovers(dir.path())
        );
    }

    #[test]
    fn not_found_is_an_http_error_naming_the_url() {
        let server = TestServer::start(vec![]);
        let dir = tempfile::tempdir().unwrap();
        let url = server.url("missing.gz");
        let err = download_verified(&url, &dir.path().join("m"), "00", &quiet()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::Http { .. }), "{msg}");
        assert!(msg.contains(&url) && msg.contains("404"), "{msg}");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn truncated_body_is_an_error_and_leaves_nothing() {
        // Incompressible bytes, so the body really is longer than what is sent.
        let mut rng = crate::rng::Rng::new(5);
        let body: Vec<u8> = (0..100_000).map(|_| rng.next_u64() as u8).collect();
        let server = TestServer::start(vec![("/t.gz", Reply::Truncated(body, 500))]);
        let dir = tempfile::tempdir().unwrap();
        let err = download_verified(
            &server.url("t.gz"),
            &dir.path().join("t.gz"),
            "00",
            &quiet(),
        )
        .unwrap_err();
        assert!(matches!(err, DataError::Http { .. }), "{err}");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn stalled_server_times_out() {
        let server = TestServer::start(vec![("/slow", Reply::Stall)]);
        let dir = tempfile::tempdir().unwrap();
        let options = DownloadOptions {
            stall_timeout: Duration::from_millis(300),
            ..quiet()
        };
        let err = download_verified(&server.url("slow"), &dir.path().join("s"), "00", &options)
            .unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
    }

    #[test]
    fn refused_connection_is_an_http_error() {
        // Bind then drop a listener to get a local port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("http://127.0.0.1:{port}/x");
        let err = download_verified(&url, &dir.path().join("x"), "00", &quiet()).unwrap_err();
        assert!(matches!(err, DataError::Http { .. }), "{err}");
    }
}
