//! Simulated ESP32 boards carrying an ATECC608A, speaking the public provisioning firmwares and the ROM loader.
