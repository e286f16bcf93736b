//! Names that come from users or from a shared bucket: image file names and labeller
//! names. Anything shown in the terminal goes through `display_safe`, so no name can reach
//! the terminal as an escape sequence; names written into label files cannot break their format.

/// Longest image name accepted at upload, in bytes (S3 keys may be 1024; we leave room).
pub const MAX_IMAGE_NAME_BYTES: usize = 200;
/// Longest labeller name kept, in characters.
pub const MAX_LABELLER_CHARS: usize = 64;

/// Replaces control characters (C0, DEL, C1, and the Unicode bidi overrides) with `�`.
pub fn display_safe(s: &str) -> String {
    s.chars()
        .map(|c| if is_unsafe_char(c) { '\u{FFFD}' } else { c })
        .collect()
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the file name is empty")]
    Empty,
    #[error("the file name \"{0}\" cannot be used as an image name")]
    Reserved(String),
}

/// Turns a user's file name into the name stored under `images/`: only the last path
/// component is kept, path separators and control characters become `_`, and very long
/// names are shortened (keeping the extension).
pub fn image_name_from_file_name(file_name: &str) -> Result<String, NameError> {
    let last = file_name
        .rsplit(['/', '\\'])
        .find(|s| !s.is_empty())
        .unwrap_or("");
    let cleaned: String = last
        .chars()
        .map(|c| if is_unsafe_char(c) { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        return Err(NameError::Empty);
    }
    if cleaned.chars().all(|c| c == '.') {
        return Err(NameError::Reserved(display_safe(last)));
    }
    Ok(shorten_keeping_extension(&cleaned, MAX_IMAGE_NAME_BYTES))
}

fn shorten_keeping_extension(name: &str, limit: usize) -> String {
    if name.len() <= limit {
        return name.to_string();
    }
    let (stem, ext) = split_extension(name);
    let ext = if ext.len() > 16 { "" } else { ext };
    let room = limit.saturating_sub(ext.len() + 1);
    let mut cut = room.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    if ext.is_empty() {
        stem[..cut].to_string()
    } else {
        format!("{}.{ext}", &stem[..cut])
    }
}

/// `("photo", "jpg")` for `photo.jpg`; `("photo", "")` without an extension.
pub fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i + 1..]),
        _ => (name, ""),
    }
}

/// The `n`-th alternative name for an image whose name is taken: `dog.jpg` → `dog-2.jpg`.
pub fn numbered_name(name: &str, n: u32) -> String {
    let (stem, ext) = split_extension(name);
    let name = if ext.is_empty() {
        format!("{stem}-{n}")
    } else {
        format!("{stem}-{n}.{ext}")
    };
    shorten_keeping_extension(&name, MAX_IMAGE_NAME_BYTES + 8)
}

/// A labeller name that cannot break a tab-separated label line: tabs, newlines and other
/// control characters become spaces; empty names become `anonymous`.
pub fn labeller_name(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| if is_unsafe_char(c) { ' ' } else { c })
        .take(MAX_LABELLER_CHARS)
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.is_empty() {
        "anonymous".to_string()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_safe_removes_escapes() {
        assert_eq!(display_safe("a\u{1b}[2Jb\u{7}"), "a\u{FFFD}[2Jb\u{FFFD}");
        assert_eq!(display_safe("hot dog 🌭"), "hot dog 🌭");
        assert_eq!(display_safe("x\u{202E}y"), "x\u{FFFD}y");
    }

    #[test]
    fn image_names_keep_only_the_last_component() {
        assert_eq!(
            image_name_from_file_name("../../etc/passwd"),
            Ok("passwd".into())
        );
        assert_eq!(
            image_name_from_file_name("/abs/dog.jpg"),
            Ok("dog.jpg".into())
        );
        assert_eq!(
            image_name_from_file_name("C:\\x\\dog.jpg"),
            Ok("dog.jpg".into())
        );
        assert_eq!(
            image_name_from_file_name("a\u{0}b\nc.jpg"),
            Ok("a_b_c.jpg".into())
        );
        assert_eq!(
            image_name_from_file_name(".."),
            Err(NameError::Reserved("..".into()))
        );
        assert_eq!(image_name_from_file_name(""), Err(NameError::Empty));
        assert_eq!(image_name_from_file_name("///"), Err(NameError::Empty));
        assert_eq!(
            image_name_from_file_name("ホットドッグ.png"),
            Ok("ホットドッグ.png".into())
        );
    }

    #[test]
    fn long_names_are_shortened_on_a_char_boundary() {
        let long = format!("{}.jpg", "é".repeat(300));
        let name = image_name_from_file_name(&long).unwrap();
        assert!(name.len() <= MAX_IMAGE_NAME_BYTES);
        assert!(name.ends_with(".jpg"));
    }

    #[test]
    fn numbered_names() {
        assert_eq!(numbered_name("dog.jpg", 2), "dog-2.jpg");
        assert_eq!(numbered_name("README", 3), "README-3");
        assert_eq!(numbered_name(".hidden", 2), ".hidden-2");
    }

    #[test]
    fn labeller_names_cannot_break_lines() {
        assert_eq!(labeller_name("ann\tsmith\n"), "ann smith");
        assert_eq!(labeller_name(" \t"), "anonymous");
        assert_eq!(labeller_name(&"x".repeat(100)).len(), MAX_LABELLER_CHARS);
    }
}
