//! Architecture of the map CNN: input geometry, convolution blocks, dense head.
//!
//! # Default: Gillet et al. (2019)
//!
//! Gillet, Mesinger, Greig, Liu & Ucci 2019 (MNRAS 484, 282), Sec. 3 and Fig. 3:
//! conv 8 @ 10 x 10 -> max-pool 2 -> conv 16 @ 10 x 10 -> max-pool 2 -> flatten ->
//! dropout 0.2 -> dense 64 -> batch norm -> dense 16 -> dense 8 -> dense 4, ReLU after every
//! convolution and hidden dense layer, linear output. Their network was written in Keras,
//! so the layer details follow Keras' defaults where the paper says nothing:
//!
//! - **padding 'same'**: the figure keeps the image size through each convolution (only
//!   the pooling halves it). This is also the only reading under which their architecture
//!   runs on a 25-pixel-high image: with 'valid' padding the second 10 x 10 kernel would not
//!   fit after the first convolution and pooling. For even kernels 'same' pads
//!   `(k - 1) / 2` before and the rest after (TensorFlow's convention: 4 and 5 for k = 10).
//!   (The paper text was not at hand when this was written; set `padding: valid` if a
//!   closer reading says otherwise. 'valid' costs 4x fewer multiply-adds here, see below.)
//! - pooling floors odd sizes (`MaxPooling2D` with 'valid' padding);
//! - batch norm after the ReLU of dense 64 (Keras `Dense(64, activation='relu')` followed
//!   by `BatchNormalization()`), with Keras' `momentum = 0.99` (here `bn_momentum = 0.01`
//!   in candle's convention `running = (1 - m) running + m batch`) and `epsilon = 1e-3`;
//! - Glorot-uniform kernels and zero biases (Keras' initialisers).
//!
//! Cost on a 32 x 787 slice ('same'): 102 M multiply-adds forward (conv 20.1 M + 80.5 M,
//! dense 1.6 M) and 287 M forward + backward; with 'valid' 24 M and 58 M. The flattened
//! width is 25,088 ('same') or 3,040 ('valid'), so the first dense layer holds 1.6 M or
//! 0.19 M of the weights (6.4 MB or 0.8 MB in f32).

use serde::{Deserialize, Serialize};

use crate::SpinflipError;

/// Zero padding of a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// No padding: the output shrinks by `kernel - 1`.
    Valid,
    /// Zero padding that keeps the size: `(k - 1) / 2` before, `k - 1 - (k - 1) / 2` after.
    Same,
}

impl Padding {
    /// `(before, after)` zero rows (or columns) for a kernel of extent `k`.
    pub fn amounts(self, k: usize) -> (usize, usize) {
        match self {
            Padding::Valid => (0, 0),
            Padding::Same => ((k - 1) / 2, k - 1 - (k - 1) / 2),
        }
    }
}

/// One convolution block: convolution, ReLU, max-pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvSpec {
    /// Output channels (filters).
    pub filters: usize,
    /// Kernel `[rows, columns]` (rows run across the sky, columns along the line of sight).
    pub kernel: [usize; 2],
    /// Zero padding.
    pub padding: Padding,
    /// Max-pooling window and stride (square; 1 = no pooling). Odd sizes are floored.
    pub pool: usize,
}

/// One hidden dense layer: linear, ReLU, then optionally batch norm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenseSpec {
    /// Units.
    pub units: usize,
    /// Batch norm after the ReLU.
    pub batch_norm: bool,
}

/// The network's architecture. Input: one channel of `height x width` (cells across the
/// sky x line-of-sight cells); output: `n_outputs` normalised parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnnConfig {
    /// Input rows (cells across the sky).
    pub height: usize,
    /// Input columns (cells along the line of sight, N_los).
    pub width: usize,
    /// Convolution blocks, input side first (at least one).
    pub conv: Vec<ConvSpec>,
    /// Dropout rate on the flattened features, in `[0, 1)`.
    pub dropout: f32,
    /// Hidden dense layers.
    pub dense: Vec<DenseSpec>,
    /// Outputs of the final linear layer.
    pub n_outputs: usize,
    /// Batch-norm running-average weight of the new batch (candle's `momentum`).
    pub bn_momentum: f64,
    /// Batch-norm epsilon added to the variance.
    pub bn_eps: f64,
}

/// Shapes through one convolution block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    /// Input channels.
    pub c: usize,
    /// Input rows.
    pub h: usize,
    /// Input columns.
    pub w: usize,
    /// Filters.
    pub f: usize,
    /// Kernel rows.
    pub kh: usize,
    /// Kernel columns.
    pub kw: usize,
    /// Zero rows above.
    pub pad_top: usize,
    /// Zero rows below.
    pub pad_bottom: usize,
    /// Zero columns left.
    pub pad_left: usize,
    /// Zero columns right.
    pub pad_right: usize,
    /// Convolution output rows.
    pub ho: usize,
    /// Convolution output columns.
    pub wo: usize,
    /// Pooling window.
    pub pool: usize,
    /// Pooled rows.
    pub hp: usize,
    /// Pooled columns.
    pub wp: usize,
}

