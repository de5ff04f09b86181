#include "storage/warc.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>

namespace crawld::storage {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string errno_text(int e) { return std::strerror(e); }

/// Digest of `data` with an EVP algorithm; empty on failure (never expected).
std::string evp_digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out, &n, md, nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

/// Position of the blank line ending HTTP headers and the length of that terminator, or npos.
std::pair<std::size_t, std::size_t> header_end(std::string_view msg) {
  std::size_t crlf = msg.find("\r\n\r\n");
  std::size_t lf = msg.find("\n\n");
  if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf)) return {crlf, 4};
  if (lf != std::string_view::npos) return {lf, 2};
  return {std::string_view::npos, 0};
}

bool is_chunked(std::string_view head) {
  std::size_t pos = head.find('\n');  // skip the start line
  while (pos != std::string_view::npos && pos < head.size()) {
    std::size_t next = head.find('\n', pos + 1);
    std::string_view line = head.substr(pos + 1, next == std::string_view::npos ? head.npos
                                                                                 : next - pos - 1);
    std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), "transfer-encoding")) {
      std::string_view v = trim(line.substr(colon + 1));
      std::size_t comma = v.rfind(',');
      if (comma != std::string_view::npos) v = trim(v.substr(comma + 1));
      if (iequals(v, "chunked")) return true;
    }
    pos = next;
  }
  return false;
}

/// Removes chunked framing; stops (keeping what was decoded) at a malformed or missing part.
std::string dechunk(std::string_view body) {
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) break;
    std::uint64_t size = 0;
    std::size_t i = pos, digits = 0;
    for (; i < eol; ++i, ++digits) {
      char c = body[i];
      int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                             : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (v < 0) break;
      if (digits >= 15) return out;  // absurd size: malformed
      size = size * 16 + std::uint64_t(v);
    }
    if (digits == 0) break;
    if (size == 0) break;  // last chunk; trailers are not payload
    std::size_t data = eol + 1;
    std::size_t avail = body.size() - data;
    out.append(body.substr(data, std::min<std::uint64_t>(size, avail)));
    if (size >= avail) break;
    pos = data + size;
    if (body.compare(pos, 2, "\r\n") == 0) pos += 2;
    else if (body.compare(pos, 1, "\n") == 0) pos += 1;
    else break;
  }
  return out;
}

std::string record_bytes(const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view block) {
  std::string s = "WARC/1.1\r\n";
  for (const auto& [k, v] : headers) s += k + ": " + v + "\r\n";
  s += "\r\n";
  s.append(block);
  s += "\r\n\r\n";
  return s;
}

result<std::string> gzip_member(std::string_view data, int level) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return make_error("cannot initialise zlib deflate");
  std::string out;
  out.resize(deflateBound(&z, uLong(data.size())) + 64);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  std::size_t fed = 0;
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    if (z.avail_in == 0 && fed < data.size()) {
      std::size_t n = std::min<std::size_t>(data.size() - fed, 1u << 30);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + fed));
      z.avail_in = uInt(n);
      fed += n;
    }
    if (z.avail_out == 0) {
      std::size_t used = out.size();
      out.resize(used * 2);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      z.avail_out = uInt(out.size() - used);
    }
    ret = deflate(&z, fed == data.size() ? Z_FINISH : Z_NO_FLUSH);
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
      deflateEnd(&z);
      return make_error("zlib deflate failed");
    }
  }
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string file_name(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string base32_encode(std::string_view bytes) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  while (out.size() % 8 != 0) out += '=';
  return out;
}

std::string warc_prefix(const std::string& name) {
  for (const char* ext : {".warc.gz", ".warc"}) {
    std::string_view e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return name.substr(0, name.size() - e.size());
  }
  return name;
}

std::string warc_sha1_digest(std::string_view data) {
  return "sha1:" + base32_encode(evp_digest(EVP_sha1(), data));
}

