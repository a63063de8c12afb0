//! A module as an ordered list of sections, some copied from the original
//! byte for byte, some replaced, inserted or removed.

use crate::lifecycle::snapshot::info::{ModuleInfo, section_bytes};
use alloc::borrow::Cow;
use alloc::vec::Vec;

/// Section ids of the core module format.
pub(crate) mod id {
    pub(crate) const MEMORY: u8 = 5;
    pub(crate) const GLOBAL: u8 = 6;
    pub(crate) const EXPORT: u8 = 7;
    pub(crate) const START: u8 = 8;
    pub(crate) const ELEMENT: u8 = 9;
    pub(crate) const CODE: u8 = 10;
    pub(crate) const DATA: u8 = 11;
    pub(crate) const DATA_COUNT: u8 = 12;
}

/// Where a section goes among the others; `None` for custom sections,
/// which may go anywhere.
fn rank(id: u8) -> Option<u32> {
    Some(match id {
        1 => 10,  // type
        2 => 20,  // import
        3 => 30,  // function
        4 => 40,  // table
        5 => 50,  // memory
        13 => 55, // tag
        6 => 60,  // global
        7 => 70,  // export
        8 => 80,  // start
        9 => 90,  // element
        12 => 95, // data count
        10 => 100,
        11 => 110,
        _ => return None,
    })
}

/// The sections of a module being rewritten.
#[derive(Debug)]
pub(crate) struct Sections<'a> {
    items: Vec<(u8, Cow<'a, [u8]>)>,
}

impl<'a> Sections<'a> {
    /// The sections of the original module, unchanged.
    pub(crate) fn of(wasm: &'a [u8], info: &ModuleInfo) -> Self {
        let items = info
            .sections
            .iter()
            .map(|section| (section.id, section_bytes(wasm, section)))
            .collect();
        Self { items }
    }

    /// The contents of the (non-custom) section `id`, if there is one.
    pub(crate) fn get(&self, id: u8) -> Option<&[u8]> {
        self.items
            .iter()
            .find(|(item, _)| *item == id)
            .map(|(_, bytes)| &**bytes)
    }

    /// Replaces section `id`, inserts it in its place if absent, or (with
    /// `None`) removes it.
    pub(crate) fn set(&mut self, id: u8, contents: Option<Vec<u8>>) {
        let existing = self.items.iter().position(|(item, _)| *item == id);
        match (existing, contents) {
            (Some(at), Some(contents)) => self.items[at].1 = Cow::Owned(contents),
            (Some(at), None) => {
                self.items.remove(at);
            }
            (None, Some(contents)) => {
                let own = rank(id);
                let at = self
                    .items
                    .iter()
                    .position(|(item, _)| rank(*item) > own)
                    .or_else(|| {
                        // After the last known section, before trailing custom ones.
                        self.items
                            .iter()
                            .rposition(|(item, _)| rank(*item).is_some())
                            .map(|last| last + 1)
                    })
                    .unwrap_or(self.items.len());
                self.items.insert(at, (id, Cow::Owned(contents)));
            }
            (None, None) => {}
        }
    }

    /// The module's bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut module = wasm_encoder::Module::new();
        for (id, data) in &self.items {
            module.section(&wasm_encoder::RawSection { id: *id, data });
        }
        module.finish()
    }
}

/// The contents of an encoded section (without its id and size).
pub(crate) fn contents(section: &impl wasm_encoder::Section) -> Vec<u8> {
    let mut bytes = Vec::new();
    section.encode(&mut bytes);
    // `encode` writes the size as a LEB128 prefix: strip it.
    let mut at = 0;
    while bytes.get(at).is_some_and(|byte| byte & 0x80 != 0) {
        at += 1;
    }
    bytes.split_off(at + 1)
}