impl ConvShape {
    /// Multiply-adds of the forward convolution of one slice.
    pub fn macs(&self) -> usize {
        self.f * self.c * self.kh * self.kw * self.ho * self.wo
    }

    /// Values out of the block (after pooling) per slice.
    pub fn out_len(&self) -> usize {
        self.f * self.hp * self.wp
    }
}

impl CnnConfig {
    /// Number of parameter outputs of the spinflip maps CNN (zeta, log10_Tvir, log10_LX, E0_keV).
    pub const N_PARAMS: usize = 4;

    /// Gillet et al. (2019)'s architecture on `height x width` slices (see the module docs).
    pub fn gillet(height: usize, width: usize) -> Self {
        let conv = |filters| ConvSpec {
            filters,
            kernel: [10, 10],
            padding: Padding::Same,
            pool: 2,
        };
        let dense = |units, batch_norm| DenseSpec { units, batch_norm };
        CnnConfig {
            height,
            width,
            conv: vec![conv(8), conv(16)],
            dropout: 0.2,
            dense: vec![dense(64, true), dense(16, false), dense(8, false)],
            n_outputs: Self::N_PARAMS,
            bn_momentum: 0.01,
            bn_eps: 1e-3,
        }
    }

    /// The same with every convolution's padding set to `padding`.
    pub fn with_padding(mut self, padding: Padding) -> Self {
        self.conv.iter_mut().for_each(|c| c.padding = padding);
        self
    }

    /// Shapes through the convolution blocks (the config must be valid).
    pub fn conv_shapes(&self) -> Vec<ConvShape> {
        self.try_conv_shapes().unwrap_or_default()
    }

    fn try_conv_shapes(&self) -> Result<Vec<ConvShape>, SpinflipError> {
        let (mut c, mut h, mut w) = (1, self.height, self.width);
        let mut out = Vec::with_capacity(self.conv.len());
        for (i, s) in self.conv.iter().enumerate() {
            let field = format!("conv[{i}]");
            let [kh, kw] = s.kernel;
            if s.filters == 0 || kh == 0 || kw == 0 || s.pool == 0 {
                return Err(SpinflipError::config(
                    field,
                    "filters, kernel sizes and pool must be at least 1",
                ));
            }
            if s.pool > 16 || kh > 64 || kw > 64 || s.filters > 4096 {
                return Err(SpinflipError::config(
                    field,
                    "pool <= 16, kernels <= 64 and filters <= 4096 are supported",
                ));
            }
            let (pad_top, pad_bottom) = s.padding.amounts(kh);
            let (pad_left, pad_right) = s.padding.amounts(kw);
            let (hh, ww) = (h + pad_top + pad_bottom, w + pad_left + pad_right);
            if hh < kh || ww < kw {
                return Err(SpinflipError::config(
                    field,
                    format!(
                        "a {kh} x {kw} kernel does not fit its {h} x {w} input ('{:?}' padding); \
                         use smaller kernels, less pooling before it, 'same' padding or a larger slice",
                        s.padding
                    )
                    .to_lowercase(),
                ));
            }
            let (ho, wo) = (hh - kh + 1, ww - kw + 1);
            let (hp, wp) = (ho / s.pool, wo / s.pool);
            if hp == 0 || wp == 0 {
                return Err(SpinflipError::config(
                    field,
                    format!(
                        "pooling by {} leaves nothing of the {ho} x {wo} convolution output; \
                         lower the pool size or use a larger slice",
                        s.pool
                    ),
                ));
            }
            out.push(ConvShape {
                c,
                h,
                w,
                f: s.filters,
                kh,
                kw,
                pad_top,
                pad_bottom,
                pad_left,
                pad_right,
                ho,
                wo,
                pool: s.pool,
                hp,
                wp,
            });
            (c, h, w) = (s.filters, hp, wp);
        }
        Ok(out)
    }

    /// Width of the flattened features entering the dense head.
    pub fn flat_len(&self) -> usize {
        self.conv_shapes().last().map_or(0, ConvShape::out_len)
    }

    /// Inputs of dense layer `j` (`j = dense.len()` is the output layer).
    pub fn dense_inputs(&self, j: usize) -> usize {
        if j == 0 {
            self.flat_len()
        } else {
            self.dense[j - 1].units
        }
    }

    /// Outputs of dense layer `j` (`j = dense.len()` is the output layer).
    pub fn dense_outputs(&self, j: usize) -> usize {
        self.dense.get(j).map_or(self.n_outputs, |d| d.units)
    }