std::string http_payload(std::string_view http_message) {
  auto [end, len] = header_end(http_message);
  if (end == std::string_view::npos) return {};
  std::string_view head = http_message.substr(0, end);
  std::string_view body = http_message.substr(end + len);
  return is_chunked(head) ? dechunk(body) : std::string(body);
}

std::string warc_date(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000, ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::time_t t = std::time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
  return buf;
}

std::string new_warc_record_id() {
  std::random_device rd;
  unsigned char b[16];
  for (int i = 0; i < 16; i += 4) {
    std::uint32_t r = rd();
    std::memcpy(b + i, &r, 4);
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  std::string h = hex(std::string_view(reinterpret_cast<const char*>(b), 16));
  return "<urn:uuid:" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" +
         h.substr(16, 4) + "-" + h.substr(20) + ">";
}

// ---- writer ----

result<std::unique_ptr<warc_writer>> warc_writer::open(const std::string& prefix,
                                                       warc_writer_options opts) {
  if (prefix.empty()) return make_error("WARC prefix is empty");
  if (opts.compression_level < 1 || opts.compression_level > 9)
    return make_error("WARC compression level must be 1..9");
  std::unique_ptr<warc_writer> w(new warc_writer());
  w->prefix_ = prefix;
  w->opts_ = std::move(opts);
  if (w->opts_.skip_existing) {
    for (;; ++w->index_) {
      char num[16];
      std::snprintf(num, sizeof num, "-%05u", w->index_);
      struct stat sb {};
      if (::stat((prefix + num + ".warc.gz").c_str(), &sb) != 0) break;
      if (w->index_ >= 99999) return make_error("WARC prefix '" + prefix + "': no free file index");
    }
  }
  if (auto r = w->open_file(); !r) return r.err();
  return w;
}

warc_writer::~warc_writer() { (void)close(); }

result<void> warc_writer::open_file() {
  char num[16];
  std::snprintf(num, sizeof num, "-%05u", index_);
  path_ = prefix_ + num + ".warc.gz";
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) return make_error("cannot create WARC file '" + path_ + "': " + errno_text(errno));
  size_ = 0;
  has_records_ = false;

  auto field = [](const std::string& name, std::string value) {
    std::replace(value.begin(), value.end(), '\r', ' ');
    std::replace(value.begin(), value.end(), '\n', ' ');
    return name + ": " + value + "\r\n";
  };
  std::string fields = field("software", opts_.software);
  fields += "format: WARC File Format 1.1\r\n";
  fields += "conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/"
            "warc-1.1/\r\n";
  if (!opts_.operator_name.empty()) fields += field("operator", opts_.operator_name);
  if (!opts_.description.empty()) fields += field("description", opts_.description);
  for (const auto& [k, v] : opts_.info_fields) fields += field(k, v);
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  std::int64_t now_ms = std::int64_t(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  auto id = write_record({{"WARC-Type", "warcinfo"},
                          {"WARC-Record-ID", new_warc_record_id()},
                          {"WARC-Date", warc_date(now_ms)},
                          {"WARC-Filename", file_name(path_)},
                          {"Content-Type", "application/warc-fields"}},
                         fields);
  if (!id) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(path_.c_str());  // nothing useful in it; lets a later write retry this name
    return id.err();
  }
  paths_.push_back(path_);
  return {};
}

