//! Where each watched file was read up to, kept in a small JSON file so a watch resumes after
//! a restart where it stopped. It is written (to a temporary file, then renamed over the old
//! one) after every batch the sink acknowledged, so it never runs ahead of what is stored; a
//! crash between the two re-sends at most that batch, which the store's idempotence absorbs.
//!
//! A state file rather than a table in the store: `watch --server` runs beside a server whose
//! store it cannot reach, and offsets of files on this machine are this machine's business.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where one file was read up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offset {
    /// The file's identity (device and inode on Unix), to tell a rotated file from the one
    /// read before.
    pub id: (u64, u64),
    /// Bytes read and stored (just past the last complete line).
    pub offset: u64,
    /// The number of the next line.
    pub line: u64,
}

/// Every watched file's offset, by path.
#[derive(Debug, Default)]
pub struct State {
    path: Option<PathBuf>,
    files: BTreeMap<PathBuf, Offset>,
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    files: BTreeMap<PathBuf, Offset>,
}

impl State {
    /// The state kept at `path` (empty when it does not exist yet); `None` keeps it in memory.
    pub fn load(path: Option<&Path>) -> Result<State, String> {
        let Some(path) = path else {
            return Ok(State::default());
        };
        let files = match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice::<OnDisk>(&bytes)
                    .map_err(|e| format!("the watch state {} is damaged ({e}); remove it to read every file from its start", path.display()))?
                    .files
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(format!("cannot read the watch state {}: {e}", path.display())),
        };
        Ok(State {
            path: Some(path.to_owned()),
            files,
        })
    }

    /// Where `file` was read up to, if it was.
    pub fn get(&self, file: &Path) -> Option<Offset> {
        self.files.get(file).copied()
    }

    /// Records `file`'s offset and writes the state out.
    pub fn set(&mut self, file: &Path, offset: Offset) -> Result<(), String> {
        if self.files.get(file) == Some(&offset) {
            return Ok(());
        }
        self.files.insert(file.to_owned(), offset);
        let Some(path) = &self.path else {
            return Ok(());
        };
        let body = serde_json::to_vec_pretty(&OnDisk {
            version: 1,
            files: self.files.clone(),
        })
        .unwrap_or_default();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, body)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write the watch state {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_survive_a_reload_and_a_damaged_file_is_named() {
        let dir = tempfile_dir();
        let path = dir.join("state.json");
        let mut s = State::load(Some(&path)).unwrap();
        let o = Offset {
            id: (1, 2),
            offset: 40,
            line: 3,
        };
        s.set(Path::new("/x/a.jsonl"), o).unwrap();
        assert_eq!(
            State::load(Some(&path))
                .unwrap()
                .get(Path::new("/x/a.jsonl")),
            Some(o)
        );
        std::fs::write(&path, "{").unwrap();
        assert!(State::load(Some(&path)).unwrap_err().contains("damaged"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fd-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
