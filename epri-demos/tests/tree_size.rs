//! The repository's tree must stay under 40 MiB (41,943,040 bytes): a GPU test machine receives
//! the tree (tracked files and untracked files that git does not ignore) plus a built binary,
//! under 64 MiB in all. git need not be installed: the test walks the workspace and leaves out
//! what the root `.gitignore` ignores (its patterns are simple: `/name`, `/name-*`, `*.ext`,
//! `name/`, and one `!/dir/**/*.ext` exception), plus `.git` itself. A pattern of another form
//! makes the test fail, so that this reading of `.gitignore` is kept honest.

use std::path::{Path, PathBuf};

const LIMIT: u64 = 40 * 1024 * 1024;

/// One `.gitignore` line.
#[derive(Debug)]
enum Rule {
    /// `/name` or `/name-*` (anchored at the root, `*` only at the end).
    Root {
        prefix: String,
        star: bool,
        dir_only: bool,
    },
    /// `*.ext`, anywhere.
    Suffix(String),
    /// `name/`, a folder anywhere.
    DirAnywhere(String),
    /// `!/dir/**/*.ext`: files under `dir` with that suffix are kept.
    KeepUnder { dir: String, suffix: String },
}

fn parse(gitignore: &str) -> Vec<Rule> {
    let mut rules = Vec::new();
    for line in gitignore.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let rule = if let Some(rest) = line.strip_prefix("!/") {
            let (dir, pat) = rest
                .split_once("/**/")
                .unwrap_or_else(|| panic!("unsupported .gitignore line {line:?}"));
            let suffix = pat
                .strip_prefix('*')
                .filter(|s| !s.contains(['*', '/', '?', '[']))
                .unwrap_or_else(|| panic!("unsupported .gitignore line {line:?}"));
            Rule::KeepUnder {
                dir: dir.to_string(),
                suffix: suffix.to_string(),
            }
        } else if let Some(rest) = line.strip_prefix('/') {
            let dir_only = rest.ends_with('/');
            let rest = rest.trim_end_matches('/');
            let (prefix, star) = match rest.strip_suffix('*') {
                Some(p) => (p, true),
                None => (rest, false),
            };
            assert!(
                !prefix.contains(['*', '?', '[', '!']),
                "unsupported .gitignore line {line:?}"
            );
            Rule::Root {
                prefix: prefix.to_string(),
                star,
                dir_only,
            }
        } else if let Some(suffix) = line.strip_prefix('*') {
            assert!(
                !suffix.contains(['*', '/', '?', '[']),
                "unsupported .gitignore line {line:?}"
            );
            Rule::Suffix(suffix.to_string())
        } else if let Some(name) = line.strip_suffix('/') {
            assert!(
                !name.contains(['*', '/', '?', '[', '!']),
                "unsupported .gitignore line {line:?}"
            );
            Rule::DirAnywhere(name.to_string())
        } else {
            panic!("unsupported .gitignore line {line:?}");
        };
        rules.push(rule);
    }
    rules
}

/// Whether `rel` (relative to the root, `/`-separated) is ignored.
fn ignored(rules: &[Rule], rel: &str, is_dir: bool) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let mut out = false;
    for r in rules {
        match r {
            Rule::Root {
                prefix,
                star,
                dir_only,
            } => {
                let hit = if *star {
                    !rel.contains('/') && rel.starts_with(prefix.as_str())
                } else {
                    rel == prefix
                };
                if hit && (is_dir || !dir_only) {
                    out = true;
                }
            }
            Rule::Suffix(s) => {
                if !is_dir && name.ends_with(s.as_str()) {
                    out = true;
                }
            }
            Rule::DirAnywhere(d) => {
                if is_dir && name == d {
                    out = true;
                }
            }
            Rule::KeepUnder { dir, suffix } => {
                if !is_dir && rel.starts_with(&format!("{dir}/")) && name.ends_with(suffix.as_str())
                {
                    out = false;
                }
            }
        }
    }
    out
}

fn walk(root: &Path, dir: &Path, rules: &[Rule], files: &mut Vec<(u64, PathBuf)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let path = e.path();
        let rel = path.strip_prefix(root).unwrap();
        let rel_s = rel.to_string_lossy().replace('\\', "/");
        if rel_s == ".git" {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let is_dir = meta.is_dir();
        if ignored(rules, &rel_s, is_dir) {
            continue;
        }
        if is_dir {
            walk(root, &path, rules, files);
        } else {
            files.push((meta.len(), rel.to_path_buf()));
        }
    }
}

#[test]
fn the_tree_stays_under_40_mib() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let gitignore = match std::fs::read_to_string(root.join(".gitignore")) {
        Ok(s) => s,
        Err(_) => {
            eprintln!("no .gitignore at the workspace root: not a checkout, tree size not checked");
            return;
        }
    };
    let rules = parse(&gitignore);
    let mut files = Vec::new();
    walk(&root, &root, &rules, &mut files);
    let total: u64 = files.iter().map(|f| f.0).sum();
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    println!(
        "tree: {total} bytes in {} files (limit {LIMIT})",
        files.len()
    );
    let largest: Vec<String> = files
        .iter()
        .take(10)
        .map(|(n, p)| format!("  {n:>10}  {}", p.display()))
        .collect();
    assert!(
        total <= LIMIT,
        "the tree weighs {total} bytes, over {LIMIT} (40 MiB); largest files:\n{}",
        largest.join("\n")
    );
}

#[test]
fn the_gitignore_reading_matches_git_on_examples() {
    let rules =
        parse("/target\n/target-*\n/out\n*.png\n!/docs/**/*.png\n__pycache__/\n/bench/.venv\n");
    for (rel, dir, want) in [
        ("target", true, true),
        ("target-gpu", true, true),
        ("epri-ops/target", true, false),
        ("out", true, true),
        ("out.md", false, false),
        ("a/b.png", false, true),
        ("docs/x/y.png", false, false),
        ("bench/__pycache__", true, true),
        ("bench/.venv", true, true),
        ("bench/ops_pyepri.py", false, false),
        ("datasets", true, false),
    ] {
        assert_eq!(ignored(&rules, rel, dir), want, "{rel}");
    }
}
