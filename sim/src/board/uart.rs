//! UART line rates: when two ends understand each other, and the rate the ESP32 ROM really sets on
//! CHANGE_BAUDRATE (its divider comes from its own, RC-calibrated estimate of the crystal).

/// The board's real crystal (and APB clock in the ROM loader): 40 MHz.
pub const XTAL_HZ: u64 = 40_000_000;
/// Largest rate mismatch (relative, host against board) at which 8N1 frames still arrive intact.
/// The receiver samples mid-bit; over the 10 bits of a frame the sample point may drift by less than
/// half a bit (5 %), and a practical budget for both ends' clock errors together is about 3 %.
pub const RATE_TOLERANCE: f64 = 0.03;

/// `RTCCALICFG1` (`TIMERS_RTC_CALI_VALUE`, bits 7..31): the ROM's calibration count of crystal
/// cycles against the internal 8 MHz RC oscillator.
pub const ROM_CALI_VALUE: u32 = 2074;
/// eFuse BLK0 word 4 bits 0..7 (`EFUSE_RD_CK8M_FREQ`): the RC oscillator's factory-measured frequency.
pub const CK8M_FREQ: u32 = 50;

/// The crystal frequency the ROM believes in, in Hz: esptool's `get_rom_cal_crystal_freq` formula
/// (`cali_val * 15625 * ck8m_freq / 40`). With the values above it reads 40.51 MHz, 1.3 % above
/// the real crystal: the CK_8M drift esptool's ESP32 `change_baud` compensates for.
pub fn rom_crystal_estimate_hz() -> u64 {
    u64::from(ROM_CALI_VALUE) * 15_625 * u64::from(CK8M_FREQ) / 40
}

/// The line rate the ROM's UART really runs at after CHANGE_BAUDRATE asked for `requested`: the ROM
/// sets the divider (20 integer bits, 4 fraction bits) from its crystal estimate, the UART divides
/// the real crystal. A request of 0 (what a host computes from unreadable calibration registers)
/// gives the largest divider, a rate no host uses.
pub fn rom_changed_rate(requested: u32) -> u32 {
    const MAX_DIVIDER_X16: u64 = (0xF_FFFF << 4) | 0xF;
    let divider_x16 = if requested == 0 {
        MAX_DIVIDER_X16
    } else {
        let requested = u64::from(requested);
        ((rom_crystal_estimate_hz() * 16 + requested / 2) / requested).clamp(16, MAX_DIVIDER_X16)
    };
    ((XTAL_HZ * 16) / divider_x16) as u32
}

/// Whether a host at `host` and a board at `board` receive each other's frames intact.
pub fn rates_match(host: u32, board: u32) -> bool {
    if host == board {
        return true;
    }
    let (host, board) = (f64::from(host), f64::from(board));
    board > 0.0 && ((host - board) / board).abs() <= RATE_TOLERANCE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esptool_compensation_lands_on_the_rate_and_a_plain_request_within_tolerance() {
        let estimate = rom_crystal_estimate_hz() as f64;
        // esptool 4.8.1 `ESP32ROM.change_baud`: int(baud * rom_calculated_freq // valid_freq).
        let false_rom_baud = (460_800.0 * estimate / 40_000_000.0).floor() as u32;
        let compensated = rom_changed_rate(false_rom_baud);
        assert!((compensated as i64 - 460_800).abs() < 100, "{compensated}");
        let plain = rom_changed_rate(460_800);
        assert!(plain < 460_800 - 4_000 && rates_match(460_800, plain), "{plain}");
        assert!(!rates_match(115_200, rom_changed_rate(460_800)));
        assert!(rom_changed_rate(0) < 100);
    }
}
