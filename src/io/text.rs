//! Plain-text spectra: whitespace- or comma-separated columns `nu_MHz  T_mK  [sigma_mK]`,
//! `#` comments, as users export them from their pipelines.

use crate::SpinflipError;
use spinflip_likelihoods::Spectrum;
use std::fmt::Write;
use std::path::Path;

/// Names of the columns, in order.
const COLUMNS: [&str; 3] = ["nu_MHz", "T_mK", "sigma_mK"];

/// Read a spectrum; every line must have 2 or 3 numeric columns (the same number on each line).
///
/// Errors name the line as a text editor numbers it (from 1, comment and blank lines
/// included) and the column (from 1), so a NaN or a typo is found where the file has it:
/// every value must be a finite number, frequencies and sigmas > 0.
pub fn read_spectrum(path: &Path) -> Result<Spectrum, SpinflipError> {
    let text = std::fs::read_to_string(path).map_err(|e| SpinflipError::io(path, e))?;
    let bad = |reason: String| SpinflipError::Data {
        path: path.display().to_string(),
        reason,
    };
    let (mut nu, mut t, mut s) = (Vec::new(), Vec::new(), Vec::new());
    let mut ncol = None;
    for (lineno, line) in text.lines().enumerate() {
        let lineno = lineno + 1;
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|c| !c.is_empty())
            .collect();
        if !(2..=3).contains(&cols.len()) {
            return Err(bad(format!(
                "line {lineno}: expected 2 or 3 columns (nu_MHz T_mK [sigma_mK]), found {} in \
                 '{line}'",
                cols.len()
            )));
        }
        if *ncol.get_or_insert(cols.len()) != cols.len() {
            return Err(bad(format!(
                "line {lineno}: {} columns, earlier lines have {}",
                cols.len(),
                ncol.unwrap_or(0)
            )));
        }
        let mut vals = [0.0; 3];
        for (c, (tok, v)) in cols.iter().zip(&mut vals).enumerate() {
            let at = format!("line {lineno}, column {} ({})", c + 1, COLUMNS[c]);
            *v = tok.parse::<f64>().map_err(|_| {
                bad(format!(
                    "{at}: '{tok}' is not a number (a header line must start with #)"
                ))
            })?;
            if !v.is_finite() {
                return Err(bad(format!(
                    "{at}: '{tok}' is not a finite number; remove the line or comment it out \
                     with #"
                )));
            }
            if c != 1 && *v <= 0.0 {
                let what = if c == 0 { "frequencies" } else { "sigmas" };
                return Err(bad(format!("{at}: {tok}; {what} must be > 0")));
            }
        }
        nu.push(vals[0]);
        t.push(vals[1]);
        if cols.len() == 3 {
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
    Ok(crate::samplers::output::write_atomic(path, out.as_bytes())?)
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
        // Lines count as an editor counts them: comments and blank lines included.
        let err = |text: &str| {
            std::fs::write(&p, text).unwrap();
            read_spectrum(&p).unwrap_err().to_string()
        };
        let e = err("# nu T\n\n50 1\n60 nan\n");
        assert!(e.contains("line 4, column 2 (T_mK): 'nan'"), "{e}");
        let e = err("50 1 2\n60 2 inf\n");
        assert!(e.contains("line 2, column 3 (sigma_mK): 'inf'"), "{e}");
        let e = err("50 abc\n");
        assert!(
            e.contains("line 1, column 2 (T_mK): 'abc' is not a number"),
            "{e}"
        );
        let e = err("50 1\n# x\n-60 1\n");
        assert!(e.contains("line 3, column 1 (nu_MHz)"), "{e}");
        let e = err("50 1 0\n");
        assert!(
            e.contains("line 1, column 3 (sigma_mK): 0; sigmas must be > 0"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
