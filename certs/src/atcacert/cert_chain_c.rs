//! Generates `cert_chain.c` and `cert_chain.h` for a profile. Every struct is written with
//! designated initialisers naming only fields that exist in CryptoAuthLib 3.2.x through 3.8.x, so
//! one file compiles against the packed 3.2 layout and the reordered 3.7.5+/3.8 layout alike.

use super::def::{CaKeyDef, CertDef, CertLoc, DeviceLoc, Transform};
use super::profile::{Profile, ProfileDefs};
use serde::Serialize;
use std::fmt::Write as _;

/// The generated C source and header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertChainFiles {
    /// `cert_chain.c`.
    pub source: String,
    /// `cert_chain.h`.
    pub header: String,
}

fn device_loc(loc: &DeviceLoc) -> String {
    format!(
        "{{ .zone = {}, .slot = {}, .is_genkey = {}, .offset = {}, .count = {} }}",
        loc.zone.c_name(),
        loc.slot,
        u8::from(loc.is_genkey),
        loc.offset,
        loc.count
    )
}

fn cert_loc(loc: &CertLoc) -> String {
    format!("{{ .offset = {}, .count = {} }}", loc.offset, loc.count)
}

fn byte_array(out: &mut String, decl: &str, bytes: &[u8]) {
    let _ = writeln!(out, "{decl}[{}] = {{", bytes.len());
    for chunk in bytes.chunks(16) {
        let line: Vec<String> = chunk.iter().map(|b| format!("0x{b:02x}")).collect();
        let _ = writeln!(out, "    {},", line.join(", "));
    }
    out.push_str("};\n\n");
}

fn suffix(def: &CertDef) -> String {
    def.name.trim_start_matches("g_cert_def_").to_string()
}

fn is_mutable(profile: Profile, def: &CertDef) -> bool {
    // rainbowtype's bootloader switches public_key_dev_loc.slot between 0 and 1 for key rotation
    profile == Profile::Rainbowtype && def.template_id == 2
}

/// The C name firmware of this family uses for the root CA public key array.
pub fn ca_public_key_symbol(profile: Profile) -> &'static str {
    match profile {
        Profile::Trustflex => "g_cert_ca_public_key_1_signer",
        Profile::Rainbowtype | Profile::EspCryptoauthlib => "g_signer_1_ca_public_key",
    }
}

fn root_def(out: &mut String, root: &CaKeyDef) {
    let _ = writeln!(out, "const atcacert_def_t {} = {{", root.name);
    out.push_str("    .type = CERTTYPE_X509,\n    .template_id = 0,\n    .chain_id = 0,\n");
    let _ = writeln!(out, "    .public_key_dev_loc = {},", device_loc(&root.public_key_dev_loc));
    out.push_str("};\n\n");
}

