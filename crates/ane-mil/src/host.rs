//! Facts about the machine programs are prepared and run on that size checks need: the memory
//! available for new allocations, and byte counts written for people.

/// The memory the operating system reports available for new allocations, in bytes
/// (`MemAvailable` of `/proc/meminfo` on Linux); `None` where it is unknown.
pub fn available_memory() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line
            .trim_start_matches("MemAvailable:")
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        kib.checked_mul(1024)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// `bytes` for people: `1.5 GiB`, `512.0 KiB`, `17 bytes`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_well() {
        assert_eq!(format_bytes(17), "17 bytes");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(2_000_000_000_000), "1.8 TiB");
        assert_eq!(format_bytes(u64::MAX), "16384.0 PiB");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_reports_available_memory() {
        assert!(available_memory().is_some_and(|b| b > 0));
    }
}
