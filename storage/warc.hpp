#pragma once
/// WARC 1.1 (ISO 28500:2017) writing and reading: request, response, revisit and warcinfo records,
/// each record one gzip member of a `.warc.gz` (concatenated members), files rotated by size.
///
/// Digests are `sha1:` + RFC 4648 base32 (uppercase, 32 characters):
/// - WARC-Block-Digest: over the whole record block (for HTTP records: status line, headers and body
///   exactly as given to the writer).
/// - WARC-Payload-Digest (responses, and revisits by reference): over the HTTP entity body, i.e. the
///   bytes after the blank line ending the headers with a `chunked` transfer-coding removed (WARC
///   1.1 section 6.3.2) and any content-coding (gzip, br, ...) kept. For a response that is not
///   chunked this is exactly the bytes after the headers, which is what warcio computes.
///   A chunked body that is cut short or malformed yields the bytes decoded up to that point
///   (the payload is "truncated at the same position").
/// Plain functions are pure and thread-safe; writer and reader objects are not thread-safe (one
/// owner at a time).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace crawld::storage {

/// RFC 4648 base32 (alphabet A-Z2-7, '=' padding to a multiple of 8).
std::string base32_encode(std::string_view bytes);
/// `sha1:` + base32 of the SHA-1 of `data` (32 characters, no padding needed for 20 bytes).
std::string warc_sha1_digest(std::string_view data);
/// The HTTP entity body of a full HTTP message (request or response) as defined above; empty when
/// the message has no blank line ending its headers.
std::string http_payload(std::string_view http_message);
/// `YYYY-MM-DDThh:mm:ss.sssZ` (UTC, milliseconds; WARC 1.1 allows fractional seconds).
std::string warc_date(std::int64_t unix_ms);
/// `<urn:uuid:...>` with a random version-4 UUID (std::random_device).
std::string new_warc_record_id();

inline constexpr const char* warc_revisit_profile =
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest";

struct warc_writer_options {
  std::uint64_t max_file_bytes = std::uint64_t(1) << 30;  ///< rotate before a file would exceed it
  std::string software = "crawld";  ///< warcinfo `software`, e.g. "crawld/0.1.0"
  std::string operator_name;        ///< warcinfo `operator`, omitted when empty
  std::string description;          ///< warcinfo `description`, omitted when empty
  /// More warcinfo fields (e.g. {"http-header-user-agent", "crawld/0.1.0"}). In every warcinfo
  /// field, line breaks become spaces (they would end the field).
  std::vector<std::pair<std::string, std::string>> info_fields;
  int compression_level = 6;        ///< zlib level 1..9
  /// Start at the first index whose file does not exist yet (PREFIX-00003.warc.gz when 0..2
  /// exist), so a resumed crawl adds files instead of failing; without it an existing first
  /// file is an error. Existing files are never overwritten either way.
  bool skip_existing = false;
};

/// Extra WARC header fields for one record (e.g. WARC-Truncated), written after the standard ones.
using warc_fields = std::vector<std::pair<std::string, std::string>>;

/// The writer's prefix for a user-given name: "out.warc.gz", "out.warc" and "out" all give "out"
/// (files are then out-00000.warc.gz, out-00001.warc.gz, ...).
std::string warc_prefix(const std::string& name);

struct warc_revisit {
  std::string target_uri;
  std::int64_t date_ms = 0;
  /// HTTP status line + headers of the revisit response (ending with the blank line), or empty.
  /// No body: the payload is the one of the record referred to.
  std::string http_response_head;
  std::string payload_digest;       ///< the original's WARC-Payload-Digest (required)
  std::string refers_to_uri;        ///< the original's WARC-Target-URI (required)
  std::int64_t refers_to_date_ms = 0;  ///< the original's WARC-Date
  std::string refers_to_id;         ///< the original's WARC-Record-ID, omitted when empty
};

