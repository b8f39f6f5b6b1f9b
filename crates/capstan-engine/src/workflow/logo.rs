//! The cloud type logo: Palette takes at most 100 KB with at least one side of 40 px
//! (palette-api.md §2.1). The dimensions are read from the file itself: the PNG IHDR
//! chunk, the JPEG start-of-frame segment, or the SVG root's width/height (or viewBox).

use base64::Engine as _;
use capstan_ipc::workflow::{Finding, LogoInput, Severity};

pub(crate) const MAX_LOGO_BYTES: usize = 100 * 1024;
pub(crate) const MIN_LOGO_SIDE: u32 = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageFormat {
    Png,
    Jpeg,
    Svg,
}

impl ImageFormat {
    fn name(self) -> &'static str {
        match self {
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
            Self::Svg => "SVG",
        }
    }
}

/// A logo that passed the checks, ready to upload.
pub(crate) struct CheckedLogo {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

fn finding(severity: Severity, code: &str, message: String) -> Finding {
    Finding {
        severity,
        code: code.to_owned(),
        message,
        location: Some("logo".into()),
    }
}

/// Checks the logo; returns the findings and, when nothing is an error, the bytes.
pub(crate) fn check(logo: &LogoInput) -> (Vec<Finding>, Option<CheckedLogo>) {
    let mut findings = Vec::new();
    // A data URL (`data:image/png;base64,...`) is accepted as well as bare base64.
    let raw = logo.base64.trim();
    let raw = match raw.strip_prefix("data:") {
        Some(url) => url.split_once(',').map_or("", |(_, data)| data),
        None => raw,
    };
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
        Ok(b) if !b.is_empty() => b,
        Ok(_) => {
            findings.push(finding(
                Severity::Error,
                "logo_empty",
                "The logo file is empty. Choose a PNG, JPEG or SVG image.".into(),
            ));
            return (findings, None);
        }
        Err(e) => {
            findings.push(finding(
                Severity::Error,
                "logo_unreadable",
                format!("The logo could not be read ({e}). Choose the file again."),
            ));
            return (findings, None);
        }
    };
    if bytes.len() > MAX_LOGO_BYTES {
        findings.push(finding(
            Severity::Error,
            "logo_too_large",
            format!(
                "The logo is {:.1} KB; Palette accepts at most {} KB. Export it smaller (fewer pixels, or optimised).",
                bytes.len() as f64 / 1024.0,
                MAX_LOGO_BYTES / 1024
            ),
        ));
    }
    match dimensions(&bytes) {
        Some((format, Some((w, h)))) => {
            if w.max(h) < MIN_LOGO_SIDE {
                findings.push(finding(
                    Severity::Error,
                    "logo_too_small",
                    format!(
                        "The logo is {w}×{h} px; Palette needs at least one side of {MIN_LOGO_SIDE} px. Use a larger image."
                    ),
                ));
            } else {
                findings.push(finding(
                    Severity::Info,
                    "logo_ok",
                    format!(
                        "{} logo, {w}×{h} px, {:.1} KB.",
                        format.name(),
                        bytes.len() as f64 / 1024.0
                    ),
                ));
            }
        }
        Some((format, None)) => findings.push(finding(
            Severity::Warning,
            "logo_size_unknown",
            format!(
                "The {} logo does not state its size in pixels; Palette needs at least one side of {MIN_LOGO_SIDE} px.",
                format.name()
            ),
        )),
        None => findings.push(finding(
            Severity::Error,
            "logo_format",
            format!(
                "{} is not a PNG, JPEG or SVG image. Palette shows logos in those formats.",
                logo.file_name
            ),
        )),
    }
    let ok = !findings.iter().any(|f| f.severity == Severity::Error);
    let file_name = if logo.file_name.trim().is_empty() {
        "logo".to_owned()
    } else {
        logo.file_name.trim().to_owned()
    };
    (findings, ok.then_some(CheckedLogo { file_name, bytes }))
}

/// The image format and, when the file states it, its size in pixels.
pub(crate) fn dimensions(bytes: &[u8]) -> Option<(ImageFormat, Option<(u32, u32)>)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((ImageFormat::Png, png_size(bytes)));
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        return Some((ImageFormat::Jpeg, jpeg_size(bytes)));
    }
    let text = std::str::from_utf8(bytes.get(..bytes.len().min(64 * 1024))?).ok()?;
    let start = text.find("<svg")?;
    Some((ImageFormat::Svg, svg_size(&text[start..])))
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// PNG: the first chunk is IHDR, width and height big-endian right after its type.
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() < 24 || &b[12..16] != b"IHDR" {
        return None;
    }
    Some((be32(&b[16..20]), be32(&b[20..24])))
}