result<void> warc_writer::append_record(const std::string& compressed, bool allow_rotate) {
  if (fd_ < 0) {
    if (paths_.empty() || path_ != paths_.back()) {
      // A rotation failed earlier: try to start the next file again.
      if (auto r = open_file(); !r) return r;
    } else {
      return make_error("WARC file '" + path_ + "' is closed");
    }
  }
  if (allow_rotate && has_records_ && size_ + compressed.size() > opts_.max_file_bytes) {
    ::fsync(fd_);  // a finished file is durable before the next one starts
    ::close(fd_);
    fd_ = -1;
    ++index_;
    if (auto r = open_file(); !r) return r;
  }
  std::size_t done = 0;
  while (done < compressed.size()) {
    ssize_t n = ::pwrite(fd_, compressed.data() + done, compressed.size() - done,
                         off_t(size_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;
      std::string msg = "cannot write WARC record to '" + path_ + "': " + errno_text(e);
      if (::ftruncate(fd_, off_t(size_)) != 0) {
        msg += "; cutting it back to its last complete record at byte " + std::to_string(size_) +
               " also failed: " + errno_text(errno);
      } else {
        msg += " (file kept up to its last complete record, " + std::to_string(size_) + " bytes)";
      }
      return make_error(msg);
    }
    done += std::size_t(n);
  }
  size_ += compressed.size();
  if (allow_rotate) has_records_ = true;
  return {};
}

result<std::string> warc_writer::write_record(
    std::vector<std::pair<std::string, std::string>> headers, std::string_view block) {
  for (const auto& [k, v] : headers) {
    if (v.find_first_of("\r\n") != std::string::npos)
      return make_error("WARC header " + k + " contains a line break");
  }
  headers.emplace_back("Content-Length", std::to_string(block.size()));
  headers.emplace_back("WARC-Block-Digest", warc_sha1_digest(block));
  std::string id;
  bool warcinfo = false;
  for (const auto& [k, v] : headers) {
    if (k == "WARC-Record-ID") id = v;
    if (k == "WARC-Type" && v == "warcinfo") warcinfo = true;
  }
  auto z = gzip_member(record_bytes(headers, block), opts_.compression_level);
  if (!z) return z.err();
  if (auto r = append_record(*z, !warcinfo); !r) return r.err();
  return id;
}

result<std::string> warc_writer::write_request(std::string_view target_uri, std::int64_t date_ms,
                                               std::string_view http_request,
                                               std::string_view concurrent_to_id) {
  std::vector<std::pair<std::string, std::string>> h = {
      {"WARC-Type", "request"},
      {"WARC-Record-ID", new_warc_record_id()},
      {"WARC-Date", warc_date(date_ms)},
      {"WARC-Target-URI", std::string(target_uri)}};
  if (!concurrent_to_id.empty()) h.emplace_back("WARC-Concurrent-To", std::string(concurrent_to_id));
  h.emplace_back("Content-Type", "application/http;msgtype=request");
  return write_record(std::move(h), http_request);
}

result<std::string> warc_writer::write_response(std::string_view target_uri, std::int64_t date_ms,
                                                std::string_view http_response,
                                                std::string_view concurrent_to_id,
                                                const warc_fields& extra) {
  std::vector<std::pair<std::string, std::string>> h = {
      {"WARC-Type", "response"},
      {"WARC-Record-ID", new_warc_record_id()},
      {"WARC-Date", warc_date(date_ms)},
      {"WARC-Target-URI", std::string(target_uri)}};
  if (!concurrent_to_id.empty()) h.emplace_back("WARC-Concurrent-To", std::string(concurrent_to_id));
  h.emplace_back("Content-Type", "application/http;msgtype=response");
  h.emplace_back("WARC-Payload-Digest", warc_sha1_digest(http_payload(http_response)));
  h.insert(h.end(), extra.begin(), extra.end());
  return write_record(std::move(h), http_response);
}

result<std::string> warc_writer::write_revisit(const warc_revisit& r,
                                               std::string_view concurrent_to_id) {
  if (r.payload_digest.empty()) return make_error("WARC revisit of '" + r.target_uri +
                                                  "' has no payload digest");
  if (r.refers_to_uri.empty()) return make_error("WARC revisit of '" + r.target_uri +
                                                 "' has no refers-to URI");
  std::vector<std::pair<std::string, std::string>> h = {
      {"WARC-Type", "revisit"},
      {"WARC-Record-ID", new_warc_record_id()},
      {"WARC-Date", warc_date(r.date_ms)},
      {"WARC-Target-URI", r.target_uri},
      {"WARC-Profile", warc_revisit_profile},
      {"WARC-Refers-To-Target-URI", r.refers_to_uri},
      {"WARC-Refers-To-Date", warc_date(r.refers_to_date_ms)}};
  if (!r.refers_to_id.empty()) h.emplace_back("WARC-Refers-To", r.refers_to_id);
  if (!concurrent_to_id.empty()) h.emplace_back("WARC-Concurrent-To", std::string(concurrent_to_id));
  if (!r.http_response_head.empty()) h.emplace_back("Content-Type", "application/http;msgtype=response");
  h.emplace_back("WARC-Payload-Digest", r.payload_digest);
  return write_record(std::move(h), r.http_response_head);
}

result<void> warc_writer::sync() {
  if (fd_ < 0) return {};
  if (::fsync(fd_) != 0) return make_error("cannot sync WARC file '" + path_ + "': " +
                                           errno_text(errno));
  return {};
}

result<void> warc_writer::close() {
  if (fd_ < 0) return {};
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return make_error("cannot close WARC file '" + path_ + "': " + errno_text(errno));
  return {};
}

// ---- reader ----

std::string warc_record::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

struct warc_reader::impl {
  std::string path;
  int fd = -1;
  bool gzip = false;
  bool failed = false;

  std::string in;             // raw bytes read from the file
  std::size_t in_pos = 0;
  std::uint64_t file_pos = 0;  // raw bytes read so far
  bool file_eof = false;

  z_stream z{};
  bool z_ready = false;
  bool in_member = false;
  std::uint64_t member_start = 0;
  // (decompressed offset, file offset) of each gzip member start not yet left behind.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> members;

  std::string out;            // decompressed (or plain) bytes not yet consumed
  std::size_t out_pos = 0;
  std::uint64_t out_base = 0;  // stream offset of out[0]

  ~impl() {
    if (z_ready) inflateEnd(&z);
    if (fd >= 0) ::close(fd);
  }

  std::uint64_t raw_offset() const { return file_pos - (in.size() - in_pos); }

  error fail(std::string msg) {
    failed = true;
    return make_error("'" + path + "': " + std::move(msg));
  }

  /// Reads more raw bytes into `in`; false at end of file.
  result<bool> read_raw() {
    if (in_pos == in.size()) {
      in.clear();
      in_pos = 0;
    }
    char buf[1 << 16];
    ssize_t n;
    do n = ::read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n < 0) return fail("read error at byte " + std::to_string(file_pos) + ": " +
                           errno_text(errno));
    if (n == 0) {
      file_eof = true;
      return false;
    }
    in.append(buf, std::size_t(n));
    file_pos += std::uint64_t(n);
    return true;
  }

  /// Appends more stream bytes to `out`; false at a clean end.
  result<bool> fill() {
    if (out_pos > (1u << 20) && out_pos * 2 > out.size()) {
      out.erase(0, out_pos);
      out_base += out_pos;
      out_pos = 0;
    }
    if (!gzip) {
      auto r = read_raw();
      if (!r || !*r) return r;
      out.append(in, in_pos, std::string::npos);
      in_pos = in.size();
      return true;
    }
    for (;;) {
      if (in_pos == in.size()) {
        auto r = read_raw();
        if (!r) return r;
        if (!*r) {
          if (in_member)
            return fail("truncated gzip member starting at byte " + std::to_string(member_start) +
                        " (file ends at byte " + std::to_string(file_pos) + ")");
          return false;
        }
      }
      if (!in_member) {
        member_start = raw_offset();
        if (inflateReset(&z) != Z_OK) return fail("zlib inflateReset failed");
        in_member = true;
        members.emplace_back(out_base + out.size(), member_start);
      }
      std::size_t before = out.size();
      out.resize(before + (1u << 16));
      z.next_in = reinterpret_cast<Bytef*>(in.data() + in_pos);
      z.avail_in = uInt(in.size() - in_pos);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      z.avail_out = uInt(1u << 16);
      std::uint64_t at = raw_offset();
      int ret = inflate(&z, Z_NO_FLUSH);
      in_pos = in.size() - z.avail_in;
      out.resize(before + ((1u << 16) - z.avail_out));
      if (ret == Z_STREAM_END) {
        in_member = false;
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        return fail("corrupt gzip data in the member starting at byte " +
                    std::to_string(member_start) + " (near byte " + std::to_string(at) + "): " +
                    (z.msg ? z.msg : "inflate error " + std::to_string(ret)));
      }
      if (out.size() > before) return true;
    }
  }

  std::size_t avail() const { return out.size() - out_pos; }

  /// File offset of the record starting at stream offset `s`.
  std::uint64_t file_offset_of(std::uint64_t s) {
    if (!gzip) return s;
    while (members.size() > 1 && members[1].first <= s) members.erase(members.begin());
    return members.empty() ? s : members.front().second;
  }
};

