//! The state of an ensemble run (what a checkpoint holds) and its byte encoding.
//!
//! Encoding: a little-endian `u64` header length, a JSON header (sizes, step, generator
//! state, counters; floats stored as their bit patterns so nothing is rounded), then the
//! arrays as little-endian `f64`: current walkers, their log posterior and log-likelihood,
//! the chain, its log posterior and log-likelihood.

use crate::driver::SamplerState;
use crate::error::SamplerError;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// Everything that evolves during an ensemble run.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainState {
    /// Steps taken (rows of `chain`).
    pub step: usize,
    /// The random number generator.
    pub rng: Xoshiro256PlusPlus,
    /// Number of walkers.
    pub n_walkers: usize,
    /// Free parameters per walker.
    pub n_dim: usize,
    /// Current walkers, `n_walkers x n_dim`.
    pub pos: Vec<f64>,
    /// Their log posterior.
    pub log_prob: Vec<f64>,
    /// Their log-likelihood.
    pub log_like: Vec<f64>,
    /// History, `step x n_walkers x n_dim`.
    pub chain: Vec<f64>,
    /// Log posterior history, `step x n_walkers`.
    pub chain_log_prob: Vec<f64>,
    /// Log-likelihood history, `step x n_walkers`.
    pub chain_log_like: Vec<f64>,
    /// Accepted proposals per walker.
    pub accepted: Vec<u64>,
    /// Points sent to the likelihood.
    pub n_calls: u64,
    /// Autocorrelation times at the last convergence check.
    pub last_tau: Option<Vec<f64>>,
    /// Whether the adaptive stopping rule has been met.
    pub converged: bool,
    /// Wall time so far, summed over sessions.
    pub elapsed_s: f64,
}

#[derive(Serialize, Deserialize)]
struct Header {
    n_walkers: usize,
    n_dim: usize,
    step: usize,
    rng: Xoshiro256PlusPlus,
    accepted: Vec<u64>,
    n_calls: u64,
    last_tau_bits: Option<Vec<u64>>,
    converged: bool,
    elapsed_bits: u64,
}

impl SamplerState for ChainState {
    fn iteration(&self) -> usize {
        self.step
    }
    fn n_calls(&self) -> u64 {
        self.n_calls
    }
    fn elapsed(&self) -> f64 {
        self.elapsed_s
    }
    fn set_elapsed(&mut self, seconds: f64) {
        self.elapsed_s = seconds;
    }

    fn encode(&self) -> Result<Vec<u8>, SamplerError> {
        let header = Header {
            n_walkers: self.n_walkers,
            n_dim: self.n_dim,
            step: self.step,
            rng: self.rng.clone(),
            accepted: self.accepted.clone(),
            n_calls: self.n_calls,
            last_tau_bits: self
                .last_tau
                .as_ref()
                .map(|t| t.iter().map(|x| x.to_bits()).collect()),
            converged: self.converged,
            elapsed_bits: self.elapsed_s.to_bits(),
        };
        let json = serde_json::to_vec(&header).map_err(|e| SamplerError::Checkpoint {
            path: String::new(),
            reason: format!("cannot encode the ensemble state: {e}"),
        })?;
        let arrays = [
            &self.pos,
            &self.log_prob,
            &self.log_like,
            &self.chain,
            &self.chain_log_prob,
            &self.chain_log_like,
        ];
        let n: usize = arrays.iter().map(|a| a.len()).sum();
        let mut out = Vec::with_capacity(8 + json.len() + 8 * n);
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(&json);
        for xs in arrays {
            for x in xs {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        Ok(out)
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        let head = bytes.get(..8).ok_or("truncated ensemble state")?;
        let mut len = [0u8; 8];
        len.copy_from_slice(head);
        let hlen = usize::try_from(u64::from_le_bytes(len)).unwrap_or(usize::MAX);
        let body = bytes
            .get(8..8usize.saturating_add(hlen))
            .ok_or("truncated ensemble header")?;
        let h: Header =
            serde_json::from_slice(body).map_err(|e| format!("unreadable ensemble header: {e}"))?;
        let (w, d, s) = (h.n_walkers, h.n_dim, h.step);
        let sizes = [w * d, w, w, s * w * d, s * w, s * w];
        let expected = 8 + hlen + 8 * sizes.iter().sum::<usize>();
        if bytes.len() != expected || h.accepted.len() != w {
            return Err(format!(
                "{} bytes, the header implies {expected}: truncated or corrupt",
                bytes.len()
            ));
        }
        let mut at = 8 + hlen;
        let mut next = |n: usize| -> Vec<f64> {
            let v = bytes[at..at + 8 * n]
                .chunks_exact(8)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(c);
                    f64::from_le_bytes(b)
                })
                .collect();
            at += 8 * n;
            v
        };
        Ok(ChainState {
            step: s,
            rng: h.rng,
            n_walkers: w,
            n_dim: d,
            pos: next(sizes[0]),
            log_prob: next(sizes[1]),
            log_like: next(sizes[2]),
            chain: next(sizes[3]),
            chain_log_prob: next(sizes[4]),
            chain_log_like: next(sizes[5]),
            accepted: h.accepted,
            n_calls: h.n_calls,
            last_tau: h
                .last_tau_bits
                .map(|b| b.into_iter().map(f64::from_bits).collect()),
            converged: h.converged,
            elapsed_s: f64::from_bits(h.elapsed_bits),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn encoding_round_trips_bit_for_bit() {
        let st = ChainState {
            step: 2,
            rng: Xoshiro256PlusPlus::seed_from_u64(5),
            n_walkers: 2,
            n_dim: 1,
            pos: vec![0.1, -0.0],
            log_prob: vec![f64::NEG_INFINITY, 1.5],
            log_like: vec![1.0, 2.0],
            chain: vec![1.0, 2.0, 3.0, 4.0],
            chain_log_prob: vec![0.5; 4],
            chain_log_like: vec![0.25; 4],
            accepted: vec![1, 2],
            n_calls: 9,
            last_tau: Some(vec![1.0 / 3.0]),
            converged: false,
            elapsed_s: 0.1,
        };
        let back = ChainState::decode(&st.encode().unwrap()).unwrap();
        assert_eq!(back, st);
        assert_eq!(back.pos[1].to_bits(), (-0.0f64).to_bits());
        let bytes = st.encode().unwrap();
        assert!(ChainState::decode(&bytes[..bytes.len() - 1]).is_err());
    }
}
