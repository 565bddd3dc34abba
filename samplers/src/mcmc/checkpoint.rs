//! Checkpoint files of the ensemble sampler, so that a killed run resumes exactly where it
//! stopped (same random stream, same chain, bit for bit).
//!
//! Layout: the 8-byte magic `SFMCMC01`, a little-endian `u64` header length, a JSON header
//! (sizes, step, generator state, counters; floats stored as their bit patterns so that
//! nothing is rounded), then the arrays as little-endian `f64`: current walkers, their log
//! posterior and log-likelihood, the chain, its log posterior and log-likelihood.

use super::ensemble::ChainState;
use super::settings::EnsembleSettings;
use crate::error::SamplerError;
use crate::output::write_atomic;
use crate::parameters::ParameterSet;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::path::Path;

const MAGIC: &[u8; 8] = b"SFMCMC01";

/// Everything but the arrays.
#[derive(Serialize, Deserialize)]
struct Header {
    names: Vec<String>,
    n_walkers: usize,
    n_dim: usize,
    seed: u64,
    stretch_scale_bits: u64,
    step: usize,
    rng: Xoshiro256PlusPlus,
    accepted: Vec<u64>,
    n_calls: u64,
    last_tau_bits: Option<Vec<u64>>,
    converged: bool,
    elapsed_s: f64,
}

fn free_names(params: &ParameterSet) -> Vec<String> {
    params
        .free_indices()
        .iter()
        .map(|&i| params.params()[i].name.clone())
        .collect()
}

fn push_f64s(out: &mut Vec<u8>, xs: &[f64]) {
    for x in xs {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// Write the state atomically (a kill during the write leaves the previous checkpoint).
pub(crate) fn save(
    path: &Path,
    params: &ParameterSet,
    settings: &EnsembleSettings,
    st: &ChainState,
) -> Result<(), SamplerError> {
    let header = Header {
        names: free_names(params),
        n_walkers: settings.n_walkers,
        n_dim: params.n_free(),
        seed: settings.seed,
        stretch_scale_bits: settings.stretch_scale.to_bits(),
        step: st.step,
        rng: st.rng.clone(),
        accepted: st.accepted.clone(),
        n_calls: st.n_calls,
        last_tau_bits: st
            .last_tau
            .as_ref()
            .map(|t| t.iter().map(|x| x.to_bits()).collect()),
        converged: st.converged,
        elapsed_s: st.elapsed_s,
    };
    let json = serde_json::to_vec(&header).map_err(|e| SamplerError::Checkpoint {
        path: path.display().to_string(),
        reason: format!("cannot encode header: {e}"),
    })?;
    let n_f64 = st.pos.len() + 2 * st.log_prob.len() + st.chain.len() + 2 * st.chain_log_prob.len();
    let mut out = Vec::with_capacity(16 + json.len() + 8 * n_f64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for xs in [
        &st.pos,
        &st.log_prob,
        &st.log_like,
        &st.chain,
        &st.chain_log_prob,
        &st.chain_log_like,
    ] {
        push_f64s(&mut out, xs);
    }
    crate::output::ensure_parent(path)?;
    write_atomic(path, &out)
}

/// Read a checkpoint and check that it belongs to this problem and these settings.
pub(crate) fn load(
    path: &Path,
    params: &ParameterSet,
    settings: &EnsembleSettings,
) -> Result<ChainState, SamplerError> {
    let fail = |reason: String| SamplerError::Checkpoint {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| SamplerError::io(path, e))?;
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(fail(
            "not an ensemble-sampler checkpoint (bad magic)".into(),
        ));
    }
    let hlen = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
    let body = bytes
        .get(16..16usize.saturating_add(hlen))
        .ok_or_else(|| fail("truncated header".into()))?;
    let h: Header =
        serde_json::from_slice(body).map_err(|e| fail(format!("unreadable header: {e}")))?;
    let names = free_names(params);
    if h.names != names {
        return Err(fail(format!(
            "written for free parameters {:?}, this run has {:?}",
            h.names, names
        )));
    }
    if h.n_walkers != settings.n_walkers
        || h.seed != settings.seed
        || h.stretch_scale_bits != settings.stretch_scale.to_bits()
    {
        return Err(fail(format!(
            "written with n_walkers = {}, seed = {}, stretch_scale = {}; this run has {}, {}, {}: \
             use the same settings or delete the checkpoint",
            h.n_walkers,
            h.seed,
            f64::from_bits(h.stretch_scale_bits),
            settings.n_walkers,
            settings.seed,
            settings.stretch_scale
        )));
    }
    let (w, d, s) = (h.n_walkers, h.n_dim, h.step);
    let sizes = [w * d, w, w, s * w * d, s * w, s * w];
    let expected = 16 + hlen + 8 * sizes.iter().sum::<usize>();
    if bytes.len() != expected || h.accepted.len() != w {
        return Err(fail(format!(
            "file has {} bytes, its header implies {expected}: truncated or corrupt",
            bytes.len()
        )));
    }
    let mut at = 16 + hlen;
    let mut arrays = sizes.iter().map(|&n| {
        let v: Vec<f64> = bytes[at..at + 8 * n]
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        at += 8 * n;
        v
    });
    let mut next = || arrays.next().expect("six arrays");
    Ok(ChainState {
        step: s,
        rng: h.rng,
        pos: next(),
        log_prob: next(),
        log_like: next(),
        chain: next(),
        chain_log_prob: next(),
        chain_log_like: next(),
        accepted: h.accepted,
        n_calls: h.n_calls,
        last_tau: h
            .last_tau_bits
            .map(|b| b.into_iter().map(f64::from_bits).collect()),
        converged: h.converged,
        elapsed_s: h.elapsed_s,
    })
}