fn cert_def(out: &mut String, profile: Profile, def: &CertDef) {
    let sfx = suffix(def);
    byte_array(out, &format!("const uint8_t g_cert_template_{sfx}"), &def.template);
    if !def.elements.is_empty() {
        let _ = writeln!(out, "const atcacert_cert_element_t g_cert_elements_{sfx}[] = {{");
        for el in &def.elements {
            let _ = writeln!(out, "    {{\n        .id = \"{}\",", el.id);
            let _ = writeln!(out, "        .device_loc = {},", device_loc(&el.device_loc));
            let _ = writeln!(out, "        .cert_loc = {},", cert_loc(&el.cert_loc));
            if el.transforms != [Transform::None; 2] {
                let _ = writeln!(out, "        .transforms = {{ {}, {} }},", el.transforms[0].c_name(), el.transforms[1].c_name());
            }
            out.push_str("    },\n");
        }
        out.push_str("};\n\n");
    }
    let qualifier = if is_mutable(profile, def) { "" } else { "const " };
    let _ = writeln!(out, "{qualifier}atcacert_def_t {} = {{", def.name);
    let field = |out: &mut String, name: &str, value: String| {
        let _ = writeln!(out, "    .{name} = {value},");
    };
    field(out, "type", "CERTTYPE_X509".into());
    field(out, "template_id", def.template_id.to_string());
    field(out, "chain_id", def.chain_id.to_string());
    field(out, "private_key_slot", def.private_key_slot.to_string());
    field(out, "sn_source", def.sn_source.c_name().into());
    field(out, "cert_sn_dev_loc", device_loc(&def.cert_sn_dev_loc));
    field(out, "issue_date_format", def.issue_date_format.c_name().into());
    field(out, "expire_date_format", def.expire_date_format.c_name().into());
    field(out, "tbs_cert_loc", cert_loc(&def.tbs_cert_loc));
    field(out, "expire_years", def.expire_years.to_string());
    field(out, "public_key_dev_loc", device_loc(&def.public_key_dev_loc));
    field(out, "comp_cert_dev_loc", device_loc(&def.comp_cert_dev_loc));
    out.push_str("    .std_cert_elements = {\n");
    for (name, loc) in def.std.in_order() {
        let _ = writeln!(out, "        [{name}] = {},", cert_loc(&loc));
    }
    out.push_str("    },\n");
    if def.elements.is_empty() {
        field(out, "cert_elements", "NULL".into());
        field(out, "cert_elements_count", "0".into());
    } else {
        field(out, "cert_elements", format!("g_cert_elements_{sfx}"));
        field(out, "cert_elements_count", format!("sizeof(g_cert_elements_{sfx}) / sizeof(g_cert_elements_{sfx}[0])"));
    }
    field(out, "cert_template", format!("g_cert_template_{sfx}"));
    field(out, "cert_template_size", format!("sizeof(g_cert_template_{sfx})"));
    field(out, "ca_cert_def", def.ca_cert_def.as_ref().map(|n| format!("&{n}")).unwrap_or_else(|| "NULL".into()));
    out.push_str("};\n\n");
}

/// Generates `cert_chain.c` and `cert_chain.h` for the definitions of one profile and signer.
pub fn generate(defs: &ProfileDefs) -> CertChainFiles {
    let profile = defs.profile;
    let mut src = String::new();
    let _ = writeln!(
        src,
        "/* cert_chain.c - ATECC608A certificate definitions for the {} firmware profile.\n * Generated by Keyline; offsets come from a DER walk of the templates. Do not edit by hand.\n * Compiles against CryptoAuthLib 3.2.x through 3.8.x (designated initialisers only). */\n",
        profile.as_str()
    );
    src.push_str("#include \"cert_chain.h\"\n\n");
    if let Some(key) = &defs.root_public_key {
        byte_array(&mut src, &format!("const uint8_t {}", ca_public_key_symbol(profile)), key);
    }
    if let Some(root) = &defs.root {
        root_def(&mut src, root);
    }
    cert_def(&mut src, profile, &defs.signer);
    cert_def(&mut src, profile, &defs.device);

    let mut hdr = String::new();
    hdr.push_str("/* cert_chain.h - generated by Keyline together with cert_chain.c. */\n");
    hdr.push_str("#ifndef KEYLINE_CERT_CHAIN_H\n#define KEYLINE_CERT_CHAIN_H\n\n#include <stddef.h>\n#include <stdint.h>\n#include \"atcacert/atcacert_def.h\"\n\n");
    hdr.push_str("#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    if defs.root_public_key.is_some() {
        let _ = writeln!(hdr, "extern const uint8_t {}[64];", ca_public_key_symbol(profile));
    }
    if let Some(root) = &defs.root {
        let _ = writeln!(hdr, "extern const atcacert_def_t {};", root.name);
    }
    for def in [&defs.signer, &defs.device] {
        let qualifier = if is_mutable(profile, def) { "" } else { "const " };
        let _ = writeln!(hdr, "extern const uint8_t g_cert_template_{}[{}];", suffix(def), def.template.len());
        if !def.elements.is_empty() {
            let _ = writeln!(hdr, "extern const atcacert_cert_element_t g_cert_elements_{}[{}];", suffix(def), def.elements.len());
        }
        let _ = writeln!(hdr, "extern {qualifier}atcacert_def_t {};", def.name);
    }
    hdr.push_str("\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* KEYLINE_CERT_CHAIN_H */\n");
    CertChainFiles { source: src, header: hdr }
}
