//! `render --format tar`: the bundle as a ustar stream, built in memory.
//! Directories come first with the modes `Bundle::write_to` gives them,
//! then every file with its own mode (0600 for keys and secrets). Owner
//! 0:0, no user names, and every mtime the one the caller gives (the
//! server certificate's notBefore), so the same bundle gives the same bytes.

use registry_gen::Bundle;

pub fn to_tar(bundle: &Bundle, mtime: u64) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let header = |kind: tar::EntryType, mode: u32, size: u64| {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        h
    };
    for (dir, mode) in bundle.directories() {
        let mut h = header(tar::EntryType::Directory, mode, 0);
        tar.append_data(&mut h, format!("{dir}/"), std::io::empty())?;
    }
    for (path, file) in bundle.files() {
        let mut h = header(
            tar::EntryType::Regular,
            file.mode,
            file.contents.len() as u64,
        );
        tar.append_data(&mut h, path, file.contents.as_slice())?;
    }
    tar.into_inner()
}
