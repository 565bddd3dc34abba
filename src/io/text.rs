//! Plain-text spectra: whitespace- or comma-separated columns `nu_MHz  T_mK  [sigma_mK]`,
//! `#` comments, as users export them from their pipelines.

use crate::SpinflipError;
use spinflip_likelihoods::Spectrum;
use std::fmt::Write;
use std::path::Path;

/// Read a spectrum; every line must have 2 or 3 numeric columns (the same number on each line).
pub fn read_spectrum(path: &Path) -> Result<Spectrum, SpinflipError> {
    let text = std::fs::read_to_string(path).map_err(|e| SpinflipError::io(path, e))?;
    let bad = |reason: String| SpinflipError::Data {
        path: path.display().to_string(),
        reason,
    };
    let (mut nu, mut t, mut s) = (Vec::new(), Vec::new(), Vec::new());
    let mut ncol = None;
    for (lineno, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|c| !c.is_empty())
            .collect();
        let vals: Vec<f64> = cols
            .iter()
            .map(|c| c.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| {
                bad(format!(
                    "line {}: '{line}' is not 2 or 3 numbers (nu_MHz T_mK [sigma_mK])",
                    lineno + 1
                ))
            })?;
        if !(2..=3).contains(&vals.len()) {
            return Err(bad(format!(
                "line {}: expected 2 or 3 columns (nu_MHz T_mK [sigma_mK]), found {}",
                lineno + 1,
                vals.len()
            )));
        }
        if *ncol.get_or_insert(vals.len()) != vals.len() {
            return Err(bad(format!(
                "line {}: {} columns, earlier lines have {}",
                lineno + 1,
                vals.len(),
                ncol.unwrap_or(0)
            )));
        }
        nu.push(vals[0]);
        t.push(vals[1]);
        if vals.len() == 3 {
            s.push(vals[2]);
        }
    }
    let sigma = if s.is_empty() { None } else { Some(s) };
    Spectrum::new(nu, t, sigma).map_err(|e| bad(e.to_string()))
}

/// Write a spectrum in the format [`read_spectrum`] reads.
pub fn write_spectrum(path: &Path, s: &Spectrum) -> Result<(), SpinflipError> {
    let mut out = String::from("# nu_MHz  T_mK  sigma_mK\n");
    for i in 0..s.len() {
        let _ = write!(out, "{:.9} {:.9e}", s.freq_mhz[i], s.temp_mk[i]);
        if let Some(sig) = &s.sigma_mk {
            let _ = write!(out, " {:.9e}", sig[i]);
        }
        out.push('\n');
    }
    if let Some(p) = path.parent() {
        if !p.as_os_str().is_empty() {
            std::fs::create_dir_all(p).map_err(|e| SpinflipError::io(p, e))?;
        }
    }
    std::fs::write(path, out).map_err(|e| SpinflipError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let dir = std::env::temp_dir().join(format!("spinflip-text-{}", std::process::id()));
        let p = dir.join("s.txt");
        let s =
            Spectrum::new(vec![50.0, 60.5], vec![-100.25, 3.0], Some(vec![25.0, 25.0])).unwrap();
        write_spectrum(&p, &s).unwrap();
        assert_eq!(read_spectrum(&p).unwrap(), s);
        std::fs::write(&p, "50 1\n60 2 3\n").unwrap();
        assert!(read_spectrum(&p)
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        std::fs::write(&p, "50 nan\n").unwrap();
        assert!(read_spectrum(&p)
            .unwrap_err()
            .to_string()
            .contains("non-finite"));
        std::fs::write(&p, "50 abc\n").unwrap();
        assert!(read_spectrum(&p).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
