//! Bad input never panics: every entry point gets truncated and mangled copies of the real
//! fixtures and must answer with a value or an error.

mod common;

use capstan_capx::components::inspect_infrastructure_components;
use capstan_capx::day2::{MachineChanges, bump_machine_template};
use capstan_capx::macros::list_macros;
use capstan_capx::render::{read_pool_choices, render_cluster, render_pool};
use capstan_capx::split::{PaletteTemplates, SplitOptions, split_cluster_template};
use capstan_capx::validate::validate_templates;

/// Prefixes of `text` cut at many points, plus a few mangled variants.
fn variants(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cut = 0;
    while cut < text.len() {
        if text.is_char_boundary(cut) {
            out.push(text[..cut].to_owned());
        }
        cut += 211;
    }
    out.push(text.replace(": ", ":"));
    out.push(text.replace("  ", "\t"));
    out.push(text.replace("${", "${{"));
    out.push(text.replace('}', ""));
    out.push(text.replace("kind:", "kind: [x]\n  k:"));
    out
}

#[test]
fn entry_points_survive_mangled_fixtures() {
    let Some(dir) = common::capx_specs("entry_points_survive_mangled_fixtures") else {
        return;
    };
    let cluster = common::cluster_choices();
    let worker = common::worker_choices();
    let changes = MachineChanges {
        vcpu_sockets: Some(8),
        ..Default::default()
    };
    let mut split_ok = 0;
    let mut seen = 0;
    for version in common::FIXTURE_VERSIONS {
        let upstream = common::upstream_template(&dir, version);
        for text in variants(&upstream) {
            seen += 1;
            let _ = list_macros(&text);
            let _ = inspect_infrastructure_components(&text, Some(version));
            let _ = read_pool_choices(&text, &worker);
            let _ = bump_machine_template(&text, &changes);
            let _ = render_cluster(&text, &cluster);
            let _ = render_pool(&text, &cluster, &worker);
            let _ = validate_templates(&PaletteTemplates {
                cloud_cluster: text.clone(),
                control_plane_pool: text.clone(),
                worker_pool: text.clone(),
            });
            if let Ok((t, _)) = split_cluster_template(&text, &SplitOptions { vertex: true }) {
                split_ok += 1;
                let _ = validate_templates(&t);
                let _ = bump_machine_template(&t.worker_pool, &changes);
                let _ = bump_machine_template(&t.control_plane_pool, &changes);
            }
        }
    }
    // The complete-enough variants still split (the damage is beyond the last object).
    assert!(seen > 80, "{seen}");
    assert!(split_ok >= 3, "{split_ok}");
}
