//! Data-set files: NPZ and HDF5 round trips in the 21cmGEM layout, validation, corrupt files.

use spinflip::global::output_redshifts;
use spinflip::io::{read_npz, write_npz, GlobalSignalSet, NpyArray};
use spinflip::SpinflipError;
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spinflip_global_io_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn toy_set() -> GlobalSignalSet {
    let z = output_redshifts();
    let rows = |n: usize, c: usize, off: f64| {
        NpyArray::from_rows(n, c, (0..n * c).map(|i| off + i as f64 * 0.25).collect()).unwrap()
    };
    GlobalSignalSet {
        redshifts: z,
        par_train: rows(4, 7, 0.0),
        par_val: rows(2, 7, 1.0),
        par_test: rows(1, 7, 2.0),
        signal_train: rows(4, 451, -100.0),
        signal_val: rows(2, 451, -50.0),
        signal_test: rows(1, 451, -10.0),
        design_box: None,
    }
}

#[test]
fn npz_round_trip_uses_21cmgem_names() {
    let p = tmp("set.npz");
    let s = toy_set();
    s.save(&p).unwrap();
    assert_eq!(GlobalSignalSet::load(&p).unwrap(), s);
    let raw = read_npz(&p).unwrap();
    let names: Vec<&str> = raw.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "par_test",
            "par_train",
            "par_val",
            "redshifts",
            "signal_test",
            "signal_train",
            "signal_val"
        ]
    );
    assert_eq!(raw["signal_train"].shape, vec![4, 451]);
    assert_eq!(raw["redshifts"].shape, vec![451]);
}

#[cfg(feature = "hdf5")]
#[test]
fn hdf5_round_trip_and_implied_redshifts() {
    let p = tmp("set.h5");
    let s = toy_set();
    s.save(&p).unwrap();
    assert_eq!(GlobalSignalSet::load(&p).unwrap(), s);
    // A 21cmGEM-style file without 'redshifts' gets z = 5..50.
    let q = tmp("gem.hdf5");
    let arrays = [
        ("par_train", &s.par_train),
        ("par_val", &s.par_val),
        ("par_test", &s.par_test),
        ("signal_train", &s.signal_train),
        ("signal_val", &s.signal_val),
        ("signal_test", &s.signal_test),
    ];
    spinflip::io::hdf5::write_hdf5(&q, &arrays).unwrap();
    let g = GlobalSignalSet::load(&q).unwrap();
    assert_eq!(g.redshifts, output_redshifts());
    // Truncated HDF5: a data error naming the file.
    let bytes = std::fs::read(&p).unwrap();
    let cut = tmp("cut.h5");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    match GlobalSignalSet::load(&cut) {
        Err(SpinflipError::Data { path, .. }) => assert!(path.contains("cut.h5")),
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn corrupt_or_inconsistent_files_are_data_errors() {
    let s = toy_set();
    let p = tmp("ok.npz");
    s.save(&p).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let cut = tmp("truncated.npz");
    std::fs::write(&cut, &bytes[..bytes.len() - 1000]).unwrap();
    match GlobalSignalSet::load(&cut) {
        Err(SpinflipError::Data { path, reason }) => {
            assert!(path.contains("truncated.npz"), "{path}: {reason}")
        }
        other => panic!("expected a data error, got {other:?}"),
    }
    // Wrong parameter count.
    let bad = NpyArray::from_rows(4, 6, vec![0.0; 24]).unwrap();
    let q = tmp("six.npz");
    write_npz(
        &q,
        &[
            ("par_train", &bad),
            ("par_val", &s.par_val),
            ("par_test", &s.par_test),
            ("signal_train", &s.signal_train),
            ("signal_val", &s.signal_val),
            ("signal_test", &s.signal_test),
        ],
    )
    .unwrap();
    match GlobalSignalSet::load(&q) {
        Err(SpinflipError::Data { reason, .. }) => {
            assert!(reason.contains("par_train"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // Non-finite signal value.
    let mut nan = s.clone();
    nan.signal_val.data[3] = f64::NAN;
    assert!(nan.save(&tmp("nan.npz")).is_err());
    // Missing array and unknown extension.
    let r = tmp("missing.npz");
    write_npz(&r, &[("par_train", &s.par_train)]).unwrap();
    assert!(matches!(
        GlobalSignalSet::load(&r),
        Err(SpinflipError::Data { .. })
    ));
    assert!(GlobalSignalSet::load(&tmp("x.csv")).is_err());
}

/// The box the parameters were drawn from travels with the set (box_min/box_max), and a
/// file whose parameters lie outside its own box is refused.
#[test]
fn the_design_box_round_trips_and_must_contain_the_parameters() {
    let p = tmp("boxed.npz");
    let mut s = toy_set();
    s.design_box = Some(vec![(-1.0, 10.0); 7]);
    s.save(&p).unwrap();
    assert_eq!(GlobalSignalSet::load(&p).unwrap(), s);
    let raw = read_npz(&p).unwrap();
    assert_eq!(raw["box_min"].data, vec![-1.0; 7]);

    s.design_box = Some(vec![(0.0, 1.0); 7]);
    let e = s.save(&p).unwrap_err().to_string();
    assert!(e.contains("outside the design box"), "{e}");
}