/// Writes `PREFIX-00000.warc.gz`, `PREFIX-00001.warc.gz`, ...; each file starts with a warcinfo
/// record. A record goes to a new file when the current one already holds a record besides its
/// warcinfo and would exceed `max_file_bytes` with it, so a file exceeds the limit only when a
/// single record does. Each record is compressed whole as one gzip member and written with
/// write(2). Any failure (ENOSPC, EFBIG, ...) is returned as an error naming the file, and the file
/// is cut back to the end of its last complete record, so it stays readable; the writer may be
/// used again after an error (e.g. once space is freed). There is no user-space buffer: a record is
/// in the file when its write returns; `sync` makes it durable. Not thread-safe.
class warc_writer {
 public:
  /// Creates the first file (refuses to overwrite an existing one) and writes its warcinfo.
  static result<std::unique_ptr<warc_writer>> open(const std::string& prefix,
                                                   warc_writer_options opts = {});
  ~warc_writer();
  warc_writer(const warc_writer&) = delete;
  warc_writer& operator=(const warc_writer&) = delete;

  /// `http_request`: the request line, headers and body as sent. Returns the record id.
  result<std::string> write_request(std::string_view target_uri, std::int64_t date_ms,
                                    std::string_view http_request,
                                    std::string_view concurrent_to_id = {});
  /// `http_response`: status line + headers as received + the raw body as received (still
  /// content-encoded, and chunked if it was). Returns the record id.
  result<std::string> write_response(std::string_view target_uri, std::int64_t date_ms,
                                     std::string_view http_response,
                                     std::string_view concurrent_to_id = {},
                                     const warc_fields& extra = {});
  /// An identical-payload-digest revisit. Errors when payload_digest or refers_to_uri is empty.
  result<std::string> write_revisit(const warc_revisit& r, std::string_view concurrent_to_id = {});

  /// fsync of the current file.
  result<void> sync();
  /// Closes the current file (later writes error). Idempotent.
  result<void> close();

  /// Path of the file being written, and of every file written so far (in order).
  const std::string& current_path() const { return path_; }
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  warc_writer() = default;
  result<void> open_file();
  result<void> append_record(const std::string& compressed, bool allow_rotate);
  result<std::string> write_record(std::vector<std::pair<std::string, std::string>> headers,
                                   std::string_view block);

  std::string prefix_;
  warc_writer_options opts_;
  int fd_ = -1;
  unsigned index_ = 0;
  std::uint64_t size_ = 0;     // bytes of complete records in the current file
  bool has_records_ = false;   // besides the warcinfo
  std::string path_;
  std::vector<std::string> paths_;
};

struct warc_record {
  std::string version;  ///< "WARC/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  ///< in file order, names as written
  std::string block;
  std::uint64_t offset = 0;  ///< byte offset in the file of the record (of its gzip member)

  /// First header of that name (case-insensitive), or empty.
  std::string header(std::string_view name) const;
  std::string type() const { return header("WARC-Type"); }
  std::string id() const { return header("WARC-Record-ID"); }
};

/// Reads records of a `.warc.gz` (any number of records per gzip member, members concatenated) or
/// of a plain `.warc` (detected by the gzip magic). Checks the version line, header syntax, that
/// Content-Length bytes are present and followed by CRLF CRLF, and with `verify_digests` the
/// sha1/sha256 (base32 or hex) block and payload digests present. Every problem is an error naming
/// the file and a byte offset (of the record, and of the bad gzip data when that is the cause);
/// nothing is read past it. Not thread-safe.
class warc_reader {
 public:
  static result<std::unique_ptr<warc_reader>> open(const std::string& path);
  ~warc_reader();
  warc_reader(const warc_reader&) = delete;
  warc_reader& operator=(const warc_reader&) = delete;

  /// The next record, nullopt at the clean end of the file, or an error (then stays failed).
  result<std::optional<warc_record>> next(bool verify_digests = false);

  bool gzipped() const { return gzip_; }

 private:
  warc_reader() = default;
  struct impl;
  std::unique_ptr<impl> impl_;
  bool gzip_ = false;
};

}  // namespace crawld::storage
