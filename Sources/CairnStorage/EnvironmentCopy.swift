import CCairnLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LMDBEnvironment {
    /// Writes a consistent, compacted copy of the environment's data to the new file `path`, while other
    /// processes and threads go on reading and writing it, and returns the copy's size in bytes.
    ///
    /// The copy is LMDB's own hot backup, `mdb_env_copyfd2` with `MDB_CP_COMPACT` (the descriptor form of
    /// `mdb_env_copy2`, so that the file is ours to create, sync and name): it runs in one read transaction,
    /// so it is the environment exactly as some commit left it, never a mixture; free pages are left out and
    /// the pages renumbered, so the copy is as small as the data. Readers never block writers, so appends
    /// continue meanwhile (the pages the copy still needs are kept until it ends).
    ///
    /// `path` is created exclusively (`O_EXCL`, never through a symbolic link) with exactly `mode`, then
    /// synced; the directory holding it is not (the caller renames the file into place and syncs then). On
    /// any failure the partial file is removed.
    ///
    /// Throws `FileError` for what the file system refused (creating, writing — LMDB's copy thread reports a
    /// full disk as `ENOSPC` —, syncing) and `StorageError` for LMDB's own failures.
    public func copyCompacted(toNewFile path: String, mode: mode_t = 0o640) throws -> UInt64 {
        let fd = sysOpen(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError.system(errno, .create, path) }
        do {
            guard sysFchmod(fd, mode, path: path) == 0 else { throw FileError.system(errno, .setMode, path) }
            var attempts = 0
            while true {
                // Inside a read transaction of ours: the process cannot resize the map while LMDB's copy reads
                // it, and the copy's own read transaction sees the map this one adopted.
                let rc = try read { _ in mdb_env_copyfd2(env, fd, UInt32(MDB_CP_COMPACT)) }
                if rc == MDB_SUCCESS { break }
                if rc == MDB_MAP_RESIZED && attempts < 8 {
                    // Another process grew the map after our transaction began: start again at the new size.
                    attempts += 1
                    guard sysFtruncate(fd, 0, path: path) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
                        throw FileError.system(errno, .truncate, path)
                    }
                    continue
                }
                if rc > 0 {
                    // An errno from the copy's writes: a full disk, an I/O error.
                    throw FileError.system(
                        rc, .write, path,
                        message: "cannot write the copy of the LMDB environment \(directory) to \(path)")
                }
                throw StorageError.lmdb(rc, "copying the LMDB environment \(directory) to \(path)")
            }
            guard sysFsync(fd, path: path) == 0 else { throw FileError.system(errno, .sync, path) }
        } catch {
            close(fd)
            _ = sysUnlink(path)
            throw error
        }
        var status = stat()
        let statted = fstat(fd, &status) == 0
        do throws(FileError) {
            try DurableFiles.closeChecked(fd, path: path)
        } catch {
            _ = sysUnlink(path)
            throw error
        }
        guard statted else { throw FileError(.other, operation: .inspect, path: path, reason: "fstat failed") }
        return UInt64(status.st_size)
    }
}
