//! Tables an MLP trains on: two arrays of one or more NPZ files with one row per example
//! (e.g. `ps` (N, 24, 16) and `params` (N, 4) of `spinflip simulate maps`), rows joined in
//! file order, trailing axes flattened.

use std::path::Path;

use crate::io::hash::Fnv1a;
use crate::io::npz::NpzReader;
use crate::SpinflipError;

/// One named block of a table: `n x d` values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Array name.
    pub name: String,
    /// Shape of one row.
    pub shape: Vec<usize>,
    /// Column names (from `NAME_names`, or `param_names` for `params`, else `name[i]`).
    pub columns: Vec<String>,
    /// Values.
    pub values: Vec<f64>,
}

impl Block {
    /// Columns per row.
    pub fn width(&self) -> usize {
        self.shape.iter().product()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        let d = self.width();
        &self.values[i * d..(i + 1) * d]
    }
}

/// Inputs and outputs of `n` examples.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Examples.
    pub n: usize,
    /// Inputs.
    pub x: Block,
    /// Outputs.
    pub y: Block,
    /// Files, joined by `+`.
    pub source: String,
}

fn read_block(r: &mut NpzReader, path: &Path, name: &str) -> Result<Block, SpinflipError> {
    let a = r.array(name)?;
    if a.shape.is_empty() {
        return Err(SpinflipError::Data {
            path: path.display().to_string(),
            reason: format!("'{name}' is a scalar; need one row per example"),
        });
    }
    let shape: Vec<usize> = if a.shape.len() == 1 {
        vec![1]
    } else {
        a.shape[1..].to_vec()
    };
    let d: usize = shape.iter().product();
    if d == 0 {
        return Err(SpinflipError::Data {
            path: path.display().to_string(),
            reason: format!("'{name}' has shape {:?}: rows of zero values", a.shape),
        });
    }
    let named = |n: &str, r: &mut NpzReader| -> Option<Vec<String>> {
        r.has(n)
            .then(|| r.strings(n).ok())
            .flatten()
            .filter(|v| v.len() == d)
    };
    let columns = named(&format!("{name}_names"), r)
        .or_else(|| {
            (name == "params")
                .then(|| named("param_names", r))
                .flatten()
        })
        .unwrap_or_else(|| (0..d).map(|i| format!("{name}[{i}]")).collect());
    if let Some(i) = a.data.iter().position(|v| !v.is_finite()) {
        return Err(SpinflipError::Data {
            path: path.display().to_string(),
            reason: format!("'{name}' has a non-finite value at flat index {i}"),
        });
    }
    Ok(Block {
        name: name.to_string(),
        shape,
        columns,
        values: a.data,
    })
}

impl Table {
    /// Read arrays `x` and `y` from every file in `paths` and join the rows in order.
    pub fn load<P: AsRef<Path>>(paths: &[P], x: &str, y: &str) -> Result<Self, SpinflipError> {
        let mut out: Option<Table> = None;
        for p in paths {
            let p = p.as_ref();
            let mut r = NpzReader::open(p)?;
            let bx = read_block(&mut r, p, x)?;
            let by = read_block(&mut r, p, y)?;
            let n = bx.values.len() / bx.width();
            if by.values.len() / by.width() != n {
                return Err(SpinflipError::Data {
                    path: p.display().to_string(),
                    reason: format!(
                        "'{x}' has {n} rows but '{y}' has {}",
                        by.values.len() / by.width()
                    ),
                });
            }
            match &mut out {
                None => {
                    out = Some(Table {
                        n,
                        x: bx,
                        y: by,
                        source: p.display().to_string(),
                    })
                }
                Some(t) => {
                    if t.x.shape != bx.shape || t.y.shape != by.shape {
                        return Err(SpinflipError::Data {
                            path: p.display().to_string(),
                            reason: format!(
                                "rows of '{x}' {:?} and '{y}' {:?} differ from the first file's {:?} and {:?}",
                                bx.shape, by.shape, t.x.shape, t.y.shape
                            ),
                        });
                    }
                    t.n += n;
                    t.x.values.extend(bx.values);
                    t.y.values.extend(by.values);
                    t.source = format!("{}+{}", t.source, p.display());
                }
            }
        }
        out.ok_or_else(|| SpinflipError::config("--data", "no data files given"))
    }

    /// Fingerprint of the values (not of the file names).
    pub fn hash(&self) -> String {
        Fnv1a::default()
            .f64s(&self.x.values)
            .f64s(&self.y.values)
            .hex()
    }
}