    /// Multiply-adds of one slice's forward pass (convolutions and dense layers).
    pub fn forward_macs(&self) -> usize {
        let conv: usize = self.conv_shapes().iter().map(ConvShape::macs).sum();
        conv + self.dense_macs()
    }

    /// Multiply-adds of one slice's forward and backward pass: each layer's forward, its
    /// weight gradient (same count) and its input gradient (same count; none for the first
    /// convolution, whose input is data).
    pub fn train_macs(&self) -> usize {
        let shapes = self.conv_shapes();
        let conv: usize = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| s.macs() * if i == 0 { 2 } else { 3 })
            .sum();
        conv + 3 * self.dense_macs()
    }

    fn dense_macs(&self) -> usize {
        (0..=self.dense.len())
            .map(|j| self.dense_inputs(j) * self.dense_outputs(j))
            .sum()
    }

    /// Check everything; the error names the field and the fix.
    pub fn validate(&self) -> Result<(), SpinflipError> {
        if self.height == 0 || self.width == 0 {
            return Err(SpinflipError::config(
                "geometry",
                format!(
                    "input is {} x {}; both must be at least 1",
                    self.height, self.width
                ),
            ));
        }
        if self.height.saturating_mul(self.width) > 1 << 26 {
            return Err(SpinflipError::config(
                "geometry",
                format!(
                    "{} x {} pixels per slice is beyond the 2^26 the CPU kernels index",
                    self.height, self.width
                ),
            ));
        }
        if self.conv.is_empty() {
            return Err(SpinflipError::config(
                "conv",
                "at least one convolution block is needed",
            ));
        }
        self.try_conv_shapes()?;
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(SpinflipError::config(
                "dropout",
                format!("{} is outside [0, 1)", self.dropout),
            ));
        }
        if let Some(j) = self.dense.iter().position(|d| d.units == 0) {
            return Err(SpinflipError::config(
                format!("dense[{j}]"),
                "units must be at least 1",
            ));
        }
        if self.n_outputs == 0 {
            return Err(SpinflipError::config("n_outputs", "must be at least 1"));
        }
        if !(0.0..=1.0).contains(&self.bn_momentum) {
            return Err(SpinflipError::config(
                "bn_momentum",
                format!("{} is outside [0, 1]", self.bn_momentum),
            ));
        }
        if !(self.bn_eps > 0.0 && self.bn_eps.is_finite()) {
            return Err(SpinflipError::config(
                "bn_eps",
                format!("{} must be positive", self.bn_eps),
            ));
        }
        // Bound the flat parameter vector so offsets stay far from overflow and a typo in a
        // sidecar cannot ask for terabytes.
        let n = self.flat_len().saturating_mul(self.dense_outputs(0));
        if n > 1 << 30 {
            return Err(SpinflipError::config(
                "architecture",
                format!(
                    "the first dense layer would hold {n} weights; pool more or use fewer filters"
                ),
            ));
        }
        Ok(())
    }

    /// Whether any dense layer has batch norm (training then needs batches of 2 or more).
    pub fn has_batch_norm(&self) -> bool {
        self.dense.iter().any(|d| d.batch_norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gillet_shapes_and_costs() {
        let c = CnnConfig::gillet(32, 787);
        c.validate().unwrap();
        let s = c.conv_shapes();
        assert_eq!((s[0].ho, s[0].wo, s[0].hp, s[0].wp), (32, 787, 16, 393));
        assert_eq!((s[0].pad_top, s[0].pad_bottom), (4, 5));
        assert_eq!(
            (s[1].c, s[1].ho, s[1].wo, s[1].hp, s[1].wp),
            (8, 16, 393, 8, 196)
        );
        assert_eq!(c.flat_len(), 16 * 8 * 196);
        // 8*100*32*787 + 16*800*16*393 + 25088*64 + 64*16 + 16*8 + 8*4
        assert_eq!(
            c.forward_macs(),
            20_147_200 + 80_486_400 + 1_605_632 + 1024 + 128 + 32
        );
        let v = c.clone().with_padding(Padding::Valid);
        v.validate().unwrap();
        assert_eq!(v.flat_len(), 16 * 190);
    }

    #[test]
    fn bad_configs_name_the_field() {
        let mut c = CnnConfig::gillet(25, 526).with_padding(Padding::Valid);
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("conv[1]") && e.contains("does not fit"), "{e}");
        c = CnnConfig::gillet(32, 787);
        c.dropout = 1.0;
        assert!(c.validate().unwrap_err().to_string().contains("dropout"));
        c = CnnConfig::gillet(0, 787);
        assert!(c.validate().unwrap_err().to_string().contains("geometry"));
        c = CnnConfig::gillet(32, 787);
        c.conv[0].pool = 0;
        assert!(c.validate().is_err());
        c = CnnConfig::gillet(1, 1);
        assert!(c.validate().is_err());
    }
}
