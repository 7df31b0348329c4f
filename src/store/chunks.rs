//! Values too long for one keyring entry, split across several: Windows' Credential Manager
//! keeps at most 2,560 bytes per credential, less than a full entry. The entry under the key
//! then holds a header (`mcp-client-parts/1 N DIGEST`) and the parts live under
//! `KEY#part-1` … `KEY#part-N`; the digest (SHA-256 of the whole value) tells a complete
//! value from a torn one. Short values are stored as they are.

use super::StoreError;

/// Raw named values (a keyring's entries).
pub(crate) trait Slots {
    /// The value under `name`.
    fn get(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Set the value under `name`.
    fn set(&self, name: &str, value: &str) -> Result<(), StoreError>;
    /// Remove `name` (absent is fine).
    fn remove(&self, name: &str) -> Result<(), StoreError>;
}

const HEADER: &str = "mcp-client-parts/1 ";

fn part_name(key: &str, i: usize) -> String {
    format!("{key}#part-{i}")
}

fn digest(value: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, value.as_bytes());
    d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How many parts the entry under `key` has (0: stored whole or absent).
fn parts_of(slots: &dyn Slots, key: &str) -> Result<usize, StoreError> {
    Ok(match slots.get(key)? {
        Some(v) => parse_header(&v).map_or(0, |(n, _)| n),
        None => 0,
    })
}

fn parse_header(v: &str) -> Option<(usize, &str)> {
    let rest = v.strip_prefix(HEADER)?;
    let (n, d) = rest.split_once(' ')?;
    Some((n.parse().ok()?, d))
}

/// Split `value` into pieces of at most `max` UTF-16 units, on character boundaries.
fn split(value: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut units) = (0, 0);
    for (i, c) in value.char_indices() {
        if units + c.len_utf16() > max {
            parts.push(&value[start..i]);
            start = i;
            units = 0;
        }
        units += c.len_utf16();
    }
    parts.push(&value[start..]);
    parts
}

/// Save `value` under `key`, in parts when longer than `max` UTF-16 units. The parts are
/// written before the header that names them, and parts of an older, longer value go.
pub(crate) fn save(
    slots: &dyn Slots,
    key: &str,
    value: &str,
    max: usize,
) -> Result<(), StoreError> {
    let old = parts_of(slots, key).unwrap_or(0);
    let units: usize = value.chars().map(char::len_utf16).sum();
    let max = max.max(64);
    let written = if units <= max && !value.starts_with(HEADER) {
        slots.set(key, value)?;
        0
    } else {
        let parts = split(value, max);
        for (i, p) in parts.iter().enumerate() {
            slots.set(&part_name(key, i + 1), p)?;
        }
        slots.set(key, &format!("{HEADER}{} {}", parts.len(), digest(value)))?;
        parts.len()
    };
    for i in written + 1..=old {
        let _ = slots.remove(&part_name(key, i));
    }
    Ok(())
}

/// The value under `key`, joined from its parts when it has some. A torn value (a part
/// missing or changed) is an error, never a wrong value.
pub(crate) fn load(slots: &dyn Slots, key: &str) -> Result<Option<String>, StoreError> {
    let Some(v) = slots.get(key)? else {
        return Ok(None);
    };
    let Some((n, want)) = parse_header(&v) else {
        return Ok(Some(v));
    };
    let mut whole = String::new();
    for i in 1..=n {
        match slots.get(&part_name(key, i))? {
            Some(p) => whole.push_str(&p),
            None => {
                return Err(StoreError::Keyring(format!(
                    "the entry is incomplete (part {i} of {n} is missing)"
                )))
            }
        }
    }
    if digest(&whole) != want {
        return Err(StoreError::Keyring(
            "the entry is torn (its parts do not match its digest)".into(),
        ));
    }
    Ok(Some(whole))
}

/// Remove the value under `key` and its parts.
pub(crate) fn delete(slots: &dyn Slots, key: &str) -> Result<(), StoreError> {
    let n = parts_of(slots, key).unwrap_or(0);
    slots.remove(key)?;
    for i in 1..=n {
        let _ = slots.remove(&part_name(key, i));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// Entries with Credential Manager's limit: at most `max` UTF-16 units each.
    struct Limited {
        max: usize,
        map: Mutex<BTreeMap<String, String>>,
    }

    impl Slots for Limited {
        fn get(&self, name: &str) -> Result<Option<String>, StoreError> {
            Ok(self.map.lock().unwrap().get(name).cloned())
        }
        fn set(&self, name: &str, value: &str) -> Result<(), StoreError> {
            if value.chars().map(char::len_utf16).sum::<usize>() > self.max {
                return Err(StoreError::Keyring("the credential is too large".into()));
            }
            self.map.lock().unwrap().insert(name.into(), value.into());
            Ok(())
        }
        fn remove(&self, name: &str) -> Result<(), StoreError> {
            self.map.lock().unwrap().remove(name);
            Ok(())
        }
    }

    #[test]
    fn sec_entries_larger_than_a_credential_are_split_and_joined() {
        let s = Limited {
            max: 1280,
            map: Mutex::default(),
        };
        // A full entry is several KiB, with some non-ASCII text in it.
        let big: String = (0..6000)
            .map(|i| if i % 97 == 0 { 'é' } else { 'a' })
            .collect::<String>()
            + "😀";
        save(&s, "https://ex.com/mcp", &big, 1200).expect("saved in parts");
        assert!(s.map.lock().unwrap().len() > 1);
        assert_eq!(
            load(&s, "https://ex.com/mcp").unwrap().as_deref(),
            Some(big.as_str())
        );

        // A shorter value replaces it whole and leaves no parts behind.
        save(&s, "https://ex.com/mcp", "{\"small\":1}", 1200).unwrap();
        assert_eq!(s.map.lock().unwrap().len(), 1);
        assert_eq!(
            load(&s, "https://ex.com/mcp").unwrap().as_deref(),
            Some("{\"small\":1}")
        );

        // A torn value is an error, not a wrong value.
        save(&s, "k", &big, 1200).unwrap();
        s.map.lock().unwrap().remove("k#part-2");
        assert!(load(&s, "k").is_err());
        save(&s, "k", &big, 1200).unwrap();
        s.map
            .lock()
            .unwrap()
            .insert("k#part-1".into(), "tampered".into());
        assert!(load(&s, "k").is_err());

        delete(&s, "k").unwrap();
        delete(&s, "https://ex.com/mcp").unwrap();
        assert!(s.map.lock().unwrap().is_empty());
    }
}