/// JPEG: walk the segments to the first start-of-frame (SOF0..SOF15 except DHT, JPG, DAC).
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 3 < b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            // Fill byte.
            i += 1;
            continue;
        }
        if marker == 0x01 || (0xD0..=0xD9).contains(&marker) {
            i += 2;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        let is_sof = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let s = b.get(i + 4..i + 9)?;
            let height = u32::from(u16::from_be_bytes([s[1], s[2]]));
            let width = u32::from(u16::from_be_bytes([s[3], s[4]]));
            return Some((width, height));
        }
        if len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

/// SVG: `width`/`height` on the root element in px (or unitless), else the viewBox size.
fn svg_size(text: &str) -> Option<(u32, u32)> {
    let end = text.find('>')?;
    let tag = &text[..end];
    let attr = |name: &str| -> Option<&str> {
        let mut rest = tag;
        loop {
            let at = rest.find(name)?;
            let before = rest[..at].chars().last();
            let after = &rest[at + name.len()..];
            let after_trim = after.trim_start();
            if before.is_some_and(char::is_whitespace) && after_trim.starts_with('=') {
                let value = after_trim[1..].trim_start();
                let quote = value.chars().next()?;
                if quote == '"' || quote == '\'' {
                    let inner = &value[1..];
                    return inner.find(quote).map(|e| &inner[..e]);
                }
                return None;
            }
            rest = after;
        }
    };
    let px = |v: &str| -> Option<u32> {
        let v = v.trim();
        let number = v.strip_suffix("px").unwrap_or(v).trim();
        let n: f64 = number.parse().ok()?;
        (n.is_finite() && n > 0.0).then_some(n.round() as u32)
    };
    if let (Some(w), Some(h)) = (attr("width").and_then(px), attr("height").and_then(px)) {
        return Some((w, h));
    }
    let view_box = attr("viewBox")?;
    let parts: Vec<f64> = view_box
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    match parts.as_slice() {
        [_, _, w, h] if *w > 0.0 && *h > 0.0 => Some((w.round() as u32, h.round() as u32)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0]);
        b
    }

    #[test]
    fn png_jpeg_and_svg_sizes_are_read_from_the_file() {
        assert_eq!(
            dimensions(&png(64, 32)),
            Some((ImageFormat::Png, Some((64, 32))))
        );
        // SOI, an APP0 segment, then SOF0 with height 48 and width 120.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00,
            0x30, 0x00, 0x78, 0x03,
        ];
        assert_eq!(
            dimensions(&jpeg),
            Some((ImageFormat::Jpeg, Some((120, 48))))
        );
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64px" height='20'></svg>"#;
        assert_eq!(dimensions(svg), Some((ImageFormat::Svg, Some((64, 20)))));
        let view_box =
            br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path/></svg>"#;
        assert_eq!(
            dimensions(view_box),
            Some((ImageFormat::Svg, Some((24, 24))))
        );
        let stroke = br#"<svg stroke-width="2" viewBox="0,0,80,30"></svg>"#;
        assert_eq!(dimensions(stroke), Some((ImageFormat::Svg, Some((80, 30)))));
        assert_eq!(dimensions(b"GIF89a...."), None);
    }

    #[test]
    fn size_rules_are_palettes() {
        let input = |bytes: &[u8]| LogoInput {
            file_name: "logo.png".into(),
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        };
        let (findings, ok) = check(&input(&png(40, 12)));
        assert!(ok.is_some(), "{findings:?}");
        let (findings, ok) = check(&input(&png(39, 39)));
        assert!(ok.is_none());
        assert!(findings.iter().any(|f| f.code == "logo_too_small"));
        let mut big = png(64, 64);
        big.resize(MAX_LOGO_BYTES + 1, 0);
        let (findings, ok) = check(&input(&big));
        assert!(ok.is_none());
        assert!(findings.iter().any(|f| f.code == "logo_too_large"));
        let data_url = LogoInput {
            file_name: "logo.png".into(),
            base64: format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(png(48, 48))
            ),
        };
        assert!(check(&data_url).1.is_some());
    }
}
