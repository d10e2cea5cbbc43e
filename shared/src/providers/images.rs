//! Image generation (docs/providers.md, "3. Image generation"): Gemini `generateContent` with
//! IMAGE output. Imagen `:predict` is shut down in the Gemini API
//! (ai.google.dev/gemini-api/docs/deprecations), so an `imagen` backend is refused when the
//! client is built. Bytes leave this module only after their header proves them a PNG or
//! JPEG with sane dimensions, so nothing else gets stored or uploaded to LinkedIn.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::error::ProviderError;
use super::gemini::GenerateResponse;
use super::http::{self, Effect};
use crate::config::{GoogleConfig, IMAGEN_SHUT_DOWN, ImageBackend};

/// Largest side we accept; anything bigger is not what we asked for.
const MAX_SIDE: u32 = 16_384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
}

impl ImageFormat {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }
}

/// A checked image.
#[derive(Clone, PartialEq)]
pub struct Image {
    pub bytes: Vec<u8>,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("len", &self.bytes.len())
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

pub struct ImageClient {
    http: reqwest::Client,
    url: String,
    /// The configured model, named in a Misconfigured reason so the operator sees what to change.
    model: String,
    api_key: String,
}

impl std::fmt::Debug for ImageClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageClient")
            .field("url", &self.url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl ImageClient {
    pub fn from_config(config: &GoogleConfig) -> Result<Self, ProviderError> {
        let api_key = http::google_key(config, "images")?;
        if config.image_backend == ImageBackend::Imagen {
            return Err(ProviderError::Misconfigured {
                reason: IMAGEN_SHUT_DOWN.to_owned(),
            });
        }
        let base = config.gemini_base_url.trim_end_matches('/');
        Ok(Self {
            http: http::client(Duration::from_millis(config.image_timeout_ms))?,
            url: format!(
                "{base}/v1beta/models/{}:generateContent",
                config.image_model
            ),
            model: config.image_model.clone(),
            api_key,
        })
    }

    /// One square image for `prompt`.
    #[tracing::instrument(skip_all, fields(route = http::Route::GeminiImage.label(), prompt_chars = prompt.len()))]
    pub async fn generate(&self, prompt: &str) -> Result<Image, ProviderError> {
        let what = "gemini image";
        let body = json!({
            "contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "1:1"}}
        });
        let request = self
            .http
            .post(&self.url)
            .header("x-goog-api-key", &self.api_key)
            .json(&body);
        let response =
            http::send(http::Route::GeminiImage, what, request, Effect::Idempotent).await?;
        if !response.status().is_success() {
            let e = http::google_error(what, response, &[&self.api_key]).await;
            return Err(http::name_setting(
                e,
                "providers.google.image_model",
                &self.model,
            ));
        }
        let raw: GenerateResponse = http::json(what, response, Effect::Idempotent).await?;
        let candidate = raw.finished(what)?;
        let encoded = candidate
            .content
            .iter()
            .flat_map(|c| &c.parts)
            .filter_map(|p| p.inline_data.as_ref())
            .find(|d| !d.data.is_empty())
            .map(|d| d.data.clone())
            .ok_or_else(|| ProviderError::permanent(format!("{what}: no image (filtered)")))?;
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| ProviderError::permanent(format!("{what}: image data is not base64")))?;
        check_image(bytes).map_err(|e| ProviderError::permanent(format!("{what}: {e}")))
    }
}

/// `bytes` as an [`Image`] if its header is a PNG (signature + IHDR) or a JPEG (SOI + a
/// SOFn frame header) with dimensions between 1 and 16384.
pub fn check_image(bytes: Vec<u8>) -> Result<Image, String> {
    let (format, width, height) = if let Some(dims) = png_size(&bytes) {
        (ImageFormat::Png, dims.0, dims.1)
    } else if let Some(dims) = jpeg_size(&bytes) {
        (ImageFormat::Jpeg, dims.0, dims.1)
    } else {
        return Err("not a PNG or JPEG image".into());
    };
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!("image size {width}x{height} is not sane"));
    }
    Ok(Image {
        bytes,
        format,
        width,
        height,
    })
}

fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if b.len() < 33 || !b.starts_with(SIGNATURE) || &b[12..16] != b"IHDR" {
        return None;
    }
    let len = u32::from_be_bytes(b[8..12].try_into().ok()?);
    if len != 13 {
        return None;
    }
    let w = u32::from_be_bytes(b[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(b[20..24].try_into().ok()?);
    Some((w, h))
}

fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() < 4 || b[0] != 0xFF || b[1] != 0xD8 {
        return None;
    }
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            i += 2; // standalone markers have no length
            continue;
        }
        if marker == 0xD9 || marker == 0xDA {
            return None; // end of image or scan before any frame header
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if len < 2 {
            return None;
        }
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let seg = b.get(i + 4..i + 9)?;
            let h = u32::from(u16::from_be_bytes([seg[1], seg[2]]));
            let w = u32::from(u16::from_be_bytes([seg[3], seg[4]]));
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8];
        b.extend(h.to_be_bytes());
        b.extend(w.to_be_bytes());
        b.extend([1, 1, 0x11, 0]);
        b
    }

    #[test]
    fn real_headers_pass_with_their_size() {
        let i = check_image(png(1024, 768)).unwrap();
        assert_eq!((i.format, i.width, i.height), (ImageFormat::Png, 1024, 768));
        let i = check_image(jpeg(640, 480)).unwrap();
        assert_eq!((i.format, i.width, i.height), (ImageFormat::Jpeg, 640, 480));
    }

    #[test]
    fn everything_else_is_refused() {
        assert!(check_image(b"<html>not an image</html>".to_vec()).is_err());
        assert!(check_image(png(0, 10)).is_err());
        assert!(check_image(png(100_000, 10)).is_err());
        assert!(check_image(png(10, 10)[..20].to_vec()).is_err());
        let mut no_ihdr = png(10, 10);
        no_ihdr[12..16].copy_from_slice(b"IDAT");
        assert!(check_image(no_ihdr).is_err());
        assert!(check_image(vec![0xFF, 0xD8, 0xFF, 0xD9]).is_err());
        assert!(check_image(jpeg(0, 10)).is_err());
        assert!(check_image(Vec::new()).is_err());
    }
}
