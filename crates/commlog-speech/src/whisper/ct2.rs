//! Reader for CTranslate2's `model.bin`.
//!
//! Layout (little-endian): `u32` format version (≥ 5 here), spec name, `u32` spec revision,
//! `u32` variable count, then per variable: name, `u8` rank, `u32` dims, `u8` dtype, `u32` byte
//! count and the raw data; finally `u32` alias count and (alias, target) name pairs. Names are `u16`
//! length-prefixed and NUL-terminated.

use std::collections::HashMap;

use half::{bf16, f16};

use crate::error::SpeechError;

/// One stored variable, with floating point data widened to `f32`.
#[derive(Debug, Clone)]
pub(crate) struct Variable {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// All variables of a model, aliases resolved.
#[derive(Debug)]
pub(crate) struct Ct2Model {
    pub spec: String,
    pub variables: HashMap<String, Variable>,
}

impl Ct2Model {
    /// Parses the whole file.
    pub fn parse(bytes: &[u8]) -> Result<Ct2Model, SpeechError> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.u32()?;
        if !(5..=6).contains(&version) {
            return Err(bad(format!(
                "model.bin format version {version} is not supported"
            )));
        }
        let spec = r.string()?;
        let _revision = r.u32()?;
        let count = r.u32()?;
        let mut variables = HashMap::new();
        for _ in 0..count {
            let name = r.string()?;
            let rank = usize::from(r.u8()?);
            let shape = (0..rank)
                .map(|_| r.u32().map(|d| d as usize))
                .collect::<Result<Vec<_>, _>>()?;
            let dtype = r.u8()?;
            let size = r.u32()? as usize;
            let raw = r.take(size)?;
            let data = widen(raw, dtype).map_err(|e| bad(format!("{name}: {e}")))?;
            let elements: usize = shape.iter().product();
            if data.len() != elements {
                return Err(bad(format!(
                    "{name}: {} values for shape {shape:?}",
                    data.len()
                )));
            }
            variables.insert(name, Variable { shape, data });
        }
        let aliases = r.u32()?;
        for _ in 0..aliases {
            let alias = r.string()?;
            let target = r.string()?;
            let value = variables
                .get(&target)
                .cloned()
                .ok_or_else(|| bad(format!("alias {alias} points to missing {target}")))?;
            variables.insert(alias, value);
        }
        Ok(Ct2Model { spec, variables })
    }

    /// A variable that must exist with the given shape.
    pub fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, SpeechError> {
        let v = self
            .variables
            .remove(name)
            .ok_or_else(|| bad(format!("missing variable {name}")))?;
        if v.shape != shape {
            return Err(bad(format!(
                "{name}: shape {:?}, expected {shape:?}",
                v.shape
            )));
        }
        Ok(v.data)
    }

    /// A variable's shape, if present.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.variables.get(name).map(|v| v.shape.as_slice())
    }

    /// A scalar (flags and head counts are stored as one-element integer variables).
    pub fn scalar(&self, name: &str) -> Option<f32> {
        self.variables
            .get(name)
            .and_then(|v| v.data.first().copied())
    }
}

fn bad(message: String) -> SpeechError {
    SpeechError::Model(message)
}

/// CTranslate2 dtype ids: 0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16.
fn widen(raw: &[u8], dtype: u8) -> Result<Vec<f32>, String> {
    fn fixed<const N: usize>(raw: &[u8], f: impl Fn([u8; N]) -> f32) -> Result<Vec<f32>, String> {
        if !raw.len().is_multiple_of(N) {
            return Err(format!("{} bytes is not a multiple of {N}", raw.len()));
        }
        Ok(raw
            .chunks_exact(N)
            .map(|c| f(<[u8; N]>::try_from(c).unwrap_or([0; N])))
            .collect())
    }
    match dtype {
        0 => fixed::<4>(raw, f32::from_le_bytes),
        1 => fixed::<1>(raw, |b| f32::from(i8::from_le_bytes(b))),
        2 => fixed::<2>(raw, |b| f32::from(i16::from_le_bytes(b))),
        3 => fixed::<4>(raw, |b| i32::from_le_bytes(b) as f32),
        4 => fixed::<2>(raw, |b| f16::from_le_bytes(b).to_f32()),
        5 => fixed::<2>(raw, |b| bf16::from_le_bytes(b).to_f32()),
        other => Err(format!("unsupported dtype {other}")),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SpeechError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| bad("model.bin is truncated".into()))?;
        let slice = self.bytes.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SpeechError> {
        <[u8; N]>::try_from(self.take(N)?).map_err(|_| bad("model.bin is truncated".into()))
    }

    fn u8(&mut self) -> Result<u8, SpeechError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, SpeechError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn string(&mut self) -> Result<String, SpeechError> {
        let len = usize::from(u16::from_le_bytes(self.array()?));
        let raw = self.take(len)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(raw.to_vec()).map_err(|_| bad("variable name is not UTF-8".into()))
    }
}
