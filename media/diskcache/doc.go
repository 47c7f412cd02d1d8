// Package diskcache is a directory of files keyed by strings, bounded in
// total size, that evicts the least recently used entries first. The player
// keeps fetched audio URLs in one (with their ETag and Last-Modified in the
// entry's metadata) and media/speech keeps synthesised prompts in another.
//
// An entry is written to a temporary file and renamed into place, so a
// reader never sees half an entry and a crash leaves no corrupt one. An entry
// that is open when it is evicted stays readable through the open file.
// Recency survives a restart through the files' modification times.
//
// It is not a general key/value store: entries are immutable once put (put
// again to replace), metadata is small opaque bytes, and it does not share a
// directory between processes safely beyond the atomic rename.
package diskcache
