//! Rewrites a module's binary so that it exports every memory it has, for
//! the memory cross-check: most spec modules keep their memory to
//! themselves, and the host sees only exported memories.

/// The export name given to memory `index`.
pub fn memory_export(index: u32) -> String {
    format!("linmem-memory-{index}")
}

fn read_leb(bytes: &[u8], pos: &mut usize) -> Option<u32> {
    let mut result = 0u32;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        result |= u32::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(result);
        }
    }
    None
}

fn write_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = u8::try_from(value & 0x7f).unwrap_or(0);
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// `wasm` with an export `linmem-memory-N` added for each of its
/// `imported + defined` memories, or `None` if it has none or its
/// sections cannot be walked (then the module is used as it is).
pub fn export_all_memories(wasm: &[u8], imported: u32) -> Option<Vec<u8>> {
    let header = wasm.get(..8)?;
    let mut sections = Vec::new();
    let mut pos = 8;
    while pos < wasm.len() {
        let id = wasm[pos];
        pos += 1;
        let size = usize::try_from(read_leb(wasm, &mut pos)?).ok()?;
        let payload = wasm.get(pos..pos.checked_add(size)?)?;
        sections.push((id, payload));
        pos += size;
    }
    let defined = match sections.iter().find(|(id, _)| *id == 5) {
        Some((_, payload)) => read_leb(payload, &mut 0)?,
        None => 0,
    };
    let total = imported.checked_add(defined)?;
    if total == 0 {
        return None;
    }
    let mut entries = Vec::new();
    for index in 0..total {
        let name = memory_export(index);
        write_leb(&mut entries, u32::try_from(name.len()).ok()?);
        entries.extend_from_slice(name.as_bytes());
        entries.push(0x02); // a memory
        write_leb(&mut entries, index);
    }
    let export_section = |existing: Option<&[u8]>| -> Option<Vec<u8>> {
        let (count, rest) = match existing {
            Some(payload) => {
                let mut at = 0;
                let count = read_leb(payload, &mut at)?;
                (count, &payload[at..])
            }
            None => (0, &[][..]),
        };
        let mut payload = Vec::new();
        write_leb(&mut payload, count.checked_add(total)?);
        payload.extend_from_slice(rest);
        payload.extend_from_slice(&entries);
        Some(payload)
    };
    let mut out = header.to_vec();
    let push = |out: &mut Vec<u8>, id: u8, payload: &[u8]| -> Option<()> {
        out.push(id);
        write_leb(out, u32::try_from(payload.len()).ok()?);
        out.extend_from_slice(payload);
        Some(())
    };
    let mut exported = false;
    for (id, payload) in &sections {
        if *id == 7 {
            push(&mut out, 7, &export_section(Some(payload))?)?;
            exported = true;
            continue;
        }
        // The export section comes before start, element, data count, code
        // and data.
        if !exported && matches!(id, 8..=12) {
            push(&mut out, 7, &export_section(None)?)?;
            exported = true;
        }
        push(&mut out, *id, payload)?;
    }
    if !exported {
        push(&mut out, 7, &export_section(None)?)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_memory_gets_an_export() {
        let wasm = wat::parse_str(
            r#"(module (import "spectest" "memory" (memory 1))
                (memory 1) (memory i64 2)
                (func (export "f"))
                (data (memory 1) (i32.const 0) "x"))"#,
        )
        .expect("valid text");
        let rewritten = export_all_memories(&wasm, 1).expect("three memories");
        let engine = linmem::Engine::default();
        let module = linmem::Module::from_binary(&engine, &rewritten).expect("still valid");
        let memories: Vec<String> = module
            .exports()
            .filter(|export| export.ty().memory().is_some())
            .map(|export| export.name().to_owned())
            .collect();
        assert_eq!(
            memories,
            ["linmem-memory-0", "linmem-memory-1", "linmem-memory-2"]
        );
        assert!(module.exports().any(|export| export.name() == "f"));
        let none = wat::parse_str("(module (func))").expect("valid text");
        assert!(export_all_memories(&none, 0).is_none());
    }
}
