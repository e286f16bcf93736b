//! The module graph: the layers in `src/lib.rs` read top to bottom (a module refers only to
//! layers below it), and the modules inside each layer refer to each other without cycles.
//! Built from the `crate::` and `super::` paths in the source, so a new import that breaks
//! the shape fails here with the offending file and line.

#![allow(clippy::unwrap_used)] // tests may panic

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top, as in the map at the top of `src/lib.rs`.
const LAYERS: &[&str] = &[
    "domain", "backend", "config", "iam", "logging", "service", "worker", "bench", "graphics",
    "app", "tui", "cli",
];

/// A use of another module: where it is written and what it names.
struct Reference {
    file: PathBuf,
    line: usize,
    target: Vec<String>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/app/label.rs` → `["app", "label"]`; `src/app/mod.rs` → `["app"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn path_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let segments: Vec<String> = rest
            .split("::")
            .map(|s| {
                s.chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|s| !s.is_empty())
            .take(2)
            .collect();
        if !segments.is_empty() {
            found.push(segments);
        }
    }
    found
}

fn references(src: &Path) -> Vec<(Vec<String>, Reference)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut out = Vec::new();
    for file in files {
        let module = module_of(src, &file);
        if module.is_empty() || module == ["main"] {
            continue;
        }
        let is_mod_file = file.file_name().is_some_and(|n| n == "mod.rs");
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for target in path_after(code, "crate::") {
                out.push((
                    module.clone(),
                    Reference {
                        file: file.clone(),
                        line: i + 1,
                        target,
                    },
                ));
            }
            // `super::x` from a child file names a sibling of that file.
            if !is_mod_file && module.len() >= 2 {
                for seg in path_after(code, "super::") {
                    let mut target = module[..module.len() - 1].to_vec();
                    target.push(seg[0].clone());
                    out.push((
                        module.clone(),
                        Reference {
                            file: file.clone(),
                            line: i + 1,
                            target,
                        },
                    ));
                }
            }
        }
    }
    out
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn layers_refer_only_to_layers_below_them() {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut wrong = Vec::new();
    for (from, r) in references(&src_dir()) {
        let (Some(a), Some(b)) = (rank(&from[0]), rank(&r.target[0])) else {
            wrong.push(format!(
                "{}:{} `{}` → `{}`: a top-level module missing from LAYERS",
                r.file.display(),
                r.line,
                from[0],
                r.target[0]
            ));
            continue;
        };
        if b > a {
            wrong.push(format!(
                "{}:{} `{}` uses `{}`, a layer above it",
                r.file.display(),
                r.line,
                from[0],
                r.target[0]
            ));
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn lib_rs_declares_exactly_the_layers() {
    let lib = std::fs::read_to_string(src_dir().join("lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let mut expected = LAYERS.to_vec();
    expected.sort_unstable();
    let mut declared_sorted = declared.clone();
    declared_sorted.sort_unstable();
    assert_eq!(declared_sorted, expected);
}

#[test]
fn modules_inside_a_layer_have_no_cycles() {
    // Edges between sibling modules (children of the same parent); a child using its
    // parent's items is not an edge (the parent owns the shared types).
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    let mut witness: BTreeMap<(Vec<String>, Vec<String>), String> = BTreeMap::new();
    for (from, r) in references(&src_dir()) {
        if from.len() < 2 || r.target.len() < 2 || from[0] != r.target[0] {
            continue;
        }
        let a = from[..2].to_vec();
        let b = r.target[..2].to_vec();
        if a == b {
            continue;
        }
        witness
            .entry((a.clone(), b.clone()))
            .or_insert_with(|| format!("{}:{}", r.file.display(), r.line));
        edges.entry(a).or_default().insert(b);
    }
    // Depth-first search for a back edge.
    fn visit(
        n: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|s| s == m).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(cycle) = visit(n, &edges, &mut state, &mut stack) {
                let steps: Vec<String> = cycle
                    .windows(2)
                    .map(|w| {
                        format!(
                            "{} → {} ({})",
                            w[0].join("::"),
                            w[1].join("::"),
                            witness[&(w[0].clone(), w[1].clone())]
                        )
                    })
                    .collect();
                panic!("import cycle:\n{}", steps.join("\n"));
            }
        }
    }
}

#[test]
fn the_checker_sees_a_cycle_and_an_upward_use() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("app")).unwrap();
    std::fs::write(src.join("app/a.rs"), "use super::b::X;\n").unwrap();
    std::fs::write(src.join("app/b.rs"), "use crate::app::a::Y;\n").unwrap();
    std::fs::write(src.join("domain.rs"), "use crate::ui::draw;\n").unwrap();
    let refs = references(src);
    let pairs: BTreeSet<(String, String)> = refs
        .iter()
        .map(|(f, r)| (f.join("::"), r.target.join("::")))
        .collect();
    assert!(pairs.contains(&("app::a".into(), "app::b".into())));
    assert!(pairs.contains(&("app::b".into(), "app::a".into())));
    assert!(pairs.contains(&("domain".into(), "ui::draw".into())));
}
