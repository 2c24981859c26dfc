//! Text parsing as the firmwares' C libraries do it: `atoi`, `strtoul`, ESP-IDF's
//! `esp_console_split_argv`, and PEM decoding through `mbedtls_base64_decode`.

/// C `isspace` in the "C" locale.
fn c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// Leading whitespace, sign and decimal digits of `text`, as `atoi`/`strtoul` see them.
fn sign_and_digits(text: &[u8]) -> (bool, &[u8]) {
    let start = text.iter().position(|&b| !c_space(b)).unwrap_or(text.len());
    let rest = &text[start..];
    let (negative, rest) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let end = rest.iter().position(|b| !b.is_ascii_digit()).unwrap_or(rest.len());
    (negative, &rest[..end])
}

/// C `atoi` (overflow saturates; the C behaviour is undefined there).
pub fn atoi(text: &[u8]) -> i64 {
    let (negative, digits) = sign_and_digits(text);
    let value = digits.iter().fold(0i64, |acc, d| acc.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    if negative {
        -value
    } else {
        value
    }
}

/// `(uint32_t)strtoul(text, NULL, 10)` on the ESP32 (32-bit `unsigned long`): overflow gives
/// `ULONG_MAX`, a leading `-` negates modulo 2^32.
pub fn strtoul32(text: &[u8]) -> u32 {
    let (negative, digits) = sign_and_digits(text);
    let mut value: u64 = 0;
    for d in digits {
        value = value * 10 + u64::from(d - b'0');
        if value > u64::from(u32::MAX) {
            return u32::MAX;
        }
    }
    let value = value as u32;
    if negative {
        value.wrapping_neg()
    } else {
        value
    }
}

/// `esp_console_split_argv` (ESP-IDF `components/console/split_argv.c`): arguments are separated
/// by spaces only (a tab or `\n` is part of an argument); `"` quotes, `\` escapes `\`, `"` and
/// space and is dropped before anything else. At most `max_args - 1` arguments are returned.
pub fn split_argv(line: &[u8], max_args: usize) -> Vec<Vec<u8>> {
    #[derive(PartialEq, Clone, Copy)]
    enum S {
        Space,
        Arg,
        Quoted,
        ArgEscaped,
        QuotedEscaped,
    }
    let mut args: Vec<Vec<u8>> = Vec::new();
    let mut current = Vec::new();
    let mut state = S::Space;
    for &c in line {
        if c == 0 || args.len() >= max_args.saturating_sub(1) {
            break;
        }
        match state {
            S::Space => match c {
                b' ' => {}
                b'"' => state = S::Quoted,
                b'\\' => state = S::ArgEscaped,
                _ => {
                    state = S::Arg;
                    current.push(c);
                }
            },
            S::Quoted => match c {
                b'"' => {
                    args.push(std::mem::take(&mut current));
                    state = S::Space;
                }
                b'\\' => state = S::QuotedEscaped,
                _ => current.push(c),
            },
            S::ArgEscaped | S::QuotedEscaped => {
                if matches!(c, b'\\' | b'"' | b' ') {
                    current.push(c);
                }
                state = if state == S::ArgEscaped { S::Arg } else { S::Quoted };
            }
            S::Arg => match c {
                b' ' => {
                    args.push(std::mem::take(&mut current));
                    state = S::Space;
                }
                b'\\' => state = S::ArgEscaped,
                _ => current.push(c),
            },
        }
    }
    if state != S::Space && args.len() < max_args.saturating_sub(1) {
        args.push(current);
    }
    args
}

fn b64_value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// `mbedtls_base64_decode`: `\n` and `\r\n` line ends are skipped, spaces only directly before a
/// line end or at the very end; a lone `\r`, a tab, a space inside or at the start of a line, a
/// digit after `=`, or more than two `=` make the whole input invalid.
pub fn mbedtls_base64_decode(src: &[u8]) -> Option<Vec<u8>> {
    let (mut i, mut digits, mut equals) = (0usize, 0usize, 0usize);
    while i < src.len() {
        let mut spaces = false;
        while i < src.len() && src[i] == b' ' {
            i += 1;
            spaces = true;
        }
        if i == src.len() {
            break;
        }
        if src[i] == b'\n' || (src[i] == b'\r' && src.get(i + 1) == Some(&b'\n')) {
            i += 1;
            continue;
        }
        if spaces || src[i] > 127 {
            return None;
        }
        if src[i] == b'=' {
            equals += 1;
            if equals > 2 {
                return None;
            }
        } else if equals != 0 || b64_value(src[i]).is_none() {
            return None;
        }
        digits += 1;
        i += 1;
    }
    let mut out = Vec::with_capacity(digits * 3 / 4);
    let (mut acc, mut n) = (0u32, 0);
    for &c in src {
        if matches!(c, b'\r' | b'\n' | b' ') {
            continue;
        }
        acc = (acc << 6) | b64_value(c).unwrap_or(0);
        n += 1;
        if n == 4 {
            let bytes = acc.to_be_bytes();
            let pads = if c == b'=' { equals } else { 0 };
            out.extend_from_slice(&bytes[1..4 - pads]);
            acc = 0;
            n = 0;
        }
    }
    Some(out)
}

/// The helper's `convert_pem_to_der` (handlers.c): text between the first `-----BEGIN` line's
/// dashes (one `\r` and one `\n` skipped after them) and the first `-----END`, decoded by
/// `mbedtls_base64_decode`; at most `max` bytes. The input is a C string (ends at its first NUL).
pub fn pem_to_der(buffer: &[u8], max: usize) -> Option<Vec<u8>> {
    let text = &buffer[..buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len())];
    let find = |needle: &[u8]| text.windows(needle.len()).position(|w| w == needle);
    let mut s1 = find(b"-----BEGIN")? + 10;
    let s2 = find(b"-----END")?;
    while s1 < text.len() && text[s1] != b'-' {
        s1 += 1;
    }
    while s1 < text.len() && text[s1] == b'-' {
        s1 += 1;
    }
    if text.get(s1) == Some(&b'\r') {
        s1 += 1;
    }
    if text.get(s1) == Some(&b'\n') {
        s1 += 1;
    }
    if s2 <= s1 {
        return None;
    }
    let der = mbedtls_base64_decode(&text[s1..s2])?;
    (der.len() <= max).then_some(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_only_on_spaces() {
        assert_eq!(split_argv(b"init 21  22", 8), vec![b"init".to_vec(), b"21".to_vec(), b"22".to_vec()]);
        assert_eq!(split_argv(b"init\t21 22", 8), vec![b"init\t21".to_vec(), b"22".to_vec()]);
        assert_eq!(split_argv(b"\ninit 21", 8)[0], b"\ninit".to_vec());
        assert_eq!(split_argv(b"a \"b c\" d\\ e", 8), vec![b"a".to_vec(), b"b c".to_vec(), b"d e".to_vec()]);
        assert_eq!(split_argv(b"1 2 3 4 5 6 7 8 9", 8).len(), 7);
    }

    #[test]
    fn base64_rules() {
        assert_eq!(mbedtls_base64_decode(b"QUJD\r\nREVG\n").unwrap(), b"ABCDEF");
        assert_eq!(mbedtls_base64_decode(b"QUJD  \nREVG  ").unwrap(), b"ABCDEF");
        assert!(mbedtls_base64_decode(b"QUJD\rREVG").is_none(), "lone CR");
        assert!(mbedtls_base64_decode(b" QUJD").is_none(), "leading space");
        assert!(mbedtls_base64_decode(b"QUJD\tREVG").is_none(), "tab");
        assert!(mbedtls_base64_decode(b"QQ==QUJD").is_none(), "digit after padding");
        assert_eq!(mbedtls_base64_decode(b"QUI=").unwrap(), b"AB");
    }

    #[test]
    fn c_numbers() {
        assert_eq!(strtoul32(b" 4294967295"), u32::MAX);
        assert_eq!(strtoul32(b"99999999999"), u32::MAX);
        assert_eq!(strtoul32(b"-1"), u32::MAX);
        assert_eq!(strtoul32(b"12x"), 12);
        assert_eq!(atoi(b"\n22"), 22);
        assert_eq!(atoi(b"-1"), -1);
    }
}
