//! A file store: one JSON file per server under the user's state directory, readable by the
//! user only (0600 in a 0700 directory), written atomically (write a temporary file, fsync,
//! rename, fsync the directory) so a crash or a full disk never leaves a half-written entry in
//! place of a good one. Cross-process locks are file locks (std's: `flock` on Unix,
//! `LockFileEx` on Windows) on a sibling `.lock` file, waited for a bounded time.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{CredentialStore, StoreError, StoreLock};

/// Credentials in files.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// A file name for a key: a hex SHA-256 (keys are URLs, not file names).
pub(crate) fn file_stem(key: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl FileStore {
    /// A store in `dir` (created 0700 if missing).
    pub fn new(dir: PathBuf) -> Result<Self, StoreError> {
        create_private_dir(&dir)?;
        Ok(FileStore { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.json", file_stem(key)))
    }
}

/// Create `dir` (0700) if missing, then make sure it is private: a real directory (not a
/// symlink someone planted), owned by this user, open to nobody else (a looser mode on a
/// directory of ours is tightened to 0700).
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| io_err(dir, e))?;
    check_private_dir(dir)
}

#[cfg(unix)]
fn check_private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let refuse = |why: &str| io_err(dir, format!("refusing to keep credentials here: {why}"));
    let meta = fs::symlink_metadata(dir).map_err(|e| io_err(dir, e))?;
    if meta.file_type().is_symlink() {
        return Err(refuse("it is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(refuse("it is not a directory"));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(refuse(&format!(
            "it belongs to user {} (this is user {me})",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| io_err(dir, format!("cannot make it private (0700): {e}")))?;
        tracing::info!(dir = %dir.display(), "made the credential directory private (0700)");
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_dir(dir: &Path) -> Result<(), StoreError> {
    let meta = fs::symlink_metadata(dir).map_err(|e| io_err(dir, e))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(io_err(
            dir,
            "refusing to keep credentials here: not a plain directory",
        ));
    }
    Ok(())
}

/// Options that never follow a symbolic link at the final component (`O_NOFOLLOW`).
fn no_follow(o: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW);
    }
    o
}

/// A temporary file name nobody can guess (so none can be planted in advance).
fn random_suffix() -> Result<String, StoreError> {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 12];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| StoreError::Io {
            path: String::new(),
            reason: "no randomness for a temporary file name".into(),
        })?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// How long a process waits for another's lock on an entry (a refresh in progress takes a
/// token request, bounded by its own timeout): past this the lock is reported as unusable
/// and the caller goes on without it.
pub(crate) const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(45);

/// Take an exclusive advisory lock on `<dir>/<stem>.lock`, waiting up to [`LOCK_WAIT`].
pub(crate) fn lock_file(dir: &Path, key: &str) -> Result<StoreLock, StoreError> {
    lock_file_within(dir, key, LOCK_WAIT)
}

/// [`lock_file`] with its own bound on the wait.
pub(crate) fn lock_file_within(
    dir: &Path,
    key: &str,
    wait: std::time::Duration,
) -> Result<StoreLock, StoreError> {
    let path = dir.join(format!("{}.lock", file_stem(key)));
    let mut o = OpenOptions::new();
    o.create(true).truncate(false).write(true).read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = no_follow(&mut o)
        .open(&path)
        .map_err(|e| io_err(&path, e))?;
    // std's file lock: `flock` on Unix, `LockFileEx` on Windows; released when `f` closes.
    let deadline = std::time::Instant::now() + wait;
    let mut pause = std::time::Duration::from_millis(2);
    loop {
        match f.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&path, e)),
        }
        if std::time::Instant::now() >= deadline {
            return Err(io_err(
                &path,
                format!("another process held the lock for more than {wait:?}"),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(100));
    }
    Ok(StoreLock::holding(f))
}

