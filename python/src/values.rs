//! Values across the boundary, in Rust (no `json.dumps`/`json.loads`): Python objects are
//! written as JSON text directly; JSON text is streamed into Python objects (serde-transcode into
//! pythonize, no `serde_json::Value` in between). Object members keep their order.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde_json::value::RawValue;

/// How deep a value may nest (a cycle, or a hostile structure, must not overflow the stack).
const MAX_DEPTH: u32 = 256;

/// `obj` as JSON text, or a `TypeError` naming `what`: dicts (str keys), lists, tuples, other
/// mappings, str, int (any size, exactly), finite floats, bool and None. NaN and infinities
/// are refused (JSON has none, and quietly sending `null` would lose the value).
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Box<RawValue>> {
    let mut out = Vec::with_capacity(128);
    write_value(obj, &mut out, 0, what)?;
    let text = String::from_utf8(out)
        .map_err(|e| PyTypeError::new_err(format!("{what} is not UTF-8: {e}")))?;
    RawValue::from_string(text)
        .map_err(|e| PyTypeError::new_err(format!("{what} cannot be sent as JSON: {e}")))
}

fn not_json(what: &str, why: String) -> PyErr {
    PyTypeError::new_err(format!("{what} cannot be sent as JSON: {why}"))
}

fn write_str(s: &str, out: &mut Vec<u8>) -> PyResult<()> {
    serde_json::to_writer(out, s).map_err(|e| PyTypeError::new_err(e.to_string()))
}

fn write_value(obj: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: u32, what: &str) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(not_json(
            what,
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    if obj.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(b) = obj.cast::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
    } else if let Ok(s) = obj.cast::<PyString>() {
        write_str(&s.to_cow()?, out)?;
    } else if let Ok(i) = obj.cast::<PyInt>() {
        match i.extract::<i64>() {
            Ok(v) => out.extend_from_slice(v.to_string().as_bytes()),
            // Beyond 64 bits: Python's own decimal digits, exact.
            Err(_) => out.extend_from_slice(i.str()?.to_cow()?.as_bytes()),
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(not_json(what, format!("{v} is not a JSON number")));
        }
        serde_json::to_writer(&mut *out, &v).map_err(|e| not_json(what, e.to_string()))?;
    } else if let Ok(d) = obj.cast::<PyDict>() {
        write_object(d.iter(), out, depth, what)?;
    } else if let Ok(l) = obj.cast::<PyList>() {
        write_array(l.iter(), out, depth, what)?;
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        write_array(t.iter(), out, depth, what)?;
    } else if let Ok(m) = obj.cast::<PyMapping>() {
        let items = m.items()?;
        let pairs = items
            .iter()
            .map(|kv| kv.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>())
            .collect::<PyResult<Vec<_>>>()?;
        write_object(pairs.into_iter(), out, depth, what)?;
    } else {
        let ty = obj.get_type().name()?;
        return Err(not_json(what, format!("a {ty} is not a JSON value")));
    }
    Ok(())
}

fn write_object<'py>(
    items: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    out: &mut Vec<u8>,
    depth: u32,
    what: &str,
) -> PyResult<()> {
    out.push(b'{');
    for (n, (k, v)) in items.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let key = k.cast::<PyString>().map_err(|_| {
            let ty = k
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default();
            not_json(what, format!("object keys must be str, not {ty}"))
        })?;
        write_str(&key.to_cow()?, out)?;
        out.push(b':');
        write_value(&v, out, depth + 1, what)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_array<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    out: &mut Vec<u8>,
    depth: u32,
    what: &str,
) -> PyResult<()> {
    out.push(b'[');
    for (n, v) in items.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_value(&v, out, depth + 1, what)?;
    }
    out.push(b']');
    Ok(())
}

/// `{}`.
fn empty_object() -> PyResult<Box<RawValue>> {
    RawValue::from_string("{}".to_owned()).map_err(|e| PyTypeError::new_err(e.to_string()))
}

/// A mapping (or None: `{}`) as JSON text; anything else is a `TypeError`.
pub(crate) fn mapping_json(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Box<RawValue>> {
    match obj {
        None => empty_object(),
        Some(o) if o.is_none() => empty_object(),
        Some(o) if o.is_instance_of::<PyDict>() || o.cast::<PyMapping>().is_ok() => {
            to_json(o, what)
        }
        Some(o) => Err(PyTypeError::new_err(format!(
            "{what} must be a mapping, not {}",
            o.get_type().name()?
        ))),
    }
}

/// A mapping (or None: `{}`) as a JSON value, for the core calls that take one (an int beyond
/// 64 bits becomes a float there).
pub(crate) fn mapping_value(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<serde_json::Value> {
    let text = mapping_json(obj, what)?;
    serde_json::from_str(text.get())
        .map_err(|e| PyTypeError::new_err(format!("{what} cannot be sent as JSON: {e}")))
}

/// JSON text as Python objects (dicts, lists, str, int, float, bool, None).
pub(crate) fn from_json<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let mut de = serde_json::Deserializer::from_str(text);
    pythonize::pythonize(py, &serde_transcode::Transcoder::new(&mut de)).map_err(PyErr::from)
}

/// A serialisable Rust value as Python objects.
pub(crate) fn to_py<'py>(
    py: Python<'py>,
    v: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, v).map_err(PyErr::from)
}