result<std::unique_ptr<warc_reader>> warc_reader::open(const std::string& path) {
  std::unique_ptr<warc_reader> r(new warc_reader());
  r->impl_ = std::make_unique<impl>();
  impl& m = *r->impl_;
  m.path = path;
  m.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m.fd < 0) return make_error("cannot open WARC file '" + path + "': " + errno_text(errno));
  while (m.in.size() < 2) {
    auto got = m.read_raw();
    if (!got) return got.err();
    if (!*got) break;
  }
  m.failed = false;
  m.gzip = m.in.size() >= 2 && static_cast<unsigned char>(m.in[0]) == 0x1f &&
           static_cast<unsigned char>(m.in[1]) == 0x8b;
  if (m.gzip) {
    if (inflateInit2(&m.z, 15 + 16) != Z_OK) return make_error("cannot initialise zlib inflate");
    m.z_ready = true;
  } else {
    m.out.swap(m.in);
    m.in.clear();
  }
  r->gzip_ = m.gzip;
  return r;
}

warc_reader::~warc_reader() = default;

namespace {

/// Checks `value` ("algo:digest") against `data`. Error text without the file prefix.
result<void> check_digest(std::string_view what, std::string_view value, std::string_view data) {
  std::size_t colon = value.find(':');
  if (colon == std::string_view::npos)
    return make_error(std::string(what) + " '" + std::string(value) + "' has no algorithm");
  std::string_view algo = value.substr(0, colon), given = value.substr(colon + 1);
  const EVP_MD* md = nullptr;
  if (iequals(algo, "sha1") || iequals(algo, "sha-1")) md = EVP_sha1();
  else if (iequals(algo, "sha256") || iequals(algo, "sha-256")) md = EVP_sha256();
  else return make_error(std::string(what) + " uses unsupported algorithm '" + std::string(algo) + "'");
  std::string raw = evp_digest(md, data);
  std::string expected = given.size() == raw.size() * 2 ? hex(raw) : base32_encode(raw);
  std::string_view g = given;
  std::string_view e = expected;
  while (!g.empty() && g.back() == '=') g.remove_suffix(1);
  while (!e.empty() && e.back() == '=') e.remove_suffix(1);
  if (!iequals(g, e))
    return make_error(std::string(what) + " mismatch: header says " + std::string(value) +
                      ", content hashes to " + std::string(algo) + ":" + std::string(e));
  return {};
}

}  // namespace

