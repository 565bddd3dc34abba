//! A noise covariance that depends on the parameters, `C(theta)`: for summaries whose scatter
//! changes across the prior (a light-cone's power spectrum varies by an order of magnitude in
//! sample variance between early and late reionization), a covariance fixed at one point
//! makes posteriors overconfident where the scatter is larger. With one attached, the
//! Gaussian likelihood is `ln L = -r^T C(theta)^-1 r / 2 - ln det(2 pi C(theta)) / 2`, the
//! determinant term now changing with `theta`.

use crate::error::ModelError;
use crate::noise::Noise;

/// `C(theta)` over the data values, factorised as a [`Noise`].
///
/// ```
/// use spinflip_likelihoods::{CovarianceModel, ModelError, Noise};
///
/// /// Scatter growing with the amplitude: sigma = 0.1 |a| + 0.01 on every value.
/// struct Proportional(usize);
/// impl CovarianceModel for Proportional {
///     fn noise_at(&self, theta: &[f64]) -> Result<Noise, ModelError> {
///         Noise::white(0.1 * theta[0].abs() + 0.01, self.0)
///     }
/// }
/// let n = Proportional(3).noise_at(&[2.0])?;
/// assert!((n.sigma_diagonal()[0] - 0.21).abs() < 1e-15);
/// # Ok::<(), ModelError>(())
/// ```
pub trait CovarianceModel: Send + Sync {
    /// The noise at `theta` (the forward model's parameters only).
    fn noise_at(&self, theta: &[f64]) -> Result<Noise, ModelError>;
}
