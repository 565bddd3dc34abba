//! Run a hot per-cell loop compiled for the widest vector instructions the CPU has: the same
//! Rust body is instantiated with AVX-512 or AVX2 enabled (so the compiler may use their
//! gathers and wider registers) and chosen at run time; other CPUs get the portable build.
//! Results are the same up to floating-point contraction (FMA) in the last bits.

/// `dispatch!(body(args...))`: call `body` through the best available instantiation.
macro_rules! dispatch {
    ($body:ident($($arg:expr),* $(,)?)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
            unsafe fn wide<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            #[target_feature(enable = "avx2,fma")]
            unsafe fn narrow<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU supports every feature `wide` enables (checked above).
                unsafe { wide(|| $body($($arg),*)) }
            } else if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: as above, for AVX2 and FMA.
                unsafe { narrow(|| $body($($arg),*)) }
            } else {
                $body($($arg),*)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            $body($($arg),*)
        }
    }};
}

pub(crate) use dispatch;
