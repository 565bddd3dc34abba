//! The LSTM emulator of the global signal: network, training, fast CPU inference, model files.
