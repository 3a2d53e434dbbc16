//! The state directory: the framework id and one file per live task, each written
//! atomically (write a temporary file, fsync it, rename it over the old one, fsync the
//! directory), so a crash leaves either the old or the new version. The directory is locked
//! (`flock` on `lock`) for the life of the [`Store`]: a second scheduler on it refuses to
//! start instead of launching every task twice.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::core::task::TaskRecord;
use crate::core::{Persisted, StoreOp};

const FRAMEWORK_ID: &str = "framework_id";
const TASKS: &str = "tasks";
const LOCK: &str = "lock";

/// Why the state dir cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another scheduler holds the lock.
    #[error("state dir {0} is in use by another scheduler (locked)")]
    Locked(PathBuf),
    /// A file operation failed.
    #[error("state dir {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A task record is not ours (corrupt or edited).
    #[error("state dir {path}: not a task record: {source}")]
    Corrupt {
        /// The file concerned.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An open, locked state dir.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    _lock: File,
}

/// Task ids are ours (`server-<uuid>`), but a file name must never escape the directory.
fn file_name(task_id: &str) -> Option<String> {
    let ok = !task_id.is_empty()
        && task_id.len() <= 200
        && task_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !task_id.starts_with('.');
    ok.then(|| format!("{task_id}.json"))
}

impl Store {
    /// Creates (if needed) and locks `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(dir.join(TASKS)).map_err(io_err(dir))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = io::Error::last_os_error();
            return Err(if err.kind() == io::ErrorKind::WouldBlock {
                StoreError::Locked(dir.to_path_buf())
            } else {
                StoreError::Io {
                    path: lock_path,
                    source: err,
                }
            });
        }
        Ok(Store {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything stored.
    pub fn load(&self) -> Result<Persisted, StoreError> {
        let id_path = self.dir.join(FRAMEWORK_ID);
        let framework_id = match fs::read_to_string(&id_path) {
            Ok(text) => Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&id_path)(e)),
        };
        let tasks_dir = self.dir.join(TASKS);
        let mut tasks = Vec::new();
        for entry in fs::read_dir(&tasks_dir).map_err(io_err(&tasks_dir))? {
            let path = entry.map_err(io_err(&tasks_dir))?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue; // a temporary file left by a crash
            }
            let bytes = fs::read(&path).map_err(io_err(&path))?;
            let rec: TaskRecord =
                serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
                    path: path.clone(),
                    source,
                })?;
            tasks.push(rec);
        }
        tasks.sort_by(|a, b| a.task_id.cmp(&b.task_id));
        Ok(Persisted {
            framework_id,
            tasks,
        })
    }

    /// Applies one change durably.
    pub fn apply(&self, op: &StoreOp) -> Result<(), StoreError> {
        match op {
            StoreOp::FrameworkId(id) => self.write(&self.dir.join(FRAMEWORK_ID), id.as_bytes()),
            StoreOp::PutTask(rec) => {
                let path = self.task_path(&rec.task_id)?;
                let json = serde_json::to_vec_pretty(rec).unwrap_or_default();
                self.write(&path, &json)
            }
            StoreOp::RemoveTask(id) => {
                let path = self.task_path(id)?;
                match fs::remove_file(&path) {
                    Ok(()) => self.sync_dir(&self.dir.join(TASKS)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(io_err(&path)(e)),
                }
            }
        }
    }

    /// After TEARDOWN: the framework id can never be used again, and no task is left.
    pub fn clear(&self) -> Result<(), StoreError> {
        let tasks_dir = self.dir.join(TASKS);
        for entry in fs::read_dir(&tasks_dir).map_err(io_err(&tasks_dir))? {
            let path = entry.map_err(io_err(&tasks_dir))?.path();
            fs::remove_file(&path).map_err(io_err(&path))?;
        }
        let id_path = self.dir.join(FRAMEWORK_ID);
        match fs::remove_file(&id_path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&id_path)(e)),
        }
        self.sync_dir(&tasks_dir)?;
        self.sync_dir(&self.dir)
    }

    fn task_path(&self, task_id: &str) -> Result<PathBuf, StoreError> {
        let name = file_name(task_id).ok_or_else(|| StoreError::Io {
            path: self.dir.join(TASKS),
            source: io::Error::new(io::ErrorKind::InvalidInput, "unusable task id"),
        })?;
        Ok(self.dir.join(TASKS).join(name))
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut file = File::create(&tmp).map_err(io_err(&tmp))?;
        file.write_all(bytes).map_err(io_err(&tmp))?;
        file.sync_all().map_err(io_err(&tmp))?;
        drop(file);
        fs::rename(&tmp, path).map_err(io_err(path))?;
        self.sync_dir(path.parent().unwrap_or(&self.dir))
    }

    fn sync_dir(&self, dir: &Path) -> Result<(), StoreError> {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::framework::TaskKind;

    fn tmp() -> PathBuf {
        std::env::temp_dir().join(format!("scheduler-store-{}", uuid::Uuid::new_v4()))
    }

    fn rec(id: &str) -> TaskRecord {
        TaskRecord {
            task_id: id.into(),
            kind: TaskKind::Worker,
            agent_id: "a1".into(),
            hostname: "h".into(),
            executor_id: Some(format!("exec-{id}")),
            pool_url: "stratum+tcp://h:1".into(),
            ports: vec![],
            state: "TASK_STAGING".into(),
            replaced: false,
            kill: false,
        }
    }

    #[test]
    fn writes_survive_a_reopen_and_removals_stick() {
        let dir = tmp();
        {
            let store = Store::open(&dir).unwrap();
            assert_eq!(store.load().unwrap(), Persisted::default());
            store.apply(&StoreOp::FrameworkId("fw-9".into())).unwrap();
            store.apply(&StoreOp::PutTask(rec("worker-b"))).unwrap();
            store.apply(&StoreOp::PutTask(rec("worker-a"))).unwrap();
            let mut running = rec("worker-a");
            running.state = "TASK_RUNNING".into();
            store.apply(&StoreOp::PutTask(running)).unwrap();
            store
                .apply(&StoreOp::RemoveTask("worker-b".into()))
                .unwrap();
            store
                .apply(&StoreOp::RemoveTask("worker-gone".into()))
                .unwrap();
        }
        // A crash mid-write leaves a temporary file: ignored.
        fs::write(dir.join(TASKS).join("worker-c.json.tmp"), b"{").unwrap();
        let store = Store::open(&dir).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.framework_id.as_deref(), Some("fw-9"));
        assert_eq!(loaded.tasks.len(), 1);
        assert_eq!(loaded.tasks[0].state, "TASK_RUNNING");
        store.clear().unwrap();
        assert_eq!(store.load().unwrap(), Persisted::default());
        drop(store);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_second_store_on_the_dir_is_refused_until_the_first_is_gone() {
        let dir = tmp();
        let first = Store::open(&dir).unwrap();
        assert!(matches!(Store::open(&dir), Err(StoreError::Locked(_))));
        drop(first);
        Store::open(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corrupt_records_and_hostile_ids_are_errors() {
        let dir = tmp();
        let store = Store::open(&dir).unwrap();
        assert!(store.apply(&StoreOp::PutTask(rec("../escape"))).is_err());
        assert!(store.apply(&StoreOp::RemoveTask("".into())).is_err());
        fs::write(dir.join(TASKS).join("x.json"), b"not json").unwrap();
        assert!(matches!(store.load(), Err(StoreError::Corrupt { .. })));
        fs::remove_dir_all(&dir).unwrap();
    }
}