impl CredentialStore for FileStore {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        let path = self.path(key);
        let read = || -> std::io::Result<String> {
            let mut f = no_follow(OpenOptions::new().read(true)).open(&path)?;
            let mut s = String::new();
            std::io::Read::read_to_string(&mut f, &mut s)?;
            Ok(s)
        };
        match read() {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let path = self.path(key);
        // A fresh, unguessable name, created exclusively and never through a link.
        let tmp = self
            .dir
            .join(format!(".{}.{}.tmp", file_stem(key), random_suffix()?));
        let write = || -> std::io::Result<()> {
            let mut o = OpenOptions::new();
            o.create_new(true).write(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            let mut f = no_follow(&mut o).open(&tmp)?;
            f.write_all(value.as_bytes())?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, &path)?;
            // Make the rename itself durable.
            if let Ok(d) = File::open(&self.dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io_err(&path, e)
        })
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    fn lock(&self, key: &str) -> Result<StoreLock, StoreError> {
        lock_file(&self.dir, key)
    }

    fn name(&self) -> String {
        format!("file ({})", self.dir.display())
    }

    fn keys(&self) -> Result<Option<Vec<String>>, StoreError> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Some(Vec::new())),
            Err(e) => return Err(io_err(&self.dir, e)),
        };
        let mut keys = Vec::new();
        for entry in rd.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            // The key is inside the entry (file names are hashes).
            let server = fs::read_to_string(&path)
                .ok()
                .and_then(|raw| serde_json::from_str::<serde_json::Value>(&raw).ok())
                .and_then(|v| v.get("server").and_then(|s| s.as_str()).map(str::to_owned));
            if let Some(k) = server {
                keys.push(k);
            }
        }
        keys.sort();
        Ok(Some(keys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("mcp-client-store-{tag}-{}", std::process::id()))
    }

    #[test]
    fn round_trip_permissions_and_delete() {
        let dir = tmpdir("rt");
        let s = FileStore::new(dir.clone()).unwrap();
        assert_eq!(s.load("k").unwrap(), None);
        s.save("k", "{\"a\":1}").unwrap();
        assert_eq!(s.load("k").unwrap().as_deref(), Some("{\"a\":1}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(s.path("k")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
        s.save("k", "{\"a\":2}").unwrap();
        assert_eq!(s.load("k").unwrap().as_deref(), Some("{\"a\":2}"));
        s.delete("k").unwrap();
        s.delete("k").unwrap();
        assert_eq!(s.load("k").unwrap(), None);
        let _g = s.lock("k").unwrap();
        fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn sec_file_store_refuses_a_symlinked_or_foreign_directory() {
        use std::os::unix::fs::PermissionsExt;
        let real = tmpdir("sec-real");
        let link = tmpdir("sec-link");
        let _ = fs::remove_dir_all(&real);
        let _ = fs::remove_file(&link);
        fs::create_dir_all(&real).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(
            matches!(FileStore::new(link.clone()), Err(StoreError::Io { .. })),
            "a planted symlink was accepted"
        );
        // A directory of ours open to others is made private.
        fs::set_permissions(&real, fs::Permissions::from_mode(0o777)).unwrap();
        FileStore::new(real.clone()).expect("our own directory");
        let mode = fs::metadata(&real).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // One that belongs to someone else is refused (only root can set that up here).
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            let c = std::ffi::CString::new(real.to_str().unwrap()).unwrap();
            // SAFETY: a valid C string path; chown to an unused uid.
            assert_eq!(unsafe { libc::chown(c.as_ptr(), 4242, 4242) }, 0);
            assert!(
                matches!(FileStore::new(real.clone()), Err(StoreError::Io { .. })),
                "another user's directory was accepted"
            );
        }
        let _ = fs::remove_file(&link);
        fs::remove_dir_all(&real).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn sec_file_store_never_writes_or_reads_through_a_link() {
        let dir = tmpdir("sec-links");
        let _ = fs::remove_dir_all(&dir);
        let s = FileStore::new(dir.clone()).unwrap();
        let victim = tmpdir("sec-victim");
        fs::write(&victim, "untouched").unwrap();
        // The temporary name of the old scheme, planted as a link to the victim.
        let planted = dir.join(format!(".{}.{}.tmp", file_stem("k"), std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        s.save("k", "{\"a\":1}").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched");
        assert_eq!(s.load("k").unwrap().as_deref(), Some("{\"a\":1}"));
        // An entry replaced by a link to another file is not read through.
        fs::remove_file(s.path("k")).unwrap();
        std::os::unix::fs::symlink(&victim, s.path("k")).unwrap();
        assert!(matches!(s.load("k"), Err(StoreError::Io { .. })));
        // Leftover temporary files do not pile up.
        let tmps = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count();
        assert_eq!(tmps, 1, "only the planted link");
        fs::remove_dir_all(&dir).unwrap();
        fs::remove_file(&victim).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn sec_file_lock_wait_is_bounded() {
        let dir = tmpdir("sec-lock");
        let _ = fs::remove_dir_all(&dir);
        let s = FileStore::new(dir.clone()).unwrap();
        let _held = s.lock("k").unwrap();
        // Another process (another descriptor) waits, but not for ever.
        let started = std::time::Instant::now();
        let second = lock_file_within(&dir, "k", std::time::Duration::from_millis(300));
        assert!(matches!(second, Err(StoreError::Io { .. })));
        let took = started.elapsed();
        assert!(
            took >= std::time::Duration::from_millis(300)
                && took < std::time::Duration::from_secs(3),
            "{took:?}"
        );
        drop(_held);
        lock_file_within(&dir, "k", std::time::Duration::from_millis(300)).expect("free again");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unwritable_directory_is_an_error_not_a_panic() {
        let s = FileStore {
            dir: PathBuf::from("/proc/definitely/not/writable"),
        };
        assert!(matches!(s.save("k", "v"), Err(StoreError::Io { .. })));
    }
}