result<std::optional<warc_record>> warc_reader::next(bool verify_digests) {
  impl& m = *impl_;
  if (m.failed) return make_error("'" + m.path + "': reader stopped at an earlier error");
  while (m.avail() == 0) {
    auto got = m.fill();
    if (!got) return got.err();
    if (!*got) return std::optional<warc_record>{};
  }
  std::uint64_t start = m.out_base + m.out_pos;
  warc_record rec;
  rec.offset = m.file_offset_of(start);
  std::string at = "record at byte " + std::to_string(rec.offset);

  // Header block.
  std::size_t end = std::string::npos;
  for (;;) {
    std::string_view v(m.out.data() + m.out_pos, m.avail());
    if (v.size() >= 5 && v.compare(0, 5, "WARC/") != 0)
      return m.fail(at + ": not a WARC record (does not start with 'WARC/')");
    end = v.find("\r\n\r\n");
    if (end != std::string_view::npos) break;
    if (v.size() > (1u << 20)) return m.fail(at + ": WARC header longer than 1 MiB");
    auto got = m.fill();
    if (!got) return got.err();
    if (!*got)
      return m.fail(at + ": truncated WARC header (file ends after " + std::to_string(m.avail()) +
                    " bytes of it)");
  }
  std::string_view head(m.out.data() + m.out_pos, end);
  std::size_t eol = head.find("\r\n");
  rec.version = std::string(head.substr(0, eol));
  if (rec.version != "WARC/1.1" && rec.version != "WARC/1.0")
    return m.fail(at + ": unsupported version line '" + rec.version + "'");
  std::size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    std::size_t next = head.find("\r\n", pos);
    if (next == std::string_view::npos) next = head.size();
    std::string_view line = head.substr(pos, next - pos);
    pos = next + 2;
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !rec.headers.empty()) {
      rec.headers.back().second += " " + std::string(trim(line));  // continuation line
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return m.fail(at + ": malformed header line '" + std::string(line.substr(0, 80)) + "'");
    rec.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(trim(line.substr(colon + 1))));
  }
  std::string cl = rec.header("Content-Length");
  if (cl.empty()) return m.fail(at + ": no Content-Length");
  std::uint64_t length = 0;
  for (char c : cl) {
    if (c < '0' || c > '9' || length > (std::uint64_t(1) << 40))
      return m.fail(at + ": bad Content-Length '" + cl + "'");
    length = length * 10 + std::uint64_t(c - '0');
  }
  if (length > (std::uint64_t(1) << 32))
    return m.fail(at + ": Content-Length " + cl + " is larger than this reader accepts (4 GiB)");

  // Block and the CRLF CRLF after it.
  std::size_t need = end + 4 + std::size_t(length) + 4;
  while (m.avail() < need) {
    auto got = m.fill();
    if (!got) return got.err();
    if (!*got) {
      std::size_t have = m.avail() - (end + 4);
      if (have < length)
        return m.fail(at + ": truncated block: Content-Length " + cl + " but the file ends after " +
                      std::to_string(have) + " bytes of it (at byte " +
                      std::to_string(m.file_pos) + ")");
      return m.fail(at + ": truncated: the block is not followed by CRLF CRLF before the end of "
                    "the file");
    }
  }
  const char* b = m.out.data() + m.out_pos + end + 4;
  if (std::string_view(b + length, 4) != "\r\n\r\n")
    return m.fail(at + ": block of Content-Length " + cl +
                  " is not followed by CRLF CRLF (wrong Content-Length?)");
  rec.block.assign(b, std::size_t(length));
  m.out_pos += need;

  if (verify_digests) {
    std::string bd = rec.header("WARC-Block-Digest");
    if (!bd.empty()) {
      if (auto r = check_digest("WARC-Block-Digest", bd, rec.block); !r)
        return m.fail(at + " (" + rec.type() + " " + rec.header("WARC-Target-URI") + "): " +
                      r.message());
    }
    std::string pd = rec.header("WARC-Payload-Digest");
    std::string type = rec.type();
    if (!pd.empty() && type != "revisit" && type != "warcinfo" && type != "metadata") {
      std::string ct = rec.header("Content-Type");
      bool http = ct.rfind("application/http", 0) == 0;
      std::string payload = http ? http_payload(rec.block) : rec.block;
      if (auto r = check_digest("WARC-Payload-Digest", pd, payload); !r)
        return m.fail(at + " (" + type + " " + rec.header("WARC-Target-URI") + "): " +
                      r.message());
    }
  }
  return std::optional<warc_record>(std::move(rec));
}

}  // namespace crawld::storage
